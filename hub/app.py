"""The ASGI application: create_app(settings) builds everything; nothing is created at import time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from hub.config import Environment, Settings
from hub.context import Context
from hub.databases import Databases
from schema.root import build_schema


class HubGraphQL(GraphQL):
    """GraphQL over HTTP, with the hub's typed context built per request."""

    def __init__(self, schema, settings: Settings) -> None:
        production = settings.env is Environment.PRODUCTION
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=not production,
        )
        self.settings = settings

    async def get_context(self, request, response) -> Context:
        return Context(settings=self.settings, databases=request.app.state.databases)


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    health = await request.app.state.databases.probe_all()
    ready = all(h.ready for h in health)
    body = {
        "status": "ready" if ready else "unavailable",
        "databases": {
            h.name: {
                "engine": h.engine,
                "reachable": h.reachable,
                "latency_ms": None if h.latency_ms is None else round(h.latency_ms, 2),
                "revision": h.revision,
                "expected_revision": h.expected_revision,
                **({"problem": h.problem} if h.problem else {}),
            }
            for h in health
        },
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def create_app(settings: Settings) -> Starlette:
    schema = build_schema()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.databases = Databases.from_settings(settings)
        try:
            yield
        finally:
            await app.state.databases.dispose()

    graphql = HubGraphQL(schema, settings)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker process (`hub serve`)."""
    return create_app(Settings())

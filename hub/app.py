"""The ASGI application: create_app(settings) builds everything; nothing is created at import time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import hashlib
import re
import time
import uuid
import logging
from collections.abc import AsyncIterator

import graphql
import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from hub.audit import AuditEntry, AuditUnavailable, AuditWriter
from hub.auth import server as oauth
from hub.auth.resource import Authenticator
from hub.auth.tokens import TokenRejected
from hub.breaker import CircuitBreaker
from hub.config import SOURCE_NAMES, Environment, Settings
from hub.context import Context
from hub.databases import Databases
from hub.federation import RequestSources
from hub.logs import client_id_var, install_context, request_id_var
from hub.metrics import Metrics
from hub.persisted import PersistedQueries, PersistedQueryError
from hub.ratelimit import PersonsTally, RateLimited, RequestLedger, RequestTally, Settlement
from hub.shared_secrets import shared_secret
from hub.sync.relay import relay_pending
from resolvers import compiled
from schema.limits import MAX_TOKENS, precheck
from schema.root import build_schema

log = logging.getLogger("hub.app")


def _unauthenticated(reason: str, *, token_present: bool) -> Response:
    # RFC 6750: no error code when no credentials were sent; invalid_token when they were bad.
    challenge = 'Bearer realm="hub"'
    if token_present:
        challenge += ', error="invalid_token"'
    body = {
        "errors": [
            {
                "message": "a valid bearer token is required" if not token_present else "the bearer token is not valid",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    log.info("unauthenticated request: %s", reason)
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


GRAPHQL_RESPONSE = "application/graphql-response+json"
# Allocations before a young collection, then young and middle collections before an older one.
# A listing of 1,000 persons allocates some 100,000 containers, most alive until its response is
# sent: a young collection scans them all and frees almost none, so at 20,000 (the old setting)
# collections cost about a tenth of such a request's CPU; at 300,000 they cost almost nothing.
GC_THRESHOLDS = (300_000, 10, 100)

# Big enough for a batch of 1,000 sync items, small enough that no one can flood the parser.
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    pass


def _error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status, headers=headers)


def _refuse_transport(request: Request, production: bool) -> Response | None:
    """What is refused before anything else: GET in production, non-JSON posts, oversized bodies."""
    if request.method == "GET" and production:
        return _error(405, "BAD_USER_INPUT", "use POST with application/json", headers={"Allow": "POST"})
    if request.method == "GET" and _is_mutation(request.query_params.get("query")):
        # GraphQL over HTTP: a mutation is never run from a GET.
        return _error(405, "BAD_USER_INPUT", "mutations need POST", headers={"Allow": "POST"})
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _error(415, "BAD_USER_INPUT", "POST /graphql takes application/json")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _error(413, "BAD_USER_INPUT", f"the request body exceeds {MAX_BODY_BYTES} bytes")
    return None


def _is_mutation(query: str | None) -> bool:
    if not query:
        return False
    try:
        document = graphql.parse(query, max_tokens=MAX_TOKENS)
    except graphql.GraphQLError:
        return False  # the GraphQL layer reports the syntax error
    return any(
        isinstance(d, graphql.OperationDefinitionNode) and d.operation == graphql.OperationType.MUTATION
        for d in document.definitions
    )


def _replay(body: bytes):
    """A receive channel that hands over a body already read."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _limited(receive, limit: int):
    """A receive channel that stops a body (chunked or lying about its length) past the limit."""
    seen = 0

    async def limited_receive():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return limited_receive


_NAMED_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")


def _operation_name(query: str | None) -> str | None:
    """The name of a document's operation when the request did not say (for the audit trail)."""
    match = _NAMED_OPERATION.match(query or "")
    return match.group(1) if match else None


def audit_entry(context: Context, result, *, refused: bool = False) -> AuditEntry:
    subject = context.subject
    if refused:
        outcome = "refused"
    elif result.errors and result.data is None:
        outcome = "refused" if any((e.extensions or {}).get("code") == "FORBIDDEN" for e in result.errors) else "error"
    else:
        outcome = "partial" if result.errors else "ok"
    return AuditEntry(
        kind="read",
        request_id=context.request_id,
        client_id=subject.client_id,
        subject=subject.subject,
        scopes=" ".join(sorted(subject.scopes)),
        purpose=context.stated_purpose,
        operation_name=context.operation_name,
        document_hash=hashlib.sha256(context.query.encode()).hexdigest() if context.query else None,
        citizen_ids=frozenset(context.accessed_citizen_ids),
        outcome=outcome,
    )


class HubGraphQL(GraphQL):
    """GraphQL over HTTP: every operation needs a valid bearer token; the context is typed and per request."""

    def __init__(self, schema, settings: Settings) -> None:
        production = settings.env is Environment.PRODUCTION
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=not production,
            subscription_protocols=(),
        )
        self.settings = settings
        self.plans = compiled.PlanCache(schema._schema)
        self.persisted = PersistedQueries()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            # No subscriptions: websocket upgrades are closed at once.
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope, receive)
        refusal = _refuse_transport(request, self.settings.env is Environment.PRODUCTION)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        receive = _limited(receive, MAX_BODY_BYTES)
        request = Request(scope, receive)
        payload = None
        if request.method == "POST":
            # Read the body once (bounded), refuse batches and over-budget documents before any
            # database is asked anything, then hand the same bytes on to the GraphQL layer.
            try:
                body = await request.body()
            except BodyTooLarge:
                await _error(413, "BAD_USER_INPUT", f"the request body exceeds {MAX_BODY_BYTES} bytes")(scope, receive, send)
                return
            refusal, body, payload = self._precheck(body)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            receive = _replay(body)
            request = Request(scope, receive)
        wants_ide = (
            request.method == "GET"
            and self.graphql_ide is not None
            and "text/html" in request.headers.get("accept", "")
            and "query" not in request.query_params
        )
        plan = None
        if not wants_ide:
            authorization = request.headers.get("authorization")
            try:
                subject = await request.app.state.authenticator.authenticate(authorization, check_revocation=False)
                client_id_var.set(subject.client_id)
                plan = self._fast_plan(request, payload, subject)
                if plan is None:
                    # The revocation check and the request count share one store transaction.
                    await self._admit(request, subject)
                else:
                    # Checked with the read's audit entry, in one transaction, before anything is
                    # shown (see _compiled_response); a refusal this process already knows comes now.
                    refusal = request.app.state.ledger.known_refusal(subject.client_id, subject.jti)
                    if refusal is not None:
                        raise refusal
            except (TokenRejected, RateLimited) as refused:
                await self._refusal(request, refused, authorization)(scope, receive, send)
                return
            except STORE_FAILURES as exc:
                await _store_unavailable(exc)(scope, receive, send)
                return
            request.state.subject = subject
        started = time.perf_counter()
        try:
            response = None
            if plan is not None:
                response = await self._compiled_response(request, payload, plan)
                if response is None:  # the plan fell back: admitted as any other request first
                    try:
                        await self._admit(request, request.state.subject)
                    except (TokenRejected, RateLimited) as refused:
                        response = self._refusal(request, refused, request.headers.get("authorization"))
                    except STORE_FAILURES as exc:
                        response = _store_unavailable(exc)
            if response is not None:
                await response(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        except BodyTooLarge:
            await _error(413, "BAD_USER_INPUT", f"the request body exceeds {MAX_BODY_BYTES} bytes")(scope, receive, send)
        finally:
            context = scope.get("state", {}).get("context")
            if context is not None:
                request.app.state.metrics.requests.labels(context.operation_name or "anonymous").observe(
                    time.perf_counter() - started
                )
                if context.sources is not None:
                    await context.sources.close()

    def _precheck(self, body: bytes) -> tuple[Response | None, bytes, dict | None]:
        """A refusal, or None, the body to run (a persisted query's document filled in) and its payload."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "BAD_USER_INPUT", "the request body is not valid JSON"), body, None
        if isinstance(payload, list):
            return _error(400, "BAD_USER_INPUT", "batched operations are not accepted: send one operation per request"), body, None
        if not isinstance(payload, dict):
            return _error(400, "BAD_USER_INPUT", 'the body must be a JSON object with a "query" string'), body, None
        persisted = self.persisted.resolve(payload)
        if isinstance(persisted, PersistedQueryError):
            return JSONResponse({"errors": [{"message": persisted.message, "extensions": {"code": persisted.code}}]},
                                status_code=persisted.status), body, None
        if persisted is not None:
            payload["query"] = persisted
            body = orjson.dumps(payload)
        if not isinstance(payload.get("query"), str):
            return _error(400, "BAD_USER_INPUT", 'the body must be a JSON object with a "query" string'), body, None
        errors = precheck(self.schema._schema, payload["query"])
        if not errors:
            return None, body, payload
        return JSONResponse(
            {"errors": [{"message": e.message, "extensions": {"code": (e.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")}}
                        for e in errors]},
            status_code=200,
        ), body, None

    async def _admit(self, request: Request, subject) -> None:
        await request.app.state.ledger.admit(subject.client_id, subject.jti, per_minute=self.settings.requests_per_minute)

    def _refusal(self, request: Request, refused: TokenRejected | RateLimited, authorization: str | None) -> Response:
        if isinstance(refused, TokenRejected):
            request.app.state.metrics.tokens.labels("refused", _reason_category(refused.reason)).inc()
            return _unauthenticated(refused.reason, token_present=bool(authorization))
        request.app.state.metrics.rate_limited.labels(refused.limit).inc()
        return _error(429, "RATE_LIMITED", "too many requests from this client; slow down",
                      headers={"Retry-After": str(refused.retry_after)})

    def _fast_plan(self, request: Request, payload: dict | None, subject):
        """The compiled plan of a POSTed operation, when the compiled path may answer it without the
        GraphQL HTTP layer; None otherwise."""
        if payload is None or not self.settings.compiled_execution:
            return None
        variables, operation_name = payload.get("variables"), payload.get("operationName")
        if not isinstance(variables, dict | None) or not isinstance(operation_name, str | None):
            return None  # the GraphQL layer reports the malformed request
        if not isinstance(payload.get("extensions"), dict | None):
            return None
        accept = request.headers.get("accept", "")
        if "multipart/mixed" in accept or "text/event-stream" in accept:
            return None
        return self.plans.get(payload["query"], operation_name, subject.scopes)

    async def _compiled_response(self, request: Request, payload: dict, plan) -> Response | None:
        """The response of a POSTed operation the compiled path answers, built without the GraphQL
        HTTP layer; None when the reference path must run it (it then reuses the same context).

        The request was not admitted beforehand: its revocation check and request count are made
        with the persons guard and its audit entry in one store transaction once the plan has run,
        and its answer is sent only if that transaction commits without a refusal. A refused
        request's reads are audited as refused; nothing of them is shown.
        """
        query, operation_name = payload["query"], payload.get("operationName")
        context = self._new_context(request)
        context.query = query
        context.operation_name = operation_name or _operation_name(query)
        try:
            result = await self._run_plan(plan, context, payload.get("variables"))
        finally:
            context.compiled_tried = True
        if result is None:
            return None
        metrics = request.app.state.metrics
        metrics.executions.labels("compiled").inc()
        subject = context.subject
        now = dt.datetime.now(dt.UTC)
        ids = frozenset(context.accessed_citizen_ids)
        settlement = Settlement(
            request=RequestTally(subject.client_id, self.settings.requests_per_minute, now, subject.jti),
            persons=PersonsTally(subject.client_id, ids, self.settings.persons_per_hour, now, subject.jti) if ids else None,
            entry=audit_entry(context, result),
        )
        try:
            refusal = await request.app.state.ledger.settle(settlement)
        except AuditUnavailable:
            body = _audit_unavailable()
        else:
            if isinstance(refusal, RateLimited) and refusal.limit != "requests_per_minute":
                metrics.rate_limited.labels(refusal.limit).inc()
                body = _persons_limited(refusal)
            elif refusal is not None:
                return self._refusal(request, refusal, request.headers.get("authorization"))
            else:
                body = {"data": result.data}
        accept = request.headers.get("accept", "")
        return Response(orjson.dumps(body), media_type=GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json")

    def encode_json(self, data) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request, response) -> Context:
        context = getattr(request.state, "context", None)
        if context is None:
            context = self._new_context(request)
        # GraphQL over HTTP: a client that accepts application/graphql-response+json gets that
        # media type, and request errors (nothing executed) as 400.
        accept = request.headers.get("accept", "")
        response.graphql_response_json = GRAPHQL_RESPONSE in accept
        request.state.sub_response = response
        return context

    def _new_context(self, request) -> Context:
        databases = request.app.state.databases
        context = Context(
            settings=self.settings,
            databases=databases,
            subject=request.state.subject,
            purpose=request.headers.get("x-purpose"),
            sources=RequestSources(
                databases.engines,
                self.settings.source_timeout,
                breakers=request.app.state.breakers,
                observe=request.app.state.metrics.observe_source,
            ),
            request_id=request.state.request_id,
            cursor_key=request.app.state.cursor_key,
            breakers=request.app.state.breakers,
        )
        request.state.context = context
        return context

    async def execute_operation(self, request, request_adapter, request_data, context, root_value, sub_response):
        if not isinstance(request_data, list):
            context.query = request_data.query
            context.operation_name = request_data.operation_name or _operation_name(request_data.query)
            if (self.settings.compiled_execution and isinstance(request_data.query, str)
                    and not context.compiled_tried):
                plan = self.plans.get(request_data.query, request_data.operation_name, context.subject.scopes)
                result = None if plan is None else await self._run_plan(plan, context, request_data.variables)
                if result is not None:
                    request.app.state.metrics.executions.labels("compiled").inc()
                    return result
        request.app.state.metrics.executions.labels("reference").inc()
        return await super().execute_operation(
            request=request, request_adapter=request_adapter, request_data=request_data,
            context=context, root_value=root_value, sub_response=sub_response,
        )

    async def _run_plan(self, plan, context: Context, variables: dict | None):
        """The compiled path's answer, or None when the reference resolvers must run the operation."""
        try:
            return await compiled.execute_plan(plan, self.schema._schema, context, variables)
        except compiled.Fallback:
            # Start the reference run from a clean slate (what it reads is noted again).
            context.reads_personal_data = False
            context.accessed_citizen_ids = set()
            return None

    def create_response(self, response_data, sub_response):
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response_json", False):
            response.headers["content-type"] = GRAPHQL_RESPONSE
        return response

    async def process_result(self, request, result):
        response = await super().process_result(request, result)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # A request error: nothing was executed, so the response has no data entry at all.
            response.pop("data", None)
            sub_response = getattr(request.state, "sub_response", None)
            if sub_response is not None and getattr(sub_response, "graphql_response_json", False):
                sub_response.status_code = 400
        for error in result.errors or ():
            request.app.state.metrics.errors.labels((error.extensions or {}).get("code", "UNKNOWN")).inc()
        context: Context | None = getattr(request.state, "context", None)
        if context is None:
            return response
        return await self._guarded(request, context, result, response)

    async def _guarded(self, request, context: Context, result, response: dict) -> dict:
        """The response, once the persons guard has counted what it read and its audit entry is
        committed; a refusal instead when either says it must not be shown."""
        if not context.reads_personal_data:
            return response
        limited = None
        try:
            await request.app.state.ledger.count_persons(context.subject.client_id, context.accessed_citizen_ids,
                                                         per_hour=self.settings.persons_per_hour)
        except RateLimited as exc:
            # The bulk-extraction guard: the request that crosses the limit is not answered.
            limited = exc
            request.app.state.metrics.rate_limited.labels(exc.limit).inc()
        try:
            await request.app.state.audit.record(audit_entry(context, result, refused=limited is not None))
        except AuditUnavailable:
            return _audit_unavailable()
        if limited is not None:
            return _persons_limited(limited)
        return response


def _audit_unavailable() -> dict:
    """Nothing is shown that was not audited (a new dict: the HTTP layer may change what it gets)."""
    return {
        "data": None,
        "errors": [{"message": "the audit trail is unavailable, so the request was not answered",
                    "extensions": {"code": "AUDIT_UNAVAILABLE"}}],
    }


def _persons_limited(limited: RateLimited) -> dict:
    return {
        "data": None,
        "errors": [{"message": "this client has read more distinct persons this hour than it may; the request was not answered",
                    "extensions": {"code": "RATE_LIMITED", "limit": limited.limit, "retryAfter": limited.retry_after}}],
    }


# What a store that does not answer raises while a request is authenticated and admitted.
STORE_FAILURES = (sa.exc.DBAPIError, sa.exc.InterfaceError, OSError, ConnectionError, TimeoutError)


def _store_unavailable(exc: BaseException) -> Response:
    """The store (tokens, rate counts) did not answer: nothing was run, the client may retry."""
    log.warning("store unavailable while admitting a request: %s", type(exc).__name__)
    return _error(503, "STORE_UNAVAILABLE", "the hub's store is unavailable, so the request was not run; retry shortly",
                  headers={"Retry-After": "5"})


def _reason_category(reason: str) -> str:
    """Token refusals by a small set of reasons (a label must not carry free text)."""
    for category in ("missing", "revoked", "expired", "typ", "signature", "iss", "aud", "future", "lifetime", "scope"):
        if category in reason:
            return category
    return "other"


class RequestIdMiddleware:
    """Gives every request an id (X-Request-Id in and out), sets the log context, counts responses."""

    _VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if self._VALID.fullmatch(incoming or "") else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_var.set(request_id)
        client_id_var.set(None)
        status_holder = {}

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            app = scope.get("app")
            metrics = getattr(getattr(app, "state", None), "metrics", None)
            if metrics is not None:
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                metrics.http.labels(path, str(status_holder.get("status", 500))).inc()


async def metrics_endpoint(request: Request) -> Response:
    state = request.app.state
    for name, engine in state.databases.engines.items():
        pool = engine.sync_engine.pool
        state.metrics.pool_in_use.labels(name).set(pool.checkedout() if hasattr(pool, "checkedout") else 0)
    state.metrics.audit_queue.set(state.audit.depth)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    health = await request.app.state.databases.probe_all()
    ready = all(h.ready for h in health)
    breakers = request.app.state.breakers
    body = {
        "status": "ready" if ready else "unavailable",
        "databases": {
            h.name: {
                "engine": h.engine,
                "reachable": h.reachable,
                **({"circuit": breakers[h.name].state.value} if h.name in breakers else {}),
                "latency_ms": None if h.latency_ms is None else round(h.latency_ms, 2),
                "revision": h.revision,
                "expected_revision": h.expected_revision,
                **({"problem": h.problem} if h.problem else {}),
            }
            for h in health
        },
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def relay_all(databases: Databases, older_than: dt.timedelta = dt.timedelta(0)) -> None:
    for source in SOURCE_NAMES:
        try:
            await relay_pending(source, databases[source], databases["store"], older_than=older_than)
        except Exception as exc:  # noqa: BLE001 - a source being down must not stop the hub; retried later
            log.warning("relaying %s batches failed: %s", source, type(exc).__name__)


async def _relay_forever(databases: Databases, every: float = 30.0) -> None:
    while True:
        await asyncio.sleep(every)
        await relay_all(databases, older_than=dt.timedelta(seconds=every))


def tune_garbage_collection() -> None:
    """Keep the cyclic collector off the request path's back.

    A large response allocates tens of thousands of short-lived objects; with the default
    thresholds that starts several full scans of every object the process holds (the schema,
    SQLAlchemy's metadata, the geography tables). Freezing what start-up built takes it out
    of those scans, and larger thresholds make collections rarer; memory stays bounded
    because reference counting frees almost everything a request allocates.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])


def create_app(settings: Settings) -> Starlette:
    install_context()
    schema = build_schema(production=settings.env is Environment.PRODUCTION)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.databases = Databases.from_settings(settings)
        app.state.authenticator = Authenticator(settings, app.state.databases["store"])
        app.state.metrics = Metrics()
        app.state.breakers = {
            name: CircuitBreaker(name, failure_threshold=settings.breaker_failures, reset_after=settings.breaker_reset)
            for name in SOURCE_NAMES
        }
        for breaker in app.state.breakers.values():
            breaker.on_change = app.state.metrics.breaker_changed
        app.state.cursor_key = await shared_secret(app.state.databases["store"], "cursor")
        tune_garbage_collection()
        app.state.audit = AuditWriter(app.state.databases["store"])
        app.state.audit.start()
        app.state.ledger = RequestLedger(app.state.databases["store"])
        app.state.ledger.start()
        app.state.authenticator.revocation_lookup = app.state.ledger.is_revoked
        # Batches a dead process committed in a source but never recorded in the store are finished now.
        await relay_all(app.state.databases)
        relay_task = asyncio.create_task(_relay_forever(app.state.databases), name="sync-relay")
        try:
            yield
        finally:
            relay_task.cancel()
            await app.state.ledger.stop()
            await app.state.audit.stop()
            await app.state.databases.dispose()

    graphql = HubGraphQL(schema, settings)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/oauth/token", oauth.token_endpoint, methods=["POST"]),
        Route("/oauth/revoke", oauth.revocation_endpoint, methods=["POST"]),
        Route("/oauth/introspect", oauth.introspection_endpoint, methods=["POST"]),
        Route("/.well-known/oauth-authorization-server", oauth.metadata_endpoint, methods=["GET"]),
        Route("/.well-known/jwks.json", oauth.jwks_endpoint, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIdMiddleware)])


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker process (`hub serve`)."""
    return create_app(Settings())

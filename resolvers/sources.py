"""Resolver of the federated sources' status and freshness."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import strawberry

from hub.context import Context
from hub.federation import SourceUnavailable
from hub.freshness import last_change


@dataclass(frozen=True)
class SourceStatusRow:
    name: str
    engine: str
    reachable: bool
    latency_ms: float | None
    schema_revision: str | None
    last_change: dt.datetime | None
    circuit: str


async def _freshness(context: Context, name: str) -> dt.datetime | None:
    try:
        return await last_change(context.sources[name])
    except SourceUnavailable:
        return None


async def sources(info: strawberry.Info[Context]) -> list:
    health = await info.context.databases.probe_sources()
    breakers = info.context.breakers
    changes = await asyncio.gather(*(_freshness(info.context, h.name) if h.reachable else asyncio.sleep(0) for h in health))
    return [
        SourceStatusRow(h.name, h.engine, h.reachable, h.latency_ms, h.revision, change,
                        breakers[h.name].state.value if h.name in breakers else "closed")
        for h, change in zip(health, changes, strict=True)
    ]

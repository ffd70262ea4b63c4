"""Resolver of the federated sources' status."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from hub.context import Context


@dataclass(frozen=True)
class SourceStatusRow:
    name: str
    engine: str
    reachable: bool
    latency_ms: float | None
    schema_revision: str | None


async def sources(info: strawberry.Info[Context]) -> list:
    health = await info.context.databases.probe_sources()
    return [
        SourceStatusRow(h.name, h.engine, h.reachable, h.latency_ms, h.revision) for h in health
    ]

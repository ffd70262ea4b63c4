"""The state of the databases the hub federates."""

from __future__ import annotations

import datetime as dt

import strawberry


@strawberry.type(description="One federated source database and whether it answers now.")
class SourceStatus:
    name: str = strawberry.field(description="\"ministry\" (MSDHS, national) or \"city\" (BMA, Bangkok).")
    engine: str = strawberry.field(description="Database kind: sqlite, postgresql or mysql (MariaDB).")
    reachable: bool = strawberry.field(description="Whether the source answered a probe within its timeout.")
    latency_ms: float | None = strawberry.field(
        description="Round-trip time of the probe in milliseconds; null when unreachable."
    )
    schema_revision: str | None = strawberry.field(
        description="The migration revision the source database is at; null when unreachable."
    )
    circuit: str = strawberry.field(
        description="This hub process's circuit breaker for the source: closed, open (failing fast) or half_open (probing)."
    )
    last_change: dt.datetime | None = strawberry.field(
        description="The newest change time the source's tables record: how fresh its data is. Null when unreachable or empty."
    )

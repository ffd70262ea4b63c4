"""How fresh each source's data is: the latest change time its tables record."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hub.federation import SourceSession
from hub.sources import bindings_of


async def last_change(session: SourceSession) -> dt.datetime | None:
    """The newest updated_at over the source's tables that keep one (one statement)."""
    bindings = [b for b in bindings_of(session.name) if b.updated_at is not None]
    if not bindings:
        return None
    parts = [sa.select(sa.func.max(b.updated_at).label("latest")) for b in bindings]
    rows = await session.rows(sa.select(sa.func.max(sa.union_all(*parts).subquery().c.latest)))
    raw = rows[0][0] if rows else None
    if raw is None:
        return None
    if isinstance(raw, str):  # SQLite hands back MAX over a UNION as text
        raw = dt.datetime.fromisoformat(raw)
    normalise = bindings[0].updated_at_normalise
    return normalise(raw) if normalise else raw

"""Per-client limits kept in the store, so every hub process counts against the same numbers."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.store.tables import person_read, rate_window


class RateLimited(Exception):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(limit)
        self.limit = limit
        self.retry_after = retry_after


def _insert(dialect: str, table: sa.Table):
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, mysql.insert)(table)


async def count_request(store: AsyncEngine, client_id: str, *, per_minute: int, now: dt.datetime | None = None) -> None:
    """Count one request in the client's current minute; raise RateLimited past the limit."""
    now = now or dt.datetime.now(dt.UTC)
    window = now.strftime("m%Y%m%d%H%M")
    dialect = store.dialect.name
    statement = _insert(dialect, rate_window).values(client_id=client_id, window=window, count=1)
    if dialect in ("postgresql", "sqlite"):
        statement = statement.on_conflict_do_update(
            index_elements=["client_id", "window"], set_={"count": rate_window.c["count"] + 1}
        )
    else:
        statement = statement.on_duplicate_key_update(count=rate_window.c["count"] + 1)
    async with writing(store).begin() as connection:
        await connection.execute(statement)
        count = (
            await connection.execute(
                sa.select(rate_window.c["count"]).where(rate_window.c.client_id == client_id, rate_window.c.window == window)
            )
        ).scalar_one()
        if now.second == 0:
            # Old windows are of no use; the first request of each minute tidies them.
            old = (now - dt.timedelta(minutes=10)).strftime("m%Y%m%d%H%M")
            await connection.execute(
                sa.delete(rate_window).where(rate_window.c.window.like("m%"), rate_window.c.window < old)
            )
    if count > per_minute:
        raise RateLimited("requests_per_minute", 60 - now.second)


async def count_persons(store: AsyncEngine, client_id: str, citizen_ids: set[str], *, per_hour: int,
                        now: dt.datetime | None = None) -> None:
    """Record the persons a client read this hour; raise RateLimited if that makes more than per_hour distinct ones.

    The cost follows the persons of this request, not the client's hour so far: the IDs already
    recorded are looked up by key, the new ones added, and a running count kept beside them.
    """
    if not citizen_ids:
        return
    now = now or dt.datetime.now(dt.UTC)
    hour = now.strftime("h%Y%m%d%H")
    dialect = store.dialect.name
    wanted = sorted(citizen_ids)
    async with writing(store).begin() as connection:
        known: set[str] = set()
        for start in range(0, len(wanted), 2000):
            chunk = wanted[start : start + 2000]
            known.update(
                r[0] for r in await connection.execute(
                    sa.select(person_read.c.citizen_id).where(
                        person_read.c.client_id == client_id, person_read.c.hour == hour,
                        person_read.c.citizen_id.in_(chunk),
                    )
                )
            )
        new = [cid for cid in wanted if cid not in known]
        if new:
            insert = _insert(dialect, person_read)
            insert = insert.on_conflict_do_nothing() if dialect in ("postgresql", "sqlite") else insert.prefix_with("IGNORE")
            await connection.execute(insert, [{"client_id": client_id, "hour": hour, "citizen_id": cid} for cid in new])
            # Two requests adding the same person at once may both count it: the guard errs on the safe side.
            counter = _insert(dialect, rate_window).values(client_id=client_id, window=f"p{hour}", count=len(new))
            if dialect in ("postgresql", "sqlite"):
                counter = counter.on_conflict_do_update(
                    index_elements=["client_id", "window"], set_={"count": rate_window.c["count"] + len(new)}
                )
            else:
                counter = counter.on_duplicate_key_update(count=rate_window.c["count"] + len(new))
            await connection.execute(counter)
        distinct = (
            await connection.execute(
                sa.select(rate_window.c["count"]).where(rate_window.c.client_id == client_id, rate_window.c.window == f"p{hour}")
            )
        ).scalar() or 0
        if now.minute == 0 and now.second < 5:
            old = (now - dt.timedelta(hours=2)).strftime("h%Y%m%d%H")
            await connection.execute(sa.delete(person_read).where(person_read.c.hour < old))
            await connection.execute(
                sa.delete(rate_window).where(rate_window.c.window.like("p%"), rate_window.c.window < f"p{old}")
            )
    if distinct > per_hour:
        raise RateLimited("distinct_persons_per_hour", 3600 - now.minute * 60 - now.second)

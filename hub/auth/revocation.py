"""Revoked token ids, kept in the store so every hub process refuses them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.db import writing

from hub.store.tables import revoked_token


async def revoke(store: AsyncEngine, jti: str, expires_at: int) -> None:
    now = dt.datetime.now(dt.UTC)
    async with writing(store).begin() as connection:
        exists = (
            await connection.execute(sa.select(revoked_token.c.jti).where(revoked_token.c.jti == jti))
        ).first()
        if exists is None:
            await connection.execute(
                sa.insert(revoked_token).values(
                    jti=jti, expires_at=dt.datetime.fromtimestamp(expires_at, dt.UTC), revoked_at=now
                )
            )
        # Entries for tokens long expired are of no use; drop them as we go.
        await connection.execute(
            sa.delete(revoked_token).where(revoked_token.c.expires_at < now - dt.timedelta(hours=1))
        )


async def is_revoked(store: AsyncEngine, jti: str) -> bool:
    async with store.connect() as connection:
        row = (await connection.execute(sa.select(revoked_token.c.jti).where(revoked_token.c.jti == jti))).first()
    return row is not None


async def revoked_among(store: AsyncEngine, jtis: Collection[str]) -> set[str]:
    """Which of the token ids are revoked, in one read (the lookups of concurrent requests together)."""
    if not jtis:
        return set()
    async with store.connect() as connection:
        return await revoked_in(connection, jtis)


# Built once: every request's revocation check runs it.
_REVOKED_AMONG = sa.select(revoked_token.c.jti).where(revoked_token.c.jti.in_(sa.bindparam("jtis", expanding=True)))


async def revoked_in(connection: AsyncConnection, jtis: Collection[str]) -> set[str]:
    """Which of the token ids are revoked, read on a connection already open (one statement)."""
    if not jtis:
        return set()
    rows = await connection.execute(_REVOKED_AMONG, {"jtis": sorted(jtis)})
    return {row[0] for row in rows}

"""Secrets every hub process must agree on, made once and kept in the store."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.tables import hub_secret


async def shared_secret(store: AsyncEngine, name: str, *, length: int = 32) -> bytes:
    """The named secret; the first process to ask makes it, the others read the same one."""
    for _ in range(3):
        async with store.connect() as connection:
            row = (await connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == name))).first()
        if row is not None:
            return base64.b64decode(row.value)
        try:
            async with store.begin() as connection:
                await connection.execute(
                    sa.insert(hub_secret).values(
                        name=name,
                        value=base64.b64encode(secrets.token_bytes(length)).decode(),
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
        except sa.exc.IntegrityError:
            continue  # another process made it first
    raise RuntimeError(f"the shared secret {name!r} could not be read or made")

"""The body of each migrations/<database>/env.py: online migrations on a given or a configured connection."""

from __future__ import annotations

import asyncio

from alembic import context

from hub.config import Settings
from hub.db import create_engine
from hub.migrate import version_table


def _run(connection, name: str) -> None:
    context.configure(
        connection=connection,
        version_table=version_table(name),
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run(name: str) -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection, name)
        return

    async def standalone() -> None:
        engine = create_engine(Settings().database_url(name))
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_run, name)
        finally:
            await engine.dispose()

    asyncio.run(standalone())

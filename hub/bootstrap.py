"""Getting databases ready: migrate all three, and fill the embedded default with demo data on first start."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from hub.config import DATABASE_NAMES, Settings
from hub.databases import Databases
from hub.migrate import upgrade
from hub.sources.ministry.tables import person
from hub.store.tables import seed_run

log = logging.getLogger("hub.bootstrap")


async def migrate_all(databases: Databases) -> None:
    for name in DATABASE_NAMES:
        await upgrade(databases[name], name)


async def seed(databases: Databases, *, persons: int, seed_value: int, progress: bool) -> dict[str, int]:
    """Refill both sources with synthetic data and record the run in the store."""
    from hub.seed import seed_sources

    started = dt.datetime.now(dt.UTC)
    async with databases["store"].begin() as connection:
        run_id = (
            await connection.execute(
                sa.insert(seed_run).values(seed=seed_value, persons=persons, started_at=started)
            )
        ).inserted_primary_key[0]
    summary = await seed_sources(
        databases["ministry"], databases["city"], persons=persons, seed=seed_value, progress=progress
    )
    async with databases["store"].begin() as connection:
        await connection.execute(
            sa.update(seed_run).where(seed_run.c.id == run_id).values(finished_at=dt.datetime.now(dt.UTC))
        )
    return summary.rows


async def sources_are_empty(databases: Databases) -> bool:
    async with databases["ministry"].connect() as connection:
        return (await connection.execute(sa.select(sa.func.count()).select_from(person))).scalar_one() == 0


async def prepare_embedded(settings: Settings, *, progress: bool = True) -> None:
    """Create, migrate and (the first time) seed the embedded SQLite databases."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    databases = Databases.from_settings(settings)
    try:
        await migrate_all(databases)
        if await sources_are_empty(databases):
            log.info("first start: generating %d synthetic persons", settings.demo_persons)
            await seed(databases, persons=settings.demo_persons, seed_value=settings.demo_seed, progress=progress)
    finally:
        await databases.dispose()

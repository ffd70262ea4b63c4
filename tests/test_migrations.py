"""Each database's migration history goes up, down to base and up again on every engine."""

import sqlalchemy as sa

from hub.config import DATABASE_NAMES
from hub.databases import Databases
from hub.migrate import current_revision, downgrade, head_revision, upgrade
from hub.sources.city.tables import metadata as city_metadata
from hub.sources.ministry.tables import metadata as ministry_metadata
from hub.store.tables import metadata as store_metadata
from tests.conftest import settings_for

EXPECTED_TABLES = {
    "ministry": set(ministry_metadata.tables),
    "city": set(city_metadata.tables),
    "store": set(store_metadata.tables),
}


async def _tables(engine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    return {n for n in names if not n.startswith("alembic_version")}


async def _columns(engine, table: str) -> set[str]:
    async with engine.connect() as connection:
        columns = await connection.run_sync(lambda sync: sa.inspect(sync).get_columns(table))
    return {c["name"] for c in columns}


async def test_upgrade_downgrade_upgrade(fresh_databases):
    databases = Databases.from_settings(settings_for(fresh_databases.urls))
    metadata = {"ministry": ministry_metadata, "city": city_metadata, "store": store_metadata}
    try:
        for name in DATABASE_NAMES:
            engine = databases[name]
            assert await current_revision(engine, name) is None
            await upgrade(engine, name)
            assert await current_revision(engine, name) == head_revision(name)
            assert await _tables(engine) == EXPECTED_TABLES[name]
            # The tables the hub reads match what the migrations created, column for column.
            for table in metadata[name].tables.values():
                assert await _columns(engine, table.name) == {c.name for c in table.columns}
            await downgrade(engine, name, "base")
            assert await current_revision(engine, name) is None
            assert await _tables(engine) == set()
            await upgrade(engine, name)
            assert await _tables(engine) == EXPECTED_TABLES[name]
    finally:
        await databases.dispose()

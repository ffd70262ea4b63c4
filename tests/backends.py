"""Test databases: SQLite files always; PostgreSQL (ministry, store) and MariaDB (city) when reachable.

Each call to create_databases() makes three new, empty databases and returns their URLs;
drop_databases() removes them again. Nothing here is shared between test runs.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from hub.db import async_url

POSTGRES_ADMIN = os.environ.get("HUB_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("HUB_TEST_MARIADB", "mysql+asyncmy://root@127.0.0.1:3306/mysql")

SQLITE = "sqlite"
SERVERS = "servers"

# Labels of the backends that tests actually created databases on, reported at the end of the run.
exercised: set[str] = set()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def servers_reachable() -> bool:
    return _reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 3306)


def servers_required() -> bool:
    """CI sets HUB_TEST_REQUIRE_SERVERS=1: then unreachable servers fail the run instead of skipping."""
    return os.environ.get("HUB_TEST_REQUIRE_SERVERS") == "1"


@dataclass
class TestDatabases:
    kind: str
    urls: dict[str, str]
    _server_names: dict[str, str]

    @property
    def label(self) -> str:
        return "sqlite" if self.kind == SQLITE else "postgresql+mariadb"


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def create_databases(kind: str, directory: Path) -> TestDatabases:
    token = uuid.uuid4().hex[:10]
    if kind == SQLITE:
        directory.mkdir(parents=True, exist_ok=True)
        urls = {n: f"sqlite+aiosqlite:///{directory / f'{n}_{token}.db'}" for n in ("ministry", "city", "store")}
        exercised.add("sqlite")
        return TestDatabases(kind, urls, {})
    names = {n: f"hub_test_{token}_{n}" for n in ("ministry", "city", "store")}
    await _admin(POSTGRES_ADMIN, f'CREATE DATABASE "{names["ministry"]}"')
    await _admin(POSTGRES_ADMIN, f'CREATE DATABASE "{names["store"]}"')
    await _admin(
        MARIADB_ADMIN,
        f"CREATE DATABASE `{names['city']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    )
    pg = sa.make_url(POSTGRES_ADMIN)
    my = sa.make_url(MARIADB_ADMIN)
    urls = {
        "ministry": pg.set(database=names["ministry"]).render_as_string(hide_password=False),
        "store": pg.set(database=names["store"]).render_as_string(hide_password=False),
        "city": my.set(database=names["city"]).render_as_string(hide_password=False),
    }
    exercised.add("postgresql+mariadb")
    return TestDatabases(kind, urls, names)


async def drop_databases(databases: TestDatabases) -> None:
    if databases.kind == SQLITE:
        for url in databases.urls.values():
            path = Path(sa.make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    names = databases._server_names
    for name in ("ministry", "store"):
        await _admin(POSTGRES_ADMIN, f'DROP DATABASE IF EXISTS "{names[name]}" WITH (FORCE)')
    await _admin(MARIADB_ADMIN, f"DROP DATABASE IF EXISTS `{names['city']}`")


async def read_sql(url: str, query: str) -> list:
    """Rows of plain SQL on a database (tests read the seeded data independently of the hub's adapters)."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            return (await connection.execute(sa.text(query))).all()
    finally:
        await engine.dispose()

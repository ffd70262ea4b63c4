"""Shared fixtures: every database-backed test runs on SQLite and, when reachable, on PostgreSQL + MariaDB."""

from __future__ import annotations

import pytest

from hub.bootstrap import migrate_all
from hub.config import Settings
from hub.databases import Databases
from tests import backends
from tests.backends import SERVERS, SQLITE, create_databases, drop_databases, servers_reachable, servers_required

SEED_PERSONS = 600
SEED_VALUE = 7

def pytest_report_header(config) -> str:
    servers = "reachable" if servers_reachable() else "NOT reachable"
    return f"hub backends: sqlite always; PostgreSQL (ministry, store) + MariaDB (city) {servers}"


def pytest_terminal_summary(terminalreporter) -> None:
    ran = ", ".join(sorted(backends.exercised)) or "none"
    terminalreporter.write_line(f"hub backends exercised: {ran}")


@pytest.fixture(scope="session", params=[SQLITE, SERVERS])
def backend_kind(request) -> str:
    if request.param == SERVERS and not servers_reachable():
        if servers_required():
            pytest.fail("PostgreSQL and MariaDB must be reachable (HUB_TEST_REQUIRE_SERVERS=1)")
        pytest.skip("PostgreSQL or MariaDB not reachable on 127.0.0.1")
    return request.param


@pytest.fixture(scope="session")
async def migrated_databases(backend_kind, tmp_path_factory):
    """Three migrated, empty source databases and a store, shared by tests that need no source data."""
    test_dbs = await create_databases(backend_kind, tmp_path_factory.mktemp("migrated"))
    databases = Databases.from_settings(settings_for(test_dbs.urls))
    try:
        await migrate_all(databases)
        yield test_dbs
    finally:
        await databases.dispose()
        await drop_databases(test_dbs)


@pytest.fixture(scope="session")
async def seeded_databases(backend_kind, tmp_path_factory):
    """Three migrated databases filled with a small deterministic data set, shared by read-only tests."""
    from hub.seed import seed_sources

    test_dbs = await create_databases(backend_kind, tmp_path_factory.mktemp("seeded"))
    settings = settings_for(test_dbs.urls)
    databases = Databases.from_settings(settings)
    try:
        await migrate_all(databases)
        await seed_sources(
            databases["ministry"], databases["city"], persons=SEED_PERSONS, seed=SEED_VALUE, progress=False
        )
        yield test_dbs
    finally:
        await databases.dispose()
        await drop_databases(test_dbs)


@pytest.fixture
async def fresh_databases(backend_kind, tmp_path):
    """Three new, empty (unmigrated) databases for one test."""
    test_dbs = await create_databases(backend_kind, tmp_path)
    try:
        yield test_dbs
    finally:
        await drop_databases(test_dbs)


def settings_for(urls: dict[str, str], **overrides) -> Settings:
    return Settings(
        _env_file=None,
        ministry_url=urls["ministry"],
        city_url=urls["city"],
        store_url=urls["store"],
        **overrides,
    )

"""Database engines: one async engine per database, chosen by SQLAlchemy URL (SQLite, PostgreSQL, MariaDB/MySQL)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The async driver used when a URL names only the database kind.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+asyncmy",
    "mariadb": "mariadb+asyncmy",
}


def async_url(url: str) -> sa.URL:
    """The URL with an async driver: 'postgresql://...' becomes 'postgresql+asyncpg://...'."""
    parsed = make_url(url)
    if "+" not in parsed.drivername:
        driver = _ASYNC_DRIVERS.get(parsed.drivername)
        if driver is None:
            raise ValueError(f"unsupported database kind {parsed.drivername!r}")
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        parsed = parsed.set(query=query)
    return parsed


def engine_kind(engine: AsyncEngine) -> str:
    """'sqlite', 'postgresql' or 'mysql' (MariaDB reports as mysql)."""
    name = engine.dialect.name
    return "mysql" if name == "mariadb" else name


def create_engine(url: str, *, pool_size: int = 10, ping_after_idle: float | None = None) -> AsyncEngine:
    """An engine whose pooled connections are checked before use: on every checkout, or, with
    ping_after_idle, only those idle for longer than that many seconds (a ping is a round trip)."""
    parsed = async_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict = {"pool_pre_ping": backend != "sqlite" and ping_after_idle is None}
    if backend == "sqlite":
        engine = create_async_engine(parsed, connect_args={"timeout": 30}, **kwargs)

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            # The driver's own transaction handling breaks savepoints; SQLAlchemy emits BEGIN instead.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - driver hook
            # Writers take the write lock up front: two writers then queue (busy timeout) instead of
            # one failing when it upgrades a stale read snapshot. Readers stay deferred and concurrent.
            immediate = connection.get_execution_options().get("hub_writes")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    engine = create_async_engine(
        parsed, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, **kwargs
    )
    if ping_after_idle is not None:
        _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    @sa.event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:  # pragma: no cover - driver hook
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:  # pragma: no cover - driver hook
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is not usable
            # The pool discards this connection and checks out a fresh one.
            raise sa.exc.DisconnectionError("a pooled connection did not answer its ping") from exc


def writing(engine: AsyncEngine) -> AsyncEngine:
    """The engine for a transaction that will write (on SQLite it then begins IMMEDIATE)."""
    return engine.execution_options(hub_writes=True)


def safe_url(url: str) -> str:
    """A URL fit for logs and errors: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)

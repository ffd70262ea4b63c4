"""The three databases a hub process talks to, and how to tell whether each answers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.config import DATABASE_NAMES, SOURCE_NAMES, Settings
from hub.db import create_engine, engine_kind
from hub.migrate import current_revision, head_revision

SOURCE_PING_AFTER_IDLE = 5.0
# The store is written on every request: a connection in steady use is not pinged, one idle for
# a second is. After a store restart the first transaction on a dead connection fails (its
# requests are refused, nothing is lost) and SQLAlchemy then replaces every pooled connection.
STORE_PING_AFTER_IDLE = 1.0


@dataclass(frozen=True)
class DatabaseHealth:
    name: str
    engine: str
    reachable: bool
    latency_ms: float | None
    revision: str | None
    expected_revision: str | None
    # A short reason when unreachable; never a URL, host or driver message.
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.reachable and self.revision == self.expected_revision


class Databases:
    """Engines for ministry, city and store; built by the app's lifespan, disposed with it."""

    def __init__(self, engines: dict[str, AsyncEngine], *, timeout: float) -> None:
        self.engines = engines
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Databases:
        # Connections are pinged only after sitting idle: a source read that fails is retried
        # once, and a store transaction that fails refuses its requests.
        engines = {
            name: create_engine(url, ping_after_idle=SOURCE_PING_AFTER_IDLE if name in SOURCE_NAMES else STORE_PING_AFTER_IDLE)
            for name, url in settings.database_urls().items()
        }
        return cls(engines, timeout=settings.source_timeout)

    def __getitem__(self, name: str) -> AsyncEngine:
        return self.engines[name]

    async def dispose(self) -> None:
        await asyncio.gather(*(engine.dispose() for engine in self.engines.values()))

    async def probe(self, name: str) -> DatabaseHealth:
        engine = self.engines[name]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                async with engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
                latency = (time.perf_counter() - started) * 1000
                revision = await current_revision(engine, name)
        except TimeoutError:
            return DatabaseHealth(name, engine_kind(engine), False, None, None, head_revision(name), "timeout")
        except Exception:  # noqa: BLE001 - any failure to answer means unreachable
            return DatabaseHealth(
                name, engine_kind(engine), False, None, None, head_revision(name), "connection failed"
            )
        return DatabaseHealth(name, engine_kind(engine), True, latency, revision, head_revision(name))

    async def probe_all(self, names: tuple[str, ...] = DATABASE_NAMES) -> list[DatabaseHealth]:
        return list(await asyncio.gather(*(self.probe(name) for name in names)))

    async def probe_sources(self) -> list[DatabaseHealth]:
        return await self.probe_all(SOURCE_NAMES)

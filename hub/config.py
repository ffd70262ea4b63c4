"""The hub's settings: read once from the environment (and an optional env file), then passed in."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCE_NAMES = ("ministry", "city")
DATABASE_NAMES = ("ministry", "city", "store")


class Environment(StrEnum):
    DEMO = "demo"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./var")
    ministry_url: str | None = None
    city_url: str | None = None
    store_url: str | None = None
    env: Environment = Environment.DEMO
    issuer: str = "http://localhost:8000"
    audience: str = "welfare-hub"
    external_issuer: str | None = None
    external_jwks_url: str | None = None
    # Persons generated on the first start of the embedded default.
    demo_persons: int = Field(default=2000, ge=0)
    demo_seed: int = 2568
    # A source that does not answer within this many seconds is reported unavailable.
    source_timeout: float = Field(default=5.0, gt=0)
    # Per client, shared by all processes: requests a minute, and distinct persons read an hour.
    requests_per_minute: int = Field(default=600, ge=1)
    persons_per_hour: int = Field(default=5000, ge=1)
    # A source failing this many times in a row is skipped for breaker_reset seconds, then probed.
    breaker_failures: int = Field(default=3, ge=1)
    breaker_reset: float = Field(default=10.0, gt=0)
    # Queries over persons run on the compiled path (one batched statement per level per source);
    # off, every operation runs on the reference resolvers (the two are compared in the tests).
    compiled_execution: bool = True
    # Crash-recovery tests stop the process at a named step of a sync batch; ignored in production.
    fault_crash_at: str | None = None

    @property
    def fault(self) -> str | None:
        return self.fault_crash_at if self.env is Environment.DEMO else None

    @property
    def embedded(self) -> bool:
        """True when no database URL is configured: all three live as SQLite files in data_dir."""
        return not (self.ministry_url or self.city_url or self.store_url)

    def database_url(self, name: str) -> str:
        configured = getattr(self, f"{name}_url")
        if configured:
            return configured
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{name}.db').resolve()}"

    def database_urls(self) -> dict[str, str]:
        return {name: self.database_url(name) for name in DATABASE_NAMES}

"""Alembic migrations of the three databases, run through the async engines."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.config import DATABASE_NAMES

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = ROOT / "alembic.ini"


def version_table(name: str) -> str:
    """Each history keeps its own version table, so two of the databases may share one server database."""
    return f"alembic_version_{name}"


def alembic_config(name: str) -> Config:
    if name not in DATABASE_NAMES:
        raise ValueError(f"unknown database {name!r}")
    config = Config(str(ALEMBIC_INI), ini_section=name)
    config.set_main_option("script_location", str(ROOT / "migrations" / name))
    return config


async def upgrade(engine: AsyncEngine, name: str, revision: str = "head") -> None:
    config = alembic_config(name)

    def run(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, name: str, revision: str = "base") -> None:
    config = alembic_config(name)

    def run(connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine, name: str) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(
                sync, opts={"version_table": version_table(name)}
            ).get_current_revision()
        )


def head_revision(name: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(name)).get_current_head()

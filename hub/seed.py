"""Fill the two source databases with deterministic synthetic data: clear them, then write generated chunks.

Generation (hub.seed_generate, pure) is separate from writing (here): each chunk is written with
SQLAlchemy Core executemany inserts, one transaction per chunk per database, both databases at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from hub.db import engine_kind
from hub.seed_generate import CITY_TABLES, MINISTRY_TABLES, Rows, SeedGenerator
from hub.sources.city.tables import metadata as city_metadata
from hub.sources.ministry.tables import metadata as ministry_metadata

DEFAULT_AS_OF = dt.date(2026, 11, 1)


@dataclass(frozen=True)
class SeedSummary:
    persons: int
    seed: int
    rows: dict[str, int]  # rows written per table name


async def seed_sources(
    ministry: AsyncEngine,
    city: AsyncEngine,
    *,
    persons: int,
    seed: int,
    progress: bool = True,
    as_of: dt.date = DEFAULT_AS_OF,
) -> SeedSummary:
    """Replace all rows of both sources with `persons` synthetic persons; same arguments, same data."""
    generator = SeedGenerator(persons=persons, seed=seed, as_of=as_of)
    await asyncio.gather(clear(ministry, ministry_metadata), clear(city, city_metadata))
    written: Counter[str] = Counter({name: 0 for name in (*MINISTRY_TABLES, *CITY_TABLES)})
    with tqdm(total=persons, unit="persons", desc="seed", file=sys.stderr, disable=not progress, smoothing=0.1) as bar:
        for chunk in generator.chunks():
            await asyncio.gather(
                write_rows(ministry, ministry_metadata, chunk.ministry),
                write_rows(city, city_metadata, chunk.city),
            )
            for rows in (chunk.ministry, chunk.city):
                written.update({name: len(table_rows) for name, table_rows in rows.items()})
            bar.update(chunk.persons)
    await asyncio.gather(reset_sequences(ministry, ministry_metadata), reset_sequences(city, city_metadata))
    return SeedSummary(persons=persons, seed=seed, rows=dict(written))


async def clear(engine: AsyncEngine, metadata: sa.MetaData) -> None:
    """Delete every row of every table the source's metadata knows, in one transaction."""
    async with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(table.delete())


async def write_rows(engine: AsyncEngine, metadata: sa.MetaData, rows: Rows) -> None:
    """Insert one chunk of rows (table name -> row dicts) in one transaction."""
    if not any(rows.values()):
        return
    async with engine.begin() as connection:
        for name, table_rows in rows.items():
            if table_rows:
                await connection.execute(sa.insert(metadata.tables[name]), table_rows)


async def reset_sequences(engine: AsyncEngine, metadata: sa.MetaData) -> None:
    """PostgreSQL does not move a serial's sequence past explicitly inserted keys; the next insert would collide."""
    if engine_kind(engine) != "postgresql":
        return
    async with engine.begin() as connection:
        for table in metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None:
                continue
            await connection.execute(
                sa.select(
                    sa.func.setval(
                        sa.func.pg_get_serial_sequence(table.name, column.name),
                        sa.func.coalesce(sa.func.max(column), 0) + 1,
                        False,
                    )
                ).select_from(table)
            )

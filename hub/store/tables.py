"""The hub store's tables (migrations/store creates them)."""

import sqlalchemy as sa

metadata = sa.MetaData()

seed_run = sa.Table(
    "seed_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("persons", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

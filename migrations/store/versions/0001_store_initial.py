"""The hub store's initial schema: a record of each synthetic-data run.

Revision ID: s0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seed_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("seed_run")

"""Rate limits shared by all hub processes: request windows and distinct persons read per hour.

Revision ID: s0007
Revises: s0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0007"
down_revision = "s0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_window",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("window", sa.String(20), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "person_read",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("hour", sa.String(16), primary_key=True),
        sa.Column("citizen_id", sa.CHAR(13), primary_key=True),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("person_read")
    op.drop_table("rate_window")

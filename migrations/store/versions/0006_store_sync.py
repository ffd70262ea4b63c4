"""Sync: idempotency records and the change feed.

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("record_key", sa.String(400), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("mutation", sa.String(100), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("result_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        **MYSQL,
    )
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("change_id", sa.String(32), nullable=False, unique=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("source_key", sa.String(100), nullable=False),
        sa.Column("citizen_id", sa.CHAR(13)),
        sa.Column("district_code", sa.CHAR(4)),
        sa.Column("operation", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_fields", sa.String(1000), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("change_log")
    op.drop_table("idempotency_record")

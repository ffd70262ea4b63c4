"""The hub's outbox: sync batches and their changes, committed with the data they describe.

Revision ID: c0002
Revises: c0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "hub_batch",
        sa.Column("batch_id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("purpose", sa.String(500)),
        sa.Column("mutation", sa.String(100), nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True)),
        **MYSQL,
    )
    op.create_index("ix_hub_batch_unrelayed", "hub_batch", ["relayed_at", "created_at"])
    op.create_table(
        "hub_outbox",
        sa.Column("change_id", sa.String(32), primary_key=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("source_key", sa.String(100), nullable=False),
        sa.Column("citizen_id", sa.CHAR(13)),
        sa.Column("operation", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("before_json", sa.Text),
        sa.Column("after_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_hub_outbox_batch", "hub_outbox", ["batch_id", "position"])


def downgrade() -> None:
    op.drop_table("hub_outbox")
    op.drop_table("hub_batch")

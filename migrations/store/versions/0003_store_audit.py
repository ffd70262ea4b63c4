"""The audit trail: hash-chained entries, the citizen IDs each touched, and the chain head.

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4"}
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("purpose", sa.String(500)),
        sa.Column("operation_name", sa.String(200)),
        sa.Column("document_hash", sa.String(64)),
        sa.Column("citizen_ids", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_audit_log_client", "audit_log", ["client_id", "id"])
    op.create_table(
        "audit_subject",
        sa.Column("audit_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("citizen_id", sa.CHAR(13), primary_key=True),
        **MYSQL,
    )
    op.create_index("ix_audit_subject_citizen", "audit_subject", ["citizen_id", "audit_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        **MYSQL,
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_subject")
    op.drop_table("audit_log")

"""The audit subjects keyed by citizen ID first: the one index accessHistory reads.

The primary key was (audit_id, citizen_id) with a second index on (citizen_id, audit_id);
every lookup goes by citizen ID, so the key now is (citizen_id, audit_id) and the second
index is gone: recording a read of 1,000 persons maintains one index instead of two.

Revision ID: s0008
Revises: s0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0008"
down_revision = "s0007"
branch_labels = None
depends_on = None


def _rekey(key: list[str]) -> None:
    """Give audit_subject the primary key `key` (SQLite cannot alter one: the table is rebuilt)."""
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("audit_subject_pkey", "audit_subject", type_="primary")
        op.create_primary_key("audit_subject_pkey", "audit_subject", key)
        return
    op.create_table(
        "audit_subject_rekeyed",
        sa.Column("audit_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("citizen_id", sa.CHAR(13), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="audit_subject_pkey"),
    )
    op.execute("INSERT INTO audit_subject_rekeyed (audit_id, citizen_id) SELECT audit_id, citizen_id FROM audit_subject")
    op.drop_table("audit_subject")
    op.rename_table("audit_subject_rekeyed", "audit_subject")


def upgrade() -> None:
    op.drop_index("ix_audit_subject_citizen", table_name="audit_subject")
    _rekey(["citizen_id", "audit_id"])


def downgrade() -> None:
    _rekey(["audit_id", "citizen_id"])
    op.create_index("ix_audit_subject_citizen", "audit_subject", ["citizen_id", "audit_id"])

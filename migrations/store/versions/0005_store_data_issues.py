"""Data issues found by reconciliation: the findings, the records each names, and the runs.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "data_issue",
        sa.Column("issue_key", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("district_code", sa.CHAR(4)),
        sa.Column("citizen_id", sa.CHAR(13)),
        sa.Column("ministry_ref", sa.String(1000)),
        sa.Column("city_ref", sa.String(1000)),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("suggestion", sa.String(500), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("last_run_id", sa.Integer, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_data_issue_kind", "data_issue", ["kind"])
    op.create_index("ix_data_issue_district", "data_issue", ["district_code"])
    op.create_index("ix_data_issue_citizen", "data_issue", ["citizen_id"])
    op.create_index("ix_data_issue_resolved", "data_issue", ["resolved_at"])
    op.create_table(
        "data_issue_ref",
        sa.Column("issue_key", sa.String(40), primary_key=True),
        sa.Column("record_ref", sa.String(64), primary_key=True),
        **MYSQL,
    )
    op.create_index("ix_data_issue_ref_record", "data_issue_ref", ["record_ref"])
    op.create_table(
        "reconcile_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("counts", sa.Text),
        sa.Column("watermarks", sa.Text),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("reconcile_run")
    op.drop_table("data_issue_ref")
    op.drop_table("data_issue")

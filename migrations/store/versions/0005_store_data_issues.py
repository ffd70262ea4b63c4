"""Data issues found by reconciliation (placeholder revision; the tables are added by this revision).

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-26
"""

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""OAuth: clients (hashed secrets), signing keys with rotation, revoked token ids.

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("districts", sa.String(1000)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        **MYSQL,
    )
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(10), nullable=False),
        sa.Column("private_jwk", sa.Text, nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("publish_until", sa.DateTime(timezone=True)),
        **MYSQL,
    )
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_revoked_token_expires", "revoked_token", ["expires_at"])


def downgrade() -> None:
    op.drop_table("revoked_token")
    op.drop_table("signing_key")
    op.drop_table("oauth_client")

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

oauth_client = sa.Table(
    "oauth_client",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    # scrypt hash of the secret with its salt and parameters; the secret itself is never stored.
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("scope", sa.String(500), nullable=False),
    sa.Column("districts", sa.String(1000)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

signing_key = sa.Table(
    "signing_key",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(10), nullable=False),
    sa.Column("private_jwk", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # When a newer key takes over signing, this one stays published until its last token expires.
    sa.Column("retired_at", sa.DateTime(timezone=True)),
    sa.Column("publish_until", sa.DateTime(timezone=True)),
)

revoked_token = sa.Table(
    "revoked_token",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
)

sa.Index("ix_revoked_token_expires", revoked_token.c.expires_at)

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

# The audit trail: append-only, each entry committing to the previous one by hash.
audit_log = sa.Table(
    "audit_log",
    metadata,
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
)

# Who was read, one row per citizen ID per entry, keyed by citizen ID first: the index behind accessHistory.
audit_subject = sa.Table(
    "audit_subject",
    metadata,
    sa.Column("audit_id", sa.BigInteger, nullable=False, autoincrement=False),
    sa.Column("citizen_id", sa.CHAR(13), nullable=False),
    sa.PrimaryKeyConstraint("citizen_id", "audit_id", name="audit_subject_pkey"),
)

# One row: the end of the chain, locked by each writer so entries from all processes form one chain.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)

sa.Index("ix_audit_log_client", audit_log.c.client_id, audit_log.c.id)

# Secrets the hub makes for itself and every process shares (e.g. the key that seals cursors).
hub_secret = sa.Table(
    "hub_secret",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per (client, idempotency key): the payload's hash and, once done, the stored result.
idempotency_record = sa.Table(
    "idempotency_record",
    metadata,
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
)

# The change feed: every applied change once, in the order the hub recorded it.
change_log = sa.Table(
    "change_log",
    metadata,
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
)

# Rate limits shared by every hub process: requests per client per minute, and the distinct
# persons each client read per hour (the bulk-extraction guard).
rate_window = sa.Table(
    "rate_window",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("window", sa.String(20), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

person_read = sa.Table(
    "person_read",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("hour", sa.String(16), primary_key=True),
    sa.Column("citizen_id", sa.CHAR(13), primary_key=True),
)

"""The hub's outbox in each source database, written in the same transaction as a sync's changes.

A batch that commits in a source leaves there, atomically with its data, one hub_batch row
(the per-item result) and one hub_outbox row per change (before and after). The relay then
turns them into audit entries, change-feed records and the idempotency result in the store.
If the process dies between the two commits, the relay finishes the job on the next start:
nothing applied goes unaudited, and nothing is recorded twice.
"""

import sqlalchemy as sa


def outbox_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    batch = sa.Table(
        "hub_batch",
        metadata,
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
    )
    outbox = sa.Table(
        "hub_outbox",
        metadata,
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
    )
    sa.Index("ix_hub_batch_unrelayed", batch.c.relayed_at, batch.c.created_at)
    sa.Index("ix_hub_outbox_batch", outbox.c.batch_id, outbox.c.position)
    return batch, outbox

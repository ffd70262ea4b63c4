"""The store's tables for data-quality findings (hub.reconcile writes them; migration s0005 creates them)."""

import sqlalchemy as sa

from hub.store.tables import metadata

# One row per finding. The key is a hash of the kind and the source records involved, so every
# run that sees the same discrepancy updates the same row: first_seen_at stays, last_seen_at
# moves, resolved_at is set when a run in scope no longer sees it (and cleared if it returns).
data_issue = sa.Table(
    "data_issue",
    metadata,
    sa.Column("issue_key", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(48), nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    # The source whose records need correcting: 'ministry', 'city' or 'both'.
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("district_code", sa.CHAR(4)),
    sa.Column("citizen_id", sa.CHAR(13)),
    # Provenance: source keys ('table:key'), comma-separated when a finding names several records.
    sa.Column("ministry_ref", sa.String(1000)),
    sa.Column("city_ref", sa.String(1000)),
    # Short English text without names or other personal data.
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("suggestion", sa.String(500), nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("last_run_id", sa.Integer, nullable=False),
)

sa.Index("ix_data_issue_kind", data_issue.c.kind)
sa.Index("ix_data_issue_district", data_issue.c.district_code)
sa.Index("ix_data_issue_citizen", data_issue.c.citizen_id)
sa.Index("ix_data_issue_resolved", data_issue.c.resolved_at)

# The source records whose re-reading re-evaluates a finding (normally all it names), one row each:
# an incremental run finds the findings a changed or re-read record is involved in (e.g. a duplicate
# whose second registration got another PID) and resolves those it no longer sees.
data_issue_ref = sa.Table(
    "data_issue_ref",
    metadata,
    sa.Column("issue_key", sa.String(40), primary_key=True),
    sa.Column("record_ref", sa.String(64), primary_key=True),
)

sa.Index("ix_data_issue_ref_record", data_issue_ref.c.record_ref)

# One row per reconciliation run; an incremental run starts from the last finished run's watermarks.
reconcile_run = sa.Table(
    "reconcile_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mode", sa.String(12), nullable=False),
    # The reference time of the checks (ages, card validity, staleness).
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    # JSON: {kind: {"found": n, "new": n, "reopened": n, "resolved": n}}.
    sa.Column("counts", sa.Text),
    # JSON: the newest change time or key per source table, read before the run looked at the data.
    sa.Column("watermarks", sa.Text),
)

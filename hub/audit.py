"""The audit trail: who read or changed whose data, when, why, and with what outcome.

Entries are appended in the store as a hash chain: each entry's hash covers its own fields
and the previous entry's hash, so an edited, deleted or reordered entry breaks the chain at
that point. Writers from every hub process take the chain head row's lock, so the chain is
one sequence whatever the number of processes. Within a process, entries arriving together
are written in one transaction (group commit), and each request waits for its entry to be
committed before its response is sent: nothing is shown that was not audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.batching import Batcher
from hub.db import writing

from hub.store.tables import audit_head, audit_log, audit_subject

log = logging.getLogger("hub.audit")
GENESIS = "0" * 64


class AuditUnavailable(Exception):
    """The audit entry could not be written; the request it belongs to must fail."""


@dataclass
class AuditEntry:
    kind: str  # read or write
    request_id: str
    client_id: str
    subject: str
    scopes: str
    purpose: str | None
    operation_name: str | None
    document_hash: str | None
    citizen_ids: frozenset[str]
    outcome: str  # ok, partial, error, refused
    detail: str | None = None
    occurred_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def entry_hash(entry_id: int, values: dict, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the entry; MariaDB keeps whole seconds, so times are hashed so."""
    canonical = {
        "id": entry_id,
        "occurred_at": _utc(values["occurred_at"]).replace(microsecond=0).isoformat(),
        "request_id": values["request_id"],
        "kind": values["kind"],
        "client_id": values["client_id"],
        "subject": values["subject"],
        "scopes": values["scopes"],
        "purpose": values["purpose"],
        "operation_name": values["operation_name"],
        "document_hash": values["document_hash"],
        "citizen_ids": values["citizen_ids"],
        "detail": values["detail"],
        "outcome": values["outcome"],
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _values(entry: AuditEntry) -> dict:
    return {
        "occurred_at": entry.occurred_at,
        "request_id": entry.request_id,
        "kind": entry.kind,
        "client_id": entry.client_id,
        "subject": entry.subject,
        "scopes": entry.scopes,
        "purpose": entry.purpose,
        "operation_name": entry.operation_name,
        "document_hash": entry.document_hash,
        "citizen_ids": ",".join(sorted(entry.citizen_ids)),
        "detail": entry.detail,
        "outcome": entry.outcome,
    }


# The statements of every append, built once (building one costs more than running it).
_TAKE_HEAD = (sa.update(audit_head).where(audit_head.c.id == 1).values(last_id=audit_head.c.last_id)
              .returning(audit_head.c.last_id, audit_head.c.last_hash))
_MOVE_HEAD = sa.update(audit_head).where(audit_head.c.id == 1).values(
    last_id=sa.bindparam("last_id"), last_hash=sa.bindparam("last_hash"))
_INSERT_ENTRIES = sa.insert(audit_log)
_INSERT_SUBJECTS = sa.insert(audit_subject)
# Columns of audit_log and the PostgreSQL array type each is sent as, in _APPEND_PG's order.
_ENTRY_ARRAYS = (
    ("id", "BIGINT"), ("occurred_at", "TIMESTAMPTZ"), ("request_id", "TEXT"), ("kind", "TEXT"),
    ("client_id", "TEXT"), ("subject", "TEXT"), ("scopes", "TEXT"), ("purpose", "TEXT"),
    ("operation_name", "TEXT"), ("document_hash", "TEXT"), ("citizen_ids", "TEXT"), ("detail", "TEXT"),
    ("outcome", "TEXT"), ("prev_hash", "TEXT"), ("entry_hash", "TEXT"),
)
# On PostgreSQL the entries, their subjects and the new head are written in one statement (each
# list of values one array), so the chain head's lock is held for two round trips and the commit.
# Its parameters, in order: one array per column, the subjects' two arrays, then the new head.
APPEND_PARAMETERS = (*(name for name, _ in _ENTRY_ARRAYS), "subject_ids", "subject_citizens", "last_id", "last_hash")
_APPEND_TYPES = (*(f"{kind}[]" for _, kind in _ENTRY_ARRAYS), "BIGINT[]", "TEXT[]", "BIGINT", "TEXT")
_APPEND_TEMPLATE = (
    "WITH entries AS (INSERT INTO audit_log ({columns}) SELECT * FROM unnest({arrays})), "
    "subjects AS (INSERT INTO audit_subject (audit_id, citizen_id) SELECT * FROM unnest({subjects})) "
    "UPDATE audit_head SET last_id = {last_id}, last_hash = {last_hash} WHERE id = 1"
)


def _append_sql(placeholders: list[str]) -> str:
    cast = [f"CAST({p} AS {kind})" for p, kind in zip(placeholders, _APPEND_TYPES, strict=True)]
    columns = len(_ENTRY_ARRAYS)
    return _APPEND_TEMPLATE.format(
        columns=", ".join(name for name, _ in _ENTRY_ARRAYS), arrays=", ".join(cast[:columns]),
        subjects=", ".join(cast[columns:columns + 2]), last_id=cast[-2], last_hash=cast[-1],
    )


_APPEND_PG = sa.text(_append_sql([f":{name}" for name in APPEND_PARAMETERS]))
# The same for the PostgreSQL driver itself (positional parameters, in APPEND_PARAMETERS' order).
APPEND_PG_DRIVER = _append_sql([f"${i}" for i in range(1, len(APPEND_PARAMETERS) + 1)])


class Chained:
    """Entries given their ids and hashes, following the chain head (last_id, last_hash)."""

    def __init__(self, entries: list[AuditEntry], last_id: int, last_hash: str) -> None:
        self.rows: list[dict] = []
        self.subjects: list[dict] = []
        self.ids: list[int] = []
        for entry in entries:
            last_id += 1
            values = _values(entry)
            digest = entry_hash(last_id, values, last_hash)
            self.rows.append({"id": last_id, **values, "prev_hash": last_hash, "entry_hash": digest})
            self.subjects.extend({"audit_id": last_id, "citizen_id": cid} for cid in sorted(entry.citizen_ids))
            last_hash = digest
            self.ids.append(last_id)
        self.last_id, self.last_hash = last_id, last_hash

    def arrays(self) -> list:
        """The values of the PostgreSQL append, in APPEND_PARAMETERS' order."""
        return [*([row[name] for row in self.rows] for name, _ in _ENTRY_ARRAYS),
                [s["audit_id"] for s in self.subjects], [s["citizen_id"] for s in self.subjects],
                self.last_id, self.last_hash]


async def append(store: AsyncEngine, entries: list[AuditEntry]) -> list[int]:
    """Append entries to the chain in one transaction; returns their ids."""
    async with writing(store).begin() as connection:
        return await append_in(connection, entries)


async def lock_chain(connection) -> None:
    """Take the chain head's lock for the rest of the caller's transaction.

    Writing the head first takes the write lock on every engine (SQLite included) before reading it.
    """
    await connection.execute(sa.update(audit_head).where(audit_head.c.id == 1).values(last_id=audit_head.c.last_id))


async def append_in(connection, entries: list[AuditEntry]) -> list[int]:
    """Append entries within the caller's store transaction (so they commit with what they describe)."""
    if connection.dialect.name in ("postgresql", "sqlite"):
        # Taking the lock returns the head with it: one round trip instead of two.
        head = (await connection.execute(_TAKE_HEAD)).one()
    else:
        await lock_chain(connection)
        head = (await connection.execute(sa.select(audit_head.c.last_id, audit_head.c.last_hash).where(audit_head.c.id == 1))).one()
    chained = Chained(entries, head.last_id, head.last_hash)
    rows, subjects, ids, last_id, last_hash = chained.rows, chained.subjects, chained.ids, chained.last_id, chained.last_hash
    if connection.dialect.name == "postgresql":
        parameters = dict(zip(APPEND_PARAMETERS, chained.arrays(), strict=True))
        await connection.execute(_APPEND_PG, parameters)
        return ids
    await connection.execute(_INSERT_ENTRIES, rows)
    if subjects:
        await connection.execute(_INSERT_SUBJECTS, subjects)
    await connection.execute(_MOVE_HEAD, {"last_id": last_id, "last_hash": last_hash})
    return ids


class AuditWriter:
    """Group commit: entries queued by concurrent requests are written together, each request
    answered once its entry is committed. Not started (tests, the CLI) or stopped, an entry is
    written on its own; stopping writes everything already queued first."""

    def __init__(self, store: AsyncEngine) -> None:
        self.store = store
        self._batches: Batcher[AuditEntry, int] = Batcher("audit-writer", self._write)

    @property
    def depth(self) -> int:
        return self._batches.depth

    def start(self) -> None:
        self._batches.start()

    async def record(self, entry: AuditEntry) -> int:
        return await self._batches.submit(entry)

    async def _write(self, entries: list[AuditEntry]) -> list[int]:
        try:
            return await append(self.store, entries)
        except Exception as exc:  # noqa: BLE001 - any failure to audit fails the requests
            log.error("audit write failed: %s", type(exc).__name__)
            raise AuditUnavailable() from None

    async def stop(self) -> None:
        """Write what is queued, then stop (graceful shutdown)."""
        await self._batches.stop()


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


async def iterate(store: AsyncEngine, batch: int = 5000) -> AsyncIterator[sa.Row]:
    last = 0
    while True:
        async with store.connect() as connection:
            rows = (
                await connection.execute(sa.select(audit_log).where(audit_log.c.id > last).order_by(audit_log.c.id).limit(batch))
            ).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1].id


async def verify(store: AsyncEngine) -> tuple[int, ChainProblem | None]:
    """Walk the chain from the start; returns the entries checked and the first problem, if any."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    async for row in iterate(store):
        values = {k: row._mapping[k] for k in _values_keys()}
        if row.id != expected_id:
            return checked, ChainProblem(expected_id, f"entry {expected_id} is missing (next is {row.id})")
        if row.prev_hash != expected_prev:
            return checked, ChainProblem(row.id, "does not follow the entry before it (deleted or reordered)")
        if entry_hash(row.id, values, row.prev_hash) != row.entry_hash:
            return checked, ChainProblem(row.id, "its content does not match its hash (edited)")
        expected_prev = row.entry_hash
        expected_id += 1
        checked += 1
    async with store.connect() as connection:
        head = (await connection.execute(sa.select(audit_head.c.last_id, audit_head.c.last_hash))).one()
    if head.last_id != checked or head.last_hash != expected_prev:
        return checked, ChainProblem(checked + 1, "the chain ends before the recorded head (entries deleted at the end)")
    return checked, None


def _values_keys() -> tuple[str, ...]:
    return (
        "occurred_at", "request_id", "kind", "client_id", "subject", "scopes", "purpose",
        "operation_name", "document_hash", "citizen_ids", "detail", "outcome",
    )

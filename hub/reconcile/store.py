"""Findings in the hub store: upserted per batch, resolved when a run in scope no longer sees them, and queried.

Writes are committed a batch at a time so that a long run never holds the store's write lock
(SQLite has one) for more than a moment; a run that stops half-way leaves its run row unfinished
and resolves nothing, and the next run puts everything right.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.normalise import utc
from hub.reconcile.checks import in_chunks
from hub.reconcile.kinds import Finding, Kind
from hub.store.issue_tables import data_issue, data_issue_ref, reconcile_run

BATCH = 1000
IN_CHUNK = 1000
UPDATED_COLUMNS = (
    "severity", "source", "district_code", "citizen_id", "ministry_ref", "city_ref", "detail", "suggestion",
)


class FindingWriter:
    """Buffers the findings of one run and writes them to the store in batches, counting what was new."""

    def __init__(self, store: AsyncEngine, run_id: int, now: dt.datetime) -> None:
        self.store = store
        self.run_id = run_id
        self.now = now
        self.found: Counter[str] = Counter()
        self.new: Counter[str] = Counter()
        self.reopened: Counter[str] = Counter()
        self.statements = 0
        self._pending: dict[str, Finding] = {}

    async def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self._pending[finding.issue_key] = finding
            if len(self._pending) >= BATCH:
                await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        rows = {key: f.row() for key, f in pending.items()}
        async with self.store.begin() as connection:
            self.statements += 1
            existing = {
                r.issue_key: r
                for r in await connection.execute(
                    sa.select(
                        data_issue.c.issue_key, data_issue.c.resolved_at, data_issue.c.ministry_ref,
                        data_issue.c.city_ref,
                    ).where(data_issue.c.issue_key.in_(list(rows)))
                )
            }
            inserts, updates, new_refs, stale_refs = [], [], [], []
            for key, row in rows.items():
                finding = pending[key]
                self.found[row["kind"]] += 1
                before = existing.get(key)
                if before is None:
                    self.new[row["kind"]] += 1
                    inserts.append({
                        **row, "first_seen_at": self.now, "last_seen_at": self.now, "resolved_at": None,
                        "last_run_id": self.run_id,
                    })
                    new_refs.extend({"issue_key": key, "record_ref": ref} for ref in dict.fromkeys(finding.scope))
                    continue
                if before.resolved_at is not None:
                    self.reopened[row["kind"]] += 1
                updates.append({"_key": key, **{f"_{c}": row[c] for c in UPDATED_COLUMNS}})
                if (before.ministry_ref, before.city_ref) != (row["ministry_ref"], row["city_ref"]):
                    stale_refs.append(key)
                    new_refs.extend({"issue_key": key, "record_ref": ref} for ref in dict.fromkeys(finding.scope))
            if inserts:
                self.statements += 1
                await connection.execute(sa.insert(data_issue), inserts)
            if updates:
                self.statements += 1
                await connection.execute(
                    sa.update(data_issue)
                    .where(data_issue.c.issue_key == sa.bindparam("_key"))
                    .values(
                        last_seen_at=self.now, resolved_at=None, last_run_id=self.run_id,
                        **{c: sa.bindparam(f"_{c}") for c in UPDATED_COLUMNS},
                    ),
                    updates,
                )
            for chunk in in_chunks(stale_refs, IN_CHUNK):
                self.statements += 1
                await connection.execute(sa.delete(data_issue_ref).where(data_issue_ref.c.issue_key.in_(list(chunk))))
            if new_refs:
                self.statements += 1
                await connection.execute(sa.insert(data_issue_ref), new_refs)


async def resolve_unseen(store: AsyncEngine, run_id: int, now: dt.datetime, refs: set[str] | None) -> Counter[str]:
    """Mark resolved the open findings this run could have seen but did not; per kind, how many.

    A full run (refs None) could have seen every finding; an incremental run only those naming a
    record it examined.
    """
    unseen = sa.and_(data_issue.c.resolved_at.is_(None), data_issue.c.last_run_id != run_id)
    resolved: Counter[str] = Counter()
    async with store.begin() as connection:
        if refs is None:
            for kind, count in await connection.execute(
                sa.select(data_issue.c.kind, sa.func.count()).where(unseen).group_by(data_issue.c.kind)
            ):
                resolved[kind] += count
            await connection.execute(sa.update(data_issue).where(unseen).values(resolved_at=now))
            return resolved
        keys: dict[str, str] = {}
        for chunk in in_chunks(sorted(refs), IN_CHUNK):
            rows = await connection.execute(
                sa.select(data_issue.c.issue_key, data_issue.c.kind)
                .select_from(data_issue.join(data_issue_ref, data_issue_ref.c.issue_key == data_issue.c.issue_key))
                .where(unseen, data_issue_ref.c.record_ref.in_(list(chunk)))
            )
            keys.update({r.issue_key: r.kind for r in rows})
        for chunk in in_chunks(sorted(keys), IN_CHUNK):
            await connection.execute(
                sa.update(data_issue).where(data_issue.c.issue_key.in_(list(chunk))).values(resolved_at=now)
            )
        resolved.update(keys.values())
    return resolved


async def involved(store: AsyncEngine, refs: set[str]) -> tuple[set[str], set[int]]:
    """Citizen IDs and households of the open findings that name any of these records."""
    ids: set[str] = set()
    households: set[int] = set()
    async with store.connect() as connection:
        for chunk in in_chunks(sorted(refs), IN_CHUNK):
            rows = await connection.execute(
                sa.select(data_issue.c.citizen_id, data_issue.c.kind, data_issue.c.ministry_ref)
                .select_from(data_issue.join(data_issue_ref, data_issue_ref.c.issue_key == data_issue.c.issue_key))
                .where(data_issue.c.resolved_at.is_(None), data_issue_ref.c.record_ref.in_(list(chunk)))
            )
            for row in rows:
                if row.citizen_id:
                    ids.add(row.citizen_id)
                if row.kind == Kind.MISSED_HOUSEHOLD and row.ministry_ref:
                    households.add(int(row.ministry_ref.split(":", 1)[1]))
    return ids, households


# --- runs ------------------------------------------------------------------------------------------------------


async def start_run(store: AsyncEngine, mode: str, as_of: dt.datetime) -> int:
    async with store.begin() as connection:
        result = await connection.execute(
            sa.insert(reconcile_run).values(mode=mode, as_of=as_of, started_at=dt.datetime.now(dt.UTC))
        )
        return result.inserted_primary_key[0]


async def finish_run(store: AsyncEngine, run_id: int, counts: dict, marks: dict) -> dt.datetime:
    finished = dt.datetime.now(dt.UTC)
    async with store.begin() as connection:
        await connection.execute(
            sa.update(reconcile_run)
            .where(reconcile_run.c.id == run_id)
            .values(finished_at=finished, counts=json.dumps(counts, sort_keys=True),
                    watermarks=json.dumps(marks, sort_keys=True, default=str))
        )
    return finished


@dataclass(frozen=True)
class ReconcileRun:
    id: int
    mode: str
    as_of: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict
    watermarks: dict


def _run(row) -> ReconcileRun:
    return ReconcileRun(
        id=row.id, mode=row.mode, as_of=utc(row.as_of), started_at=utc(row.started_at),
        finished_at=utc(row.finished_at), counts=json.loads(row.counts or "{}"),
        watermarks=json.loads(row.watermarks or "{}"),
    )


async def last_run(connection, *, finished: bool = True) -> ReconcileRun | None:
    """The latest reconciliation run (by default the latest that finished), or None."""
    statement = sa.select(reconcile_run).order_by(reconcile_run.c.id.desc()).limit(1)
    if finished:
        statement = statement.where(reconcile_run.c.finished_at.is_not(None))
    row = (await connection.execute(statement)).first()
    return _run(row) if row is not None else None


# --- queries for the GraphQL layer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataIssue:
    issue_key: str
    kind: str
    severity: str
    source: str
    district_code: str | None
    citizen_id: str | None
    ministry_refs: tuple[str, ...]
    city_refs: tuple[str, ...]
    detail: str
    suggestion: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None


def _refs(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _issue(row) -> DataIssue:
    return DataIssue(
        issue_key=row.issue_key, kind=row.kind, severity=row.severity, source=row.source,
        district_code=row.district_code, citizen_id=row.citizen_id, ministry_refs=_refs(row.ministry_ref),
        city_refs=_refs(row.city_ref), detail=row.detail, suggestion=row.suggestion,
        first_seen_at=utc(row.first_seen_at), last_seen_at=utc(row.last_seen_at), resolved_at=utc(row.resolved_at),
    )


def _filters(
    kinds: Iterable[str] | None,
    district_codes: Iterable[str] | None,
    citizen_id: str | None,
    include_resolved: bool,
) -> list[sa.ColumnElement]:
    conditions: list[sa.ColumnElement] = []
    if kinds is not None:
        conditions.append(data_issue.c.kind.in_([str(k) for k in kinds]))
    if district_codes is not None:
        # An empty set (a districts claim naming no district) lets nothing through.
        conditions.append(data_issue.c.district_code.in_(sorted(district_codes)))
    if citizen_id is not None:
        conditions.append(data_issue.c.citizen_id == citizen_id)
    if not include_resolved:
        conditions.append(data_issue.c.resolved_at.is_(None))
    return conditions


async def list_issues(
    connection,
    *,
    kinds: Iterable[str] | None = None,
    district_codes: Iterable[str] | None = None,
    citizen_id: str | None = None,
    include_resolved: bool = False,
    after_key: str | None = None,
    limit: int = 50,
) -> list[DataIssue]:
    """Findings in issue_key order (stable across runs), `limit` of them after `after_key`: one statement.

    `connection` is an AsyncConnection or AsyncSession on the store. Ask for limit + 1 to know
    whether another page follows.
    """
    statement = sa.select(data_issue).where(*_filters(kinds, district_codes, citizen_id, include_resolved))
    if after_key is not None:
        statement = statement.where(data_issue.c.issue_key > after_key)
    statement = statement.order_by(data_issue.c.issue_key).limit(limit)
    return [_issue(row) for row in await connection.execute(statement)]


async def count_issues(
    connection,
    *,
    kinds: Iterable[str] | None = None,
    district_codes: Iterable[str] | None = None,
    citizen_id: str | None = None,
    include_resolved: bool = False,
    group_by: str = "kind",
) -> dict[str | None, int]:
    """How many findings match, per kind or per district (None: findings without a district): one statement."""
    column = {"kind": data_issue.c.kind, "district": data_issue.c.district_code}.get(group_by)
    if column is None:
        raise ValueError("group_by is 'kind' or 'district'")
    statement = (
        sa.select(column, sa.func.count())
        .where(*_filters(kinds, district_codes, citizen_id, include_resolved))
        .group_by(column)
        .order_by(column)
    )
    return {key: count for key, count in await connection.execute(statement)}


async def get_issues(connection, issue_keys: Sequence[str]) -> dict[str, DataIssue]:
    """Findings by key (for a loader): one statement per 1,000 keys."""
    found: dict[str, DataIssue] = {}
    for chunk in in_chunks(sorted(set(issue_keys)), IN_CHUNK):
        for row in await connection.execute(sa.select(data_issue).where(data_issue.c.issue_key.in_(list(chunk)))):
            found[row.issue_key] = _issue(row)
    return found

"""Applying one sync batch: validate every item, write the valid ones (or none) in one source
transaction with the outbox, then relay to the store. Expected failures are per-item results.

A kind with a version column is created, or updated under optimistic concurrency on expectedVersion.
A kind without one is create-only (an earlier row that makes the item a duplicate is a conflict),
or changes an existing row only as its spec's amend rule allows. Records that hang off a parent
(an assessment off its household, a card off its person) need the parent, and take its district."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.sync import idempotency
from hub.sync.relay import _tables, relay_batch
from hub.sync.specs import ItemInvalid, Prepared, WriteSpec

log = logging.getLogger("hub.sync")

PARTIAL = "PARTIAL"
ALL_OR_NOTHING = "ALL_OR_NOTHING"
OUTSIDE_DISTRICTS = "the record lies outside this client's districts"


class Crash(BaseException):
    """Raised at a fault point in tests of crash recovery (see fault_point)."""


def fault_point(name: str, enabled: str | None) -> None:
    """Let a test kill the process at a named step of a batch (demo mode only; see Settings.fault)."""
    if enabled and enabled == name:
        log.warning("fault point %s reached: exiting", name)
        os._exit(70)


@dataclass
class Writer:
    client_id: str
    subject: str
    scopes: str
    purpose: str | None
    districts: frozenset[str] | None


def payload_hash(mutation: str, mode: str, items: list[dict]) -> str:
    canonical = json.dumps({"mutation": mutation, "mode": mode, "items": items}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, (dt.date, dt.datetime)):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = str(v)
        else:
            out[k] = v
    return out


class _Rollback(Exception):
    pass


async def apply_batch(
    spec: WriteSpec,
    items: list[dict],
    *,
    idempotency_key: str,
    mode: str,
    writer: Writer,
    source: AsyncEngine,
    store: AsyncEngine,
    fault: str | None = None,
) -> dict:
    """Returns {"replayed": bool, "items": [per-item result dicts]}; raises KeyReused / KeyInFlight."""
    now = dt.datetime.now(dt.UTC)
    claim = await idempotency.claim(
        store, client_id=writer.client_id, mutation=spec.mutation, key=idempotency_key,
        payload_hash=payload_hash(spec.mutation, mode, items), batch_id=uuid.uuid4().hex, now=now,
    )
    if claim.stored_result is not None:
        return {**claim.stored_result, "replayed": True}
    if claim.taken_over:
        finished = await relay_batch(spec.source, source, store, claim.batch_id)
        if finished is not None:
            return {**finished, "replayed": True}

    results: list[dict | None] = [None] * len(items)
    prepared: dict[int, Prepared] = {}
    for index, item in enumerate(items):
        try:
            p = spec.prepare(item, now)
        except ItemInvalid as invalid:
            results[index] = {"type": "ValidationError", "index": index,
                              "problems": [{"field": f, "message": m} for f, m in invalid.problems]}
            continue
        if writer.districts is not None and p.district_code is not None and p.district_code not in writer.districts:
            results[index] = {"type": "Forbidden", "index": index, "reason": OUTSIDE_DISTRICTS}
            continue
        prepared[index] = p

    hub_batch, hub_outbox = _tables(spec.source)
    changes: list[dict] = []
    try:
        async with writing(source).begin() as connection:
            for index, p in prepared.items():
                # A savepoint per item: a constraint one item breaks does not abort the others.
                savepoint = await connection.begin_nested()
                mark = len(changes)
                try:
                    results[index] = await _apply_item(connection, spec, p, index, writer, now, changes, claim.batch_id)
                    await savepoint.commit()
                except sa.exc.IntegrityError:
                    await savepoint.rollback()
                    del changes[mark:]
                    results[index] = {"type": "VersionConflict", "index": index, "key": None if p.key is None else _key_text(p.key),
                                      "currentVersion": None, "reason": "the source refused the row (it conflicts with an existing one)"}
            failed = any(r["type"] != "Applied" for r in results)
            if mode == ALL_OR_NOTHING and failed:
                raise _Rollback()
            result = {"items": results, "replayed": False}
            await connection.execute(sa.insert(hub_batch).values(
                batch_id=claim.batch_id, idempotency_key=idempotency_key, client_id=writer.client_id,
                subject=writer.subject, scopes=writer.scopes, purpose=writer.purpose, mutation=spec.mutation,
                result_json=json.dumps(result), created_at=now,
            ))
            if changes:
                await connection.execute(sa.insert(hub_outbox), changes)
            fault_point("before_source_commit", fault)
    except _Rollback:
        results = [
            r if r["type"] != "Applied" else {"type": "NotApplied", "index": r["index"],
                                              "reason": "another item of this all-or-nothing batch failed"}
            for r in results
        ]
        result = {"items": results, "replayed": False}
        async with writing(source).begin() as connection:
            await connection.execute(sa.insert(hub_batch).values(
                batch_id=claim.batch_id, idempotency_key=idempotency_key, client_id=writer.client_id,
                subject=writer.subject, scopes=writer.scopes, purpose=writer.purpose, mutation=spec.mutation,
                result_json=json.dumps(result), created_at=now,
            ))
    fault_point("after_source_commit", fault)
    relayed = await relay_batch(spec.source, source, store, claim.batch_id)
    fault_point("after_store_commit", fault)
    return relayed or result


def _key_text(key) -> str:
    return ":".join(str(part) for part in key) if isinstance(key, tuple) else str(key)


async def _apply_item(connection, spec: WriteSpec, p: Prepared, index: int, writer: Writer,
                      now: dt.datetime, changes: list[dict], batch_id: str) -> dict:
    current = None
    if p.key is not None:
        row = (await connection.execute(sa.select(spec.table).where(spec.key_where(p.key)))).first()
        current = row._mapping if row is not None else None
    if current is not None and writer.districts is not None and spec.district_of_row is not None:
        if spec.district_of_row(current) not in writer.districts:
            return {"type": "Forbidden", "index": index, "reason": OUTSIDE_DISTRICTS}
    if current is None and p.key is not None and spec.version_column is None and spec.creates_without_key:
        return {"type": "NotFound", "index": index, "key": _key_text(p.key)}

    if spec.parent is not None:
        # An update's item lies over the existing row, so a parent the item does not name is the row's.
        basis = {**current, **p.values} if current is not None else p.values
        parent = (await connection.execute(spec.parent.lookup(basis))).first()
        if parent is None:
            return {"type": "NotFound", "index": index, "key": spec.parent.describe(basis), "field": spec.parent.field}
        district = spec.parent.district_of_row(parent._mapping)
        if writer.districts is not None and district not in writer.districts:
            return {"type": "Forbidden", "index": index, "reason": f"the {spec.parent.label} lies outside this client's districts"}
        p = replace(p, district_code=district)
    if current is not None and p.citizen_id is None and spec.citizen_of_row is not None:
        p = replace(p, citizen_id=spec.citizen_of_row(current))

    if spec.version_column is not None:
        return await _write_versioned(connection, spec, p, current, index, now, changes, batch_id)
    return await _write_unversioned(connection, spec, p, current, index, now, changes, batch_id)


async def _write_versioned(connection, spec: WriteSpec, p: Prepared, current, index: int, now: dt.datetime,
                           changes: list[dict], batch_id: str) -> dict:
    table, version_column = spec.table, spec.version_column
    values = {**p.values, **spec.stamp(now)}
    if p.expected_version is None:
        if current is not None:
            return {"type": "VersionConflict", "index": index, "key": _key_text(p.key),
                    "currentVersion": current[version_column.key],
                    "reason": "the record exists; send expectedVersion to update it"}
        if p.key is None and not spec.creates_without_key:
            return {"type": "NotFound", "index": index, "key": None}
        insert_values = {**values, version_column.key: 1}
        result = await connection.execute(sa.insert(table).values(**insert_values))
        key = p.key if p.key is not None else result.inserted_primary_key[0]
        _record_change(changes, spec, batch_id, len(changes), key, p, "create", 1, None, insert_values)
        return {"type": "Applied", "index": index, "key": _key_text(key), "version": 1, "operation": "create"}

    if current is None:
        return {"type": "NotFound", "index": index, "key": _key_text(p.key)}
    # Optimistic concurrency: the update applies only if nobody changed the row since expectedVersion.
    updated = await connection.execute(
        sa.update(table)
        .where(spec.key_where(p.key), version_column == p.expected_version)
        .values(**values, **{version_column.key: p.expected_version + 1})
    )
    if updated.rowcount != 1:
        latest = (await connection.execute(sa.select(version_column).where(spec.key_where(p.key)))).scalar()
        return {"type": "VersionConflict", "index": index, "key": _key_text(p.key), "currentVersion": latest,
                "reason": "the record changed since expectedVersion"}
    before = {k: v for k, v in current.items() if k in values}
    _record_change(changes, spec, batch_id, len(changes), p.key, p, "update", p.expected_version + 1, before, values)
    return {"type": "Applied", "index": index, "key": _key_text(p.key), "version": p.expected_version + 1, "operation": "update"}


# A kind without a version column reports every record at version 1.
UNVERSIONED = 1


async def _write_unversioned(connection, spec: WriteSpec, p: Prepared, current, index: int, now: dt.datetime,
                             changes: list[dict], batch_id: str) -> dict:
    table = spec.table
    if current is None:
        duplicate = spec.duplicate.where(p.values) if spec.duplicate is not None else None
        if duplicate is not None:
            earlier = (await connection.execute(sa.select(*spec.key_columns).where(duplicate).limit(1))).first()
            if earlier is not None:
                return {"type": "VersionConflict", "index": index, "key": _key_text(tuple(earlier) if len(earlier) > 1 else earlier[0]),
                        "currentVersion": UNVERSIONED, "reason": spec.duplicate.reason}
        values = {**p.values, **spec.stamp(now)}
        result = await connection.execute(sa.insert(table).values(**values))
        key = p.key if p.key is not None else result.inserted_primary_key[0]
        _record_change(changes, spec, batch_id, len(changes), key, p, "create", UNVERSIONED, None, values)
        return {"type": "Applied", "index": index, "key": _key_text(key), "version": UNVERSIONED, "operation": "create"}

    if spec.amend is None:
        return {"type": "VersionConflict", "index": index, "key": _key_text(p.key), "currentVersion": UNVERSIONED,
                "reason": "the record exists, and records of this kind are only ever created"}
    amended = spec.amend(current, p)
    if isinstance(amended, str):
        return {"type": "VersionConflict", "index": index, "key": _key_text(p.key), "currentVersion": UNVERSIONED,
                "reason": amended}
    if not amended:
        # The source already holds what the item says: nothing to write, nothing to audit.
        return {"type": "Applied", "index": index, "key": _key_text(p.key), "version": UNVERSIONED, "operation": "unchanged"}
    values = {**amended, **spec.stamp(now)}
    # Without a version column the row as read is its own version: the update applies only if no
    # column changed since the amend rule judged it (a concurrent writer makes it a VersionConflict).
    unchanged_since_read = [
        column.is_(None) if current[column.key] is None else column == current[column.key]
        for column in table.columns if column.computed is None and column.key in current
    ]
    updated = await connection.execute(sa.update(table).where(spec.key_where(p.key), *unchanged_since_read).values(**values))
    if updated.rowcount != 1:
        return {"type": "VersionConflict", "index": index, "key": _key_text(p.key), "currentVersion": UNVERSIONED,
                "reason": "the record changed while this item was applied"}
    before = {k: current[k] for k in values if k in current}
    _record_change(changes, spec, batch_id, len(changes), p.key, p, "update", UNVERSIONED, before, values)
    return {"type": "Applied", "index": index, "key": _key_text(p.key), "version": UNVERSIONED, "operation": "update"}


def _record_change(changes: list[dict], spec: WriteSpec, batch_id: str, position: int, key, p: Prepared,
                   operation: str, version: int, before: dict | None, after: dict) -> None:
    changes.append({
        "change_id": uuid.uuid4().hex,
        "batch_id": batch_id,
        "position": position,
        "entity": spec.entity,
        "source_key": f"{spec.table.name}:{_key_text(key)}",
        "citizen_id": p.citizen_id,
        "operation": operation,
        "version": version,
        "before_json": json.dumps(_jsonable(before), ensure_ascii=False) if before is not None else None,
        "after_json": json.dumps({**_jsonable(after), "_district": p.district_code}, ensure_ascii=False),
        "created_at": dt.datetime.now(dt.UTC),
    })

"""Applying one sync batch: validate every item, write the valid ones (or none) in one source
transaction with the outbox, then relay to the store. Expected failures are per-item results."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.sync import idempotency
from hub.sync.relay import _tables, relay_batch
from hub.sync.specs import PAYMENTS, ItemInvalid, Prepared, WriteSpec

log = logging.getLogger("hub.sync")

PARTIAL = "PARTIAL"
ALL_OR_NOTHING = "ALL_OR_NOTHING"


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
            results[index] = {"type": "Forbidden", "index": index, "reason": "the record lies outside this client's districts"}
            continue
        prepared[index] = p

    hub_batch, hub_outbox = _tables(spec.source)
    changes: list[dict] = []
    try:
        async with source.begin() as connection:
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
                    results[index] = {"type": "VersionConflict", "index": index, "key": None if p.key is None else str(p.key),
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
        async with source.begin() as connection:
            await connection.execute(sa.insert(hub_batch).values(
                batch_id=claim.batch_id, idempotency_key=idempotency_key, client_id=writer.client_id,
                subject=writer.subject, scopes=writer.scopes, purpose=writer.purpose, mutation=spec.mutation,
                result_json=json.dumps(result), created_at=now,
            ))
    fault_point("after_source_commit", fault)
    relayed = await relay_batch(spec.source, source, store, claim.batch_id)
    fault_point("after_store_commit", fault)
    return relayed or result


async def _apply_item(connection, spec: WriteSpec, p: Prepared, index: int, writer: Writer,
                      now: dt.datetime, changes: list[dict], batch_id: str) -> dict:
    table, key_column, version_column = spec.table, spec.key_column, spec.version_column
    values = {**p.values, **spec.stamp(now)}

    if spec is PAYMENTS:
        return await _apply_payment(connection, p, index, writer, now, changes, batch_id)

    current = None
    if p.key is not None:
        current = (await connection.execute(sa.select(table).where(key_column == p.key))).first()
    if current is not None and writer.districts is not None:
        district = spec.district_of_row(current._mapping)
        if district not in writer.districts:
            return {"type": "Forbidden", "index": index, "reason": "the record lies outside this client's districts"}

    if p.expected_version is None:
        if current is not None:
            return {"type": "VersionConflict", "index": index, "key": str(p.key),
                    "currentVersion": current._mapping[version_column.key],
                    "reason": "the record exists; send expectedVersion to update it"}
        if p.key is None and not spec.creates_without_key:
            return {"type": "NotFound", "index": index, "key": None}
        insert_values = {**values, version_column.key: 1}
        result = await connection.execute(sa.insert(table).values(**insert_values))
        key = p.key if p.key is not None else result.inserted_primary_key[0]
        _record_change(changes, spec, batch_id, len(changes), key, p, "create", 1, None, insert_values)
        return {"type": "Applied", "index": index, "key": str(key), "version": 1, "operation": "create"}

    if current is None:
        return {"type": "NotFound", "index": index, "key": str(p.key)}
    # Optimistic concurrency: the update applies only if nobody changed the row since expectedVersion.
    updated = await connection.execute(
        sa.update(table)
        .where(key_column == p.key, version_column == p.expected_version)
        .values(**values, **{version_column.key: p.expected_version + 1})
    )
    if updated.rowcount != 1:
        latest = (await connection.execute(sa.select(version_column).where(key_column == p.key))).scalar()
        return {"type": "VersionConflict", "index": index, "key": str(p.key), "currentVersion": latest,
                "reason": "the record changed since expectedVersion"}
    before = {k: v for k, v in current._mapping.items() if k in values}
    _record_change(changes, spec, batch_id, len(changes), p.key, p, "update", p.expected_version + 1, before, values)
    return {"type": "Applied", "index": index, "key": str(p.key), "version": p.expected_version + 1, "operation": "update"}


async def _apply_payment(connection, p: Prepared, index: int, writer: Writer, now, changes, batch_id) -> dict:
    from hub.sources.city import tables as city

    registration_table = city.tb_elder_allow if p.values["reg_kind"] == "E" else city.tb_disab_allow
    registration = (
        await connection.execute(sa.select(registration_table.c.dist_id).where(registration_table.c.reg_id == p.values["reg_id"]))
    ).first()
    if registration is None:
        return {"type": "NotFound", "index": index, "key": f"{p.values['reg_kind']}{p.values['reg_id']}"}
    district = str(1000 + registration.dist_id)
    if writer.districts is not None and district not in writer.districts:
        return {"type": "Forbidden", "index": index, "reason": "the registration lies outside this client's districts"}
    pay = city.tb_allow_pay
    existing = (
        await connection.execute(
            sa.select(pay.c.pay_id).where(pay.c.reg_kind == p.values["reg_kind"], pay.c.reg_id == p.values["reg_id"],
                                          pay.c.pay_ym == p.values["pay_ym"])
        )
    ).first()
    if existing is not None:
        return {"type": "VersionConflict", "index": index, "key": str(existing.pay_id), "currentVersion": 1,
                "reason": "a payment for that registration and month is already recorded"}
    result = await connection.execute(sa.insert(pay).values(**p.values))
    key = result.inserted_primary_key[0]
    prepared = Prepared(key, p.values, None, district, None)
    _record_change(changes, PAYMENTS, batch_id, len(changes), key, prepared, "create", 1, None, p.values)
    return {"type": "Applied", "index": index, "key": str(key), "version": 1, "operation": "create"}


def _record_change(changes: list[dict], spec: WriteSpec, batch_id: str, position: int, key, p: Prepared,
                   operation: str, version: int, before: dict | None, after: dict) -> None:
    changes.append({
        "change_id": uuid.uuid4().hex,
        "batch_id": batch_id,
        "position": position,
        "entity": spec.entity,
        "source_key": f"{spec.table.name}:{key}",
        "citizen_id": p.citizen_id,
        "operation": operation,
        "version": version,
        "before_json": json.dumps(_jsonable(before), ensure_ascii=False) if before is not None else None,
        "after_json": json.dumps({**_jsonable(after), "_district": p.district_code}, ensure_ascii=False),
        "created_at": dt.datetime.now(dt.UTC),
    })

"""From a source's outbox to the store: audit entries, change-feed records and the idempotency result.

Each batch is relayed in one store transaction and is safe to relay again: change ids are
unique in the change log, and a batch whose changes are already there is only marked relayed.
The same code path serves a request that just committed its batch and the recovery of batches
whose process died between the source commit and the store commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.audit import AuditEntry, append_in, lock_chain
from hub.store.tables import change_log
from hub.sync.idempotency import complete_statement

log = logging.getLogger("hub.sync")


def _tables(source: str):
    if source == "ministry":
        from hub.sources.ministry.tables import hub_batch, hub_outbox
    else:
        from hub.sources.city.tables import hub_batch, hub_outbox
    return hub_batch, hub_outbox


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


async def relay_batch(source: str, source_engine: AsyncEngine, store: AsyncEngine, batch_id: str) -> dict | None:
    """Relay one batch; returns its stored result. Idempotent."""
    hub_batch, hub_outbox = _tables(source)
    async with source_engine.connect() as connection:
        batch = (await connection.execute(sa.select(hub_batch).where(hub_batch.c.batch_id == batch_id))).first()
        if batch is None:
            return None
        changes = (
            await connection.execute(sa.select(hub_outbox).where(hub_outbox.c.batch_id == batch_id).order_by(hub_outbox.c.position))
        ).all()
    result = json.loads(batch.result_json)
    now = dt.datetime.now(dt.UTC)
    async with writing(store).begin() as connection:
        # The audit chain's head lock also serialises two processes relaying the same batch.
        await lock_chain(connection)
        known = set()
        if changes:
            known = {
                r[0] for r in (
                    await connection.execute(
                        sa.select(change_log.c.change_id).where(change_log.c.change_id.in_([c.change_id for c in changes]))
                    )
                ).all()
            }
        fresh = [c for c in changes if c.change_id not in known]
        if fresh:
            entries = []
            for change in fresh:
                after = json.loads(change.after_json)
                before = json.loads(change.before_json) if change.before_json else None
                entries.append(AuditEntry(
                    kind="write", request_id=change.change_id, client_id=batch.client_id, subject=batch.subject,
                    scopes=batch.scopes, purpose=batch.purpose, operation_name=batch.mutation, document_hash=None,
                    citizen_ids=frozenset([change.citizen_id] if change.citizen_id else []), outcome="ok",
                    detail=json.dumps({"entity": change.entity, "key": change.source_key, "operation": change.operation,
                                       "version": change.version, "before": before, "after": after},
                                      ensure_ascii=False, default=str),
                    occurred_at=_aware(change.created_at).replace(microsecond=0),
                ))
            # Audit first, then the feed: both commit together or not at all.
            await append_in(connection, entries)
            await connection.execute(sa.insert(change_log), [
                {
                    "change_id": c.change_id, "batch_id": batch_id, "source": source, "entity": c.entity,
                    "source_key": c.source_key, "citizen_id": c.citizen_id,
                    "district_code": json.loads(c.after_json).get("_district"), "operation": c.operation,
                    "version": c.version, "changed_fields": ",".join(sorted(k for k in json.loads(c.after_json) if not k.startswith("_"))),
                    "client_id": batch.client_id, "occurred_at": _aware(c.created_at),
                }
                for c in fresh
            ])
        await connection.execute(
            complete_statement(client_id=batch.client_id, mutation=batch.mutation, key=batch.idempotency_key,
                               result=result, now=now)
        )
    async with writing(source_engine).begin() as connection:
        await connection.execute(sa.update(hub_batch).where(hub_batch.c.batch_id == batch_id).values(relayed_at=now))
    return result


async def relay_pending(source: str, source_engine: AsyncEngine, store: AsyncEngine, *, older_than: dt.timedelta = dt.timedelta(0)) -> int:
    """Relay every batch the source committed but the store has not recorded (after a crash)."""
    hub_batch, _ = _tables(source)
    cutoff = dt.datetime.now(dt.UTC) - older_than
    async with source_engine.connect() as connection:
        pending = (
            await connection.execute(
                sa.select(hub_batch.c.batch_id, hub_batch.c.created_at)
                .where(hub_batch.c.relayed_at.is_(None))
                .order_by(hub_batch.c.created_at)
            )
        ).all()
    count = 0
    for batch_id, created in pending:
        if _aware(created) > cutoff:
            continue  # probably still being relayed by the request that wrote it
        await relay_batch(source, source_engine, store, batch_id)
        count += 1
    if count:
        log.info("relayed %d pending %s batches", count, source)
    return count

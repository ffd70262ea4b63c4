"""Idempotency keys: the same key and payload give the stored result; a different payload or a key in flight is refused."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.store.tables import idempotency_record

KEEP_RESULTS = dt.timedelta(hours=48)
LEASE = dt.timedelta(seconds=60)


class KeyReused(Exception):
    """The key was used before with a different payload."""


class KeyInFlight(Exception):
    """A request with this key is still being applied."""


@dataclass
class Claim:
    batch_id: str
    stored_result: dict | None  # set when the key was already completed
    taken_over: bool = False  # an abandoned in-flight attempt (its process died) is being continued


def record_key(client_id: str, mutation: str, key: str) -> str:
    return f"{client_id}:{mutation}:{key}"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


async def claim(store: AsyncEngine, *, client_id: str, mutation: str, key: str, payload_hash: str,
                batch_id: str, now: dt.datetime) -> Claim:
    rkey = record_key(client_id, mutation, key)
    for _ in range(3):
        async with writing(store).begin() as connection:
            row = (
                await connection.execute(
                    sa.select(idempotency_record).where(idempotency_record.c.record_key == rkey).with_for_update()
                )
            ).first()
            if row is None:
                try:
                    await connection.execute(
                        sa.insert(idempotency_record).values(
                            record_key=rkey, client_id=client_id, mutation=mutation, payload_hash=payload_hash,
                            state="in_flight", batch_id=batch_id, created_at=now, lease_until=now + LEASE,
                            expires_at=now + KEEP_RESULTS,
                        )
                    )
                except sa.exc.IntegrityError:
                    continue  # claimed concurrently: look again
                return Claim(batch_id, None)
            if _aware(row.expires_at) < now:
                # Long expired: the key may be used afresh.
                await connection.execute(
                    sa.update(idempotency_record).where(idempotency_record.c.record_key == rkey).values(
                        payload_hash=payload_hash, state="in_flight", batch_id=batch_id, result_json=None,
                        created_at=now, lease_until=now + LEASE, completed_at=None, expires_at=now + KEEP_RESULTS,
                    )
                )
                return Claim(batch_id, None)
            if row.payload_hash != payload_hash:
                raise KeyReused()
            if row.state == "done":
                return Claim(row.batch_id, json.loads(row.result_json))
            if _aware(row.lease_until) > now:
                raise KeyInFlight()
            # The earlier attempt's process died: continue under its batch id, so that if its source
            # transaction did commit, the relay completes it instead of applying the batch twice.
            await connection.execute(
                sa.update(idempotency_record).where(idempotency_record.c.record_key == rkey).values(lease_until=now + LEASE)
            )
            return Claim(row.batch_id, None, taken_over=True)
    raise KeyInFlight()


async def stored_result(store: AsyncEngine, *, client_id: str, mutation: str, key: str) -> dict | None:
    async with store.connect() as connection:
        row = (
            await connection.execute(
                sa.select(idempotency_record.c.state, idempotency_record.c.result_json).where(
                    idempotency_record.c.record_key == record_key(client_id, mutation, key)
                )
            )
        ).first()
    return json.loads(row.result_json) if row is not None and row.state == "done" else None


def complete_statement(*, client_id: str, mutation: str, key: str, result: dict, now: dt.datetime):
    return (
        sa.update(idempotency_record)
        .where(idempotency_record.c.record_key == record_key(client_id, mutation, key))
        .values(state="done", result_json=json.dumps(result), completed_at=now)
    )

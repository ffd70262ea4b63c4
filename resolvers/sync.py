"""Sync mutations: hand the batch to hub.sync and turn its per-item outcomes into typed results."""

from __future__ import annotations

import dataclasses

import strawberry
from graphql import GraphQLError

from hub.context import Context
from hub.sync.engine import Writer, apply_batch
from hub.sync.idempotency import KeyInFlight, KeyReused
from hub.sync.specs import MAX_BATCH, SPECS
from schema import sync as types

_TYPES = {
    "Applied": lambda r: types.Applied(index=r["index"], key=r["key"], version=r["version"], operation=r["operation"]),
    "ValidationError": lambda r: types.ValidationError(
        index=r["index"], problems=[types.FieldProblem(field=_camel(p["field"]), message=p["message"]) for p in r["problems"]]
    ),
    "VersionConflict": lambda r: types.VersionConflict(index=r["index"], key=r["key"], current_version=r["currentVersion"], reason=r["reason"]),
    "NotFound": lambda r: types.NotFound(index=r["index"], key=r["key"], field=_camel(r["field"]) if r.get("field") else None),
    "Forbidden": lambda r: types.Forbidden(index=r["index"], reason=r["reason"]),
    "NotApplied": lambda r: types.NotApplied(index=r["index"], reason=r["reason"]),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def sync(info: strawberry.Info[Context], mutation: str, items: list, idempotency_key: str, mode) -> types.SyncResult:
    if not idempotency_key or len(idempotency_key) > 200:
        raise GraphQLError("idempotencyKey must be 1-200 characters", extensions={"code": "BAD_USER_INPUT"})
    if len(items) > MAX_BATCH:
        raise GraphQLError(f"a batch holds at most {MAX_BATCH} items", extensions={"code": "BAD_USER_INPUT"})
    spec = SPECS[mutation]
    context = info.context
    subject = context.subject
    writer = Writer(
        client_id=subject.client_id, subject=subject.subject, scopes=" ".join(sorted(subject.scopes)),
        purpose=context.stated_purpose, districts=subject.districts,
    )
    plain = [{k: v for k, v in dataclasses.asdict(item).items()} for item in items]
    try:
        outcome = await apply_batch(
            spec, plain, idempotency_key=idempotency_key, mode=mode.value, writer=writer,
            source=context.databases[spec.source], store=context.databases["store"], fault=context.settings.fault,
        )
    except KeyReused:
        raise GraphQLError("this idempotencyKey was used with a different payload",
                           extensions={"code": "IDEMPOTENCY_KEY_REUSED"}) from None
    except KeyInFlight:
        raise GraphQLError("a request with this idempotencyKey is still being applied; retry later",
                           extensions={"code": "IDEMPOTENCY_KEY_IN_FLIGHT"}) from None
    results = [_TYPES[r["type"]](r) for r in outcome["items"]]
    applied = sum(1 for r in outcome["items"] if r["type"] == "Applied")
    context.writes_applied = True
    return types.SyncResult(
        idempotency_key=idempotency_key, replayed=outcome.get("replayed", False), applied=applied,
        failed=len(results) - applied, items=results,
    )

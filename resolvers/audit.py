"""The audit trail for auditors: entries in order, and a data subject's access history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import strawberry
from graphql import GraphQLError

from hub.context import Context
from hub.federation import SourceUnavailable
from hub.store.tables import audit_log, audit_subject
from resolvers.loaders import source_error
from schema.connections import decode_cursor, encode_cursor, page_info, page_size

AUDIT_CURSOR = "audit"


@dataclass
class AuditRow:
    id: int
    occurred_at: dt.datetime
    request_id: str
    kind: str
    client_id: str
    subject: str
    scopes: list[str]
    purpose: str | None
    operation_name: str | None
    document_hash: str | None
    citizen_ids: list[str]
    outcome: str
    prev_hash: str
    entry_hash: str


def _row(row) -> AuditRow:
    m = row._mapping
    occurred = m["occurred_at"]
    return AuditRow(
        id=m["id"],
        occurred_at=occurred.replace(tzinfo=dt.UTC) if occurred.tzinfo is None else occurred,
        request_id=m["request_id"],
        kind=m["kind"],
        client_id=m["client_id"],
        subject=m["subject"],
        scopes=m["scopes"].split(),
        purpose=m["purpose"],
        operation_name=m["operation_name"],
        document_hash=m["document_hash"],
        citizen_ids=[c for c in m["citizen_ids"].split(",") if c],
        outcome=m["outcome"],
        prev_hash=m["prev_hash"],
        entry_hash=m["entry_hash"],
    )


@dataclass
class EdgeRow:
    node: AuditRow
    cursor: str


@dataclass
class AuditConnectionRow:
    edges: list[EdgeRow]
    page_info: object
    _count: object

    async def total_count(self) -> int:
        return await self._count()


async def _rows(info: strawberry.Info[Context], statement):
    try:
        return await info.context.sources["store"].rows(statement)
    except SourceUnavailable as exc:
        raise source_error(exc) from None


async def audit_log_page(info: strawberry.Info[Context], audit_filter, first: int | None, after: str | None):
    size = page_size(first)
    raw_after = decode_cursor(info.context.cursor_key, AUDIT_CURSOR, after)
    if raw_after is not None and not raw_after.isdigit():
        raise GraphQLError("after is not a cursor of this list", extensions={"code": "BAD_USER_INPUT"})
    conditions = []
    if audit_filter is not None:
        if audit_filter.client_id:
            conditions.append(audit_log.c.client_id == audit_filter.client_id)
        if audit_filter.kind:
            conditions.append(audit_log.c.kind == audit_filter.kind)
        if audit_filter.citizen_id:
            conditions.append(
                audit_log.c.id.in_(sa.select(audit_subject.c.audit_id).where(audit_subject.c.citizen_id == audit_filter.citizen_id))
            )
        if audit_filter.since:
            conditions.append(audit_log.c.occurred_at >= audit_filter.since)
        if audit_filter.until:
            conditions.append(audit_log.c.occurred_at < audit_filter.until)
    page_conditions = [*conditions, *([audit_log.c.id > int(raw_after)] if raw_after else [])]
    rows = await _rows(info, sa.select(audit_log).where(*page_conditions).order_by(audit_log.c.id).limit(size + 1))
    entries = [_row(r) for r in rows]
    has_next = len(entries) > size
    entries = entries[:size]
    info.context.accessed_citizen_ids.update(c for e in entries for c in e.citizen_ids)
    edges = [EdgeRow(e, encode_cursor(info.context.cursor_key, AUDIT_CURSOR, str(e.id))) for e in entries]

    async def count() -> int:
        return (await _rows(info, sa.select(sa.func.count()).select_from(audit_log).where(*conditions)))[0][0]

    return AuditConnectionRow(edges, page_info(edges, has_next, edges[-1].cursor if edges else after), count)


async def access_history(info: strawberry.Info[Context], citizen_id: str) -> list[AuditRow]:
    rows = await _rows(
        info,
        sa.select(audit_log)
        .join(audit_subject, audit_subject.c.audit_id == audit_log.c.id)
        .where(audit_subject.c.citizen_id == citizen_id)
        .order_by(audit_log.c.id),
    )
    info.context.accessed_citizen_ids.add(citizen_id)
    return [_row(r) for r in rows]

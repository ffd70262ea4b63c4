"""The change feed: every applied change once, in order, from a cursor the client keeps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import strawberry
from graphql import GraphQLError

from hub.auth.scopes import Scope
from hub.context import Context
from hub.federation import SourceUnavailable
from hub.store.tables import change_log
from resolvers.loaders import source_error
from schema.connections import decode_cursor, encode_cursor, page_info, page_size

CHANGE_CURSOR = "change"


@dataclass
class ChangeRow:
    seq: int
    source: str
    entity: str
    source_key: str
    citizen_id: str | None
    district_code: str | None
    operation: str
    version: int
    changed_fields: list[str]
    occurred_at: dt.datetime


@dataclass
class EdgeRow:
    node: ChangeRow
    cursor: str


@dataclass
class ChangeConnectionRow:
    edges: list[EdgeRow]
    page_info: object


async def changes(info: strawberry.Info[Context], after: str | None, first: int | None) -> ChangeConnectionRow:
    size = page_size(first)
    raw = decode_cursor(info.context.cursor_key, CHANGE_CURSOR, after)
    if raw is not None and not raw.isdigit():
        raise GraphQLError("after is not a cursor of this list", extensions={"code": "BAD_USER_INPUT"})
    subject = info.context.subject
    sources = [name for name, scope in (("ministry", Scope.MINISTRY_READ), ("city", Scope.CITY_READ)) if scope in subject.scopes]
    if not sources:
        raise GraphQLError("the change feed needs ministry:read or city:read",
                           extensions={"code": "FORBIDDEN", "scope": "ministry:read city:read"})
    c = change_log.c
    statement = sa.select(change_log).where(c.source.in_(sources))
    if raw is not None:
        statement = statement.where(c.seq > int(raw))
    if subject.districts is not None:
        statement = statement.where(c.district_code.in_(sorted(subject.districts)))
    try:
        rows = await info.context.sources["store"].rows(statement.order_by(c.seq).limit(size + 1))
    except SourceUnavailable as exc:
        raise source_error(exc) from None
    nodes = [
        ChangeRow(
            seq=r.seq, source=r.source, entity=r.entity, source_key=r.source_key, citizen_id=r.citizen_id,
            district_code=r.district_code, operation=r.operation, version=r.version,
            changed_fields=[f for f in r.changed_fields.split(",") if f],
            occurred_at=r.occurred_at.replace(tzinfo=dt.UTC) if r.occurred_at.tzinfo is None else r.occurred_at,
        )
        for r in rows
    ]
    has_next = len(nodes) > size
    nodes = nodes[:size]
    info.context.saw(nodes)
    edges = [EdgeRow(n, encode_cursor(info.context.cursor_key, CHANGE_CURSOR, str(n.seq))) for n in nodes]
    # With nothing new, the cursor stays where it was, so a client polling the feed loses nothing.
    end = edges[-1].cursor if edges else after
    return ChangeConnectionRow(edges, page_info(edges, has_next, end))

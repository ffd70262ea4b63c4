"""Data issues found by reconciliation: a page of them, and counts per kind and per district."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError

from hub import geography
from hub.auth.scopes import Scope
from hub.context import Context
from hub.reconcile import count_issues, list_issues
from hub.reconcile.kinds import Kind
from schema.connections import decode_cursor, encode_cursor, page_info, page_size
from schema.scalars import parse_citizen_id_argument

ISSUE_CURSOR = "issue"


@dataclass
class IssueEdge:
    node: object
    cursor: str


@dataclass
class CountRow:
    category: str
    count: int


@dataclass
class IssueConnectionRow:
    edges: list[IssueEdge]
    page_info: object
    _counts: object

    async def total_count(self) -> int:
        return sum((await self._counts("kind")).values())

    async def by_kind(self) -> list[CountRow]:
        return [CountRow(k, v) for k, v in sorted((await self._counts("kind")).items())]

    async def by_district(self) -> list[CountRow]:
        return [CountRow(k or "none", v) for k, v in sorted((await self._counts("district")).items(), key=lambda kv: kv[0] or "")]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


@dataclass
class IssueRow:
    issue_key: str
    kind: str
    severity: str
    source: str
    district_code: str | None
    citizen_id: str | None
    ministry_records: list[str]
    city_records: list[str]
    detail: str
    suggestion: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None


async def data_issues(info: strawberry.Info[Context], issue_filter, first: int | None, after: str | None) -> IssueConnectionRow:
    size = page_size(first)
    subject = info.context.subject
    if not ({Scope.MINISTRY_READ, Scope.CITY_READ} <= subject.scopes):
        raise GraphQLError("data issues compare both sources: they need ministry:read and city:read",
                           extensions={"code": "FORBIDDEN", "scope": "ministry:read city:read"})
    kinds = districts = citizen_id = None
    include_resolved = False
    if issue_filter is not None:
        if issue_filter.kinds is not None:
            unknown = [k for k in issue_filter.kinds if k not in Kind.__members__]
            if unknown:
                raise GraphQLError(f"unknown kinds: {', '.join(unknown)}", extensions={"code": "BAD_USER_INPUT"})
            kinds = issue_filter.kinds
        if issue_filter.district_code is not None:
            if geography.district(issue_filter.district_code) is None:
                raise GraphQLError("districtCode is not a DOPA district code", extensions={"code": "BAD_USER_INPUT"})
            districts = {issue_filter.district_code}
        if issue_filter.citizen_id is not None:
            citizen_id = parse_citizen_id_argument(issue_filter.citizen_id)
        include_resolved = bool(issue_filter.include_resolved)
    if subject.districts is not None:
        districts = (districts or set(subject.districts)) & set(subject.districts)
    after_key = decode_cursor(info.context.cursor_key, ISSUE_CURSOR, after)
    store = info.context.databases["store"]
    filters = dict(kinds=kinds, district_codes=districts, citizen_id=citizen_id, include_resolved=include_resolved)
    async with store.connect() as connection:
        issues = await list_issues(connection, **filters, after_key=after_key, limit=size + 1)
    has_next = len(issues) > size
    issues = issues[:size]
    rows = [
        IssueRow(i.issue_key, i.kind, i.severity, i.source, i.district_code, i.citizen_id, list(i.ministry_refs),
                 list(i.city_refs), i.detail, i.suggestion, _aware(i.first_seen_at), _aware(i.last_seen_at),
                 _aware(i.resolved_at))
        for i in issues
    ]
    info.context.saw(rows)
    edges = [IssueEdge(r, encode_cursor(info.context.cursor_key, ISSUE_CURSOR, r.issue_key)) for r in rows]
    cache: dict[str, dict] = {}

    async def counts(group_by: str) -> dict:
        if group_by not in cache:
            async with store.connect() as connection:
                cache[group_by] = await count_issues(connection, **filters, group_by=group_by)
        return cache[group_by]

    return IssueConnectionRow(edges, page_info(edges, has_next, edges[-1].cursor if edges else after), counts)

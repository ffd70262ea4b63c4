"""Welfare cases (ministry) as a Relay connection, and households by number."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import strawberry
from graphql import GraphQLError

from hub import geography
from hub.bindings import Relation, code_prefix
from hub.context import Context
from hub.federation import SourceUnavailable, load_where
from hub.sources.ministry import bindings as ministry
from hub.sources.ministry import tables as t
from resolvers.loaders import relation_loader, source_error
from schema.connections import decode_cursor, encode_cursor, page_info, page_size

CASE_CURSOR = "case"
CATEGORIES = {"HOMELESS", "BEGGAR", "CHILD", "YOUTH", "ELDERLY", "DISABILITY", "WOMEN", "FAMILY", "VULNERABLE", "HOUSING"}
STATUSES = {"OPEN", "IN_PROGRESS", "REFERRED", "CLOSED"}


@dataclass
class EdgeRow:
    node: object
    cursor: str


@dataclass
class CaseConnectionRow:
    edges: list[EdgeRow]
    page_info: object
    _count: object

    async def total_count(self) -> int:
        return await self._count()


def _conditions(case_filter) -> list[sa.ColumnElement]:
    c = t.welfare_case.c
    conditions = []
    if case_filter is None:
        return conditions
    if case_filter.district_code is not None:
        if geography.district(case_filter.district_code) is None:
            raise GraphQLError("districtCode is not a DOPA district code", extensions={"code": "BAD_USER_INPUT"})
        conditions.append(code_prefix(c.subdistrict_code, case_filter.district_code))
    if case_filter.category is not None:
        category = case_filter.category.upper()
        if category not in CATEGORIES:
            raise GraphQLError("unknown case category", extensions={"code": "BAD_USER_INPUT"})
        conditions.append(c.category == category.lower())
    if case_filter.status is not None:
        status = case_filter.status.upper()
        if status not in STATUSES:
            raise GraphQLError("unknown case status", extensions={"code": "BAD_USER_INPUT"})
        conditions.append(c.status == status.lower())
    return conditions


async def cases(info: strawberry.Info[Context], case_filter, first: int | None, after: str | None):
    size = page_size(first)
    after_value = decode_cursor(info.context.cursor_key, CASE_CURSOR, after)
    try:
        after_id = int(after_value) if after_value is not None else None
    except ValueError:
        raise GraphQLError("after is not a cursor of this list", extensions={"code": "BAD_USER_INPUT"}) from None
    conditions = _conditions(case_filter)
    session = info.context.sources["ministry"]
    districts = info.context.subject.districts
    c = t.welfare_case.c
    page_conditions = [*conditions, *([c.case_id > after_id] if after_id is not None else [])]
    try:
        records = await load_where(
            session, ministry.WELFARE_CASE, *page_conditions, districts=districts, order_by=[c.case_id], limit=size + 1
        )
    except SourceUnavailable as exc:
        raise source_error(exc) from None
    has_next = len(records) > size
    records = records[:size]
    info.context.saw(records)
    edges = [EdgeRow(r, encode_cursor(info.context.cursor_key, CASE_CURSOR, str(r.case_id))) for r in records]

    async def count() -> int:
        statement = ministry.WELFARE_CASE.restrict(
            sa.select(sa.func.count()).select_from(t.welfare_case).where(*conditions), districts
        )
        try:
            rows = await session.rows(statement)
        except SourceUnavailable as exc:
            raise source_error(exc) from None
        return rows[0][0]

    end = edges[-1].cursor if edges else after
    return CaseConnectionRow(edges, page_info(edges, has_next, end), count)


HOUSEHOLD_BY_ID = Relation("household", ministry.HOUSEHOLD, t.household.c.household_id, "household_id", many=False)


async def household(info: strawberry.Info[Context], household_id: int):
    try:
        records = await relation_loader(info.context, HOUSEHOLD_BY_ID).load(household_id)
    except SourceUnavailable as exc:
        raise source_error(exc) from None
    return records[0] if records else None

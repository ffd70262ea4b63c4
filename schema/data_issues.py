"""Data issues between the sources (committee 4)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from hub import geography
from schema.common import PageInfo
from schema.guards import masked


def _district(root):
    return geography.district(root.district_code) if root.district_code else None


@strawberry.type(description="A discrepancy between the sources (or within one) that reconciliation found, with what to do about it.")
class DataIssue:
    issue_key: str = strawberry.field(description="Stable key: the same problem keeps its key across runs.")
    kind: str = strawberry.field(description="What kind of problem, e.g. ALLOWANCE_ACTIVE_FOR_DECEASED, DUPLICATE_REGISTRATION.")
    severity: str = strawberry.field(description="high (money paid wrongly), medium (someone missed or unverifiable) or low.")
    source: str = strawberry.field(description="Where the problem lies: ministry, city or both.")
    district: Annotated["District", strawberry.lazy("schema.geography")] | None = strawberry.field(
        resolver=_district, description="The district concerned, if any.")
    citizen_id: str | None = strawberry.field(description="The person concerned (masked without pii:read).", extensions=masked("citizen_id"))
    ministry_records: list[str] = strawberry.field(description="The ministry records involved, as table:key (provenance).",
                                                   extensions=masked("source_key_list"))
    city_records: list[str] = strawberry.field(description="The city records involved, as table:key (provenance).",
                                               extensions=masked("source_key_list"))
    detail: str = strawberry.field(description="What was found (no personal data).")
    suggestion: str = strawberry.field(description="A suggested resolution.")
    first_seen_at: dt.datetime = strawberry.field(description="When reconciliation first found it.")
    last_seen_at: dt.datetime = strawberry.field(description="When it was last found.")
    resolved_at: dt.datetime | None = strawberry.field(description="When a run no longer found it; null while open.")


@strawberry.input(description="Which data issues to list.")
class DataIssueFilter:
    kinds: list[str] | None = strawberry.field(default=None, description="Only these kinds.")
    district_code: str | None = strawberry.field(default=None, description="Only this district (DOPA code).")
    citizen_id: str | None = strawberry.field(default=None, description="Only issues about this person.")
    include_resolved: bool | None = strawberry.field(default=False, description="Include issues no longer found.")


@strawberry.type(description="A data issue in a list, with its cursor.")
class DataIssueEdge:
    node: DataIssue = strawberry.field(description="The issue.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this issue.")


@strawberry.type(description="How many issues match, for one kind or district.")
class IssueCount:
    category: str = strawberry.field(description="The kind, or the district code (\"none\" for issues without one).")
    count: int = strawberry.field(description="How many.")


async def _total(root) -> int:
    return await root.total_count()


async def _by_kind(root) -> list[IssueCount]:
    return await root.by_kind()


async def _by_district(root) -> list[IssueCount]:
    return await root.by_district()


@strawberry.type(description="A page of data issues, with counts over all that match.")
class DataIssueConnection:
    edges: list[DataIssueEdge] = strawberry.field(description="The issues on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(resolver=_total, description="How many issues match.")
    counts_by_kind: list[IssueCount] = strawberry.field(resolver=_by_kind, description="Matching issues per kind.")
    counts_by_district: list[IssueCount] = strawberry.field(resolver=_by_district, description="Matching issues per district.")

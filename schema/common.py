"""Types every record shares: where it came from, and what could not be normalised."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from schema.guards import masked


@strawberry.enum(description="The federated databases.")
class SourceName(Enum):
    MINISTRY = "ministry"
    CITY = "city"


@strawberry.type(description="Where a record came from.")
class Provenance:
    source: str = strawberry.field(description='"ministry" or "city".')
    source_key: str = strawberry.field(
        description="The source table and primary key, e.g. tb_elder_allow:123 (a citizen-ID key is masked without pii:read).",
        extensions=masked("source_key"),
    )
    updated_at: dt.datetime | None = strawberry.field(
        description="When the source last changed the record (ISO 8601, with zone), if the source keeps it."
    )


def _camel(root) -> str:
    head, *rest = root.field.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type(description="A value in the source that could not be normalised; the field is null instead.")
class RecordIssue:
    field: str = strawberry.field(resolver=_camel, description="The unified field (as named in this schema) that is null because of this problem.")
    problem: str = strawberry.field(description="Why the source value could not be used.")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether another page follows.")
    has_previous_page: bool = strawberry.field(description="Always false: pages go forward from a cursor.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor to pass as `after` for the next page.")

"""Building Relay connections from the listing of persons and cases."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError

from hub.auth.scopes import Scope
from hub.context import Context
from hub.person_listing import PersonFilter, PersonLister
from resolvers.loaders import source_error
from resolvers.persons import PersonView
from schema.connections import decode_cursor, encode_cursor, page_info, page_size

PERSON_CURSOR = "person"


@dataclass
class PersonEdgeRow:
    node: PersonView
    cursor_key: bytes

    @functools.cached_property
    def cursor(self) -> str:
        # Sealed only when asked for: most queries never select an edge's cursor.
        return encode_cursor(self.cursor_key, PERSON_CURSOR, self.node.citizen_id)


@dataclass
class PersonConnectionRow:
    edges: list[PersonEdgeRow]
    page_info: object
    _lister: PersonLister
    _filter: PersonFilter

    async def total_count(self) -> int:
        return await self._lister.count(self._filter)


def report_partial(info: strawberry.Info[Context], outages) -> None:
    for outage in outages:
        error = source_error(outage)
        info.context.partial_errors.append(
            GraphQLError(error.message, path=info.path.as_list(), extensions=error.extensions)
        )


def person_lister(context: Context) -> PersonLister:
    subject = context.subject
    if not ({Scope.MINISTRY_READ, Scope.CITY_READ} & subject.scopes):
        raise GraphQLError(
            "listing persons requires ministry:read or city:read",
            extensions={"code": "FORBIDDEN", "scope": "ministry:read city:read"},
        )
    return PersonLister(
        context.sources,
        can_read_ministry=Scope.MINISTRY_READ in subject.scopes,
        can_read_city=Scope.CITY_READ in subject.scopes,
        districts=subject.districts,
    )


def connection_row(context: Context, lister: PersonLister, person_filter: PersonFilter, page) -> PersonConnectionRow:
    """The connection of a listed page (the persons on it are noted for the audit trail)."""
    context.saw(page.persons)
    edges = [
        PersonEdgeRow(PersonView(p.citizen_id, p.ministry, p.city, city_complete=p.ministry is None), context.cursor_key)
        for p in page.persons
    ]
    end = encode_cursor(context.cursor_key, PERSON_CURSOR, page.end_cursor) if page.end_cursor else None
    return PersonConnectionRow(edges, page_info(edges, page.has_next, end), lister, person_filter)


async def person_connection(info: strawberry.Info[Context], person_filter, first: int | None, after: str | None):
    size = page_size(first)
    subject = info.context.subject
    lister = person_lister(info.context)
    after_id = decode_cursor(info.context.cursor_key, PERSON_CURSOR, after)
    page = await lister.page(person_filter, first=size, after=after_id)
    if len(page.unavailable) == (Scope.MINISTRY_READ in subject.scopes) + (Scope.CITY_READ in subject.scopes):
        raise source_error(page.unavailable[0])
    report_partial(info, page.unavailable)
    return connection_row(info.context, lister, person_filter, page)

"""Several person listings in one request: pages() gives each what page() gives it alone, in shared statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.databases import Databases
from hub.db import create_engine
from hub.federation import RequestSources
from hub.person_listing import PersonFilter, PersonLister, PersonPage
from tests.conftest import settings_for

AS_OF = dt.date(2026, 11, 1)  # the seed's date, so that ages do not move with the calendar
TIMEOUT = 10.0
# Nothing listens on port 9 (discard) on this machine.
DOWN_URL = "mysql+asyncmy://root@127.0.0.1:9/nowhere"

Request = tuple[PersonFilter, int, str | None]


def _filter(**conditions) -> PersonFilter:
    return PersonFilter(as_of=AS_OF, **conditions)


FILTERS = [
    _filter(),
    _filter(district_code="1001", age_min=60, benefit_kind="ELDERLY_ALLOWANCE"),
    _filter(district_code="1003", benefit_kind="DISABILITY_ALLOWANCE"),
    _filter(district_code="1008", age_max=17, benefit_kind="CHILD_SUPPORT_GRANT"),
    _filter(district_code="1017", age_min=18, age_max=59),
    _filter(district_code="1045", benefit_kind="FUNERAL_AID"),
    _filter(district_code="1050"),
    _filter(district_code="4903"),  # outside Bangkok: the city has no such district
    _filter(age_min=60, benefit_kind="ELDERLY_ALLOWANCE"),
    _filter(benefit_kind="DISABILITY_ALLOWANCE"),
    _filter(benefit_kind="FUNERAL_AID"),
    _filter(benefit_kind="CHILD_SUPPORT_GRANT"),
    _filter(age_min=80),
    _filter(age_max=30),
]
FIRSTS = (1, 2, 7, 30, 100)

# (can_read_ministry, can_read_city, districts claim)
ACCESS = {
    "both sources": (True, True, None),
    "ministry only": (True, False, None),
    "city only": (False, True, None),
    "some districts": (True, True, frozenset({"1001", "1003", "1008", "1017", "1050", "4903"})),
    "one district, city only": (False, True, frozenset({"1017"})),
}


@pytest.fixture(scope="module")
async def databases(seeded_databases) -> AsyncIterator[Databases]:
    databases = Databases.from_settings(settings_for(seeded_databases.urls))
    try:
        yield databases
    finally:
        await databases.dispose()


@asynccontextmanager
async def _lister(engines: dict[str, AsyncEngine], access: tuple[bool, bool, frozenset[str] | None]
                  ) -> AsyncIterator[PersonLister]:
    """A lister over a request's own source sessions, closed afterwards."""
    can_read_ministry, can_read_city, districts = access
    sources = RequestSources(engines, TIMEOUT)
    try:
        yield PersonLister(sources, can_read_ministry=can_read_ministry, can_read_city=can_read_city,
                           districts=districts)
    finally:
        await sources.close()


def _comparable(page: PersonPage) -> tuple:
    outages = [(outage.source, outage.reason) for outage in page.unavailable]
    return page.persons, page.has_next, page.end_cursor, outages


async def _separately(engines: dict[str, AsyncEngine], access, requests: list[Request]) -> list[tuple]:
    pages = []
    for person_filter, first, after in requests:
        async with _lister(engines, access) as lister:
            pages.append(_comparable(await lister.page(person_filter, first=first, after=after)))
    return pages


async def _together(engines: dict[str, AsyncEngine], access, requests: list[Request]) -> list[tuple]:
    async with _lister(engines, access) as lister:
        return [_comparable(page) for page in await lister.pages(requests)]


async def _requests(engines: dict[str, AsyncEngine], access) -> list[Request]:
    """Every filter at several page sizes: its first page, and the next two from the cursors page() gave."""
    requests: list[Request] = []
    async with _lister(engines, access) as lister:
        for number, person_filter in enumerate(FILTERS):
            first = FIRSTS[number % len(FIRSTS)]
            for size in (first, FIRSTS[(number + 2) % len(FIRSTS)]):
                after = None
                for _ in range(3):
                    requests.append((person_filter, size, after))
                    page = await lister.page(person_filter, first=size, after=after)
                    if not page.has_next:
                        break
                    after = page.end_cursor
    return requests


@pytest.mark.parametrize("access", list(ACCESS.values()), ids=list(ACCESS))
async def test_listings_together_give_what_each_gives_alone(databases, access):
    requests = await _requests(databases.engines, access)
    assert any(after is not None for _, _, after in requests), "no request continues from a cursor"
    expected = await _separately(databases.engines, access, requests)
    assert any(persons for persons, *_ in expected), "every listing is empty"
    assert await _together(databases.engines, access, requests) == expected


@pytest.mark.parametrize("access", list(ACCESS.values()), ids=list(ACCESS))
async def test_the_same_listing_twice_and_every_order(databases, access):
    requests = (await _requests(databases.engines, access))[:12]
    expected = await _separately(databases.engines, access, requests)
    assert await _together(databases.engines, access, requests + requests[::-1]) == expected + expected[::-1]


def _ten_districts() -> list[Request]:
    return [
        (_filter(district_code=str(1000 + n), age_min=60, benefit_kind="ELDERLY_ALLOWANCE"), 100, None)
        for n in range(1, 11)
    ]


async def test_ten_listings_share_their_statements(databases):
    access = ACCESS["both sources"]
    requests = _ten_districts()
    async with _lister(databases.engines, access) as lister:
        together = [_comparable(page) for page in await lister.pages(requests)]
        shared = lister.sources.statement_counts
    alone: dict[str, int] = {}
    for person_filter, first, after in requests:
        async with _lister(databases.engines, access) as lister:
            await lister.page(person_filter, first=first, after=after)
            for source, count in lister.sources.statement_counts.items():
                alone[source] = alone.get(source, 0) + count
    assert together == await _separately(databases.engines, access, requests)
    # One round for all ten: each stream once, then the holders, the registrants known to the
    # ministry and the city-only registrants' records, each once for the IDs of all ten.
    assert sum(shared.values()) <= 6, shared
    assert sum(alone.values()) >= 4 * sum(shared.values()), (shared, alone)


async def test_a_stream_that_ran_out_is_not_read_again(databases):
    # The city holds few funeral aids: its stream runs out in the first round while the ministry's
    # goes on for more. The stream shows every holder and the ministry's stream every person, so the
    # city is asked nothing but its stream, once.
    async with _lister(databases.engines, ACCESS["both sources"]) as lister:
        page = await lister.page(_filter(benefit_kind="FUNERAL_AID"), first=100, after=None)
        counts = lister.sources.statement_counts
    assert not page.has_next
    assert counts == {"ministry": 2, "city": 1}, counts


async def test_no_listings_no_statements(databases):
    async with _lister(databases.engines, ACCESS["both sources"]) as lister:
        assert await lister.pages([]) == []
        assert sum(lister.sources.statement_counts.values()) == 0


@pytest.mark.parametrize("down", ["ministry", "city"])
async def test_a_source_that_is_down_is_reported_for_every_listing(databases, down):
    engine = create_engine(DOWN_URL)
    try:
        engines = {**databases.engines, down: engine}
        access = ACCESS["both sources"]
        requests = [(person_filter, 20, None) for person_filter in FILTERS]
        together = await _together(engines, access, requests)
        alone = await _separately(engines, access, requests)
        # The same persons; the outage is reported on every listing of the request, also on one that
        # alone would not have asked the source (child support grants are the ministry's only).
        assert [page[:3] for page in together] == [page[:3] for page in alone]
        assert all(outages == [(down, "connection failed")] for *_, outages in together)
        assert any(persons for persons, *_ in together), "the source that is up listed nobody"
    finally:
        await engine.dispose()

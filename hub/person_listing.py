"""Listing persons across both sources in citizen-ID order, a page at a time.

The ministry's register and the city's registrations are two ordered streams of citizen
IDs. A person the ministry knows is judged by the ministry's record (district, age); a person
only the city knows, by their city registration. Each round reads one batch from each stream,
keeps only the IDs up to the point both streams have covered, checks the cross-source
conditions for that batch in one statement per source, and stops once the page is full.
The number of statements depends on the page size and how selective the filter is, never on
how many rows a source holds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.bindings import code_prefix
from hub.federation import IN_CHUNK, RequestSources, SourceUnavailable
from hub.records import BenefitRecord, PersonRecord
from hub.sources.city import bindings as city_bindings
from hub.sources.city import tables as city
from hub.sources.ministry import bindings as ministry_bindings
from hub.sources.ministry import tables as ministry
from hub.thai import age_on, is_valid_citizen_id, years_before

MAX_ROUNDS = 8
MAX_BATCH = 20_000
CITY_KINDS = {
    "ELDERLY_ALLOWANCE": city.tb_elder_allow,
    "DISABILITY_ALLOWANCE": city.tb_disab_allow,
    "FUNERAL_AID": city.tb_funeral_aid,
}


@dataclass(frozen=True)
class PersonFilter:
    district_code: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    benefit_kind: str | None = None
    as_of: dt.date = field(default_factory=dt.date.today)

    def birth_bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """Birth dates for ages in [age_min, age_max] on as_of (inclusive)."""
        latest = earliest = None
        if self.age_min is not None:
            latest = years_before(self.as_of, self.age_min)
        if self.age_max is not None:
            earliest = years_before(self.as_of, self.age_max + 1) + dt.timedelta(days=1)
        return earliest, latest

    def age_matches(self, birth: dt.date | None, death: dt.date | None = None) -> bool:
        if self.age_min is None and self.age_max is None:
            return True
        if birth is None:
            return False
        age = age_on(birth, self.as_of)
        return (self.age_min is None or age >= self.age_min) and (self.age_max is None or age <= self.age_max)


@dataclass
class ListedPerson:
    citizen_id: str
    ministry: PersonRecord | None
    city: list[BenefitRecord]


@dataclass
class PersonPage:
    persons: list[ListedPerson]
    has_next: bool
    end_cursor: str | None
    unavailable: list[SourceUnavailable]


async def _nothing() -> None:
    return None


def _chunks(items: list, size: int = IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _city_tables(person_filter: PersonFilter) -> list[sa.Table]:
    if person_filter.benefit_kind in CITY_KINDS:
        return [CITY_KINDS[person_filter.benefit_kind]]
    return [city.tb_elder_allow, city.tb_disab_allow]


def _pid_column(table: sa.Table) -> sa.ColumnElement:
    return table.c.deceased_pid_digits if table is city.tb_funeral_aid else table.c.pid_digits


class PersonLister:
    def __init__(self, sources: RequestSources, *, can_read_ministry: bool, can_read_city: bool,
                 districts: frozenset[str] | None) -> None:
        self.sources = sources
        self.can_read_ministry = can_read_ministry
        self.can_read_city = can_read_city
        self.districts = districts
        self.unavailable: dict[str, SourceUnavailable] = {}

    async def _rows(self, source: str, statement) -> list[sa.Row] | None:
        if source in self.unavailable:
            return None
        try:
            return list(await self.sources[source].rows(statement))
        except SourceUnavailable as exc:
            self.unavailable[source] = exc
            return None

    # The ministry stream: persons whose ministry record matches.
    def _ministry_statement(self, person_filter: PersonFilter, after: str | None, limit: int | None) -> sa.Select:
        binding = ministry_bindings.PERSON
        statement = binding.restrict(binding.select(), self.districts)
        p = ministry.person.c
        if after is not None:
            statement = statement.where(p.citizen_id > after)
        if person_filter.district_code:
            statement = statement.where(code_prefix(p.subdistrict_code, person_filter.district_code))
        earliest, latest = person_filter.birth_bounds()
        if earliest is not None:
            statement = statement.where(p.birth_date >= earliest)
        if latest is not None:
            statement = statement.where(p.birth_date <= latest)
        if person_filter.benefit_kind == "CHILD_SUPPORT_GRANT":
            grants = ministry.child_support_grant.c
            statement = statement.where(sa.exists().where(grants.child_citizen_id == p.citizen_id))
        statement = statement.order_by(p.citizen_id)
        return statement.limit(limit) if limit is not None else statement

    # The city stream: valid PIDs registered in the city (the kind's table, or both allowances).
    def _city_statement(self, person_filter: PersonFilter, after: str | None, limit: int | None) -> sa.Select | None:
        if person_filter.benefit_kind == "CHILD_SUPPORT_GRANT":
            return None
        parts = []
        for table in _city_tables(person_filter):
            pid = _pid_column(table)
            part = sa.select(pid.label("pid"))
            binding = {city.tb_elder_allow: city_bindings.ELDERLY_ALLOWANCE,
                       city.tb_disab_allow: city_bindings.DISABILITY_ALLOWANCE,
                       city.tb_funeral_aid: city_bindings.FUNERAL_AID}[table]
            part = binding.restrict(part, self.districts)
            if after is not None:
                part = part.where(pid > after)
            if person_filter.district_code:
                dist_id = int(person_filter.district_code) - 1000 if person_filter.district_code.startswith("10") else -1
                part = part.where(table.c.dist_id == dist_id)
            parts.append(part)
        union = sa.union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        statement = sa.select(union.c.pid).distinct().order_by(union.c.pid)
        return statement.limit(limit) if limit is not None else statement

    async def _holders(self, person_filter: PersonFilter, ids: list[str]) -> set[str] | None:
        """Of these IDs, the ones holding the filter's city benefit (one statement)."""
        table = CITY_KINDS[person_filter.benefit_kind]
        pid = _pid_column(table)
        found: set[str] = set()
        for chunk in _chunks(ids):
            rows = await self._rows("city", sa.select(pid).where(pid.in_(chunk)).distinct())
            if rows is None:
                return None
            found.update(r[0] for r in rows)
        return found

    async def _in_ministry(self, ids: list[str]) -> set[str] | None:
        p = ministry.person.c
        found: set[str] = set()
        for chunk in _chunks(ids):
            rows = await self._rows("ministry", sa.select(p.citizen_id).where(p.citizen_id.in_(chunk)))
            if rows is None:
                return None
            found.update(r[0] for r in rows)
        return found

    async def _city_records(self, ids: list[str]) -> dict[str, list[BenefitRecord]]:
        grouped: dict[str, list[BenefitRecord]] = {i: [] for i in ids}
        if not ids:
            return grouped
        for binding in (city_bindings.ELDERLY_ALLOWANCE, city_bindings.DISABILITY_ALLOWANCE):
            pid = binding.table.c.pid_digits
            for chunk in _chunks(ids):
                statement = binding.restrict(binding.select(pid.label("_by")).where(pid.in_(chunk)), self.districts)
                rows = await self._rows("city", statement.order_by(binding.key))
                for row in rows or []:
                    grouped[row._mapping["_by"]].append(binding.to_record(row))
        return grouped

    async def page(self, person_filter: PersonFilter, *, first: int, after: str | None) -> PersonPage:
        batch = max(2 * first + 1, 200)
        found: list[ListedPerson] = []
        cursor = after
        exhausted = False
        for round_number in range(MAX_ROUNDS):
            if round_number:
                # A selective filter (a benefit few hold, a narrow age band) found too little: read
                # further each round, so a page needs few rounds whatever the filter.
                batch = min(batch * 2, MAX_BATCH)
            ministry_rows: list[sa.Row] = []
            city_ids: list[str] = []
            horizon: str | None = None  # highest ID both streams have fully covered (None: all)
            city_statement = self._city_statement(person_filter, cursor, batch) if self.can_read_city else None
            # Both streams are read concurrently.
            ministry_result, city_result = await asyncio.gather(
                self._rows("ministry", self._ministry_statement(person_filter, cursor, batch))
                if self.can_read_ministry else _nothing(),
                self._rows("city", city_statement) if city_statement is not None else _nothing(),
            )
            if ministry_result is not None:
                ministry_rows = ministry_result
                if len(ministry_rows) == batch:
                    horizon = ministry_rows[-1]._mapping["citizen_id"]
            if city_result is not None:
                city_ids = [r[0] for r in city_result]
                if len(city_ids) == batch and (horizon is None or city_ids[-1] < horizon):
                    horizon = city_ids[-1]
            ministry_rows = [r for r in ministry_rows if horizon is None or r._mapping["citizen_id"] <= horizon]
            city_ids = [i for i in city_ids if is_valid_citizen_id(i) and (horizon is None or i <= horizon)]

            ministry_records = {
                r._mapping["citizen_id"]: ministry_bindings.PERSON.to_record(r) for r in ministry_rows
            }
            if person_filter.benefit_kind in CITY_KINDS and ministry_records:
                holders = await self._holders(person_filter, list(ministry_records))
                ministry_records = {k: v for k, v in ministry_records.items() if holders is not None and k in holders}
            city_only: list[str] = []
            if city_ids:
                known = await self._in_ministry(city_ids) if self.can_read_ministry else set()
                # If the ministry cannot be asked, a city registrant may be a ministry person we cannot
                # judge; they are listed from the city record and the outage is reported.
                city_only = [i for i in city_ids if known is None or i not in known]
            city_records = await self._city_records(city_only)
            batch_found: list[ListedPerson] = [
                ListedPerson(cid, record, []) for cid, record in ministry_records.items()
            ]
            for cid in city_only:
                records = city_records.get(cid) or []
                birth = next((r.birth_date for r in records if r.birth_date), None)
                if person_filter.age_matches(birth):
                    batch_found.append(ListedPerson(cid, None, records))
            batch_found.sort(key=lambda p: p.citizen_id)
            found.extend(batch_found)
            if horizon is None:
                exhausted = True
                break
            cursor = horizon
            if len(found) > first:
                break
        page = found[:first]
        has_next = len(found) > first or not exhausted
        if len(found) > first:
            end_cursor = page[-1].citizen_id if page else cursor
        else:
            end_cursor = cursor if not exhausted else (page[-1].citizen_id if page else after)
        return PersonPage(page, has_next, end_cursor, list(self.unavailable.values()))

    async def count(self, person_filter: PersonFilter) -> int:
        """How many persons match: ministry persons by SQL, city-only persons by ID sets."""
        total = 0
        if self.can_read_ministry:
            statement = self._ministry_statement(person_filter, None, None)
            if person_filter.benefit_kind in CITY_KINDS:
                ids_rows = await self._rows("ministry", sa.select(statement.subquery().c.citizen_id))
                holders_rows = await self._rows("city", self._city_statement(
                    PersonFilter(benefit_kind=person_filter.benefit_kind), None, None))
                if ids_rows is not None and holders_rows is not None:
                    holders = {r[0] for r in holders_rows}
                    total += sum(1 for r in ids_rows if r[0] in holders)
            else:
                rows = await self._rows("ministry", sa.select(sa.func.count()).select_from(statement.subquery()))
                if rows is not None:
                    total += rows[0][0]
        city_statement = self._city_statement(person_filter, None, None) if self.can_read_city else None
        if city_statement is not None:
            rows = await self._rows("city", city_statement)
            if rows is not None:
                city_ids = [r[0] for r in rows if is_valid_citizen_id(r[0])]
                known: set[str] = set()
                if self.can_read_ministry:
                    for chunk in _chunks(city_ids):
                        known |= await self._in_ministry(chunk) or set()
                candidates = [i for i in city_ids if i not in known]
                if person_filter.age_min is None and person_filter.age_max is None:
                    total += len(candidates)
                else:
                    for chunk in _chunks(candidates):
                        records = await self._city_records(chunk)
                        total += sum(
                            1 for cid in chunk
                            if person_filter.age_matches(next((r.birth_date for r in records[cid] if r.birth_date), None))
                        )
        return total

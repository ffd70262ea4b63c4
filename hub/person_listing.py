"""Listing persons across both sources in citizen-ID order, a page at a time.

The ministry's register and the city's registrations are two ordered streams of citizen
IDs. A person the ministry knows is judged by the ministry's record (district, age); a person
only the city knows, by their city registration. Each round reads one batch from each stream,
keeps only the IDs up to the point both streams have covered, checks the cross-source
conditions for that batch, and stops once the page is full.

Several listings (the aliased `persons` fields of one request) run their rounds together: a
round reads the ministry batches of all listings still running in one statement, their city
batches in another (each listing's own query as a subquery, its rows tagged with the listing),
and checks the cross-source conditions for the IDs of all of them at once. The number of
statements depends on the page sizes and how selective the filters are, never on how many
rows a source holds, and barely on how many listings a request makes.
"""

from __future__ import annotations

import asyncio
import functools
import math
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.bindings import code_bounds, one_of_parameter
from hub.federation import IN_CHUNK, RequestSources, SourceUnavailable
from hub.records import BenefitRecord, PersonRecord
from hub.sources.city import bindings as city_bindings
from hub.sources.city import tables as city
from hub.sources.ministry import bindings as ministry_bindings
from hub.sources.ministry import tables as ministry
from hub.thai import age_on, is_valid_citizen_id, years_before

MAX_ROUNDS = 8
MAX_BATCH = 20_000
# The share of matches assumed when a listing has seen none yet.
MIN_SHARE = 0.02
CITY_KINDS = {
    "ELDERLY_ALLOWANCE": city.tb_elder_allow,
    "DISABILITY_ALLOWANCE": city.tb_disab_allow,
    "FUNERAL_AID": city.tb_funeral_aid,
}
# The column tagging a combined stream's rows with the position of the listing they belong to.
LISTING = "_listing"


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


# A stream's statement for a filter, after a cursor, limited to a batch, with its parameters
# named with a suffix (None: no such stream).
StreamStatement = Callable[[PersonFilter, str | None, int | None, str], "Parameterised | None"]


@dataclass(frozen=True)
class Parameterised:
    """A statement built once per shape (which conditions it has), and the values of this use.

    Rounds of every listing read statements of the same few shapes: built once with bound
    parameters, a statement's SQL is compiled once (on PostgreSQL, prepared once per
    connection) instead of being built, keyed and compiled anew for every round.
    """

    statement: sa.Select
    parameters: dict
    shape: tuple  # what the statement is built from; equal shapes give the same statement


@functools.lru_cache(maxsize=256)
def _ministry_template(districts: frozenset[str] | None, suffix: str, after: bool, district: bool,
                       earliest: bool, latest: bool, child_grant: bool, limited: bool) -> sa.Select:
    binding = ministry_bindings.PERSON
    statement = binding.restrict(binding.select(), districts)
    p = ministry.person.c
    if after:
        statement = statement.where(p.citizen_id > sa.bindparam(f"after{suffix}", type_=p.citizen_id.type))
    if district:
        code = p.subdistrict_code
        statement = statement.where(code >= sa.bindparam(f"low{suffix}", type_=code.type),
                                    code < sa.bindparam(f"high{suffix}", type_=code.type))
    if earliest:
        statement = statement.where(p.birth_date >= sa.bindparam(f"earliest{suffix}", type_=sa.Date))
    if latest:
        statement = statement.where(p.birth_date <= sa.bindparam(f"latest{suffix}", type_=sa.Date))
    if child_grant:
        grants = ministry.child_support_grant.c
        statement = statement.where(sa.exists().where(grants.child_citizen_id == p.citizen_id))
    statement = statement.order_by(p.citizen_id)
    return statement.limit(sa.bindparam(f"limit{suffix}", type_=sa.Integer)) if limited else statement


@functools.lru_cache(maxsize=256)
def _city_template(districts: frozenset[str] | None, suffix: str, tables: tuple[str, ...], after: bool,
                   district: bool, limited: bool) -> sa.Select:
    parts = []
    for name in tables:
        table = city.metadata.tables[name]
        pid = _pid_column(table)
        binding = {city.tb_elder_allow: city_bindings.ELDERLY_ALLOWANCE,
                   city.tb_disab_allow: city_bindings.DISABILITY_ALLOWANCE,
                   city.tb_funeral_aid: city_bindings.FUNERAL_AID}[table]
        part = binding.restrict(sa.select(pid.label("pid")), districts)
        if after:
            part = part.where(pid > sa.bindparam(f"after{suffix}", type_=pid.type))
        if district:
            part = part.where(table.c.dist_id == sa.bindparam(f"dist{suffix}", type_=table.c.dist_id.type))
        parts.append(part)
    union = sa.union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    statement = sa.select(union.c.pid).distinct().order_by(union.c.pid)
    return statement.limit(sa.bindparam(f"limit{suffix}", type_=sa.Integer)) if limited else statement


@functools.lru_cache(maxsize=64)
def _holders_statement(kinds: tuple[str, ...], dialect: str) -> sa.CompoundSelect | sa.Select:
    """(kind's position in CITY_KINDS, pid) of the registrations of each kind among :ids_<position>."""
    parts = []
    for kind in kinds:
        position = list(CITY_KINDS).index(kind)
        pid = _pid_column(CITY_KINDS[kind])
        tag = sa.literal_column(str(position), sa.Integer).label("kind")
        parts.append(sa.select(tag, pid.label("pid")).where(one_of_parameter(pid, f"ids_{position}", dialect)))
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


@functools.lru_cache(maxsize=8)
def _known_statement(dialect: str) -> sa.Select:
    """Which of :ids the ministry's register holds."""
    p = ministry.person.c
    return sa.select(p.citizen_id).where(one_of_parameter(p.citizen_id, "ids", dialect))


REGISTERS = (city_bindings.ELDERLY_ALLOWANCE, city_bindings.DISABILITY_ALLOWANCE)


@functools.lru_cache(maxsize=64)
def _registrations_statement(register: int, districts: frozenset[str] | None, dialect: str) -> sa.Select:
    """The registrations in REGISTERS[register] of the PIDs :ids (the PID again as the last column)."""
    binding = REGISTERS[register]
    pid = binding.table.c.pid_digits
    statement = binding.select(pid.label("_by")).where(one_of_parameter(pid, "ids", dialect))
    return binding.restrict(statement, districts).order_by(binding.key)


# Combined statements of several listings' streams, by the shapes of their parts.
_COMBINED: dict[tuple, sa.Select] = {}
COMBINED_KEPT = 256


@dataclass
class _Listing:
    """One listing's progress through the rounds."""

    filter: PersonFilter
    first: int
    after: str | None
    cursor: str | None
    batch: int
    found: list[ListedPerson] = field(default_factory=list)
    read: int = 0  # IDs the streams gave so far (the share of matches sizes the next batch)
    exhausted: bool = False
    done: bool = False
    # A stream that returned less than a full batch has nothing beyond what it returned: its rows
    # past the horizon, by source, are what reading it again would give, so it is not read again.
    rests: dict[str, list[sa.Row]] = field(default_factory=dict)

    @classmethod
    def start(cls, person_filter: PersonFilter, first: int, after: str | None) -> _Listing:
        return cls(person_filter, first, after, after, max(2 * first + 1, 200))

    def grow(self) -> None:
        """A selective filter (a benefit few hold, a narrow age band) found too little: the next
        batch is sized by the share of matches seen so far (each round re-reads the matching rows
        from the cursor on, so fewer, right-sized rounds cost the sources least); never smaller
        than twice the last, so a page needs few rounds whatever the filter."""
        share = max(len(self.found) / self.read, MIN_SHARE) if self.read else MIN_SHARE
        wanted = math.ceil((self.first + 1 - len(self.found)) / share * 1.25)
        self.batch = min(max(wanted, 2 * self.batch), MAX_BATCH)

    def advance(self, horizon: str | None, persons: list[ListedPerson], read: int) -> None:
        """Take one round's persons (of `read` streamed IDs); the listing is done once both streams
        ran out or the page is over-full."""
        self.found.extend(persons)
        self.read += read
        if horizon is None:
            self.exhausted = self.done = True
            return
        self.cursor = horizon
        self.done = len(self.found) > self.first

    def page(self, unavailable: list[SourceUnavailable]) -> PersonPage:
        persons = self.found[: self.first]
        over_full = len(self.found) > self.first
        if over_full:
            end_cursor = persons[-1].citizen_id if persons else self.cursor
        elif self.exhausted:
            end_cursor = persons[-1].citizen_id if persons else self.after
        else:
            end_cursor = self.cursor
        return PersonPage(persons, over_full or not self.exhausted, end_cursor, unavailable)


@dataclass
class _Round:
    """What one round read for one listing, cut at its horizon."""

    listing: _Listing
    horizon: str | None  # highest ID both streams have fully covered (None: all)
    ministry: list[sa.Row] | None  # None: the ministry stream was not read
    city: list[str] | None  # the city stream's PIDs, valid or not; None: not read

    @functools.cached_property
    def ministry_ids(self) -> list[str]:
        return [_stream_key("ministry", row) for row in self.ministry or []]

    @functools.cached_property
    def registrants(self) -> list[str]:
        return [pid for pid in self.city or [] if is_valid_citizen_id(pid)]


@dataclass(frozen=True)
class _Settled:
    """Of some IDs, those a stream of the same round already showed, and those left to look up."""

    shown: set[str]
    pending: set[str]

    def answer(self, found: set[str]) -> set[str]:
        return self.shown | (self.pending & found)


def _settle(ids: Iterable[str], stream: list[str] | None, whole: bool) -> _Settled:
    """Which IDs the stream showed; the others need a look-up unless the stream showed every ID
    there is in the round's range (a whole stream)."""
    ids = set(ids)
    if stream is None:
        return _Settled(set(), ids)
    shown = ids.intersection(stream)
    return _Settled(shown, set() if whole else ids - shown)


def _chunks(items: list, size: int = IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _city_tables(person_filter: PersonFilter) -> list[sa.Table]:
    if person_filter.benefit_kind in CITY_KINDS:
        return [CITY_KINDS[person_filter.benefit_kind]]
    return [city.tb_elder_allow, city.tb_disab_allow]


def _pid_column(table: sa.Table) -> sa.ColumnElement:
    return table.c.deceased_pid_digits if table is city.tb_funeral_aid else table.c.pid_digits


# Where each stream's citizen ID sits in its rows (read by position: this runs for every row read).
_STREAM_KEY_INDEX = {"ministry": [c.key for c in ministry_bindings.PERSON.columns()].index("citizen_id"), "city": 0}


def _stream_key(source: str, row: sa.Row) -> str:
    return row[_STREAM_KEY_INDEX[source]]


def _cut(listing: _Listing, streams: dict[str, list[sa.Row] | None]) -> _Round:
    """Keep the IDs up to the highest one both streams have covered; a stream that ran out keeps its rest."""
    horizon: str | None = None
    for source, rows in streams.items():
        if rows is not None and len(rows) == listing.batch:
            last = _stream_key(source, rows[-1])
            if horizon is None or last < horizon:
                horizon = last
    kept: dict[str, list[sa.Row] | None] = dict.fromkeys(streams)
    for source, rows in streams.items():
        if rows is None:
            continue
        kept[source] = [r for r in rows if horizon is None or _stream_key(source, r) <= horizon]
        if len(rows) < listing.batch and horizon is not None:
            listing.rests[source] = [r for r in rows if _stream_key(source, r) > horizon]
    city_rows = kept["city"]
    city_pids = None if city_rows is None else [_stream_key("city", r) for r in city_rows]
    return _Round(listing, horizon, kept["ministry"], city_pids)


class PersonLister:
    def __init__(self, sources: RequestSources, *, can_read_ministry: bool, can_read_city: bool,
                 districts: frozenset[str] | None) -> None:
        self.sources = sources
        self.can_read_ministry = can_read_ministry
        self.can_read_city = can_read_city
        self.districts = districts
        self.unavailable: dict[str, SourceUnavailable] = {}

    def _dialect(self, source: str) -> str:
        return self.sources[source].engine.dialect.name

    async def _rows(self, source: str, statement, parameters: dict | None = None, *,
                    reused: bool = False) -> list[sa.Row] | None:
        """The statement's rows; `reused`: a statement built once and run again and again."""
        if source in self.unavailable:
            return None
        try:
            return list(await self.sources[source].rows(statement, parameters, reused=reused))
        except SourceUnavailable as exc:
            self.unavailable[source] = exc
            return None

    # The ministry stream: persons whose ministry record matches.
    def _ministry_statement(self, person_filter: PersonFilter, after: str | None, limit: int | None,
                            suffix: str = "") -> Parameterised:
        earliest, latest = person_filter.birth_bounds()
        district = bool(person_filter.district_code)
        shape = ("ministry", self.districts, suffix, after is not None, district, earliest is not None,
                 latest is not None, person_filter.benefit_kind == "CHILD_SUPPORT_GRANT", limit is not None)
        values = {f"after{suffix}": after, f"earliest{suffix}": earliest, f"latest{suffix}": latest,
                  f"limit{suffix}": limit}
        if district:
            values[f"low{suffix}"], values[f"high{suffix}"] = code_bounds(person_filter.district_code)
        return Parameterised(_ministry_template(*shape[1:]), {k: v for k, v in values.items() if v is not None}, shape)

    def _ministry_stream_is_whole(self, person_filter: PersonFilter) -> bool:
        """Whether the ministry stream lists every ministry person (the filter narrows nothing there)."""
        return (
            self.districts is None
            and not person_filter.district_code
            and person_filter.birth_bounds() == (None, None)
            and person_filter.benefit_kind != "CHILD_SUPPORT_GRANT"
        )

    # The city stream: valid PIDs registered in the city (the kind's table, or both allowances).
    def _city_statement(self, person_filter: PersonFilter, after: str | None, limit: int | None,
                        suffix: str = "") -> Parameterised | None:
        if person_filter.benefit_kind == "CHILD_SUPPORT_GRANT":
            return None
        code = person_filter.district_code
        tables = tuple(table.name for table in _city_tables(person_filter))
        shape = ("city", self.districts, suffix, tables, after is not None, bool(code), limit is not None)
        values = {f"after{suffix}": after, f"limit{suffix}": limit}
        if code:
            values[f"dist{suffix}"] = int(code) - 1000 if code.startswith("10") else -1
        return Parameterised(_city_template(*shape[1:]), {k: v for k, v in values.items() if v is not None}, shape)

    def _city_stream_is_whole(self, person_filter: PersonFilter) -> bool:
        """Whether the city stream lists every holder of the filter's city benefit."""
        return (
            self.districts is None
            and not person_filter.district_code
            and person_filter.benefit_kind in CITY_KINDS
        )

    async def _tagged_rows(self, source: str, statements: dict[int, Parameterised]) -> dict[int, list[sa.Row]] | None:
        """The rows of several listings' statements, read in one statement: each statement (with its
        own ORDER BY and LIMIT) a subquery whose rows carry its listing; None if the source is unavailable."""
        if source in self.unavailable:
            return None
        if not statements:
            return {}
        key = tuple((index, part.shape) for index, part in statements.items())
        statement = _COMBINED.get(key)
        if statement is None:
            parts = []
            for index, part in statements.items():
                subquery = part.statement.subquery()
                # The tag goes last: a binding reads its own columns from the front of a row.
                parts.append(sa.select(*subquery.c, sa.literal_column(str(index), sa.Integer).label(LISTING)))
            # No ORDER BY over the whole: each listing's rows are put in order here (they come in
            # order, so that costs a pass), which spares the database a sort of every row read.
            statement = sa.union_all(*parts) if len(parts) > 1 else parts[0]
            if len(_COMBINED) >= COMBINED_KEPT:
                _COMBINED.clear()
            _COMBINED[key] = statement
        parameters = {name: value for part in statements.values() for name, value in part.parameters.items()}
        rows = await self._rows(source, statement, parameters, reused=True)
        if rows is None:
            return None
        grouped: dict[int, list[sa.Row]] = {index: [] for index in statements}
        for row in rows:
            grouped[row[-1]].append(row)  # the listing's key is the last column
        order = functools.partial(_stream_key, source)
        for listed in grouped.values():
            listed.sort(key=order)
        return grouped

    async def _read_streams(self, source: str, listings: list[_Listing],
                            statement: StreamStatement | None) -> list[list[sa.Row] | None]:
        """Each listing's next batch of one stream (None: not read); a stream that ran out is served its rest."""
        if statement is None:
            return [None] * len(listings)
        statements: dict[int, Parameterised] = {}
        for index, listing in enumerate(listings):
            if source not in listing.rests:
                query = statement(listing.filter, listing.cursor, listing.batch, f"_{index}")
                if query is not None:
                    statements[index] = query
        read = await self._tagged_rows(source, statements)
        if read is None:
            return [None] * len(listings)
        return [read.get(index, listing.rests.get(source)) for index, listing in enumerate(listings)]

    async def _holders(self, wanted: dict[str, set[str]]) -> dict[str, set[str]]:
        """Of these IDs by city benefit kind, the ones holding it (one statement for all kinds);
        IDs the city could not be asked about are left out."""
        kinds = list(CITY_KINDS)
        pairs = [(kind, cid) for kind, ids in wanted.items() for cid in sorted(ids)]
        found: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(pairs):
            by_kind: dict[str, list[str]] = defaultdict(list)
            for kind, cid in chunk:
                by_kind[kind].append(cid)
            statement = _holders_statement(tuple(by_kind), self._dialect("city"))
            parameters = {f"ids_{kinds.index(kind)}": ids for kind, ids in by_kind.items()}
            rows = await self._rows("city", statement, parameters, reused=True)
            for kind_index, pid in rows or []:
                found[kinds[kind_index]].add(pid)
        return found

    async def _in_ministry(self, ids: list[str]) -> set[str] | None:
        found: set[str] = set()
        statement = _known_statement(self._dialect("ministry"))
        for chunk in _chunks(ids):
            rows = await self._rows("ministry", statement, {"ids": chunk}, reused=True)
            if rows is None:
                return None
            found.update(r[0] for r in rows)
        return found

    async def _city_records(self, ids: list[str]) -> dict[str, list[BenefitRecord]]:
        grouped: dict[str, list[BenefitRecord]] = {i: [] for i in ids}
        if not ids:
            return grouped
        for register, binding in enumerate(REGISTERS):
            statement = _registrations_statement(register, self.districts, self._dialect("city"))
            for chunk in _chunks(ids):
                rows = await self._rows("city", statement, {"ids": chunk}, reused=True)
                by = len(binding.columns())  # the _by column follows the binding's own
                for row in rows or []:
                    grouped[row[by]].append(binding.to_record(row))
        return grouped

    async def _holders_of(self, rounds: list[_Round]) -> list[set[str] | None]:
        """For each round whose filter asks for a city benefit, which of its ministry persons hold
        it (None: no such condition). The city stream of that benefit shows some holders already."""
        settled: list[_Settled | None] = []
        wanted: dict[str, set[str]] = defaultdict(set)
        for r in rounds:
            kind = r.listing.filter.benefit_kind
            ids = r.ministry_ids
            if kind not in CITY_KINDS or not ids:
                settled.append(None)
                continue
            settled.append(_settle(ids, r.city, self._city_stream_is_whole(r.listing.filter)))
            wanted[kind] |= settled[-1].pending
        found = await self._holders(wanted) if any(wanted.values()) else {}
        return [
            None if s is None else s.answer(found.get(r.listing.filter.benefit_kind, set()))
            for r, s in zip(rounds, settled)
        ]

    async def _known(self, rounds: list[_Round]) -> list[set[str]]:
        """For each round, which of its city registrants the ministry knows. A registrant the ministry
        cannot be asked about counts as unknown: they are listed from the city record and the outage
        is reported."""
        if not self.can_read_ministry:
            return [set() for _ in rounds]
        settled = [
            _settle(r.registrants, r.ministry_ids if r.ministry is not None else None,
                    self._ministry_stream_is_whole(r.listing.filter))
            for r in rounds
        ]
        pending = sorted(set().union(*(s.pending for s in settled)))
        found = await self._in_ministry(pending) if pending else set()
        return [s.answer(found or set()) for s in settled]

    async def _city_only(self, rounds: list[_Round]) -> list[dict[str, list[BenefitRecord]]]:
        """For each round, its registrants the ministry does not know, with their city records."""
        known = await self._known(rounds)
        city_only = [[cid for cid in r.registrants if cid not in k] for r, k in zip(rounds, known)]
        records = await self._city_records(sorted(set().union(*city_only)))
        return [{cid: records[cid] for cid in ids} for ids in city_only]

    @staticmethod
    def _persons(r: _Round, holders: set[str] | None,
                 city_only: dict[str, list[BenefitRecord]]) -> list[ListedPerson]:
        """The round's persons matching its listing's filter, in citizen-ID order: as many as the
        page can still take (and one more, which tells that a next page exists); the records of
        the others, which the page would drop, are never built."""
        person_filter = r.listing.filter
        # (citizen ID, the ministry's row, or the city's records of a person only the city knows)
        matches: list[tuple[str, sa.Row | None, list[BenefitRecord]]] = [
            (cid, row, []) for cid, row in zip(r.ministry_ids, r.ministry or []) if holders is None or cid in holders
        ]
        for cid, records in city_only.items():
            birth = next((record.birth_date for record in records if record.birth_date), None)
            if person_filter.age_matches(birth):
                matches.append((cid, None, list(records)))
        matches.sort(key=lambda match: match[0])
        room = max(r.listing.first + 1 - len(r.listing.found), 0)
        return [
            ListedPerson(cid, ministry_bindings.PERSON.to_record(row) if row is not None else None, records)
            for cid, row, records in matches[:room]
        ]

    async def _round(self, listings: list[_Listing]) -> None:
        """One round for every listing still running: one statement per stream, then the checks."""
        ministry_rows, city_rows = await asyncio.gather(
            self._read_streams("ministry", listings, self._ministry_statement if self.can_read_ministry else None),
            self._read_streams("city", listings, self._city_statement if self.can_read_city else None),
        )
        rounds = [
            _cut(listing, {"ministry": m, "city": c}) for listing, m, c in zip(listings, ministry_rows, city_rows)
        ]
        # Holders are asked of the city while the ministry is asked which registrants it knows.
        holders, city_only = await asyncio.gather(self._holders_of(rounds), self._city_only(rounds))
        for r, held, registrants in zip(rounds, holders, city_only):
            read = max(len(r.ministry_ids), len(r.city or []))
            r.listing.advance(r.horizon, self._persons(r, held, registrants), read)

    async def pages(self, requests: Sequence[tuple[PersonFilter, int, str | None]]) -> list[PersonPage]:
        """For each (filter, first, after), the page page() would give for it, all listed together."""
        listings = [_Listing.start(person_filter, first, after) for person_filter, first, after in requests]
        for round_number in range(MAX_ROUNDS):
            running = [listing for listing in listings if not listing.done]
            if not running:
                break
            if round_number:
                for listing in running:
                    listing.grow()
            await self._round(running)
        return [listing.page(list(self.unavailable.values())) for listing in listings]

    async def page(self, person_filter: PersonFilter, *, first: int, after: str | None) -> PersonPage:
        """The first persons after the cursor matching the filter, whether more follow, and where to go on."""
        [page] = await self.pages([(person_filter, first, after)])
        return page

    async def count(self, person_filter: PersonFilter) -> int:
        """How many persons match: ministry persons by SQL, city-only persons by ID sets."""
        total = 0
        if self.can_read_ministry:
            listed = self._ministry_statement(person_filter, None, None)
            statement, parameters = listed.statement, listed.parameters
            if person_filter.benefit_kind in CITY_KINDS:
                ids_rows = await self._rows("ministry", sa.select(statement.subquery().c.citizen_id), parameters)
                holders = self._city_statement(PersonFilter(benefit_kind=person_filter.benefit_kind), None, None)
                holders_rows = await self._rows("city", holders.statement, holders.parameters, reused=True)
                if ids_rows is not None and holders_rows is not None:
                    held = {r[0] for r in holders_rows}
                    total += sum(1 for r in ids_rows if r[0] in held)
            else:
                rows = await self._rows("ministry", sa.select(sa.func.count()).select_from(statement.subquery()),
                                        parameters)
                if rows is not None:
                    total += rows[0][0]
        city_statement = self._city_statement(person_filter, None, None) if self.can_read_city else None
        if city_statement is not None:
            rows = await self._rows("city", city_statement.statement, city_statement.parameters, reused=True)
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

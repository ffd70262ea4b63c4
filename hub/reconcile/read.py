"""Reading the sources for reconciliation: a few set-based statements per slice of citizen IDs, never one per person.

A full run walks the ministry's register in citizen-ID order, a page at a time (keyset on the
primary key); each page bounds a window (low, high] of IDs, and every other table of both
sources is read for that window by a range on its indexed citizen-ID column. An incremental
run reads the same tables for explicit lists of IDs instead. Either way each slice costs one
statement per table, whatever the number of persons in it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.bindings import Binding
from hub.federation import SourceUnavailable
from hub.reconcile.checks import (
    DISABILITY,
    ELDERLY,
    FUNERAL,
    HOMELESS,
    HOUSING,
    OPEN_CASE_STATUSES,
    CityRow,
    DeprivedHousehold,
    Slice,
    applicants_to_look_up,
    card_numbers_to_look_up,
    in_chunks,
)
from hub.sources.city import bindings as cb
from hub.sources.city import tables as c
from hub.sources.ministry import tables as m

IN_CHUNK = 1000
SOURCE_FAILURES = (sa.exc.DBAPIError, sa.exc.InterfaceError, OSError, ConnectionError)
log = logging.getLogger("hub.reconcile")

Selector = Callable[[sa.ColumnElement], sa.ColumnElement]


class Reader:
    """One connection to one source, counting the statements it runs."""

    def __init__(self, name: str, connection: AsyncConnection) -> None:
        self.name = name
        self.connection = connection
        self.statements = 0

    async def rows(self, statement: sa.Executable) -> Sequence[sa.Row]:
        self.statements += 1
        try:
            return (await self.connection.execute(statement)).all()
        except SOURCE_FAILURES as exc:
            raise self._unavailable(exc) from None

    async def stream(self, statement: sa.Executable, size: int) -> AsyncIterator[Sequence[sa.Row]]:
        self.statements += 1
        try:
            result = await self.connection.stream(statement.execution_options(yield_per=size))
            try:
                async for partition in result.partitions(size):
                    yield partition
            finally:
                await result.close()
        except SOURCE_FAILURES as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> SourceUnavailable:
        return unavailable(self.name, exc)

    async def end_transaction(self) -> None:
        # Reads open a transaction; ending it between slices keeps no snapshot (or SQLite WAL) pinned for the run.
        await self.connection.rollback()


def unavailable(name: str, exc: Exception) -> SourceUnavailable:
    # The kind of failure only: driver messages may carry hosts or values.
    log.warning("reconcile: source %s failed: %s", name, type(exc).__name__)
    return SourceUnavailable(name, "connection failed")


@asynccontextmanager
async def open_reader(name: str, engine: AsyncEngine) -> AsyncIterator[Reader]:
    try:
        connection = await engine.connect()
    except SOURCE_FAILURES as exc:
        raise unavailable(name, exc) from None
    try:
        yield Reader(name, connection)
    finally:
        await connection.close()


@dataclass(frozen=True)
class CitySource:
    binding: Binding
    link: sa.ColumnElement  # the indexed digits-only PID column
    applicant: sa.ColumnElement | None = None

    @property
    def table(self) -> str:
        return self.binding.table.name


CITY_SOURCES = (
    CitySource(cb.ELDERLY_ALLOWANCE, c.tb_elder_allow.c.pid_digits),
    CitySource(cb.DISABILITY_ALLOWANCE, c.tb_disab_allow.c.pid_digits),
    CitySource(cb.FUNERAL_AID, c.tb_funeral_aid.c.deceased_pid_digits, c.tb_funeral_aid.c.applicant_pid),
    CitySource(cb.HOMELESS_PERSON, c.tb_homeless_person.c.pid_digits),
    CitySource(cb.HOUSING_APPLICATION, c.tb_housing_app.c.pid_digits),
)
BINDINGS = {s.table: s.binding for s in CITY_SOURCES}

PERSON_COLUMNS = (
    m.person.c.citizen_id, m.person.c.birth_date, m.person.c.death_date, m.person.c.household_id,
    m.person.c.subdistrict_code,
)
CARD_COLUMNS = (
    m.disability_card.c.card_no, m.disability_card.c.citizen_id, m.disability_card.c.expires_on,
    m.disability_card.c.revoked,
)
CASE_COLUMNS = (
    m.welfare_case.c.case_id, m.welfare_case.c.citizen_id, m.welfare_case.c.household_id,
    m.welfare_case.c.category, m.welfare_case.c.status, m.welfare_case.c.subdistrict_code,
)


def by_range(low: str | None, high: str | None) -> Selector:
    def select(column: sa.ColumnElement) -> sa.ColumnElement:
        conditions = []
        if low is not None:
            conditions.append(column > low)
        if high is not None:
            conditions.append(column <= high)
        return sa.and_(sa.true(), *conditions)

    return select


def by_ids(ids: Sequence[str]) -> Selector:
    return lambda column: column.in_(list(ids))


async def person_pages(ministry: Reader, size: int) -> AsyncIterator[tuple[Sequence[sa.Row], str | None, str | None]]:
    """The ministry's register a page at a time, with the window (low, high] each page covers."""
    low: str | None = None
    while True:
        statement = sa.select(*PERSON_COLUMNS).order_by(m.person.c.citizen_id).limit(size)
        if low is not None:
            statement = statement.where(m.person.c.citizen_id > low)
        page = await ministry.rows(statement)
        last = len(page) < size
        high = None if last else page[-1].citizen_id
        yield page, low, high
        if last:
            return
        low = high


async def persons_for(ministry: Reader, ids: Sequence[str]) -> Sequence[sa.Row]:
    return await ministry.rows(sa.select(*PERSON_COLUMNS).where(m.person.c.citizen_id.in_(list(ids))))


async def read_slice(ministry: Reader, city: Reader, persons: Sequence[sa.Row], select: Selector) -> Slice:
    """Everything else both sources hold for the slice's citizen IDs (one statement per table)."""
    # Ordered by key, so that a finding lists its records in the same order on every run and engine.
    cards = await ministry.rows(
        sa.select(*CARD_COLUMNS).where(select(m.disability_card.c.citizen_id)).order_by(m.disability_card.c.card_no)
    )
    cases = await ministry.rows(
        sa.select(*CASE_COLUMNS).where(select(m.welfare_case.c.citizen_id)).order_by(m.welfare_case.c.case_id)
    )
    data = Slice(persons=persons, cards=cards, cases=cases)
    for source in CITY_SOURCES:
        extra = [source.link.label("_link")]
        if source.applicant is not None:
            extra.append(source.applicant.label("_applicant"))
        rows = await city.rows(
            source.binding.select(*extra).where(select(source.link)).order_by(source.binding.key)
        )
        data.city[source.table] = [_city_row(source, row) for row in rows]
    wanted = sorted(card_numbers_to_look_up(data))
    for chunk in in_chunks(wanted, IN_CHUNK):
        found = await ministry.rows(sa.select(*CARD_COLUMNS).where(m.disability_card.c.card_no.in_(list(chunk))))
        data.cards_by_number.update({card.card_no: card for card in found})
    applicants = sorted(applicants_to_look_up(data))
    for chunk in in_chunks(applicants, IN_CHUNK):
        found = await ministry.rows(sa.select(m.person.c.citizen_id).where(m.person.c.citizen_id.in_(list(chunk))))
        data.known_applicants.update(row.citizen_id for row in found)
    return data


def _city_row(source: CitySource, row: sa.Row) -> CityRow:
    binding = source.binding
    mapping = row._mapping
    pid_column = binding.fields["citizen_id"].column.key
    return CityRow(
        table=source.table,
        key=mapping[binding.key.key],
        pid=mapping[pid_column],
        link=mapping["_link"],
        record=binding.to_record(row),
        applicant_pid=mapping["_applicant"] if source.applicant is not None else None,
    )


async def project_districts(city: Reader) -> dict[int, str]:
    rows = await city.rows(sa.select(c.tb_housing_proj.c.proj_id, c.tb_housing_proj.c.dist_id))
    return {r.proj_id: str(1000 + r.dist_id) for r in rows if r.dist_id is not None and 1 <= r.dist_id <= 50}


# --- households ---------------------------------------------------------------------------------------------


def deprived_households(today: dt.date, households: Sequence[int] | None = None) -> sa.Select:
    """Deprivations in each household's latest TPMAP survey, for households with no open case and no child grant.

    Whether a member holds an active city allowance is asked of the city afterwards, for these only.
    """
    h, a = m.household, m.mpi_assessment
    latest = sa.alias(m.mpi_assessment, "latest")
    member = sa.alias(m.person, "member")
    case = sa.alias(m.welfare_case, "member_case")
    grant = m.child_support_grant
    open_status = m.welfare_case.c.status.in_(OPEN_CASE_STATUSES)
    member_open_case = (
        sa.select(sa.literal(1))
        .select_from(member.join(case, case.c.citizen_id == member.c.citizen_id))
        .where(member.c.household_id == h.c.household_id, case.c.status.in_(OPEN_CASE_STATUSES))
    )
    grant_active = sa.and_(
        grant.c.start_date <= today, sa.or_(grant.c.end_date.is_(None), grant.c.end_date >= today)
    )

    def member_grant(column: sa.ColumnElement) -> sa.Exists:
        return sa.exists(
            sa.select(sa.literal(1))
            .select_from(member.join(grant, column == member.c.citizen_id))
            .where(member.c.household_id == h.c.household_id, grant_active)
        )

    statement = (
        sa.select(h.c.household_id, h.c.subdistrict_code, a.c.survey_year, a.c.indicator)
        .select_from(a.join(h, h.c.household_id == a.c.household_id))
        .where(
            a.c.deprived == sa.true(),
            a.c.survey_year
            == sa.select(sa.func.max(latest.c.survey_year))
            .where(latest.c.household_id == a.c.household_id)
            .scalar_subquery(),
            ~sa.exists(
                sa.select(sa.literal(1)).where(
                    m.welfare_case.c.household_id == h.c.household_id, open_status
                )
            ),
            ~sa.exists(member_open_case),
            ~member_grant(grant.c.child_citizen_id),
            ~member_grant(grant.c.carer_citizen_id),
        )
        .order_by(a.c.household_id, a.c.indicator)
    )
    if households is not None:
        statement = statement.where(a.c.household_id.in_(list(households)))
    return statement


async def deprived_household_batches(
    ministry: Reader, today: dt.date, households: Sequence[int] | None, size: int
) -> AsyncIterator[list[DeprivedHousehold]]:
    """The candidates in batches of about `size` whole households (a household's rows never straddle two)."""
    batch: list[DeprivedHousehold] = []
    current: DeprivedHousehold | None = None

    async def rows() -> AsyncIterator[sa.Row]:
        if households is None:
            async for partition in ministry.stream(deprived_households(today), size * 2):
                for row in partition:
                    yield row
            return
        for chunk in in_chunks(sorted(households), IN_CHUNK):
            for row in await ministry.rows(deprived_households(today, chunk)):
                yield row

    async for row in rows():
        if current is None or current.household_id != row.household_id:
            if len(batch) >= size:
                yield batch
                batch = []
            current = DeprivedHousehold(row.household_id, row.subdistrict_code, row.survey_year)
            batch.append(current)
        current.indicators.append(row.indicator)
    if batch:
        yield batch


async def members_with_city_allowance(
    ministry: Reader, city: Reader, household_ids: Sequence[int]
) -> tuple[set[int], int]:
    """Which of these households have a member with an active city allowance (and how many members they have)."""
    members: dict[str, int] = {}
    for chunk in in_chunks(list(household_ids), IN_CHUNK):
        rows = await ministry.rows(
            sa.select(m.person.c.citizen_id, m.person.c.household_id).where(m.person.c.household_id.in_(list(chunk)))
        )
        members.update({r.citizen_id: r.household_id for r in rows})
    served: set[int] = set()
    ids = sorted(members)
    for table in (c.tb_elder_allow, c.tb_disab_allow):
        for chunk in in_chunks(ids, IN_CHUNK):
            rows = await city.rows(
                sa.select(table.c.pid_digits).where(table.c.pid_digits.in_(list(chunk)), table.c.status == "A")
            )
            served.update(members[r.pid_digits] for r in rows)
    return served, len(members)


# --- watermarks and changes --------------------------------------------------------------------------------

# Tables that record when a row changed, and tables whose new rows show by a growing key.
CHANGE_TIMES = {
    "ministry": {"person": m.person.c.updated_at, "household": m.household.c.updated_at,
                 "welfare_case": m.welfare_case.c.updated_at},
    "city": {ELDERLY: c.tb_elder_allow.c.upd_dt, DISABILITY: c.tb_disab_allow.c.upd_dt},
}
NEW_KEYS = {
    "city": {FUNERAL: c.tb_funeral_aid.c.aid_id, HOMELESS: c.tb_homeless_person.c.hl_id,
             HOUSING: c.tb_housing_app.c.app_id},
}


async def watermarks(reader: Reader) -> dict[str, object]:
    columns = {**CHANGE_TIMES.get(reader.name, {}), **NEW_KEYS.get(reader.name, {})}
    statement = sa.select(*(sa.select(sa.func.max(col)).scalar_subquery().label(name) for name, col in columns.items()))
    row = (await reader.rows(statement))[0]._mapping
    marks = {}
    for name, column in columns.items():
        value = row[name]
        if isinstance(value, str):  # SQLite may hand back a scalar subquery's datetime as text
            value = dt.datetime.fromisoformat(value)
        marks[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return marks


@dataclass
class Changes:
    ids: set[str]  # link digits (valid or not) of changed rows
    households: set[int]
    refs: set[str]  # source keys of the changed rows


async def changes_since(reader: Reader, marks: dict[str, object]) -> Changes:
    """The rows of one source that changed (or are new) since the watermarks, as IDs, households and refs."""
    found = Changes(set(), set(), set())

    def since(column: sa.ColumnElement, name: str) -> sa.ColumnElement:
        mark = marks.get(name)
        if mark is None:
            return sa.true()
        if isinstance(mark, str):
            mark = dt.datetime.fromisoformat(mark)
            # A change at the very instant of the watermark may have been written after it was read.
            return column >= mark
        return column > mark

    if reader.name == "ministry":
        for row in await reader.rows(
            sa.select(m.person.c.citizen_id, m.person.c.household_id).where(since(m.person.c.updated_at, "person"))
        ):
            found.ids.add(row.citizen_id)
            found.refs.add(f"person:{row.citizen_id}")
            if row.household_id is not None:
                found.households.add(row.household_id)
        for row in await reader.rows(
            sa.select(m.household.c.household_id).where(since(m.household.c.updated_at, "household"))
        ):
            found.households.add(row.household_id)
            found.refs.add(f"household:{row.household_id}")
        for row in await reader.rows(
            sa.select(m.welfare_case.c.case_id, m.welfare_case.c.citizen_id, m.welfare_case.c.household_id).where(
                since(m.welfare_case.c.updated_at, "welfare_case")
            )
        ):
            found.refs.add(f"welfare_case:{row.case_id}")
            if row.citizen_id is not None:
                found.ids.add(row.citizen_id)
            if row.household_id is not None:
                found.households.add(row.household_id)
        return found
    for source in CITY_SOURCES:
        table = source.table
        column = CHANGE_TIMES["city"].get(table)
        if column is None:
            column = NEW_KEYS["city"][table]
        key = source.binding.key
        for row in await reader.rows(sa.select(key, source.link.label("_link")).where(since(column, table))):
            found.refs.add(f"{table}:{row[0]}")
            if row._link is not None:
                found.ids.add(row._link)
    return found

"""Reconciliation: each kind of discrepancy planted in known records is found exactly, and only there."""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

import hub.store.issue_tables  # noqa: F401 - registers the data-issue tables on the store metadata
from hub import thai
from hub.bootstrap import migrate_all
from hub.databases import Databases
from hub.federation import SourceUnavailable
from hub.reconcile import Kind, count_issues, last_run, list_issues, reconcile, run_cli
from hub.seed import DEFAULT_AS_OF, seed_sources
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry
from hub.store.issue_tables import data_issue, data_issue_ref
from tests import factories as f
from tests.backends import SQLITE, create_databases, drop_databases
from tests.conftest import settings_for

UTC = dt.UTC
RUN = f.NOW + dt.timedelta(hours=1)  # 2026-11-01 10:00 UTC, 17:00 in Bangkok
# Rows keep older change times; in every table that records them one clean row carries the newest,
# so that an incremental run (which re-reads the rows at its watermarks) sees only those and what a
# test changes.
MINISTRY_OLD = f.NOW - dt.timedelta(days=10)
MINISTRY_NEWEST = f.NOW - dt.timedelta(days=1)
CITY_OLD = dt.datetime(2026, 10, 20, 10, 0)
CITY_NEWEST = dt.datetime(2026, 10, 31, 10, 0)
CITY_CHANGE = dt.datetime(2026, 11, 1, 16, 0)  # after the first run's watermark

cid = f.citizen_id
# Clean records: no finding may name them.
CLEAN_ELDER = cid("310100000011")
CLEAN_DISABLED = cid("110200000021")
CLEAN_DECEASED = cid("310100000031")
CLEAN_HOMELESS = cid("310100000041")
CLEAN_MOVED = cid("310500000051")
CLEAN_ADVANCE = cid("310100000061")  # turns 60 within FY2570 and is registered for it
CLEAN_HOUSING = cid("110100000071")
CLEAN_LAPSED_SUSPENDED = cid("110300000081")
SENTINEL = cid("110100000091")
SENTINEL_ELDER = cid("310100000301")
HEIR = cid("110100000141")
MOVER = cid("310600000311")  # a person with no city record, yet
# Planted discrepancies.
TYPO_TARGET = cid("310300000101")
TYPO = TYPO_TARGET[:12] + str((int(TYPO_TARGET[12]) + 1) % 10)  # the check digit no longer matches
THAI_DIGITS = "".join("๐๑๒๓๔๕๖๗๘๙"[int(d)] for d in cid("310700000102"))
MINISTRY_INVALID = cid("500100000111")[:12] + str((int(cid("500100000111")[12]) + 3) % 10)
DASHED = cid("310400000121")
DECEASED_WITH_HEIR = cid("310100000131")
UNKNOWN = cid("350400000151")
DEAD_ACTIVE = cid("310100000161")
UNDER_60 = cid("310100000171")
WRONG_TIER = cid("310100000181")
LAPSED = cid("110200000191")
REVOKED = cid("110200000201")
NO_CARD = cid("110200000211")
CARD_HOLDER = cid("110200000321")  # a valid card, registered under a mistyped PID
LAPSED_HOLDER = cid("110200000331")  # a lapsed card, registered under a mistyped PID


def mistyped(digits: str) -> str:
    return digits[:12] + str((int(digits[12]) + 1) % 10)
ALIVE_FUNERAL = cid("310100000221")
DUP_TWO = cid("310100000231")
DUP_SAME = cid("310100000241")
MISMATCH = cid("310100000251")
HOMELESS_NO_CASE = cid("310100000261")
CASE_NO_CITY = cid("310100000271")
UNREADABLE = cid("310100000281")
# Household members (outside Bangkok unless said otherwise).
MISSED_MEMBER = cid("500100000291")
OLD_SURVEY_MEMBER = cid("500100000292")
CASE_MEMBER = cid("500100000293")
HOUSEHOLD_CASE_MEMBER = cid("500100000294")
CHILD = cid("150100000295")
CARER = cid("350100000296")
CLOSED_CASE_MEMBER = cid("500200000297")


def dashed(digits: str) -> str:
    return thai.format_citizen_id(digits)


def spaced(digits: str) -> str:
    return f"{digits[0]} {digits[1:5]} {digits[5:10]} {digits[10:12]} {digits[12]}"


def person(citizen: str, **kwargs) -> dict:
    return {**f.person(citizen, **kwargs), "updated_at": MINISTRY_OLD}


def elder(pid: str, reg_id: int, **kwargs) -> dict:
    return {**f.elder_allowance(pid, reg_id=reg_id, **kwargs), "upd_dt": CITY_OLD}


def disabled(pid: str, reg_id: int, card_no: str | None, *, dist_id=2, status="A") -> dict:
    row = elder(pid, reg_id, birth=dt.date(1986, 3, 1), dist_id=dist_id, amount=800, status=status)
    return {**row, "card_no": card_no}


def funeral(aid_id: int, deceased: str, applicant: str, *, status="A", dist_id=1) -> dict:
    return dict(
        aid_id=aid_id, deceased_pid=deceased, deceased_name="นายสมชาย ใจดี", applicant_pid=applicant, dist_id=dist_id,
        death_be="04/03/2568", amount=Decimal(3000), approved_dt=dt.datetime(2025, 4, 1, 10, 0), status=status,
    )


def homeless(hl_id: int, pid: str | None, *, dist_id=1) -> dict:
    return dict(
        hl_id=hl_id, pid=pid, nickname="ลุง", sex="M", age_band="60+", dist_id=dist_id,
        first_seen=dt.date(2025, 1, 5), last_seen=dt.date(2026, 9, 30), referred_to=None,
    )


def housing(app_id: int, pid: str) -> dict:
    return dict(app_id=app_id, proj_id=1, pid=pid, household_size=3, income_month=Decimal(9000),
                applied_dt=dt.date(2026, 3, 1), status="P")


def case(case_id: int, citizen: str | None, **kwargs) -> dict:
    household_id = kwargs.pop("household_id", None)
    return {**f.case(case_id, citizen, **kwargs), "household_id": household_id, "updated_at": MINISTRY_OLD}


def household(household_id: int, subdistrict: str) -> dict:
    return {**f.household(household_id, subdistrict=subdistrict, in_bmn=True), "updated_at": MINISTRY_OLD}


def mpi(household_id: int, deprived: tuple[int, ...], year: int = 2026) -> list[dict]:
    return [
        dict(household_id=household_id, survey_year=year, indicator=i, deprived=i in deprived)
        for i in (1, 8, 9, 22)
    ]


async def plant(databases: Databases) -> None:
    m, c = databases["ministry"], databases["city"]
    born_1950 = dt.date(1950, 5, 17)  # 76 on the run's day: the 700-baht tier
    await f.insert(m, ministry.household, [
        household(701, "500101"), household(702, "500101"), household(703, "500101"), household(704, "500101"),
        household(705, "500101"), {**household(706, "100101"), "updated_at": MINISTRY_NEWEST},
        household(707, "500201"),
    ])
    await f.insert(m, ministry.mpi_assessment, [
        *mpi(701, (8, 22)), *mpi(702, (8,), 2024), *mpi(702, (), 2025), *mpi(703, (8,)), *mpi(704, (22,)),
        *mpi(705, (9,)), *mpi(706, (8,)), *mpi(707, (1,)),
    ])
    await f.insert(m, ministry.person, [
        person(CLEAN_ELDER, household_id=706),
        person(CLEAN_DISABLED, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(CLEAN_DECEASED, death=dt.date(2025, 3, 4)),
        person(CLEAN_HOMELESS, birth=dt.date(1975, 1, 1)),
        person(CLEAN_MOVED, birth=dt.date(1955, 1, 1), subdistrict="100501"),
        person(CLEAN_ADVANCE, birth=dt.date(1966, 12, 15)),
        person(CLEAN_HOUSING, birth=dt.date(1990, 1, 1)),
        person(CLEAN_LAPSED_SUSPENDED, birth=dt.date(1986, 3, 1), subdistrict="100301"),
        {**person(SENTINEL), "updated_at": MINISTRY_NEWEST},
        person(SENTINEL_ELDER),
        person(HEIR, birth=dt.date(1980, 1, 1)),
        person(MOVER, subdistrict="100601"),
        person(TYPO_TARGET, subdistrict="100301"),
        person(MINISTRY_INVALID, subdistrict="500101"),
        person(DASHED, subdistrict="100401"),
        person(DECEASED_WITH_HEIR, death=dt.date(2025, 6, 1)),
        person(DEAD_ACTIVE, death=dt.date(2025, 3, 4)),
        person(UNDER_60, birth=dt.date(1968, 6, 1)),
        person(WRONG_TIER, birth=dt.date(1940, 1, 10)),
        person(LAPSED, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(REVOKED, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(NO_CARD, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(CARD_HOLDER, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(LAPSED_HOLDER, birth=dt.date(1986, 3, 1), subdistrict="100201"),
        person(ALIVE_FUNERAL, birth=dt.date(1940, 2, 2)),
        person(DUP_TWO), person(DUP_SAME), person(MISMATCH), person(UNREADABLE),
        person(HOMELESS_NO_CASE, birth=dt.date(1970, 1, 1)),
        person(CASE_NO_CITY, birth=dt.date(1970, 1, 1)),
        person(MISSED_MEMBER, subdistrict="500101", household_id=701),
        person(OLD_SURVEY_MEMBER, subdistrict="500101", household_id=702),
        person(CASE_MEMBER, subdistrict="500101", household_id=703),
        person(HOUSEHOLD_CASE_MEMBER, subdistrict="500101", household_id=704),
        person(CHILD, birth=dt.date(2023, 1, 1), subdistrict="500101", household_id=705),
        person(CARER, birth=dt.date(1995, 1, 1), subdistrict="500101", household_id=705),
        person(CLOSED_CASE_MEMBER, subdistrict="500201", household_id=707),
    ])
    await f.insert(m, ministry.disability_card, [
        f.disability_card("PWD-1", CLEAN_DISABLED),
        f.disability_card("PWD-2", CLEAN_LAPSED_SUSPENDED, issued=dt.date(2017, 1, 1), expires=dt.date(2025, 1, 1)),
        f.disability_card("PWD-3", LAPSED, issued=dt.date(2017, 1, 1), expires=dt.date(2025, 1, 1)),
        f.disability_card("PWD-4", REVOKED, revoked=True),
        f.disability_card("PWD-5", CARD_HOLDER),
        f.disability_card("PWD-6", LAPSED_HOLDER, issued=dt.date(2017, 1, 1), expires=dt.date(2025, 1, 1)),
    ])
    await f.insert(m, ministry.welfare_case, [
        {**case(9001, CLEAN_HOMELESS, category="homeless"), "updated_at": MINISTRY_NEWEST},
        case(9002, CASE_NO_CITY, category="homeless"),
        case(9003, CASE_MEMBER, category="family", subdistrict="500101"),
        case(9004, None, category="family", status="in_progress", subdistrict="500101", household_id=704),
        case(9005, CLOSED_CASE_MEMBER, category="family", status="closed", subdistrict="500201"),
    ])
    await f.insert(m, ministry.child_support_grant, [dict(
        grant_id=1, child_citizen_id=CHILD, carer_citizen_id=CARER, monthly_amount=Decimal(600),
        start_date=dt.date(2023, 2, 1), end_date=None,
    )])

    await f.insert(c, city.tb_elder_allow, [
        elder(CLEAN_ELDER, 1),
        elder(CLEAN_DECEASED, 2, status="D"),
        elder(CLEAN_MOVED, 3, birth=dt.date(1955, 1, 1), dist_id=9, status="M"),
        elder(CLEAN_MOVED, 4, birth=dt.date(1955, 1, 1), dist_id=5),
        elder(CLEAN_ADVANCE, 5, birth=dt.date(1966, 12, 15), amount=600, fy=2570),
        elder(TYPO, 6, dist_id=3),
        elder(dashed(DASHED), 7, dist_id=4),
        elder(UNKNOWN, 8, birth=dt.date(1945, 2, 2), dist_id=4, amount=800),
        elder(DEAD_ACTIVE, 9),
        elder(UNDER_60, 10, birth=dt.date(1968, 6, 1), amount=600, fy=2570),
        elder(WRONG_TIER, 11, birth=dt.date(1940, 1, 10), amount=700),
        elder(DUP_TWO, 12), elder(DUP_TWO, 13, dist_id=6),
        elder(DUP_SAME, 14), elder(DUP_SAME, 15, fy=2569),
        elder(MISMATCH, 16, dist_id=8),
        elder(UNREADABLE, 17, birth_be="31/02/2493"),
        {**elder(SENTINEL_ELDER, 18), "upd_dt": CITY_NEWEST},
    ])
    await f.insert(c, city.tb_disab_allow, [
        {**disabled(CLEAN_DISABLED, 1, "PWD-1"), "upd_dt": CITY_NEWEST},
        disabled(CLEAN_LAPSED_SUSPENDED, 2, "PWD-2", dist_id=3, status="S"),
        disabled(LAPSED, 3, "PWD-3"),
        disabled(REVOKED, 4, "PWD-4"),
        disabled(NO_CARD, 5, None),
        disabled(mistyped(CARD_HOLDER), 6, "PWD-5"),
        disabled(mistyped(LAPSED_HOLDER), 7, "PWD-6"),
    ])
    await f.insert(c, city.tb_funeral_aid, [
        funeral(1, CLEAN_DECEASED, HEIR),
        funeral(2, DECEASED_WITH_HEIR, spaced(HEIR)),
        funeral(3, ALIVE_FUNERAL, HEIR),
    ])
    await f.insert(c, city.tb_homeless_person, [
        homeless(1, CLEAN_HOMELESS), homeless(2, HOMELESS_NO_CASE), homeless(3, THAI_DIGITS, dist_id=7),
        homeless(4, None),
    ])
    await f.insert(c, city.tb_housing_proj, [dict(
        proj_id=1, dist_id=1, proj_name="บ้านมั่นคงพระนคร", units_total=100, units_occupied=80,
        opened_dt=dt.date(2010, 1, 1),
    )])
    await f.insert(c, city.tb_housing_app, [housing(1, CLEAN_HOUSING), housing(2, "12345678")])


def finding(kind: Kind, ministry_refs: list[str], city_refs: list[str], district: str | None, citizen: str | None):
    return (kind.value, ",".join(ministry_refs) or None, ",".join(city_refs) or None, district, citizen)


EXPECTED = {
    finding(Kind.INVALID_CITIZEN_ID, [], ["tb_elder_allow:6"], "1003", None),
    finding(Kind.INVALID_CITIZEN_ID, [], ["tb_homeless_person:3"], "1007", None),
    finding(Kind.INVALID_CITIZEN_ID, [], ["tb_housing_app:2"], "1001", None),
    finding(Kind.INVALID_CITIZEN_ID, [f"person:{MINISTRY_INVALID}"], [], "5001", None),
    finding(Kind.CITIZEN_ID_FORMATTING, [f"person:{DASHED}"], ["tb_elder_allow:7"], "1004", DASHED),
    finding(Kind.CITIZEN_ID_FORMATTING, [f"person:{HEIR}"], ["tb_funeral_aid:2"], "1001", HEIR),
    finding(Kind.UNKNOWN_PERSON, [], ["tb_elder_allow:8"], "1004", UNKNOWN),
    finding(Kind.UNREADABLE_VALUE, [], ["tb_elder_allow:17"], "1001", UNREADABLE),
    finding(Kind.ALLOWANCE_ACTIVE_FOR_DECEASED, [f"person:{DEAD_ACTIVE}"], ["tb_elder_allow:9"], "1001", DEAD_ACTIVE),
    finding(Kind.ELDERLY_ALLOWANCE_UNDER_AGE, [f"person:{UNDER_60}"], ["tb_elder_allow:10"], "1001", UNDER_60),
    finding(Kind.ELDERLY_ALLOWANCE_WRONG_TIER, [f"person:{WRONG_TIER}"], ["tb_elder_allow:11"], "1001", WRONG_TIER),
    finding(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [f"person:{LAPSED}", "disability_card:PWD-3"],
            ["tb_disab_allow:3"], "1002", LAPSED),
    finding(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [f"person:{REVOKED}", "disability_card:PWD-4"],
            ["tb_disab_allow:4"], "1002", REVOKED),
    finding(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [f"person:{NO_CARD}"], ["tb_disab_allow:5"], "1002", NO_CARD),
    # Registrations whose PID links to nobody are judged by the card number they name.
    finding(Kind.INVALID_CITIZEN_ID, [], ["tb_disab_allow:6"], "1002", None),
    finding(Kind.INVALID_CITIZEN_ID, [], ["tb_disab_allow:7"], "1002", None),
    finding(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [], ["tb_disab_allow:7"], "1002", None),
    finding(Kind.FUNERAL_AID_NOT_DECEASED, [f"person:{ALIVE_FUNERAL}"], ["tb_funeral_aid:3"], "1001", ALIVE_FUNERAL),
    finding(Kind.DUPLICATE_REGISTRATION, [f"person:{DUP_TWO}"], ["tb_elder_allow:12", "tb_elder_allow:13"], "1001",
            DUP_TWO),
    finding(Kind.DUPLICATE_REGISTRATION, [f"person:{DUP_SAME}"], ["tb_elder_allow:14", "tb_elder_allow:15"], "1001",
            DUP_SAME),
    finding(Kind.DISTRICT_MISMATCH, [f"person:{MISMATCH}"], ["tb_elder_allow:16"], "1008", MISMATCH),
    finding(Kind.MISSED_HOUSEHOLD, ["household:701"], [], "5001", None),
    finding(Kind.MISSED_HOUSEHOLD, ["household:707"], [], "5002", None),
    finding(Kind.HOMELESS_WITHOUT_CASE, [f"person:{HOMELESS_NO_CASE}"], ["tb_homeless_person:2"], "1001",
            HOMELESS_NO_CASE),
    finding(Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD, ["welfare_case:9002", f"person:{CASE_NO_CITY}"], [], "1001",
            CASE_NO_CITY),
}


@pytest.fixture
async def world(backend_kind, tmp_path):
    """Fresh, migrated databases holding the planted records and the clean controls."""
    test_dbs = await create_databases(backend_kind, tmp_path)
    databases = Databases.from_settings(settings_for(test_dbs.urls))
    try:
        await migrate_all(databases)
        await plant(databases)
        databases.test_dbs = test_dbs
        yield databases
    finally:
        await databases.dispose()
        await drop_databases(test_dbs)


async def run(databases: Databases, **kwargs):
    kwargs.setdefault("now", RUN)
    return await reconcile(databases["ministry"], databases["city"], databases["store"], progress=False, **kwargs)


async def issues(databases: Databases, *, include_resolved: bool = False) -> dict[str, sa.Row]:
    async with databases["store"].connect() as connection:
        statement = sa.select(data_issue)
        if not include_resolved:
            statement = statement.where(data_issue.c.resolved_at.is_(None))
        return {row.issue_key: row for row in await connection.execute(statement)}


def described(rows) -> set[tuple]:
    return {(r.kind, r.ministry_ref, r.city_ref, r.district_code, r.citizen_id) for r in rows}


async def change(engine, table: sa.Table, where, **values) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(sa.update(table).where(where).values(**values))
        assert result.rowcount == 1


# --- every kind, exactly --------------------------------------------------------------------------------


async def test_each_planted_discrepancy_is_found_exactly_and_clean_records_are_not_named(world):
    summary = await run(world)
    found = await issues(world)
    assert described(found.values()) == EXPECTED
    assert summary.mode == "full"
    assert {k: c.found for k, c in summary.counts.items() if c.found} == dict(Counter(e[0] for e in EXPECTED))
    assert summary.total("new") == len(EXPECTED) and summary.total("resolved") == 0
    clean = {CLEAN_ELDER, CLEAN_DISABLED, CLEAN_DECEASED, CLEAN_HOMELESS, CLEAN_MOVED, CLEAN_ADVANCE, CLEAN_HOUSING,
             CLEAN_LAPSED_SUSPENDED, SENTINEL, SENTINEL_ELDER, MOVER, OLD_SURVEY_MEMBER, CASE_MEMBER, CHILD, CARER,
             CARD_HOLDER, LAPSED_HOLDER}
    named = " ".join(f"{r.ministry_ref} {r.city_ref} {r.citizen_id}" for r in found.values())
    assert not [c for c in clean if c in named]
    for row in found.values():
        assert row.first_seen_at is not None and row.resolved_at is None
        assert row.suggestion and row.detail
        # Details carry no personal data: no names, no citizen IDs.
        assert "สมชาย" not in row.detail and "ใจดี" not in row.detail
        assert not any(c in row.detail for c in (DUP_TWO, UNKNOWN, HEIR, MISMATCH, TYPO, MINISTRY_INVALID))
    by_kind = {r.kind: r for r in found.values()}
    assert by_kind["ELDERLY_ALLOWANCE_WRONG_TIER"].detail.startswith("elderly allowance registration pays 700 baht")
    assert "tier 800 baht" in by_kind["ELDERLY_ALLOWANCE_WRONG_TIER"].detail
    assert by_kind["ALLOWANCE_ACTIVE_FOR_DECEASED"].severity == "high"
    assert by_kind["CITIZEN_ID_FORMATTING"].severity == "low"


async def test_every_finding_indexes_the_records_that_bring_it_into_an_incremental_run(world):
    await run(world)
    async with world["store"].connect() as connection:
        refs = defaultdict(set)
        for key, ref in await connection.execute(sa.select(data_issue_ref.c.issue_key, data_issue_ref.c.record_ref)):
            refs[key].add(ref)
    for key, row in (await issues(world)).items():
        listed = {r for text in (row.ministry_ref, row.city_ref) if text for r in text.split(",")}
        if row.kind == "CITIZEN_ID_FORMATTING" and row.citizen_id == HEIR:
            # The applicant's ID is checked when the aid is read, which the applicant's records do not bring.
            assert refs[key] == {"tb_funeral_aid:2"}
        else:
            assert refs[key] == listed


async def test_a_second_full_run_finds_the_same_issues_and_keeps_first_seen(world):
    await run(world)
    first = await issues(world)
    later = RUN + dt.timedelta(hours=5)
    summary = await run(world, now=later)
    second = await issues(world, include_resolved=True)
    assert set(second) == set(first)  # same keys, no duplicates, nothing resolved
    assert summary.total("new") == 0 and summary.total("resolved") == 0 and summary.total("found") == len(first)
    for key, row in second.items():
        assert row.first_seen_at == first[key].first_seen_at
        assert row.last_seen_at != first[key].last_seen_at and row.resolved_at is None


async def test_fixing_a_record_resolves_its_finding_and_a_relapse_reopens_it(world):
    await run(world)
    [key] = [k for k, r in (await issues(world)).items() if r.kind == "ALLOWANCE_ACTIVE_FOR_DECEASED"]
    table = city.tb_elder_allow
    await change(world["city"], table, table.c.reg_id == 9, status="D", upd_dt=CITY_CHANGE)
    fixed = await run(world, now=RUN + dt.timedelta(days=1))
    assert fixed.counts["ALLOWANCE_ACTIVE_FOR_DECEASED"].resolved == 1
    assert fixed.total("resolved") == 1
    row = (await issues(world, include_resolved=True))[key]
    assert row.resolved_at is not None and key not in await issues(world)

    await change(world["city"], table, table.c.reg_id == 9, status="A")
    relapse = await run(world, now=RUN + dt.timedelta(days=2))
    assert relapse.counts["ALLOWANCE_ACTIVE_FOR_DECEASED"].reopened == 1 and relapse.total("new") == 0
    again = (await issues(world))[key]
    assert again.resolved_at is None and again.first_seen_at == row.first_seen_at


# --- incremental runs ---------------------------------------------------------------------------------------


async def test_incremental_run_after_a_city_change_touches_only_that_records_findings(world):
    await run(world)
    before = await issues(world)
    table = city.tb_elder_allow
    await change(world["city"], table, table.c.reg_id == 11, amount=Decimal(800), upd_dt=CITY_CHANGE)
    summary = await run(world, incremental=True, now=RUN + dt.timedelta(hours=2))
    assert summary.mode == "incremental"
    # The changed registration's person and the clean rows at the watermarks (the sentinel person, the
    # sentinel registration, the newest disability registration and the newest case): nobody else.
    assert summary.persons_examined == 5
    after = await issues(world, include_resolved=True)
    [tier] = [k for k, r in before.items() if r.kind == "ELDERLY_ALLOWANCE_WRONG_TIER"]
    assert after[tier].resolved_at is not None
    assert summary.total("resolved") == 1 and summary.total("found") == 0
    for key, row in before.items():
        if key != tier:
            assert after[key].last_seen_at == row.last_seen_at and after[key].resolved_at is None


async def test_incremental_run_follows_a_corrected_pid_back_to_the_duplicate_it_left(world):
    await run(world)
    table = city.tb_elder_allow
    # The second registration was the other person's all along (the mover, who lives in district 1006).
    await change(world["city"], table, table.c.reg_id == 13, pid=MOVER, upd_dt=CITY_CHANGE)
    summary = await run(world, incremental=True, now=RUN + dt.timedelta(hours=2))
    assert summary.counts["DUPLICATE_REGISTRATION"].resolved == 1
    assert summary.total("new") == 0 and summary.total("resolved") == 1
    assert described((await issues(world)).values()) == {
        e for e in EXPECTED if not (e[0] == "DUPLICATE_REGISTRATION" and e[4] == DUP_TWO)
    }


async def test_incremental_run_after_ministry_changes(world):
    await run(world)
    person, case_table = ministry.person, ministry.welfare_case
    changed = f.NOW + dt.timedelta(minutes=30)
    # The ministry records the death the city paid funeral aid for, and opens a case for the missed household.
    await change(world["ministry"], person, person.c.citizen_id == ALIVE_FUNERAL,
                 death_date=dt.date(2026, 10, 1), updated_at=changed)
    await f.insert(world["ministry"], case_table, [
        {**case(9006, MISSED_MEMBER, category="family", subdistrict="500101"), "updated_at": changed},
    ])
    # The heir's record changes too: the finding on how the city typed the heir's ID stays, though the
    # funeral aid that carries it (found by the deceased's ID) is not re-read.
    await change(world["ministry"], person, person.c.citizen_id == HEIR, title_th="นาย", updated_at=changed)
    summary = await run(world, incremental=True, now=RUN + dt.timedelta(hours=2))
    assert summary.mode == "incremental"
    assert summary.counts["FUNERAL_AID_NOT_DECEASED"].resolved == 1
    assert summary.counts["MISSED_HOUSEHOLD"].resolved == 1
    assert summary.total("resolved") == 2 and summary.total("new") == 0
    assert described((await issues(world)).values()) == {
        e for e in EXPECTED if e[4] != ALIVE_FUNERAL and e[1] != "household:701"
    }


async def test_incremental_without_a_previous_run_runs_full(world):
    summary = await run(world, incremental=True)
    assert summary.mode == "full"
    assert described((await issues(world)).values()) == EXPECTED
    async with world["store"].connect() as connection:
        latest = await last_run(connection)
    assert latest.id == summary.run_id and latest.mode == "full" and latest.finished_at is not None
    assert latest.counts["DUPLICATE_REGISTRATION"]["found"] == 2
    assert latest.watermarks["city"]["tb_elder_allow"].startswith("2026-10-31T10:00")


# --- sources ---------------------------------------------------------------------------------------------------


async def test_a_source_whose_newest_change_is_older_than_the_threshold_is_stale(world):
    # The city's newest change is 31 hours old at the run, the ministry's 25 hours.
    await run(world, stale_after=dt.timedelta(hours=26))
    stale = [r for r in (await issues(world)).values() if r.kind == "STALE_SOURCE"]
    assert [(r.source, r.city_ref, r.ministry_ref, r.district_code) for r in stale] == [
        ("city", "source:city", None, None)
    ]
    assert "threshold 26 hours" in stale[0].detail
    await run(world, stale_after=dt.timedelta(days=2), now=RUN + dt.timedelta(minutes=5))
    assert not [r for r in (await issues(world)).values() if r.kind == "STALE_SOURCE"]


async def test_a_source_down_fails_the_run_and_resolves_nothing(world, backend_kind, tmp_path):
    await run(world)
    before = await issues(world)
    dead = (
        f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'city.db'}" if backend_kind == SQLITE
        else "mysql+asyncmy://root@127.0.0.1:1/nothing"
    )
    broken = Databases.from_settings(settings_for({**world.test_dbs.urls, "city": dead}))
    try:
        with pytest.raises(SourceUnavailable) as raised:
            await reconcile(broken["ministry"], broken["city"], broken["store"], progress=False,
                            now=RUN + dt.timedelta(days=1))
    finally:
        await broken.dispose()
    assert raised.value.source == "city"
    after = await issues(world, include_resolved=True)
    assert {k: (r.last_seen_at, r.resolved_at) for k, r in after.items()} == {
        k: (r.last_seen_at, r.resolved_at) for k, r in before.items()
    }


# --- reading findings back ---------------------------------------------------------------------------------------


async def test_list_and_count_issues_filter_and_page(world):
    await run(world)
    async with world["store"].connect() as connection:
        by_kind = await count_issues(connection)
        assert by_kind == dict(Counter(e[0] for e in EXPECTED))
        by_district = await count_issues(connection, group_by="district")
        assert by_district == dict(Counter(e[3] for e in EXPECTED))
        assert await count_issues(connection, district_codes={"1002"}) == {
            "DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD": 4, "INVALID_CITIZEN_ID": 2,
        }
        assert await count_issues(connection, district_codes=set()) == {}
        with pytest.raises(ValueError):
            await count_issues(connection, group_by="colour")

        pages, after = [], None
        while True:
            page = await list_issues(connection, after_key=after, limit=5)
            if not page:
                break
            pages.append(page)
            after = page[-1].issue_key
        keys = [i.issue_key for page in pages for i in page]
        assert len(keys) == len(set(keys)) == len(EXPECTED) and keys == sorted(keys)

        [dup] = await list_issues(connection, kinds=["DUPLICATE_REGISTRATION"], citizen_id=DUP_TWO)
        assert dup.city_refs == ("tb_elder_allow:12", "tb_elder_allow:13")
        assert dup.ministry_refs == (f"person:{DUP_TWO}",)
        assert dup.district_code == "1001" and dup.resolved_at is None
        assert dup.first_seen_at == RUN
        assert dup.detail == "2 elderly allowance registrations in districts 1001, 1006 (2 active)"
        homeless = await list_issues(connection, kinds=[Kind.HOMELESS_WITHOUT_CASE, Kind.MISSED_HOUSEHOLD],
                                     district_codes={"1001", "5002"})
        assert {(i.kind, i.district_code) for i in homeless} == {
            ("HOMELESS_WITHOUT_CASE", "1001"), ("MISSED_HOUSEHOLD", "5002"),
        }

    table = city.tb_elder_allow
    await change(world["city"], table, table.c.reg_id == 16, dist_id=1, upd_dt=CITY_CHANGE)
    await run(world, now=RUN + dt.timedelta(days=1))
    async with world["store"].connect() as connection:
        assert await list_issues(connection, citizen_id=MISMATCH) == []
        [resolved] = await list_issues(connection, citizen_id=MISMATCH, include_resolved=True)
        assert resolved.resolved_at == RUN + dt.timedelta(days=1)
        assert (await count_issues(connection, include_resolved=True))["DISTRICT_MISMATCH"] == 1


def test_cli_prints_the_counts_per_kind(world, capsys):
    code = run_cli(argparse.Namespace(incremental=False, quiet=True), settings_for(world.test_dbs.urls))
    assert code == 0
    lines = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert lines["DUPLICATE_REGISTRATION"][:2] == ["2", "2"]
    assert lines["MISSED_HOUSEHOLD"][:2] == ["2", "2"]
    kinds = [k.value for k in Kind]
    assert [k for k in lines if k in kinds] == kinds
    # The CLI checks as of the wall clock: the planted data may by then also be stale.
    assert int(lines["total"][0]) == sum(int(lines[k][0]) for k in kinds) >= len(EXPECTED)
    assert lines["full"][:2] == ["run", "1"]


# --- the generator's data ----------------------------------------------------------------------------------------

GENERATED_PERSONS = 2_000
GENERATED_SEED = 2568
# What the generator plants (hub.seed_generate.Planter) and the kind that reports it.
PLANTED = {
    "pid_check_digit_typo": Kind.INVALID_CITIZEN_ID,
    "pid_dashed": Kind.CITIZEN_ID_FORMATTING,
    "city_only_person": Kind.UNKNOWN_PERSON,
    "deceased_still_active": Kind.ALLOWANCE_ACTIVE_FOR_DECEASED,
    "registered_under_60": Kind.ELDERLY_ALLOWANCE_UNDER_AGE,
    "wrong_tier": Kind.ELDERLY_ALLOWANCE_WRONG_TIER,
    "lapsed_card_still_active": Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD,
    "funeral_aid_not_deceased": Kind.FUNERAL_AID_NOT_DECEASED,
    "duplicate_registration": Kind.DUPLICATE_REGISTRATION,
    "district_mismatch": Kind.DISTRICT_MISMATCH,
    "deprived_household_unserved": Kind.MISSED_HOUSEHOLD,
    "homeless_pid_without_case": Kind.HOMELESS_WITHOUT_CASE,
    "ministry_homeless_case_without_city_record": Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD,
}


@pytest.fixture(scope="module")
async def generated(backend_kind, tmp_path_factory):
    test_dbs = await create_databases(backend_kind, tmp_path_factory.mktemp("generated"))
    databases = Databases.from_settings(settings_for(test_dbs.urls))
    try:
        await migrate_all(databases)
        await seed_sources(databases["ministry"], databases["city"], persons=GENERATED_PERSONS,
                           seed=GENERATED_SEED, progress=False)
        now = dt.datetime.combine(DEFAULT_AS_OF, dt.time(9, 0), tzinfo=UTC)
        # Small pages, so that the windows' boundaries are crossed many times.
        summary = await reconcile(databases["ministry"], databases["city"], databases["store"], progress=False,
                                  now=now, page_size=150)
        yield databases, summary
    finally:
        await databases.dispose()
        await drop_databases(test_dbs)


async def test_generated_data_every_planted_kind_is_found(generated):
    databases, summary = generated
    found = Counter(r.kind for r in (await issues(databases)).values())
    missing = [planted for planted, kind in PLANTED.items() if not found[kind.value]]
    assert not missing
    assert not found["UNREADABLE_VALUE"] and not found["STALE_SOURCE"]
    # Set-based: statements grow with pages of persons (2,000 / 150), not with persons.
    pages = -(-GENERATED_PERSONS // 150) + 1
    assert summary.statements["city"] <= pages * 5 + 10
    assert summary.statements["ministry"] <= pages * 4 + 20


async def test_generated_data_findings_match_an_independent_model(generated):
    databases, summary = generated
    data = await snapshot(databases)
    expected = model_findings(data, DEFAULT_AS_OF)
    actual = described((await issues(databases)).values())
    assert actual - expected == set(), "findings the model does not expect"
    assert expected - actual == set(), "expected findings not reported"


MODEL_TABLES = {
    "ministry": (ministry.person, ministry.household, ministry.mpi_assessment, ministry.disability_card,
                 ministry.welfare_case, ministry.child_support_grant),
    "city": (city.tb_elder_allow, city.tb_disab_allow, city.tb_funeral_aid, city.tb_homeless_person,
             city.tb_housing_proj, city.tb_housing_app),
}


async def snapshot(databases: Databases) -> dict[str, list[dict]]:
    """The rows of the tables the model reads, ordered by primary key."""
    tables: dict[str, list[dict]] = {}
    for name, source_tables in MODEL_TABLES.items():
        async with databases[name].connect() as connection:
            for table in source_tables:
                result = await connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                tables[table.name] = [dict(row) for row in result.mappings()]
    return tables


def model_findings(data: dict[str, list[dict]], today: dt.date) -> set[tuple]:
    """What reconciliation should report, computed from whole tables with the rules written out plainly."""
    persons = {p["citizen_id"]: p for p in data["person"]}
    out: set[tuple] = set()

    def add(kind, mrefs, crefs, district, citizen):
        out.add(finding(kind, list(mrefs), list(crefs), district, citizen))

    def digits(raw: str) -> str:
        return raw.replace("-", "").replace(" ", "")

    def valid(d: str) -> bool:
        return len(d) == 13 and d.isascii() and d.isdigit() and thai.is_valid_citizen_id(d)

    def home(p) -> str:
        return p["subdistrict_code"][:4]

    def dist(dist_id) -> str:
        return str(1000 + dist_id)

    def dead(p) -> bool:
        return p["death_date"] is not None and p["death_date"] <= today

    projects = {p["proj_id"]: dist(p["dist_id"]) for p in data["tb_housing_proj"]}
    cards = defaultdict(list)
    for c in data["disability_card"]:
        cards[c["citizen_id"]].append(c)
    cards_by_no = {c["card_no"]: c for c in data["disability_card"]}
    cases = defaultdict(list)
    for c in data["welfare_case"]:
        if c["citizen_id"]:
            cases[c["citizen_id"]].append(c)

    def card_ok(c) -> bool:
        return not c["revoked"] and c["expires_on"] >= today

    for p in persons.values():
        if not valid(p["citizen_id"]):
            add(Kind.INVALID_CITIZEN_ID, [f"person:{p['citizen_id']}"], [], home(p), None)

    sources = (("tb_elder_allow", "reg_id", "pid"), ("tb_disab_allow", "reg_id", "pid"),
               ("tb_funeral_aid", "aid_id", "deceased_pid"), ("tb_homeless_person", "hl_id", "pid"),
               ("tb_housing_app", "app_id", "pid"))
    linked = defaultdict(lambda: defaultdict(list))
    for table, key, column in sources:
        for row in data[table]:
            ref = f"{table}:{row[key]}"
            district = projects[row["proj_id"]] if table == "tb_housing_app" else dist(row["dist_id"])
            if table == "tb_funeral_aid":
                raw = row["applicant_pid"]
                d = digits(raw)
                if not valid(d):
                    add(Kind.INVALID_CITIZEN_ID, [], [ref], district, None)
                elif raw != d and d in persons:
                    add(Kind.CITIZEN_ID_FORMATTING, [f"person:{d}"], [ref], district, d)
            raw = row[column]
            if raw is None:
                continue
            d = digits(raw)
            if not valid(d):
                add(Kind.INVALID_CITIZEN_ID, [], [ref], district, None)
                if table == "tb_disab_allow" and row["status"] == "A":
                    card = cards_by_no.get(row["card_no"])
                    if card is None or not card_ok(card):
                        add(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [], [ref], district, None)
                continue
            linked[d][table].append((ref, row, district))
            if d in persons:
                if raw != d:
                    add(Kind.CITIZEN_ID_FORMATTING, [f"person:{d}"], [ref], district, d)
            elif table != "tb_homeless_person":
                add(Kind.UNKNOWN_PERSON, [], [ref], district, d)
                if table == "tb_disab_allow" and row["status"] == "A":
                    card = cards_by_no.get(row["card_no"])
                    if card is None or not card_ok(card):
                        add(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, [], [ref], district, None)

    for c, rows in linked.items():
        p = persons.get(c)
        me = [f"person:{c}"] if p else []
        twice = set()
        for table in ("tb_elder_allow", "tb_disab_allow"):
            regs = rows.get(table, [])
            current = [r for r in regs if r[1]["status"] != "M"]
            moved_away = len(current) == 1 and all(
                r[2] != current[0][2] for r in regs if r[1]["status"] == "M"
            )
            if len(regs) > 1 and not moved_away:
                twice.update(r[0] for r in regs)
                add(Kind.DUPLICATE_REGISTRATION, me, [r[0] for r in regs], home(p) if p else regs[0][2], c)
        for table in ("tb_elder_allow", "tb_disab_allow"):
            for ref, row, district in rows.get(table, []):
                if row["status"] != "A":
                    continue
                if p and dead(p):
                    add(Kind.ALLOWANCE_ACTIVE_FOR_DECEASED, me, [ref], district, c)
                    continue
                if table == "tb_elder_allow":
                    birth = p["birth_date"] if p else thai.parse_be_string(row["birth_be"])
                    leap_day = (birth.month, birth.day) == (2, 29)
                    sixtieth = dt.date(birth.year + 60, birth.month, 28 if leap_day else birth.day)
                    if row["reg_fy"] < thai.fiscal_year_be(sixtieth):
                        add(Kind.ELDERLY_ALLOWANCE_UNDER_AGE, me, [ref], district, c)
                        continue
                    age = thai.age_on(birth, today)
                    if age >= 60 and row["amount"] != thai.elderly_allowance_rate(age):
                        add(Kind.ELDERLY_ALLOWANCE_WRONG_TIER, me, [ref], district, c)
                elif p and not any(card_ok(card) for card in cards[c]):
                    add(Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD,
                        me + [f"disability_card:{card['card_no']}" for card in cards[c]], [ref], district, c)
        if p:
            for ref, row, district in rows.get("tb_funeral_aid", []):
                if row["status"] in ("A", "P") and p["death_date"] is None:
                    add(Kind.FUNERAL_AID_NOT_DECEASED, me, [ref], district, c)
            for table in ("tb_elder_allow", "tb_disab_allow", "tb_funeral_aid"):
                for ref, row, district in rows.get(table, []):
                    if ref not in twice and row["status"] != "M" and district != home(p):
                        add(Kind.DISTRICT_MISMATCH, me, [ref], district, c)
        if not [k for k in cases[c] if k["category"] in ("homeless", "beggar")]:
            for ref, row, district in rows.get("tb_homeless_person", []):
                add(Kind.HOMELESS_WITHOUT_CASE, me, [ref], district, c)

    recorded = {digits(h["pid"]) for h in data["tb_homeless_person"] if h["pid"]}
    for k in data["welfare_case"]:
        c = k["citizen_id"]
        if c and k["category"] == "homeless" and k["subdistrict_code"].startswith("10") and c not in recorded:
            add(Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD,
                [f"welfare_case:{k['case_id']}"] + ([f"person:{c}"] if c in persons else []), [],
                k["subdistrict_code"][:4], c)

    latest: dict[int, int] = {}
    for a in data["mpi_assessment"]:
        latest[a["household_id"]] = max(latest.get(a["household_id"], 0), a["survey_year"])
    deprived = {a["household_id"] for a in data["mpi_assessment"]
                if a["deprived"] and a["survey_year"] == latest[a["household_id"]]}
    members = defaultdict(set)
    for p in persons.values():
        members[p["household_id"]].add(p["citizen_id"])
    open_status = ("open", "in_progress", "referred")
    served = {k["household_id"] for k in data["welfare_case"] if k["status"] in open_status}
    helped = {k["citizen_id"] for k in data["welfare_case"] if k["status"] in open_status}
    helped |= {g[side] for g in data["child_support_grant"] for side in ("child_citizen_id", "carer_citizen_id")
               if g["start_date"] <= today and (g["end_date"] is None or g["end_date"] >= today)}
    helped |= {digits(r["pid"]) for t in ("tb_elder_allow", "tb_disab_allow") for r in data[t] if r["status"] == "A"}
    households = {h["household_id"]: h for h in data["household"]}
    for h in deprived:
        if h not in served and not members[h] & helped:
            add(Kind.MISSED_HOUSEHOLD, [f"household:{h}"], [], households[h]["subdistrict_code"][:4], None)
    return out

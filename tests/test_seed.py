"""The synthetic-data generator: deterministic, valid IDs, realistic shares, and every planted kind of messiness."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub import thai
from hub.db import create_engine
from hub.migrate import upgrade
from hub.seed import DEFAULT_AS_OF, seed_sources
from hub.seed_generate import SeedGenerator
from hub.sources.city.tables import metadata as city_metadata
from hub.sources.ministry.tables import metadata as ministry_metadata

PERSONS = 2_000
SEED = 2568
AS_OF = DEFAULT_AS_OF
MPI_INDICATORS = {1, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 19, 20, 21, 22, 27, 28}

Snapshot = dict[str, list[dict]]


class Sources:
    """Migrated SQLite ministry and city databases in a folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.ministry = create_engine(f"sqlite+aiosqlite:///{folder / 'ministry.db'}")
        self.city = create_engine(f"sqlite+aiosqlite:///{folder / 'city.db'}")

    async def migrate(self) -> Sources:
        await upgrade(self.ministry, "ministry")
        await upgrade(self.city, "city")
        return self

    async def seed(self, *, persons: int, seed: int):
        return await seed_sources(self.ministry, self.city, persons=persons, seed=seed, progress=False)

    async def snapshot(self) -> Snapshot:
        """Every row of every source table, ordered by primary key."""
        tables: Snapshot = {}
        for engine, metadata in ((self.ministry, ministry_metadata), (self.city, city_metadata)):
            async with engine.connect() as connection:
                for table in metadata.sorted_tables:
                    if table.name.startswith("hub_"):
                        continue  # the hub's outbox, not source data
                    result = await connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                    tables[table.name] = [dict(row) for row in result.mappings()]
        return tables

    async def dispose(self) -> None:
        await self.ministry.dispose()
        await self.city.dispose()


@pytest.fixture(scope="module")
async def data(tmp_path_factory) -> Snapshot:
    sources = await Sources(tmp_path_factory.mktemp("seed")).migrate()
    try:
        summary = await sources.seed(persons=PERSONS, seed=SEED)
        snapshot = await sources.snapshot()
    finally:
        await sources.dispose()
    assert summary.persons == PERSONS and summary.seed == SEED
    assert summary.rows == {name: len(rows) for name, rows in snapshot.items()}
    return snapshot


# --- helpers over a snapshot ---------------------------------------------------------------------


def _digits(pid: str | None) -> str | None:
    return None if pid is None else thai.strip_citizen_id(pid)


def _valid(pid: str | None) -> str | None:
    """The citizen ID a clerk-typed PID stands for, or None when it is not a valid ID."""
    return _digits(pid) if pid is not None and thai.is_valid_citizen_id(pid) else None


def _persons(data: Snapshot) -> dict[str, dict]:
    return {p["citizen_id"]: p for p in data["person"]}


def _age(person: dict) -> int:
    return thai.age_on(person["birth_date"], AS_OF)


def _bangkok(person: dict) -> bool:
    return person["subdistrict_code"].startswith("10")


def _valid_cards(data: Snapshot) -> set[str]:
    return {c["card_no"] for c in data["disability_card"] if not c["revoked"] and c["expires_on"] >= AS_OF}


# --- determinism and volume ----------------------------------------------------------------------


async def test_same_seed_same_rows_different_seed_different_rows(tmp_path):
    sources = await Sources(tmp_path).migrate()
    try:
        await sources.seed(persons=600, seed=11)
        first = await sources.snapshot()
        # Seeding again first deletes everything, then writes exactly the same rows.
        await sources.seed(persons=600, seed=11)
        again = await sources.snapshot()
        await sources.seed(persons=600, seed=12)
        other = await sources.snapshot()
    finally:
        await sources.dispose()
    assert len(first["person"]) == 600
    assert first == again
    assert first["person"] != other["person"]
    assert first["tb_elder_allow"] != other["tb_elder_allow"]


def test_chunks_bound_memory_and_keep_ids_unique():
    generator = SeedGenerator(persons=12_345, seed=3, as_of=AS_OF, chunk_size=1_000)
    seen: set[str] = set()
    sizes = []
    for chunk in generator.chunks():
        rows = chunk.ministry["person"]
        assert chunk.persons == len(rows) <= 1_000
        seen.update(r["citizen_id"] for r in rows)
        sizes.append(len(rows))
    assert sizes[0] == 0  # the reference chunk
    assert sum(sizes) == len(seen) == 12_345


def test_generator_refuses_more_persons_than_ids():
    with pytest.raises(ValueError):
        SeedGenerator(persons=10_000_000, seed=1, as_of=AS_OF)


# --- ministry: persons and households ------------------------------------------------------------------


def test_every_ministry_citizen_id_is_thirteen_digits_with_a_valid_check_digit(data):
    ids = [p["citizen_id"] for p in data["person"]]
    assert len(ids) == PERSONS == len(set(ids))
    assert all(re.fullmatch(r"[0-9]{13}", i) and thai.is_valid_citizen_id(i) for i in ids)
    referenced = [c["citizen_id"] for c in data["disability_card"]] + [
        c["citizen_id"] for c in data["welfare_case"] if c["citizen_id"]
    ]
    assert set(referenced) <= set(ids)


def test_id_type_title_and_nationality_agree_with_the_person(data):
    for p in data["person"]:
        age = thai.age_on(p["birth_date"], p["death_date"] or AS_OF)
        kind = p["citizen_id"][0]
        if p["nationality"] == "TH":
            assert kind in ("12" if p["birth_date"].year >= 1984 else "3")
        else:
            assert kind in "678"
        if age < 15:
            assert p["title_th"] == ("เด็กชาย" if p["sex"] == "M" else "เด็กหญิง")
        else:
            assert p["title_th"] in (("นาย",) if p["sex"] == "M" else ("นาง", "นางสาว"))
        assert p["death_date"] is None or p["birth_date"] < p["death_date"] < AS_OF
    nationalities = Counter(p["nationality"] for p in data["person"])
    assert 0 < PERSONS - nationalities["TH"] < 0.08 * PERSONS


def test_age_place_and_death_shares_are_realistic(data):
    persons = data["person"]
    elderly = [p for p in persons if _age(p) >= 60]
    assert 0.15 <= len(elderly) / PERSONS <= 0.26
    assert any(_age(p) >= 80 for p in persons) and any(_age(p) >= 90 for p in persons)
    assert 0.03 <= sum(_age(p) < 6 for p in persons) / PERSONS <= 0.09
    assert 0.62 <= sum(_bangkok(p) for p in persons) / PERSONS <= 0.78
    deceased = [p for p in persons if p["death_date"]]
    assert 0.01 <= len(deceased) / PERSONS <= 0.05
    young = [p for p in persons if _age(p) < 60]
    assert sum(p["death_date"] is not None for p in elderly) / len(elderly) > 3 * (
        sum(p["death_date"] is not None for p in young) / len(young)
    )


def test_households_group_persons_and_bmn_excludes_bangkok(data):
    sizes = Counter(p["household_id"] for p in data["person"])
    households = data["household"]
    assert set(sizes) == {h["household_id"] for h in households}
    assert set(sizes.values()) <= set(range(1, 7)) and max(sizes.values()) == 6
    assert [h["household_id"] for h in households] == list(range(1, len(households) + 1))
    assert not [h for h in households if h["in_bmn"] and h["subdistrict_code"].startswith("10")]
    outside = [h for h in households if not h["subdistrict_code"].startswith("10")]
    assert sum(h["in_bmn"] for h in outside) / len(outside) > 0.8
    assert 0.2 <= sum(h["has_welfare_card"] for h in households) / len(households) <= 0.4
    assert all(h["house_code"] is None or re.fullmatch(r"[0-9]{11}", h["house_code"]) for h in households)
    assert sum(h["house_code"] is not None for h in households) / len(households) > 0.9
    assert {h["logbook_stage"] for h in households} >= {None, 1, 2}


def test_mpi_covers_the_17_indicators_of_bmn_households(data):
    by_household = defaultdict(set)
    deprived = set()
    for row in data["mpi_assessment"]:
        by_household[row["household_id"]].add(row["indicator"])
        if row["deprived"]:
            deprived.add(row["household_id"])
    in_bmn = {h["household_id"] for h in data["household"] if h["in_bmn"]}
    assert set(by_household) == in_bmn
    assert all(indicators == MPI_INDICATORS for indicators in by_household.values())
    assert 0.12 <= len(deprived) / len(in_bmn) <= 0.30


def test_ministry_programmes(data):
    persons = _persons(data)
    cards = data["disability_card"]
    assert 0.01 <= len(cards) / PERSONS <= 0.035
    types = Counter(c["disability_type"] for c in cards)
    assert set(types) <= set(range(1, 8))
    assert all(
        (c["expires_on"].year - c["issued_on"].year, c["expires_on"].month) == (8, c["issued_on"].month) for c in cards
    )

    cases = data["welfare_case"]
    named = [c for c in cases if c["citizen_id"]]
    assert 0.004 <= len(named) / PERSONS <= 0.025
    assert any(c["citizen_id"] is None and c["category"] in ("homeless", "beggar") for c in cases)
    assert all(c["closed_at"] is None or c["opened_at"] < c["closed_at"] for c in cases)
    assert {c["status"] for c in cases} <= {"open", "in_progress", "referred", "closed"}
    centres = {c["centre_code"] for c in data["assistance_centre"]}
    assert len(centres) >= 5 and not any(c["subdistrict_code"].startswith("10") for c in data["assistance_centre"])
    assert {c["centre_code"] for c in cases if c["centre_code"]} <= centres

    grants = data["child_support_grant"]
    children = [p for p in persons.values() if _age(p) < 6 and p["nationality"] == "TH" and not p["death_date"]]
    assert 0.15 <= len(grants) / len(children) <= 0.45
    assert all(g["monthly_amount"] == 600 for g in grants)
    same_household = sum(
        persons[g["carer_citizen_id"]]["household_id"] == persons[g["child_citizen_id"]]["household_id"] for g in grants
    )
    assert same_household == len(grants)
    assert 0 < len(data["volunteer"]) < 0.02 * PERSONS


def test_disability_types_follow_the_national_mix():
    # 2,000 persons hold too few cards for a share; the generator alone is fast enough for 20,000.
    types: Counter[int] = Counter()
    for chunk in SeedGenerator(persons=20_000, seed=SEED, as_of=AS_OF).chunks():
        types.update(c["disability_type"] for c in chunk.ministry["disability_card"])
    total = sum(types.values())
    assert 0.40 <= types[3] / total <= 0.58  # physical 48.7%
    assert 0.12 <= types[2] / total <= 0.25  # hearing 18.4%
    assert [t for t, _ in types.most_common(2)] == [3, 2]


# --- city ----------------------------------------------------------------------------------------------


def test_city_pids_come_dashed_spaced_padded_and_mistyped(data):
    pids = [
        r[column]
        for table, column in (
            ("tb_elder_allow", "pid"), ("tb_disab_allow", "pid"), ("tb_funeral_aid", "deceased_pid"),
            ("tb_homeless_person", "pid"), ("tb_housing_app", "pid"),
        )
        for r in data[table]
        if r[column] is not None
    ]
    assert all(len(pid) <= 17 for pid in pids)
    assert any(re.fullmatch(r"\d-\d{4}-\d{5}-\d{2}-\d", pid) for pid in pids)
    assert any(re.fullmatch(r"\d \d{4} \d{5} \d{2} \d", pid) for pid in pids)
    assert any(pid != pid.strip() for pid in pids)
    invalid = [pid for pid in pids if not thai.is_valid_citizen_id(pid)]
    assert invalid and all(re.fullmatch(r"\d{13}", _digits(pid)) for pid in invalid)
    assert len(invalid) < 0.05 * len(pids)
    # Most are plain digits, as the hub's indexed pid_digits column expects.
    assert sum(bool(re.fullmatch(r"\d{13}", pid)) for pid in pids) > 0.6 * len(pids)


def test_elderly_allowance_coverage_and_tiers(data):
    persons = _persons(data)
    registrations = data["tb_elder_allow"]
    eligible = {
        cid for cid, p in persons.items()
        if _bangkok(p) and p["nationality"] == "TH" and thai.age_on(p["birth_date"], p["death_date"] or AS_OF) >= 60
    }
    registered = {_valid(r["pid"]) for r in registrations} & eligible
    assert 0.65 <= len(registered) / len(eligible) <= 0.9
    active = [
        r for r in registrations
        if r["status"] == "A" and (p := persons.get(_valid(r["pid"]))) and p["death_date"] is None
    ]
    matching = [r for r in active if r["amount"] == thai.elderly_allowance_rate(_age(persons[_valid(r["pid"])]))]
    assert len(matching) >= 0.93 * len(active)
    assert Counter(r["status"] for r in registrations).most_common(1)[0][0] == "A"
    assert all(1 <= r["dist_id"] <= 50 and 2553 <= r["reg_fy"] <= thai.fiscal_year_be(AS_OF) for r in registrations)
    assert all(thai.parse_be_string(r["birth_be"]) for r in registrations)
    for r in registrations:
        person = persons.get(_valid(r["pid"]))
        if person:
            assert thai.parse_be_string(r["birth_be"]) == person["birth_date"]
            if person["death_date"] is None:
                assert r["status"] != "D"
    assert all(r["upd_dt"].tzinfo is None and r["upd_dt"] < dt.datetime(2026, 11, 1) for r in registrations)


def test_disability_allowance_follows_cards(data):
    persons = _persons(data)
    registrations = data["tb_disab_allow"]
    holders = {c["citizen_id"]: c for c in data["disability_card"]}
    bangkok_holders = [cid for cid in holders if _bangkok(persons[cid]) and persons[cid]["nationality"] == "TH"]
    with_card = [r for r in registrations if r["card_no"]]
    assert 0.7 <= len(with_card) / len(bangkok_holders) <= 1.0
    for r in with_card:
        cid = _valid(r["pid"])
        if cid:
            assert holders[cid]["card_no"] == r["card_no"]
            person = persons[cid]
            age = thai.age_on(person["birth_date"], person["death_date"] or AS_OF)
            assert r["amount"] == thai.disability_allowance_rate(age)


def test_payments_are_the_last_three_months_of_active_registrations(data):
    registrations = {("E", r["reg_id"]): r for r in data["tb_elder_allow"]}
    registrations |= {("D", r["reg_id"]): r for r in data["tb_disab_allow"]}
    payments = data["tb_allow_pay"]
    assert {p["pay_ym"] for p in payments} == {"256908", "256909", "256910"}
    for p in payments:
        registration = registrations[(p["reg_kind"], p["reg_id"])]
        assert registration["status"] == "A" and p["amount"] == registration["amount"]
        assert p["channel"] == ("T" if registration["bank_acct"] else "C")
        assert p["paid_dt"] is None or p["paid_dt"].day <= 10
    assert sum(p["channel"] == "T" for p in payments) > 0.4 * len(payments)


def test_homeless_counts_persons_communities_and_housing(data):
    counts = data["tb_homeless_count"]
    per_district = Counter()
    for c in counts:
        per_district[c["dist_id"]] += c["male"] + c["female"] + c["unspecified"]
    assert set(per_district) == set(range(1, 51)) and min(per_district.values()) >= 1
    assert per_district.most_common(1)[0][0] == 1  # Phra Nakhon
    homeless = data["tb_homeless_person"]
    assert len(homeless) == sum(per_district.values())
    assert {h["age_band"] for h in homeless} <= {"18-29", "30-39", "40-49", "50-59", "60+"}
    assert 0 < sum(h["pid"] is not None for h in homeless) < len(homeless)
    assert {c["dist_id"] for c in data["tb_community"]} == set(range(1, 51))
    assert {p["dist_id"] for p in data["tb_housing_proj"]} == set(range(1, 51))
    projects = {p["proj_id"] for p in data["tb_housing_proj"]}
    assert data["tb_housing_app"] and all(a["proj_id"] in projects for a in data["tb_housing_app"])
    assert all(f["amount"] == 3000 for f in data["tb_funeral_aid"])


# --- planted messiness: each kind at least once ------------------------------------------------------------


def _city_only_registration(data):
    persons = _persons(data)
    return [r for r in data["tb_elder_allow"] if _valid(r["pid"]) and _valid(r["pid"]) not in persons]


def _active_though_deceased(data):
    persons = _persons(data)
    return [
        r for r in data["tb_elder_allow"]
        if r["status"] == "A" and (p := persons.get(_valid(r["pid"]))) and p["death_date"]
    ]


def _registered_under_60(data):
    return [r for r in data["tb_elder_allow"] if thai.age_on(thai.parse_be_string(r["birth_be"]), AS_OF) < 60]


def _wrong_tier(data):
    persons = _persons(data)
    return [
        r for r in data["tb_elder_allow"]
        if r["status"] == "A" and (p := persons.get(_valid(r["pid"]))) and _age(p) >= 60
        and r["amount"] != thai.elderly_allowance_rate(_age(p))
    ]


def _disability_active_without_valid_card(data):
    valid = _valid_cards(data)
    return [r for r in data["tb_disab_allow"] if r["status"] == "A" and r["card_no"] not in valid]


def _funeral_aid_for_the_living(data):
    persons = _persons(data)
    return [
        f for f in data["tb_funeral_aid"]
        if (p := persons.get(_valid(f["deceased_pid"]))) and p["death_date"] is None
    ]


def _registered_twice(data):
    counts = Counter(_valid(r["pid"]) for r in data["tb_elder_allow"] if _valid(r["pid"]))
    return [cid for cid, n in counts.items() if n > 1]


def _district_differs(data):
    persons = _persons(data)
    return [
        r for r in data["tb_elder_allow"]
        if (p := persons.get(_valid(r["pid"]))) and int(p["subdistrict_code"][:4]) - 1000 != r["dist_id"]
    ]


def _deprived_household_without_case_or_benefit(data):
    deprived = {m["household_id"] for m in data["mpi_assessment"] if m["deprived"]}
    members = defaultdict(set)
    for p in data["person"]:
        members[p["household_id"]].add(p["citizen_id"])
    served = {c["household_id"] for c in data["welfare_case"]}
    helped = {c["citizen_id"] for c in data["welfare_case"]} | {
        g[k] for g in data["child_support_grant"] for k in ("child_citizen_id", "carer_citizen_id")
    }
    return [h for h in deprived if h not in served and not members[h] & helped]


def _homeless_pid_without_ministry_case(data):
    homeless_cases = {c["citizen_id"] for c in data["welfare_case"] if c["category"] == "homeless"}
    return [h for h in data["tb_homeless_person"] if _valid(h["pid"]) and _valid(h["pid"]) not in homeless_cases]


def _ministry_homeless_case_without_city_record(data):
    recorded = {_valid(h["pid"]) for h in data["tb_homeless_person"]}
    return [
        c for c in data["welfare_case"]
        if c["category"] == "homeless" and c["citizen_id"] and c["citizen_id"] not in recorded
    ]


MESSINESS = {
    "city registration for a person the ministry does not know": _city_only_registration,
    "elderly allowance still active for a person the ministry records deceased": _active_though_deceased,
    "elderly allowance for someone under 60": _registered_under_60,
    "elderly allowance at the wrong tier": _wrong_tier,
    "disability allowance active without a valid card": _disability_active_without_valid_card,
    "funeral aid for a person not recorded deceased": _funeral_aid_for_the_living,
    "the same person registered twice": _registered_twice,
    "city district differs from the ministry's": _district_differs,
    "deprived household with no case and no benefit": _deprived_household_without_case_or_benefit,
    "homeless person with a PID but no ministry case": _homeless_pid_without_ministry_case,
    "ministry homeless case with no city record": _ministry_homeless_case_without_city_record,
}


@pytest.mark.parametrize("kind", list(MESSINESS))
def test_each_kind_of_messiness_is_planted(data, kind):
    found = MESSINESS[kind](data)
    assert found, f"no {kind} in {PERSONS} persons"


def test_messiness_stays_rare(data):
    # Planted issues are the exception: a generator that broke every record would pass the test above.
    assert len(_active_though_deceased(data)) < 0.3 * sum(r["status"] == "D" for r in data["tb_elder_allow"]) + 2
    assert len(_district_differs(data)) < 0.1 * len(data["tb_elder_allow"])
    assert len(_registered_twice(data)) < 0.05 * len(data["tb_elder_allow"])
    assert len(_city_only_registration(data)) < 0.05 * len(data["tb_elder_allow"])

"""The synthetic-data generator: a pure, deterministic function of (persons, seed, as_of) yielding chunks of rows.

Nothing here touches a database. `SeedGenerator(...).chunks()` yields a reference chunk (assistance
centres, homeless counts, housing projects, communities) and then one chunk per CHUNK_PERSONS
persons: the persons, their households and everything that hangs off them in both sources. A chunk
is a dict of plain row dicts per table name; only counters and a few small tables (places,
centres, projects, the homeless roster) live across chunks, so memory does not grow with persons.

Every random draw comes from a `random.Random` seeded from (seed, chunk number), and every
timestamp derives from `as_of`, so the same arguments always produce the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from hub import seed_rates as R
from hub import thai
from hub.seed_reference import (
    CASE_SUMMARIES,
    HOMELESS_NICKNAMES,
    HOMELESS_REFERRALS,
    HOMELESS_SPOTS,
    HOUSING_PROJECT_KINDS,
    Place,
    Weighted,
    names,
    places,
)

Rows = dict[str, list[dict]]

MINISTRY_TABLES = (
    "person", "household", "mpi_assessment", "disability_card", "welfare_case",
    "child_support_grant", "volunteer", "assistance_centre",
)
CITY_TABLES = (
    "tb_elder_allow", "tb_disab_allow", "tb_allow_pay", "tb_funeral_aid", "tb_homeless_count",
    "tb_homeless_person", "tb_housing_proj", "tb_housing_app", "tb_community",
)

UTC = dt.UTC
DAY_SECONDS = 86_400
DAYS_PER_YEAR = 365.2425

PID_FORMS = (
    ("pid_dashed", R.PID_DASHED_SHARE),
    ("pid_spaced", R.PID_SPACED_SHARE),
    ("pid_stray_spaces", R.PID_STRAY_SPACES_SHARE),
)
ABBREVIATED_PRENAME = {"นางสาว": "น.ส.", "เด็กชาย": "ด.ช.", "เด็กหญิง": "ด.ญ."}

_HEAD_AGE = Weighted(R.HEAD_AGE_WEIGHTS)
_MEMBER_AGE = Weighted(R.MEMBER_AGE_WEIGHTS)
_HOUSEHOLD_SIZE = Weighted(R.HOUSEHOLD_SIZE_WEIGHTS)
_NATIONALITY = Weighted(R.NON_THAI_NATIONALITY_WEIGHTS)
_RESIDENT_TYPE = Weighted(R.NON_THAI_RESIDENT_TYPE_WEIGHTS)
_LOGBOOK_STAGE = Weighted(R.LOGBOOK_STAGE_WEIGHTS)
_VERSION = Weighted(R.VERSION_WEIGHTS)
_DISABILITY_TYPE = Weighted(R.DISABILITY_TYPE_WEIGHTS)
_CASE_CHILD = Weighted(R.CASE_CATEGORY_CHILD)
_CASE_YOUTH = Weighted(R.CASE_CATEGORY_YOUTH)
_CASE_ADULT = Weighted(R.CASE_CATEGORY_ADULT)
_CASE_ELDERLY = Weighted(R.CASE_CATEGORY_ELDERLY)
_CASE_CHANNEL = Weighted(R.CASE_CHANNEL_WEIGHTS)
_CASE_STATUS = Weighted(R.CASE_STATUS_WEIGHTS)
_STREET_CATEGORY = Weighted(R.ANONYMOUS_STREET_CATEGORY_WEIGHTS)
_REGISTRATION_LAG = Weighted(R.REGISTRATION_LAG_WEIGHTS)
_FUNERAL_STATUS = Weighted(R.FUNERAL_AID_STATUS_WEIGHTS)
_HOUSING_STATUS = Weighted(R.HOUSING_APPLICATION_STATUS_WEIGHTS)
_HOMELESS_SEX = Weighted(R.HOMELESS_SEX_WEIGHTS)
_HOMELESS_AGE_BAND = Weighted(R.HOMELESS_AGE_BAND_WEIGHTS)
_COMMUNITY_TYPE = Weighted(R.COMMUNITY_TYPE_WEIGHTS)


@dataclass(frozen=True)
class Chunk:
    """Rows for both sources; `persons` counts the ministry persons in it (0 for the reference chunk)."""

    number: int
    persons: int
    ministry: Rows
    city: Rows


def _rows(tables: tuple[str, ...]) -> Rows:
    return {name: [] for name in tables}


def _rate_by_age(table: tuple[tuple[int, float], ...], age: int) -> float:
    for threshold, rate in table:
        if age >= threshold:
            return rate
    return 0.0


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _stochastic_round(value: float, rng: random.Random) -> int:
    whole = int(value)
    return whole + (rng.random() < value - whole)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split total into integer parts proportional to weights (largest remainder, ties by position)."""
    weight_sum = sum(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def citizen_id(type_digit: str, office: str, number: int) -> str:
    """A valid citizen ID: type digit, 4-digit registry office, a 7-digit running number, check digit."""
    return thai.with_check_digit(f"{type_digit}{office}{number:07d}")


def mistype(digits: str, rng: random.Random) -> str:
    """The ID with one of its first twelve digits mistyped so that the check digit no longer matches."""
    while True:
        position = rng.randrange(12)
        digit = str(rng.randrange(10))
        if digit == digits[position]:
            continue
        typed = digits[:position] + digit + digits[position + 1 :]
        if not thai.is_valid_citizen_id(typed):
            return typed


class Planter:
    """Decides where the planted messiness goes: at its share, and always at the first candidate of a run."""

    def __init__(self) -> None:
        self.planted: Counter[str] = Counter()

    def due(self, kind: str, share: float, rng: random.Random) -> bool:
        hit = rng.random() < share
        if hit or not self.planted[kind]:
            self.planted[kind] += 1
            return True
        return False

    def pick_form(self, forms: tuple[tuple[str, float], ...], rng: random.Random) -> str | None:
        """One of mutually exclusive kinds (or None), each form first used as early as possible."""
        draw = rng.random()
        for kind, _share in forms:
            if not self.planted[kind]:
                self.planted[kind] += 1
                return kind
        bound = 0.0
        for kind, share in forms:
            bound += share
            if draw < bound:
                self.planted[kind] += 1
                return kind
        return None


class _Household:
    __slots__ = (
        "household_id", "place", "address", "nationality", "resident_type", "family_name", "members", "unserved",
    )

    def __init__(
        self, household_id: int, place: Place, address: str, nationality: str, resident_type: str, family_name: str
    ) -> None:
        self.household_id = household_id
        self.place = place
        self.address = address
        self.nationality = nationality
        self.resident_type = resident_type
        self.family_name = family_name
        self.members: list[_Person] = []
        self.unserved = False


class _Person:
    __slots__ = (
        "citizen_id", "nationality", "title", "first_name", "last_name", "sex", "birth", "death", "age", "household",
        "card",
    )

    def __init__(
        self, citizen_id, nationality, title, first_name, last_name, sex, birth, death, age, household
    ) -> None:
        self.citizen_id = citizen_id
        self.nationality = nationality
        self.title = title
        self.first_name = first_name
        self.last_name = last_name
        self.sex = sex
        self.birth: dt.date = birth
        self.death: dt.date | None = death
        # Age at death for the deceased, at as_of for the living.
        self.age: int = age
        self.household: _Household = household
        # (card_no, issued_on, valid) for card holders.
        self.card: tuple[str, dt.date, bool] | None = None


class SeedGenerator:
    """Yields the chunks of one synthetic data set; create a new one per run (it keeps running counters)."""

    def __init__(self, *, persons: int, seed: int, as_of: dt.date, chunk_size: int = R.CHUNK_PERSONS) -> None:
        if not 0 <= persons <= R.MAX_PERSONS:
            raise ValueError(f"persons must lie between 0 and {R.MAX_PERSONS}")
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.persons = persons
        self.seed = seed
        self.as_of = as_of
        self.chunk_size = chunk_size
        self.chunk_count = -(-persons // chunk_size)
        self.scale = min(1.0, persons / R.FULL_SCALE_PERSONS)
        self.places = places()
        self.names = names()
        self.planter = Planter()

        self._as_of_ordinal = as_of.toordinal()
        self._as_of_utc = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
        self._current_fy = thai.fiscal_year_be(as_of)
        self._survey_year = as_of.year if as_of.month >= 7 else as_of.year - 1
        month = dt.date(as_of.year, as_of.month, 1)
        pay_months = []
        for _ in range(R.PAYMENT_MONTHS):
            month = (month - dt.timedelta(days=1)).replace(day=1)
            pay_months.append((month, thai.to_be_month(month)))
        self._pay_months = tuple(reversed(pay_months))
        self._bangkok_dist_ids = tuple(self.places.bangkok_by_dist_id)
        self._homeless_district = Weighted(
            {d: R.HOMELESS_DISTRICT_WEIGHTS.get(str(1000 + d), 1) for d in self._bangkok_dist_ids}
        )

        # Running keys, continued from chunk to chunk.
        self._household_id = 1
        self._case_id = 1
        self._card_number = 1
        self._grant_id = 1
        self._volunteer_id = 1
        self._elder_reg_id = 1
        self._disab_reg_id = 1
        self._pay_id = 1
        self._aid_id = 1
        self._homeless_id = 1
        self._application_id = 1
        # City-only persons get running numbers after the ministry's, so their IDs are nobody else's.
        self._city_only_number = persons

        # Filled by the reference chunk.
        self._centres_all: tuple[str, ...] = ()
        self._centres_by_province: dict[str, list[str]] = {}
        self._projects_by_dist: dict[int, list[int]] = {}
        self._homeless_roster: list[tuple[int, str]] = []

    # --- the run ------------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        yield self._reference_chunk()
        for number in range(self.chunk_count):
            yield self._person_chunk(number)

    def _rng(self, label: str) -> random.Random:
        return random.Random(f"welfare-hub-seed:{self.seed}:{label}")

    # --- small helpers ----------------------------------------------------------------------

    def _utc_before(self, rng: random.Random, days: float) -> dt.datetime:
        return self._as_of_utc - dt.timedelta(seconds=1 + int(rng.random() * days * DAY_SECONDS))

    def _local_between(self, rng: random.Random, first: dt.date, last: dt.date) -> dt.datetime:
        """A naive Bangkok-local timestamp on a day in [first, last], during office hours."""
        span = max(0, last.toordinal() - first.toordinal())
        day = dt.date.fromordinal(first.toordinal() + int(rng.random() * (span + 1)))
        hour, minute, second = 8 + int(rng.random() * 9), int(rng.random() * 60), int(rng.random() * 60)
        return dt.datetime(day.year, day.month, day.day, hour, minute, second)

    def _day_before(self, rng: random.Random, days: int, not_before: dt.date | None = None) -> dt.date:
        lowest = self._as_of_ordinal - days
        if not_before is not None:
            lowest = max(lowest, not_before.toordinal())
        lowest = min(lowest, self._as_of_ordinal - 1)
        return dt.date.fromordinal(lowest + int(rng.random() * (self._as_of_ordinal - lowest)))

    def _city_pid(self, digits: str, rng: random.Random, *, may_mistype: bool = True) -> str:
        """The ID as a clerk typed it; records carrying another planted issue keep a valid ID so that issue shows."""
        if may_mistype and self.planter.due("pid_check_digit_typo", R.PID_CHECK_DIGIT_TYPO_SHARE, rng):
            digits = mistype(digits, rng)
        form = self.planter.pick_form(PID_FORMS, rng)
        if form == "pid_dashed":
            return thai.format_citizen_id(digits)
        if form == "pid_spaced":
            return f"{digits[0]} {digits[1:5]} {digits[5:10]} {digits[10:12]} {digits[12]}"
        if form == "pid_stray_spaces":
            return (" " + digits, digits + " ", " " + digits + " ")[rng.randrange(3)]
        return digits

    def _city_only_id(self, type_digit: str, office: str) -> str:
        number = self._city_only_number
        self._city_only_number += 1
        return citizen_id(type_digit, office, number)

    # --- reference chunk ----------------------------------------------------------------------

    def _reference_chunk(self) -> Chunk:
        rng = self._rng("reference")
        ministry, city = _rows(MINISTRY_TABLES), _rows(CITY_TABLES)
        self._assistance_centres(rng, ministry["assistance_centre"])
        self._homeless_counts(rng, city["tb_homeless_count"])
        self._housing_projects(rng, city["tb_housing_proj"])
        self._communities(rng, city["tb_community"])
        return Chunk(-1, 0, ministry, city)

    def _assistance_centres(self, rng: random.Random, rows: list[dict]) -> None:
        elsewhere = self.places.elsewhere
        wanted = max(R.MIN_ASSISTANCE_CENTRES, round(self.persons * R.ASSISTANCE_CENTRES_PER_PERSON))
        count = min(len(elsewhere), wanted)
        chosen = sorted(rng.sample(range(len(elsewhere)), count))
        codes = []
        for i in chosen:
            place = elsewhere[i]
            code = f"TC{place.code}01"
            codes.append(code)
            self._centres_by_province.setdefault(place.province_code, []).append(code)
            rows.append({
                "centre_code": code,
                "subdistrict_code": place.code,
                "name_th": f"ศูนย์ช่วยเหลือสังคมตำบล{place.name_th} "
                f"อำเภอ{place.district_name_th} จังหวัด{place.province_name_th}",
                "opened_on": dt.date(2020, 1, 1) + dt.timedelta(days=int(rng.random() * 3 * 365)),
            })
        self._centres_all = tuple(codes)

    def _homeless_counts(self, rng: random.Random, rows: list[dict]) -> None:
        dist_ids = self._bangkok_dist_ids
        total = max(R.MIN_HOMELESS_TOTAL, round(R.BANGKOK_HOMELESS * self.scale))
        weights = [R.HOMELESS_DISTRICT_WEIGHTS.get(str(1000 + d), 1) for d in dist_ids]
        # At least one per district, the rest by weight.
        per_district = [1 + n for n in apportion(total - len(dist_ids), weights)]
        count_night = self.as_of - dt.timedelta(days=30)
        roster: list[tuple[int, str]] = []
        for dist_id, counted in zip(dist_ids, per_district):
            spots = min(counted, rng.randint(*R.HOMELESS_SPOTS_PER_DISTRICT))
            sizes = [1 + n for n in apportion(counted - spots, [rng.random() + 0.1 for _ in range(spots)])]
            subdistricts = self.places.bangkok_by_dist_id[dist_id]
            for size in sizes:
                by_sex = Counter(_HOMELESS_SEX.pick(rng) for _ in range(size))
                roster.extend((dist_id, sex) for sex in ("M", "F", "U") for _ in range(by_sex[sex]))
                rows.append({
                    "count_id": len(rows) + 1,
                    "dist_id": dist_id,
                    "count_date": count_night + dt.timedelta(days=rng.randrange(3)),
                    "spot_desc": f"{rng.choice(HOMELESS_SPOTS)} แขวง{rng.choice(subdistricts).name_th}",
                    "male": by_sex["M"],
                    "female": by_sex["F"],
                    "unspecified": by_sex["U"],
                })
        rng.shuffle(roster)
        # About one recorded person per person counted, spread over the person chunks.
        self._homeless_roster = roster

    def _housing_projects(self, rng: random.Random, rows: list[dict]) -> None:
        for dist_id in self._bangkok_dist_ids:
            subdistricts = self.places.bangkok_by_dist_id[dist_id]
            for _ in range(rng.randint(*R.HOUSING_PROJECTS_PER_DISTRICT)):
                proj_id = len(rows) + 1
                units = rng.randint(40, 600)
                rows.append({
                    "proj_id": proj_id,
                    "dist_id": dist_id,
                    "proj_name": f"{rng.choice(HOUSING_PROJECT_KINDS)}{rng.choice(subdistricts).name_th}",
                    "units_total": units,
                    "units_occupied": int(units * (0.5 + rng.random() * 0.5)),
                    "opened_dt": self.as_of - dt.timedelta(days=365 + int(rng.random() * 29 * 365)),
                })
                self._projects_by_dist.setdefault(dist_id, []).append(proj_id)

    def _communities(self, rng: random.Random, rows: list[dict]) -> None:
        dist_ids = self._bangkok_dist_ids
        total = max(len(dist_ids), round(R.BANGKOK_COMMUNITIES * self.scale))
        weights = [len(self.places.bangkok_by_dist_id[d]) for d in dist_ids]
        for dist_id, extra in zip(dist_ids, apportion(total - len(dist_ids), weights)):
            subdistricts = self.places.bangkok_by_dist_id[dist_id]
            for n in range(1 + extra):
                rows.append({
                    "comm_id": len(rows) + 1,
                    "dist_id": dist_id,
                    "comm_name": f"ชุมชน{subdistricts[n % len(subdistricts)].name_th} {n // len(subdistricts) + 1}",
                    "comm_type": _COMMUNITY_TYPE.pick(rng),
                    "households": rng.randint(30, 600),
                })

    # --- person chunks ------------------------------------------------------------------------

    def _person_chunk(self, number: int) -> Chunk:
        rng = self._rng(f"chunk:{number}")
        ministry, city = _rows(MINISTRY_TABLES), _rows(CITY_TABLES)
        first = number * self.chunk_size
        last = min(self.persons, first + self.chunk_size)

        people: list[_Person] = []
        index = first
        while index < last:
            size = min(_HOUSEHOLD_SIZE.pick(rng), last - index)
            household = self._household(rng, ministry)
            for member in range(size):
                person = self._person(rng, index, household, head=member == 0)
                household.members.append(person)
                people.append(person)
                index += 1

        for person in people:
            self._person_rows(rng, person, ministry, city)
        self._homeless_people(rng, number, people, ministry, city)
        self._street_cases(rng, number, len(people), ministry)
        return Chunk(number, len(people), ministry, city)

    def _household(self, rng: random.Random, ministry: Rows) -> _Household:
        bangkok = rng.random() < R.BANGKOK_SHARE
        place = rng.choice(self.places.bangkok if bangkok else self.places.elsewhere)
        house_no = str(1 + int(rng.random() * 999))
        if rng.random() < 0.3:
            house_no += f"/{1 + int(rng.random() * 99)}"
        if bangkok:
            soi = f"ซอย {1 + int(rng.random() * 120)} " if rng.random() < R.ADDRESS_SOI_SHARE else ""
            road = f"ถนน{rng.choice(self.places.bangkok_by_dist_id[place.dist_id]).name_th} "
            address = f"{house_no} {soi}{road}{place.address_tail}"
        else:
            address = f"{house_no} หมู่ {1 + int(rng.random() * 15)} {place.address_tail}"
        if rng.random() < R.NON_THAI_HOUSEHOLD_SHARE:
            nationality, resident_type = _NATIONALITY.pick(rng), _RESIDENT_TYPE.pick(rng)
        else:
            nationality, resident_type = "TH", ""
        family_name = rng.choice(self.names.family)
        household = _Household(self._household_id, place, address, nationality, resident_type, family_name)
        self._household_id += 1

        welfare_card = rng.random() < R.WELFARE_CARD_SHARE
        logbook_share = R.LOGBOOK_SHARE_WITH_WELFARE_CARD if welfare_card else R.LOGBOOK_SHARE_WITHOUT_WELFARE_CARD
        in_bmn = not bangkok and rng.random() < R.IN_BMN_SHARE_OUTSIDE_BANGKOK
        ministry["household"].append({
            "household_id": household.household_id,
            "house_code": f"{place.district_code}{household.household_id % 10_000_000:07d}"
            if rng.random() < R.HOUSE_CODE_SHARE else None,
            "address_th": address,
            "subdistrict_code": place.code,
            "in_bmn": in_bmn,
            "has_welfare_card": welfare_card,
            "logbook_stage": _LOGBOOK_STAGE.pick(rng) if rng.random() < logbook_share else None,
            "version": _VERSION.pick(rng),
            "updated_at": self._utc_before(rng, R.RECORD_AGE_DAYS),
        })
        if in_bmn:
            # Some deprived households are, by construction, reached by no case and no benefit.
            unserved = self.planter.due("deprived_household_unserved", R.DEPRIVED_UNSERVED_SHARE, rng)
            household.unserved = unserved
            mpi = ministry["mpi_assessment"]
            for indicator, rate in R.MPI_DEPRIVATION_RATE.items():
                mpi.append({
                    "household_id": household.household_id,
                    "survey_year": self._survey_year,
                    "indicator": indicator,
                    "deprived": rng.random() < rate or (unserved and indicator in (8, 22)),
                })
        return household

    def _person(self, rng: random.Random, number: int, household: _Household, *, head: bool) -> _Person:
        low, high = (_HEAD_AGE if head else _MEMBER_AGE).pick(rng)
        low_days = max(1, int(low * DAYS_PER_YEAR))  # born before as_of
        high_days = int((high + 1) * DAYS_PER_YEAR) - 1
        birth_ordinal = self._as_of_ordinal - low_days - int(rng.random() * (high_days - low_days + 1))
        birth = dt.date.fromordinal(birth_ordinal)
        age_now = thai.age_on(birth, self.as_of)
        death = None
        if rng.random() < _rate_by_age(R.DEATH_RATE_BY_AGE, age_now):
            earliest = max(birth_ordinal + 1, self._as_of_ordinal - R.DEATH_WINDOW_DAYS)
            if earliest < self._as_of_ordinal:
                death = dt.date.fromordinal(earliest + int(rng.random() * (self._as_of_ordinal - earliest)))
        age = thai.age_on(birth, death) if death else age_now
        sex = "M" if rng.random() < R.MALE_SHARE else "F"

        if household.nationality == "TH":
            if birth.year >= R.THAI_ID_TYPE_CUTOFF_YEAR:
                type_digit = "2" if rng.random() < R.LATE_BIRTH_NOTIFICATION_SHARE else "1"
            else:
                type_digit = "3"
        elif household.resident_type == "6" and not head and age_now < 25:
            type_digit = "7"  # a child of a type-6 resident, born in Thailand
        else:
            type_digit = household.resident_type
        office = (
            household.place.district_code
            if rng.random() < R.REGISTRY_OFFICE_IS_HOME_DISTRICT
            else rng.choice(self.places.all_district_codes)
        )

        if age < R.CHILD_TITLE_UNDER_AGE:
            title = "เด็กชาย" if sex == "M" else "เด็กหญิง"
        elif sex == "M":
            title = "นาย"
        else:
            title = "นาง" if rng.random() < _rate_by_age(R.MARRIED_TITLE_BY_AGE, age) else "นางสาว"
        first_name = rng.choice(self.names.male if sex == "M" else self.names.female)
        last_name = (
            household.family_name
            if head or rng.random() < R.SHARED_FAMILY_NAME_SHARE
            else rng.choice(self.names.family)
        )
        return _Person(
            citizen_id(type_digit, office, number), household.nationality, title, first_name, last_name,
            sex, birth, death, age, household,
        )

    def _person_rows(self, rng: random.Random, person: _Person, ministry: Rows, city: Rows) -> None:
        household = person.household
        ministry["person"].append({
            "citizen_id": person.citizen_id,
            "nationality": person.nationality,
            "title_th": person.title,
            "first_name_th": person.first_name,
            "last_name_th": person.last_name,
            "sex": person.sex,
            "birth_date": person.birth,
            "death_date": person.death,
            "household_id": household.household_id,
            "subdistrict_code": household.place.code,
            "version": _VERSION.pick(rng),
            "updated_at": self._utc_before(rng, R.RECORD_AGE_DAYS),
        })
        if rng.random() < _rate_by_age(R.DISABILITY_RATE_BY_AGE, person.age):
            self._disability_card(rng, person, ministry)
        alive = person.death is None
        thai_national = person.nationality == "TH"
        if not household.unserved:
            case_rate = R.WELFARE_CASE_RATE_CARD_HOLDER if person.card else R.WELFARE_CASE_RATE
            if rng.random() < case_rate:
                self._person_case(rng, person, ministry)
            young_child = person.age < R.CHILD_SUPPORT_AGE_LIMIT
            if alive and thai_national and young_child and rng.random() < R.CHILD_SUPPORT_SHARE:
                self._child_support(rng, person, ministry)
        if alive and R.VOLUNTEER_AGE[0] <= person.age <= R.VOLUNTEER_AGE[1] and rng.random() < R.VOLUNTEER_SHARE:
            ministry["volunteer"].append({
                "volunteer_id": self._volunteer_id,
                "citizen_id": person.citizen_id,
                "subdistrict_code": household.place.code,
                "registered_on": self._day_before(rng, 12 * 365, _add_years(person.birth, 18)),
                "active": rng.random() < R.VOLUNTEER_ACTIVE_SHARE,
            })
            self._volunteer_id += 1
        if household.place.bangkok and thai_national:
            self._elderly_allowance(rng, person, city)
            self._disability_allowance(rng, person, city)
            self._funeral_aid(rng, person, city)
            if alive and person.age >= 18 and rng.random() < R.HOUSING_APPLICATION_SHARE:
                self._housing_application(rng, person, city)

    # --- ministry programmes ----------------------------------------------------------------

    def _disability_card(self, rng: random.Random, person: _Person, ministry: Rows) -> None:
        years = R.DISABILITY_CARD_YEARS
        reference = person.death or self.as_of
        issued = None
        if rng.random() < R.DISABILITY_CARD_EXPIRED_SHARE:
            # Issued more than 8 years ago and never renewed (when the person is old enough for that).
            issued = self.as_of - dt.timedelta(days=years * 366 + int(rng.random() * 2 * 365))
            if issued <= person.birth:
                issued = None
        if issued is None:
            issued = self._day_before(rng, years * 365 - 1, person.birth + dt.timedelta(days=1))
        issued = min(issued, reference)
        expires = _add_years(issued, years)
        revoked = rng.random() < R.DISABILITY_CARD_REVOKED_SHARE
        card_no = f"PWD{thai.be_year(issued)}{self._card_number:07d}"
        self._card_number += 1
        person.card = (card_no, issued, not revoked and expires >= self.as_of)
        ministry["disability_card"].append({
            "card_no": card_no,
            "citizen_id": person.citizen_id,
            "disability_type": _DISABILITY_TYPE.pick(rng),
            "issued_on": issued,
            "expires_on": expires,
            "revoked": revoked,
        })

    def _person_case(self, rng: random.Random, person: _Person, ministry: Rows) -> None:
        if person.card and rng.random() < R.CASE_DISABILITY_SHARE_CARD_HOLDER:
            category = "disability"
        elif person.age < 15:
            category = _CASE_CHILD.pick(rng)
        elif person.age < 25:
            category = _CASE_YOUTH.pick(rng)
        elif person.age >= 60:
            category = _CASE_ELDERLY.pick(rng)
        else:
            category = _CASE_ADULT.pick(rng)
        if category == "women" and person.sex != "F":
            category = "family"
        self._case(rng, ministry, category, person.citizen_id, person.household.household_id, person.household.place)

    def _case(
        self, rng: random.Random, ministry: Rows, category: str, citizen: str | None,
        household_id: int | None, place: Place, channel: str | None = None,
    ) -> None:
        channel = channel or _CASE_CHANNEL.pick(rng)
        centre = None
        if channel == "tambon_centre" and place.bangkok:
            channel = "one_home"  # Bangkok has no tambon centres
        if not place.bangkok and self._centres_all and (
            channel == "tambon_centre" or (channel == "referral" and rng.random() < R.CASE_CENTRE_SHARE_REFERRAL)
        ):
            centre = rng.choice(self._centres_by_province.get(place.province_code) or self._centres_all)
        status = _CASE_STATUS.pick(rng)
        opened = self._utc_before(rng, R.CASE_AGE_DAYS)
        remaining = (self._as_of_utc - opened).total_seconds()
        closed = None
        if status == "closed":
            duration = min(remaining - 1, R.CASE_DURATION_DAYS * DAY_SECONDS)
            closed = opened + dt.timedelta(seconds=1 + int(rng.random() * duration))
            updated = closed
        else:
            updated = opened + dt.timedelta(seconds=int(rng.random() * remaining))
        ministry["welfare_case"].append({
            "case_id": self._case_id,
            "citizen_id": citizen,
            "household_id": household_id,
            "category": category,
            "channel": channel,
            "centre_code": centre,
            "subdistrict_code": place.code,
            "status": status,
            "opened_at": opened,
            "closed_at": closed,
            "summary": rng.choice(CASE_SUMMARIES[category]),
            "version": 1 + (status != "open") + int(rng.random() * 3),
            "updated_at": updated,
        })
        self._case_id += 1

    def _child_support(self, rng: random.Random, child: _Person, ministry: Rows) -> None:
        adults = [m for m in child.household.members if m.death is None and m.age >= 18]
        if not adults:
            return
        women = [m for m in adults if m.sex == "F"]
        carer = rng.choice(women or adults)
        start = child.birth + dt.timedelta(days=int(rng.random() * 180))
        if start > self.as_of:
            start = self.as_of
        end = None
        if rng.random() < R.CHILD_SUPPORT_ENDED_SHARE:
            end = self._day_before(rng, 365 * 6, start + dt.timedelta(days=1))
        ministry["child_support_grant"].append({
            "grant_id": self._grant_id,
            "child_citizen_id": child.citizen_id,
            "carer_citizen_id": carer.citizen_id,
            "monthly_amount": R.CHILD_SUPPORT_MONTHLY,
            "start_date": start,
            "end_date": end,
        })
        self._grant_id += 1

    # --- city registrations -----------------------------------------------------------------

    def _allowance_row(
        self, rng: random.Random, reg_id: int, pid: str, person: _Person, *, dist_id: int, reg_fy: int,
        amount: int, status: str,
    ) -> dict:
        prename = person.title
        if prename in ABBREVIATED_PRENAME and rng.random() < R.PRENAME_ABBREVIATED_SHARE:
            prename = ABBREVIATED_PRENAME[prename]
        bank = None
        if rng.random() < R.ALLOWANCE_TRANSFER_SHARE:
            bank = f"{rng.randrange(1000):03d}-{rng.randrange(10)}-{rng.randrange(100000):05d}-{rng.randrange(10)}"
        registered = max(thai.fiscal_year_start(reg_fy), self.as_of - dt.timedelta(days=R.RECORD_AGE_DAYS))
        return {
            "reg_id": reg_id,
            "pid": pid,
            "prename": prename,
            "fname": person.first_name,
            "lname": person.last_name,
            "birth_be": thai.to_be_string(person.birth),
            "dist_id": dist_id,
            "addr": person.household.address,
            "reg_fy": reg_fy,
            "amount": amount,
            "status": status,
            "bank_acct": bank,
            "upd_dt": self._local_between(rng, registered, self.as_of - dt.timedelta(days=1)),
            "row_ver": _VERSION.pick(rng),
        }

    def _payments(self, rng: random.Random, kind: str, registration: dict, city: Rows) -> None:
        if registration["status"] != "A":
            return
        start = thai.fiscal_year_start(registration["reg_fy"])
        channel = "T" if registration["bank_acct"] else "C"
        for month, pay_ym in self._pay_months:
            if month < start:
                continue
            day = 1 + int(rng.random() * R.PAYMENT_LAST_DAY)  # paid by the 10th
            hour, minute = 9 + int(rng.random() * 7), int(rng.random() * 60)
            paid = dt.datetime(month.year, month.month, day, hour, minute)
            if channel == "C" and rng.random() < R.PAYMENT_UNCOLLECTED_CASH_SHARE:
                paid = None
            city["tb_allow_pay"].append({
                "pay_id": self._pay_id,
                "reg_kind": kind,
                "reg_id": registration["reg_id"],
                "pay_ym": pay_ym,
                "amount": registration["amount"],
                "paid_dt": paid,
                "channel": channel,
            })
            self._pay_id += 1

    def _status(self, rng: random.Random, person: _Person) -> str:
        if person.death:
            return "D"
        draw = rng.random()
        if draw < R.ALLOWANCE_SUSPENDED_SHARE:
            return "S"
        if draw < R.ALLOWANCE_SUSPENDED_SHARE + R.ALLOWANCE_MOVED_SHARE:
            return "M"
        return "A"

    def _other_district(self, rng: random.Random, dist_id: int) -> int:
        other = rng.choice(self._bangkok_dist_ids[:-1])
        return other if other != dist_id else self._bangkok_dist_ids[-1]

    def _first_elderly_fy(self, birth: dt.date) -> int:
        """The fiscal year of the 60th birthday (registration is done the year before), or the register's first."""
        return max(thai.fiscal_year_be(_add_years(birth, R.ELDERLY_ALLOWANCE_AGE)), R.LEGACY_REGISTER_FIRST_FY)

    def _elder_registration(self, rng: random.Random, person: _Person, city: Rows, *, planted: bool, **fields) -> dict:
        pid = self._city_pid(person.citizen_id, rng, may_mistype=not planted)
        row = self._allowance_row(rng, self._elder_reg_id, pid, person, **fields)
        self._elder_reg_id += 1
        city["tb_elder_allow"].append(row)
        self._payments(rng, "E", row, city)
        return row

    def _elderly_allowance(self, rng: random.Random, person: _Person, city: Rows) -> None:
        planter = self.planter
        dist_id = person.household.place.dist_id
        if person.age < R.ELDERLY_ALLOWANCE_AGE:
            if person.death is None and person.age >= R.ELDERLY_ALLOWANCE_AGE - 5 and planter.due(
                "registered_under_60", R.UNDER_60_REGISTERED_SHARE, rng
            ):
                self._elder_registration(
                    rng, person, city, planted=True, dist_id=dist_id, reg_fy=self._current_fy, amount=600, status="A"
                )
            return
        if rng.random() >= R.ELDERLY_ALLOWANCE_COVERAGE:
            return
        first_fy = self._first_elderly_fy(person.birth)
        reg_fy = min(first_fy + _REGISTRATION_LAG.pick(rng), self._current_fy)
        planted = False
        status = self._status(rng, person)
        if status == "D" and planter.due("deceased_still_active", R.DECEASED_STILL_ACTIVE_SHARE, rng):
            status, planted = "A", True
        amount = thai.elderly_allowance_rate(person.age)
        if status == "A" and person.death is None and planter.due("wrong_tier", R.WRONG_TIER_SHARE, rng):
            amount, planted = 700 if amount == 600 else {700: 600, 800: 700, 1000: 800}[amount], True
        if planter.due("district_mismatch", R.DISTRICT_MISMATCH_SHARE, rng):
            dist_id, planted = self._other_district(rng, dist_id), True
        duplicate = planter.due("duplicate_registration", R.DUPLICATE_REGISTRATION_SHARE, rng)
        fields = {"reg_fy": reg_fy, "amount": amount, "status": status}
        self._elder_registration(rng, person, city, planted=planted or duplicate, dist_id=dist_id, **fields)
        if duplicate:
            again = dist_id if rng.random() < R.DUPLICATE_IN_SAME_DISTRICT_SHARE else self._other_district(rng, dist_id)
            fields["reg_fy"] = min(reg_fy + 1, self._current_fy)
            self._elder_registration(rng, person, city, planted=True, dist_id=again, **fields)
        if planter.due("city_only_person", R.CITY_ONLY_PERSON_SHARE, rng):
            self._city_only_elder(rng, city)

    def _city_only_elder(self, rng: random.Random, city: Rows) -> None:
        """A registration for a person the ministry does not know at all (a valid ID nobody else has)."""
        place = rng.choice(self.places.bangkok)
        age_days = int((60 + rng.random() * 25) * DAYS_PER_YEAR)
        birth = dt.date.fromordinal(self._as_of_ordinal - age_days)
        sex = "M" if rng.random() < R.MALE_SHARE else "F"
        family = rng.choice(self.names.family)
        household = _Household(0, place, f"{1 + int(rng.random() * 999)} {place.address_tail}", "TH", "", family)
        person = _Person(
            self._city_only_id("3", place.district_code), "TH", "นาย" if sex == "M" else "นาง",
            rng.choice(self.names.male if sex == "M" else self.names.female), family, sex, birth, None,
            thai.age_on(birth, self.as_of), household,
        )
        first_fy = self._first_elderly_fy(birth)
        self._elder_registration(
            rng, person, city, planted=True, dist_id=place.dist_id, reg_fy=min(first_fy, self._current_fy),
            amount=thai.elderly_allowance_rate(person.age), status="A",
        )

    def _disability_allowance(self, rng: random.Random, person: _Person, city: Rows) -> None:
        card = person.card
        if card is None:
            if person.death is not None or not self.planter.due(
                "disability_allowance_without_card", R.DISABILITY_WITHOUT_CARD_SHARE, rng
            ):
                return
            card_no, reg_fy, status = None, self._current_fy - rng.randrange(4), "A"
        else:
            card_no, issued, valid = card
            reg_fy = min(thai.fiscal_year_be(issued), self._current_fy)
            if valid or person.death:
                if rng.random() >= R.DISABILITY_ALLOWANCE_COVERAGE:
                    return
                status = self._status(rng, person)
            else:
                if rng.random() >= R.LAPSED_CARD_REGISTERED_SHARE:
                    return
                still_active = self.planter.due("lapsed_card_still_active", R.LAPSED_CARD_STILL_ACTIVE_SHARE, rng)
                status = "A" if still_active else "S"
        pid = self._city_pid(person.citizen_id, rng)
        row = self._allowance_row(
            rng, self._disab_reg_id, pid, person, dist_id=person.household.place.dist_id, reg_fy=reg_fy,
            amount=thai.disability_allowance_rate(person.age), status=status,
        )
        row["card_no"] = card_no
        self._disab_reg_id += 1
        city["tb_disab_allow"].append(row)
        self._payments(rng, "D", row, city)

    def _funeral_aid(self, rng: random.Random, person: _Person, city: Rows) -> None:
        if person.age < R.ELDERLY_ALLOWANCE_AGE:
            return
        if person.death is not None:
            if rng.random() >= R.FUNERAL_AID_SHARE:
                return
            death, planted = person.death, False
        elif self.planter.due("funeral_aid_not_deceased", R.FUNERAL_AID_NOT_DECEASED_SHARE, rng):
            death, planted = self._day_before(rng, 365), True  # the city believes a living person died
        else:
            return
        heirs = [m for m in person.household.members if m is not person and m.death is None and m.age >= 18]
        if heirs:
            applicant = rng.choice(heirs).citizen_id
        else:  # a relative living elsewhere, unknown to the ministry
            applicant = self._city_only_id("3", person.household.place.district_code)
        decided = death + dt.timedelta(days=15 + int(rng.random() * 105))
        status = "P" if decided >= self.as_of else _FUNERAL_STATUS.pick(rng)
        city["tb_funeral_aid"].append({
            "aid_id": self._aid_id,
            "deceased_pid": self._city_pid(person.citizen_id, rng, may_mistype=not planted),
            "deceased_name": f"{person.title}{person.first_name} {person.last_name}",
            "applicant_pid": self._city_pid(applicant, rng),
            "dist_id": person.household.place.dist_id,
            "death_be": thai.to_be_string(death),
            "amount": R.FUNERAL_AID_AMOUNT,
            "approved_dt": dt.datetime(decided.year, decided.month, decided.day, 10, 0) if status == "A" else None,
            "status": status,
        })
        self._aid_id += 1

    def _housing_application(self, rng: random.Random, person: _Person, city: Rows) -> None:
        city["tb_housing_app"].append({
            "app_id": self._application_id,
            "proj_id": rng.choice(self._projects_by_dist[person.household.place.dist_id]),
            "pid": self._city_pid(person.citizen_id, rng),
            "household_size": len(person.household.members),
            "income_month": 100 * (40 + int(rng.random() * 260)),
            "applied_dt": self._day_before(rng, 2 * 365),
            "status": _HOUSING_STATUS.pick(rng),
        })
        self._application_id += 1

    # --- homeless people and street cases ------------------------------------------------------

    def _homeless_people(
        self, rng: random.Random, number: int, people: list[_Person], ministry: Rows, city: Rows
    ) -> None:
        """This chunk's share of the counted homeless, some named with a person of the chunk."""
        roster = self._homeless_roster
        first = len(roster) * number // self.chunk_count
        last = len(roster) * (number + 1) // self.chunk_count
        candidates = [p for p in people if p.death is None and p.age >= 18]
        for dist_id, counted_sex in roster[first:last]:
            person = None
            if candidates and rng.random() < R.HOMELESS_WITH_PID_SHARE:
                person = candidates.pop(rng.randrange(len(candidates)))
            without_case = person is not None and self.planter.due(
                "homeless_pid_without_case", R.HOMELESS_PID_WITHOUT_CASE_SHARE, rng
            )
            if person is not None:
                age = person.age
                band = "60+" if age >= 60 else "18-29" if age < 30 else f"{age // 10 * 10}-{age // 10 * 10 + 9}"
                sex = person.sex
                pid = self._city_pid(person.citizen_id, rng, may_mistype=not without_case)
            else:
                band, sex, pid = _HOMELESS_AGE_BAND.pick(rng), counted_sex, None
            first_seen = self._day_before(rng, 3 * 365)
            city["tb_homeless_person"].append({
                "hl_id": self._homeless_id,
                "pid": pid,
                "nickname": rng.choice(HOMELESS_NICKNAMES),
                "sex": sex,
                "age_band": band,
                "dist_id": dist_id,
                "first_seen": first_seen,
                "last_seen": self._day_before(rng, 3 * 365, first_seen),
                "referred_to": rng.choice(HOMELESS_REFERRALS) if rng.random() < R.HOMELESS_REFERRED_SHARE else None,
            })
            self._homeless_id += 1
            if person is not None and not without_case:
                place = rng.choice(self.places.bangkok_by_dist_id[dist_id])
                self._case(rng, ministry, "homeless", person.citizen_id, None, place, channel="outreach")
        # Named homeless cases the city never recorded.
        count = _stochastic_round(R.MINISTRY_ONLY_HOMELESS_CASE_RATE * len(people), rng)
        if not self.planter.planted["ministry_homeless_case_without_city_record"]:
            count = max(count, 1)
        for _ in range(min(count, len(candidates))):
            person = candidates.pop(rng.randrange(len(candidates)))
            self.planter.planted["ministry_homeless_case_without_city_record"] += 1
            place = rng.choice(self.places.bangkok_by_dist_id[self._homeless_district.pick(rng)])
            self._case(rng, ministry, "homeless", person.citizen_id, None, place)

    def _street_cases(self, rng: random.Random, number: int, persons: int, ministry: Rows) -> None:
        """Homeless and beggar cases of people without a citizen ID (at least one per run)."""
        count = _stochastic_round(R.ANONYMOUS_STREET_CASE_RATE * persons, rng)
        if number == 0:
            count = max(count, 1)
        for _ in range(count):
            place = rng.choice(self.places.bangkok_by_dist_id[self._homeless_district.pick(rng)])
            self._case(rng, ministry, _STREET_CATEGORY.pick(rng), None, None, place)

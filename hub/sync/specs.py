"""What each sync mutation writes: from unified input (13-digit IDs, ISO CE dates, DOPA codes,
enum names, decimal baht) to the owning source's native row (the city's dashed PIDs, BE dates,
dist_id and status letters), with every field checked first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from hub import geography, thai
from hub.normalise import BANGKOK_TIME
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry

MAX_BATCH = 1000


class ItemInvalid(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {p}" for f, p in problems))
        self.problems = problems


@dataclass
class Prepared:
    key: object | None  # None: create, the source assigns the key; a tuple for a composite key
    values: dict  # native column values to write
    citizen_id: str | None
    district_code: str | None  # None when the district comes from a parent record (see Parent)
    expected_version: int | None


@dataclass(frozen=True)
class Parent:
    """The record an item hangs off (a household, a person, a project): it must exist, and its
    district is the item's district, both for a districts-limited client and for the change feed."""

    field: str  # the input field that names the parent, reported with NotFound
    label: str  # what the parent is, for the Forbidden reason
    # From the item's native values (over the existing row's, for an update): a select of the parent row.
    lookup: Callable[[Mapping], sa.Select]
    district_of_row: Callable[[Mapping], str | None]
    describe: Callable[[Mapping], str]  # the parent's key as NotFound reports it


@dataclass(frozen=True)
class Duplicate:
    """For a create-only kind: an earlier row that makes a new item a duplicate (VersionConflict)."""

    where: Callable[[dict], sa.ColumnElement | None]  # None: the item cannot be matched (e.g. no citizen ID)
    reason: str


# For a kind without a version column, how an item may change the existing row with its key:
# the native columns to set ({} when nothing changes) or, as a string, why the change is refused.
Amend = Callable[[Mapping, Prepared], "dict | str"]


@dataclass(frozen=True)
class WriteSpec:
    mutation: str
    entity: str
    source: str
    table: sa.Table
    key_columns: tuple[sa.Column, ...]  # one column, or the parts of a composite key in Prepared.key order
    # With a version column: create, or update with optimistic concurrency on expectedVersion.
    # Without one, `amend` says how an existing row may change; without `amend` the kind is create-only.
    version_column: sa.Column | None
    prepare: Callable[[dict, dt.datetime], Prepared]
    # The district of an existing row, to keep a districts-limited client to its own rows
    # (None: the district comes from the parent).
    district_of_row: Callable[[Mapping], str | None] | None
    # Whether an item without a key creates a row (the source assigns the key); an item that names
    # a key the source does not hold is then NotFound.
    creates_without_key: bool = False
    # Columns set on every write (timestamps), from the write time.
    stamp: Callable[[dt.datetime], dict] = field(default=lambda now: {})
    parent: Parent | None = None
    duplicate: Duplicate | None = None
    amend: Amend | None = None
    # The person an existing row concerns, for the audit trail of an update whose item does not name them.
    citizen_of_row: Callable[[Mapping], str | None] | None = None

    def key_where(self, key) -> sa.ColumnElement:
        parts = key if isinstance(key, tuple) else (key,)
        return sa.and_(*(column == part for column, part in zip(self.key_columns, parts, strict=True)))


EARLIEST_YEAR = 1880


def _looks_buddhist_era(year: int, latest_year: int) -> bool:
    """A too-late year that, read as Buddhist Era, is a plausible common-era year (not just next month)."""
    return EARLIEST_YEAR <= year - thai.BE_OFFSET <= latest_year


class _Checker:
    """Collects every problem of one item, so a client sees all of them at once."""

    def __init__(self, item: dict) -> None:
        self.item = item
        self.problems: list[tuple[str, str]] = []

    def fail(self, name: str, problem: str) -> None:
        self.problems.append((name, problem))

    def required(self, name: str):
        value = self.item.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(name, "is required")
            return None
        return value

    def citizen_id(self, name: str, *, required: bool = True) -> str | None:
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        try:
            return thai.parse_citizen_id(raw)
        except thai.InvalidCitizenId as exc:
            self.fail(name, exc.reason)
            return None

    def date(self, name: str, *, required: bool = True, not_after: dt.date | None = None,
             latest: dt.date | None = None) -> dt.date | None:
        """An ISO CE date; `not_after`: it must not be in the future; `latest`: a future date must not lie beyond it."""
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            self.fail(name, "must be an ISO 8601 date in the common era, e.g. 1950-05-17")
            return None
        if not_after is not None and value > not_after:
            if _looks_buddhist_era(value.year, not_after.year):
                self.fail(name, f"is in the future; it looks like a Buddhist-Era year (CE = BE - 543, i.e. {value.year - thai.BE_OFFSET})")
            else:
                self.fail(name, "is in the future")
            return None
        if latest is not None and value > latest:
            if _looks_buddhist_era(value.year, latest.year):
                self.fail(name, f"lies too far in the future; it looks like a Buddhist-Era year (CE = BE - 543, i.e. {value.year - thai.BE_OFFSET})")
            else:
                self.fail(name, "lies too far in the future")
            return None
        if value.year < EARLIEST_YEAR:
            self.fail(name, f"is before {EARLIEST_YEAR}")
            return None
        return value

    def datetime(self, name: str, *, required: bool = True) -> dt.datetime | None:
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        try:
            value = dt.datetime.fromisoformat(raw)
        except (TypeError, ValueError):
            self.fail(name, "must be an ISO 8601 date-time, e.g. 2026-10-09T10:00:00+07:00")
            return None
        if value.tzinfo is None:
            self.fail(name, "must carry a time zone offset")
            return None
        return value

    def money(self, name: str, *, required: bool = True) -> Decimal | None:
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            self.fail(name, "must be a decimal amount in baht, e.g. 700.00")
            return None
        if not value.is_finite() or value < 0:
            self.fail(name, "must not be negative")
            return None
        if value != value.quantize(Decimal("0.01")) or value >= Decimal("100000000"):
            self.fail(name, "must have at most two decimals and be below 100,000,000")
            return None
        return value

    def choice(self, name: str, allowed: dict[str, str], *, required: bool = True) -> str | None:
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        if raw not in allowed:
            self.fail(name, f"must be one of {', '.join(sorted(allowed))}")
            return None
        return allowed[raw]

    def text(self, name: str, *, max_length: int, required: bool = True) -> str | None:
        raw = self.item.get(name)
        if raw is None or not str(raw).strip():
            if required:
                self.fail(name, "is required")
            return None
        value = str(raw).strip()
        if len(value) > max_length:
            self.fail(name, f"is longer than {max_length} characters")
            return None
        return value

    def subdistrict(self, name: str) -> str | None:
        code = self.required(name)
        if code is None:
            return None
        if geography.subdistrict(code) is None:
            self.fail(name, "is not a DOPA subdistrict code")
            return None
        return code

    def bangkok_district(self, name: str) -> str | None:
        code = self.required(name)
        if code is None:
            return None
        district = geography.district(code)
        if district is None or district.province_code != "10":
            self.fail(name, "is not a Bangkok district code (1001-1050)")
            return None
        return code

    def integer(self, name: str, *, required: bool = True, low: int | None = None, high: int | None = None) -> int | None:
        raw = self.item.get(name)
        if raw is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(raw, int) or (low is not None and raw < low) or (high is not None and raw > high):
            self.fail(name, f"must be a whole number{'' if low is None else f' from {low}'}{'' if high is None else f' to {high}'}")
            return None
        return raw

    def count(self, name: str, *, high: int) -> int | None:
        raw = self.item.get(name)
        if raw is None:
            self.fail(name, "is required")
            return None
        if not isinstance(raw, int) or isinstance(raw, bool):
            self.fail(name, "must be a whole number")
            return None
        if raw < 0:
            self.fail(name, "must not be negative")
            return None
        if raw > high:
            self.fail(name, f"is more than {high:,}, too many for one record")
            return None
        return raw

    def ce_year(self, name: str, *, low: int, high: int) -> int | None:
        raw = self.item.get(name)
        if raw is None:
            self.fail(name, "is required")
            return None
        if not isinstance(raw, int) or isinstance(raw, bool):
            self.fail(name, "must be a year of the common era, e.g. 2024")
            return None
        if raw > high and low <= raw - thai.BE_OFFSET <= high:
            self.fail(name, f"is in the future; it looks like a Buddhist-Era year (CE = BE - 543, i.e. {raw - thai.BE_OFFSET})")
            return None
        if not low <= raw <= high:
            self.fail(name, f"must be a year of the common era from {low} to {high}")
            return None
        return raw

    def flag(self, name: str) -> bool | None:
        raw = self.item.get(name)
        if not isinstance(raw, bool):
            self.fail(name, "is required" if raw is None else "must be true or false")
            return None
        return raw

    def digits(self, name: str, length: int, *, required: bool = True) -> str | None:
        raw = self.text(name, max_length=length, required=required)
        if raw is not None and not (len(raw) == length and raw.isascii() and raw.isdigit()):
            self.fail(name, f"must be {length} digits")
            return None
        return raw

    def version(self) -> int | None:
        return self.integer("expected_version", required=False, low=1)

    def done(self) -> None:
        if self.problems:
            raise ItemInvalid(self.problems)


SEX = {"MALE": "M", "FEMALE": "F"}
ALLOWANCE_STATUS = {"ACTIVE": "A", "SUSPENDED": "S", "DECEASED": "D", "MOVED": "M"}
CASE_CATEGORY = {c.upper(): c for c in ("homeless", "beggar", "child", "youth", "elderly", "disability", "women", "family", "vulnerable", "housing")}
CASE_CHANNEL = {c.upper(): c for c in ("hotline_1300", "one_home", "tambon_centre", "referral", "outreach")}
CASE_STATUS = {c.upper(): c for c in ("open", "in_progress", "referred", "closed")}
PAYMENT_KIND = {"ELDERLY_ALLOWANCE": "E", "DISABILITY_ALLOWANCE": "D"}
PAYMENT_CHANNEL = {"CASH": "C", "TRANSFER": "T"}


def _utc(now: dt.datetime) -> dict:
    return {"updated_at": now}


def _today(now: dt.datetime) -> dt.date:
    """Today where the data is about: a date written in Thailand is not "in the future" before UTC midnight."""
    return now.astimezone(BANGKOK_TIME).date()


def prepare_person(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    cid = c.citizen_id("citizen_id")
    birth = c.date("birth_date", not_after=_today(now))
    death = c.date("death_date", required=False, not_after=_today(now))
    values = {
        "citizen_id": cid,
        "nationality": c.text("nationality", max_length=2),
        "title_th": c.text("title", max_length=32),
        "first_name_th": c.text("first_name", max_length=100),
        "last_name_th": c.text("last_name", max_length=100),
        "sex": c.choice("sex", SEX),
        "birth_date": birth,
        "death_date": death,
        "household_id": c.integer("household_id", required=False, low=1),
        "subdistrict_code": c.subdistrict("subdistrict_code"),
    }
    if birth and death and death < birth:
        c.fail("death_date", "is before the birth date")
    version = c.version()
    c.done()
    return Prepared(cid, values, cid, values["subdistrict_code"][:4], version)


def prepare_case(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    case_id = c.integer("case_id", low=1)
    opened = c.datetime("opened_at")
    closed = c.datetime("closed_at", required=False)
    values = {
        "case_id": case_id,
        "citizen_id": c.citizen_id("citizen_id", required=False),
        "household_id": c.integer("household_id", required=False, low=1),
        "category": c.choice("category", CASE_CATEGORY),
        "channel": c.choice("channel", CASE_CHANNEL),
        "centre_code": c.text("centre_code", max_length=10, required=False),
        "subdistrict_code": c.subdistrict("subdistrict_code"),
        "status": c.choice("status", CASE_STATUS),
        "opened_at": opened.astimezone(dt.UTC) if opened else None,
        "closed_at": closed.astimezone(dt.UTC) if closed else None,
        "summary": c.text("summary", max_length=4000),
    }
    if opened and closed and closed < opened:
        c.fail("closed_at", "is before opened_at")
    version = c.version()
    c.done()
    return Prepared(case_id, values, values["citizen_id"], values["subdistrict_code"][:4], version)


def _bangkok_local(now: dt.datetime) -> dt.datetime:
    return now.astimezone(BANGKOK_TIME).replace(tzinfo=None, microsecond=0)


def _allowance_preparer(with_card: bool):
    def prepare(item: dict, now: dt.datetime) -> Prepared:
        c = _Checker(item)
        cid = c.citizen_id("citizen_id")
        birth = c.date("birth_date", not_after=_today(now))
        district = c.bangkok_district("district_code")
        values = {
            # The city's systems keep PIDs as clerks type them, in the dashed form.
            "pid": thai.format_citizen_id(cid) if cid else None,
            "prename": c.text("title", max_length=32),
            "fname": c.text("first_name", max_length=100),
            "lname": c.text("last_name", max_length=100),
            "birth_be": thai.to_be_string(birth) if birth else None,
            "dist_id": thai.dist_id_from_district_code(district) if district else None,
            "addr": c.text("address", max_length=255),
            "reg_fy": c.integer("fiscal_year", low=2500, high=2700),
            "amount": c.money("monthly_amount"),
            "status": c.choice("status", ALLOWANCE_STATUS),
            "bank_acct": c.text("bank_account", max_length=20, required=False),
        }
        if with_card:
            values["card_no"] = c.text("card_no", max_length=20, required=False)
        registration = c.integer("registration_id", required=False, low=1)
        version = c.version()
        if registration is not None and version is None:
            c.fail("expected_version", "is required to update a registration")
        c.done()
        return Prepared(registration, values, cid, district, version)

    return prepare


def prepare_payment(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    kind = c.choice("kind", PAYMENT_KIND)
    registration = c.integer("registration_id", low=1)
    month = c.text("month", max_length=7)
    pay_ym = None
    if month is not None:
        try:
            first = dt.date.fromisoformat(f"{month}-01")
            if first > _today(now):
                c.fail("month", "is in the future" + (" (a Buddhist-Era year?)" if _looks_buddhist_era(first.year, _today(now).year) else ""))
            else:
                pay_ym = thai.to_be_month(first)
        except ValueError:
            c.fail("month", "must be YYYY-MM in the common era, e.g. 2026-10")
    paid = c.datetime("paid_at", required=False)
    values = {
        "reg_kind": kind,
        "reg_id": registration,
        "pay_ym": pay_ym,
        "amount": c.money("amount"),
        "paid_dt": paid.astimezone(BANGKOK_TIME).replace(tzinfo=None) if paid else None,
        "channel": c.choice("channel", PAYMENT_CHANNEL),
    }
    c.done()
    return Prepared(None, values, None, None, None)


# --- ministry: households, TPMAP assessments, disability cards ------------------------------

# The 17 MPI indicators TPMAP scores, by their BMN (จปฐ.) numbers.
BMN_INDICATORS = (1, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 19, 20, 21, 22, 27, 28)
FIRST_SURVEY_YEAR = 2000
DISABILITY_TYPES = (1, 7)  # 1 visual ... 7 autism
# Cards are issued for some years; an expiry further out than this is a typing error (often a BE year).
CARD_HORIZON_YEARS = 20


def prepare_household(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    household_id = c.integer("household_id", low=1)
    subdistrict = c.subdistrict("subdistrict_code")
    in_bmn = c.flag("in_bmn")
    values = {
        "household_id": household_id,
        "house_code": c.digits("house_code", 11, required=False),
        "address_th": c.text("address", max_length=255),
        "subdistrict_code": subdistrict,
        "in_bmn": in_bmn,
        "has_welfare_card": c.flag("has_welfare_card"),
        "logbook_stage": c.integer("logbook_stage", required=False, low=1, high=3),
    }
    if in_bmn and subdistrict is not None and subdistrict.startswith(thai.BANGKOK_PROVINCE):
        c.fail("in_bmn", "the BMN census does not cover Bangkok, so a Bangkok household cannot be in it")
    version = c.version()
    c.done()
    return Prepared(household_id, values, None, subdistrict[:4], version)


def prepare_mpi_assessment(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    household_id = c.integer("household_id", low=1)
    survey_year = c.ce_year("survey_year", low=FIRST_SURVEY_YEAR, high=_today(now).year)
    indicator = c.required("indicator")
    if indicator is not None and (isinstance(indicator, bool) or indicator not in BMN_INDICATORS):
        c.fail("indicator", f"must be one of the 17 BMN indicator numbers TPMAP scores: {', '.join(map(str, BMN_INDICATORS))}")
    deprived = c.flag("deprived")
    c.done()
    values = {"household_id": household_id, "survey_year": survey_year, "indicator": indicator, "deprived": deprived}
    return Prepared((household_id, survey_year, indicator), values, None, None, None)


def _amend_mpi_assessment(current: Mapping, p: Prepared) -> dict | str:
    # A survey is re-scored when it is corrected: the later answer replaces the earlier one.
    return {} if bool(current["deprived"]) == p.values["deprived"] else {"deprived": p.values["deprived"]}


def prepare_disability_card(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    today = _today(now)
    card_no = c.text("card_no", max_length=20)
    cid = c.citizen_id("citizen_id")
    issued = c.date("issued_on", not_after=today)
    expires = c.date("expires_on", latest=today + dt.timedelta(days=round(CARD_HORIZON_YEARS * 365.25)))
    if issued and expires and expires <= issued:
        c.fail("expires_on", "must be after the issue date")
    values = {
        "card_no": card_no,
        "citizen_id": cid,
        "disability_type": c.integer("disability_type", low=DISABILITY_TYPES[0], high=DISABILITY_TYPES[1]),
        "issued_on": issued,
        "expires_on": expires,
        "revoked": c.flag("revoked"),
    }
    c.done()
    return Prepared(card_no, values, cid, None, None)


def _amend_disability_card(current: Mapping, p: Prepared) -> dict | str:
    """A card number is issued once, to one person. Sync may correct its type and dates, renew it
    (a later expiry) or revoke it; it may not hand it to someone else, shorten it, or reinstate it."""
    new = p.values
    if current["citizen_id"] != new["citizen_id"]:
        return "this card number belongs to another person"
    if bool(current["revoked"]) and not new["revoked"]:
        return "the card was revoked, and a revoked card is not reinstated: issue a new card"
    if new["expires_on"] < current["expires_on"]:
        return "expiresOn would move back; a card is renewed by extending it, and ended by revoking it"
    return {k: v for k, v in new.items() if current[k] != v}


def _person_parent() -> Parent:
    person = ministry.person
    return Parent(
        field="citizen_id", label="person",
        lookup=lambda v: sa.select(person.c.subdistrict_code).where(person.c.citizen_id == v["citizen_id"]),
        district_of_row=lambda row: row["subdistrict_code"][:4], describe=lambda v: v["citizen_id"],
    )


def _household_parent() -> Parent:
    household = ministry.household
    return Parent(
        field="household_id", label="household",
        lookup=lambda v: sa.select(household.c.subdistrict_code).where(household.c.household_id == v["household_id"]),
        district_of_row=lambda row: row["subdistrict_code"][:4], describe=lambda v: str(v["household_id"]),
    )


# --- city: funeral aid, homeless counts and persons, housing applications -------------------

FUNERAL_AID_STATUS = {"APPROVED": "A", "PENDING": "P", "REJECTED": "R"}
# The elderly funeral aid rate since it was raised from 2,000 baht; the default when an item omits it.
FUNERAL_AID_AMOUNT = Decimal("3000.00")
HOMELESS_SEX = {"MALE": "M", "FEMALE": "F", "UNSPECIFIED": "U"}
# The bands the city's homeless roster uses (see hub.seed_rates.HOMELESS_AGE_BAND_WEIGHTS): adults only;
# a child found on the street is a child-protection case (a ministry welfare case), not a roster entry.
HOMELESS_AGE_BANDS = {band: band for band in ("18-29", "30-39", "40-49", "50-59", "60+")}
MAX_COUNT_PER_SPOT = 10_000
APPLICATION_STATUS = {"PENDING": "P", "APPROVED": "A", "REJECTED": "R"}
_APPLICATION_STATUS_NAME = {letter: name for name, letter in APPLICATION_STATUS.items()}
MAX_HOUSEHOLD_SIZE = 20


def _dashed(cid: str | None) -> str | None:
    # The city's systems keep PIDs as clerks type them, in the dashed form.
    return thai.format_citizen_id(cid) if cid else None


def _dist_id(district: str | None) -> int | None:
    return thai.dist_id_from_district_code(district) if district else None


def _digits_or_none(raw: str | None) -> str | None:
    return thai.parse_citizen_id(raw) if raw is not None and thai.is_valid_citizen_id(raw) else None


def prepare_funeral_aid(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    today = _today(now)
    deceased = c.citizen_id("deceased_citizen_id")
    applicant = c.citizen_id("applicant_citizen_id")
    district = c.bangkok_district("district_code")
    death = c.date("death_date", not_after=today)
    status = c.choice("status", FUNERAL_AID_STATUS)
    approved = c.datetime("approved_at", required=False)
    amount = c.money("amount", required=False) if item.get("amount") is not None else FUNERAL_AID_AMOUNT
    if amount is not None and amount == 0:
        c.fail("amount", "must be more than zero")
    if deceased and applicant and deceased == applicant:
        c.fail("applicant_citizen_id", "is the deceased person's own ID; the applicant is the heir who applies")
    if status == "A" and item.get("approved_at") is None:
        c.fail("approved_at", "is required when the status is APPROVED")
    if status in ("P", "R") and item.get("approved_at") is not None:
        c.fail("approved_at", "is given only when the status is APPROVED")
    approved_local = approved.astimezone(BANGKOK_TIME).replace(tzinfo=None) if approved else None
    if approved is not None and approved > now:
        c.fail("approved_at", "is in the future")
    elif approved_local is not None and death is not None and approved_local.date() < death:
        c.fail("approved_at", "is before the date of death")
    values = {
        "deceased_pid": _dashed(deceased),
        "deceased_name": c.text("deceased_name", max_length=200),
        "applicant_pid": _dashed(applicant),
        "dist_id": _dist_id(district),
        "death_be": thai.to_be_string(death) if death else None,
        "amount": amount,
        "approved_dt": approved_local,
        "status": status,
    }
    c.done()
    return Prepared(None, values, deceased, district, None)


def prepare_homeless_count(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    district = c.bangkok_district("district_code")
    values = {
        "dist_id": _dist_id(district),
        "count_date": c.date("count_date", not_after=_today(now)),
        "spot_desc": c.text("place", max_length=255),
        "male": c.count("male", high=MAX_COUNT_PER_SPOT),
        "female": c.count("female", high=MAX_COUNT_PER_SPOT),
        "unspecified": c.count("unspecified", high=MAX_COUNT_PER_SPOT),
    }
    c.done()
    return Prepared(None, values, None, district, None)


def prepare_homeless_person(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    today = _today(now)
    cid = c.citizen_id("citizen_id", required=False)  # many people on the street have no ID card
    district = c.bangkok_district("district_code")
    first_seen = c.date("first_seen", not_after=today)
    last_seen = c.date("last_seen", required=False, not_after=today)
    if first_seen and last_seen and last_seen < first_seen:
        c.fail("last_seen", "is before firstSeen")
    values = {
        "pid": _dashed(cid),
        "nickname": c.text("nickname", max_length=100),
        "sex": c.choice("sex", HOMELESS_SEX),
        "age_band": c.choice("age_band", HOMELESS_AGE_BANDS),
        "dist_id": _dist_id(district),
        "first_seen": first_seen,
        "last_seen": last_seen or first_seen,
        "referred_to": c.text("referred_to", max_length=100, required=False),
    }
    c.done()
    return Prepared(None, values, cid, district, None)


_FILING_FIELDS = ("project_id", "citizen_id", "household_size", "monthly_income", "applied_on")


def prepare_housing_application(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    application_id = c.integer("application_id", required=False, low=1)
    status = c.choice("status", APPLICATION_STATUS)
    if application_id is not None:
        # A decision on a filed application: only the status travels.
        for name in _FILING_FIELDS:
            if item.get(name) is not None:
                c.fail(name, "is sent only to file an application; to decide one, send applicationId and status alone")
        c.done()
        return Prepared(application_id, {"status": status}, None, None, None)
    cid = c.citizen_id("citizen_id")
    values = {
        "proj_id": c.integer("project_id", low=1),
        "pid": _dashed(cid),
        "household_size": c.integer("household_size", low=1, high=MAX_HOUSEHOLD_SIZE),
        "income_month": c.money("monthly_income"),
        "applied_dt": c.date("applied_on", not_after=_today(now)),
        "status": status,
    }
    c.done()
    return Prepared(None, values, cid, None, None)


def _decide_housing_application(current: Mapping, p: Prepared) -> dict | str:
    """A pending application may be approved or rejected; a decision is final."""
    old, new = (current["status"] or "").strip().upper(), p.values["status"]
    if old == new:
        return {}
    if old != "P":
        return f"the application was already decided ({_APPLICATION_STATUS_NAME.get(old, old)}), and a decision is final"
    return {"status": new}


def _registration_parent() -> Parent:
    def lookup(values: Mapping) -> sa.Select:
        table = city.tb_elder_allow if values["reg_kind"] == "E" else city.tb_disab_allow
        return sa.select(table.c.dist_id).where(table.c.reg_id == values["reg_id"])

    return Parent(
        field="registration_id", label="registration", lookup=lookup,
        district_of_row=lambda row: str(1000 + row["dist_id"]), describe=lambda v: f"{v['reg_kind']}{v['reg_id']}",
    )


def _project_parent() -> Parent:
    project = city.tb_housing_proj
    return Parent(
        field="project_id", label="housing project",
        lookup=lambda v: sa.select(project.c.dist_id).where(project.c.proj_id == v["proj_id"]),
        district_of_row=lambda row: str(1000 + row["dist_id"]), describe=lambda v: str(v["proj_id"]),
    )


def _same_payment(v: dict) -> sa.ColumnElement:
    pay = city.tb_allow_pay.c
    return sa.and_(pay.reg_kind == v["reg_kind"], pay.reg_id == v["reg_id"], pay.pay_ym == v["pay_ym"])


def _same_death(v: dict) -> sa.ColumnElement:
    aid = city.tb_funeral_aid.c
    # One aid per death; a rejected application does not stop a new one.
    return sa.and_(aid.deceased_pid_digits == thai.strip_citizen_id(v["deceased_pid"]), aid.status != "R")


def _same_count(v: dict) -> sa.ColumnElement:
    count = city.tb_homeless_count.c
    return sa.and_(count.dist_id == v["dist_id"], count.count_date == v["count_date"], count.spot_desc == v["spot_desc"])


def _same_homeless_person(v: dict) -> sa.ColumnElement | None:
    if v["pid"] is None:
        return None  # without an ID nobody can tell two people with the same nickname apart
    return city.tb_homeless_person.c.pid_digits == thai.strip_citizen_id(v["pid"])


def _pending_application(v: dict) -> sa.ColumnElement:
    app = city.tb_housing_app.c
    return sa.and_(app.proj_id == v["proj_id"], app.pid_digits == thai.strip_citizen_id(v["pid"]), app.status == "P")


def _city_district(row: Mapping) -> str:
    return str(1000 + row["dist_id"])


def _city_stamp(now: dt.datetime) -> dict:
    return {"upd_dt": _bangkok_local(now)}


PERSONS = WriteSpec(
    mutation="syncPersons", entity="person", source="ministry", table=ministry.person,
    key_columns=(ministry.person.c.citizen_id,), version_column=ministry.person.c.version,
    prepare=prepare_person, district_of_row=lambda row: row["subdistrict_code"][:4], stamp=_utc,
)
HOUSEHOLDS = WriteSpec(
    mutation="syncHouseholds", entity="household", source="ministry", table=ministry.household,
    key_columns=(ministry.household.c.household_id,), version_column=ministry.household.c.version,
    prepare=prepare_household, district_of_row=lambda row: row["subdistrict_code"][:4], stamp=_utc,
)
# No version column: an assessment is upserted (created, or its `deprived` answer replaced).
MPI_ASSESSMENTS = WriteSpec(
    mutation="syncMpiAssessments", entity="mpi_assessment", source="ministry", table=ministry.mpi_assessment,
    key_columns=(ministry.mpi_assessment.c.household_id, ministry.mpi_assessment.c.survey_year,
                 ministry.mpi_assessment.c.indicator),
    version_column=None, prepare=prepare_mpi_assessment, district_of_row=None,
    parent=_household_parent(), amend=_amend_mpi_assessment,
)
# No version column: a card is created, or corrected, renewed or revoked under _amend_disability_card.
DISABILITY_CARDS = WriteSpec(
    mutation="syncDisabilityCards", entity="disability_card", source="ministry", table=ministry.disability_card,
    key_columns=(ministry.disability_card.c.card_no,), version_column=None,
    prepare=prepare_disability_card, district_of_row=None, parent=_person_parent(), amend=_amend_disability_card,
)
CASES = WriteSpec(
    mutation="syncCases", entity="welfare_case", source="ministry", table=ministry.welfare_case,
    key_columns=(ministry.welfare_case.c.case_id,), version_column=ministry.welfare_case.c.version,
    prepare=prepare_case, district_of_row=lambda row: row["subdistrict_code"][:4], stamp=_utc,
)
ELDERLY_ALLOWANCES = WriteSpec(
    mutation="syncElderlyAllowances", entity="elderly_allowance", source="city", table=city.tb_elder_allow,
    key_columns=(city.tb_elder_allow.c.reg_id,), version_column=city.tb_elder_allow.c.row_ver,
    prepare=_allowance_preparer(with_card=False), district_of_row=_city_district,
    creates_without_key=True, stamp=_city_stamp,
)
DISABILITY_ALLOWANCES = WriteSpec(
    mutation="syncDisabilityAllowances", entity="disability_allowance", source="city", table=city.tb_disab_allow,
    key_columns=(city.tb_disab_allow.c.reg_id,), version_column=city.tb_disab_allow.c.row_ver,
    prepare=_allowance_preparer(with_card=True), district_of_row=_city_district,
    creates_without_key=True, stamp=_city_stamp,
)
# Create-only: one payment per registration and month.
PAYMENTS = WriteSpec(
    mutation="syncAllowancePayments", entity="allowance_payment", source="city", table=city.tb_allow_pay,
    key_columns=(city.tb_allow_pay.c.pay_id,), version_column=None,
    prepare=prepare_payment, district_of_row=None, creates_without_key=True, parent=_registration_parent(),
    duplicate=Duplicate(_same_payment, "a payment for that registration and month is already recorded"),
)
# Create-only: one aid per death (unless an earlier application was rejected).
FUNERAL_AID = WriteSpec(
    mutation="syncFuneralAid", entity="funeral_aid", source="city", table=city.tb_funeral_aid,
    key_columns=(city.tb_funeral_aid.c.aid_id,), version_column=None,
    prepare=prepare_funeral_aid, district_of_row=_city_district, creates_without_key=True,
    duplicate=Duplicate(_same_death, "funeral aid for this death is already recorded (pending or approved)"),
)
# Create-only: a point-in-time count is a fact of its night; one per place and date.
HOMELESS_COUNTS = WriteSpec(
    mutation="syncHomelessCounts", entity="homeless_count", source="city", table=city.tb_homeless_count,
    key_columns=(city.tb_homeless_count.c.count_id,), version_column=None,
    prepare=prepare_homeless_count, district_of_row=_city_district, creates_without_key=True,
    duplicate=Duplicate(_same_count, "a count for this place and date is already recorded"),
)
# Create-only: one roster entry per identified person (people without an ID cannot be matched).
HOMELESS_PERSONS = WriteSpec(
    mutation="syncHomelessPersons", entity="homeless_person", source="city", table=city.tb_homeless_person,
    key_columns=(city.tb_homeless_person.c.hl_id,), version_column=None,
    prepare=prepare_homeless_person, district_of_row=_city_district, creates_without_key=True,
    duplicate=Duplicate(_same_homeless_person, "this person is already on the city's homeless roster"),
)
# Filed (created), then decided once: PENDING -> APPROVED or REJECTED, under _decide_housing_application.
HOUSING_APPLICATIONS = WriteSpec(
    mutation="syncHousingApplications", entity="housing_application", source="city", table=city.tb_housing_app,
    key_columns=(city.tb_housing_app.c.app_id,), version_column=None,
    prepare=prepare_housing_application, district_of_row=None, creates_without_key=True,
    parent=_project_parent(), amend=_decide_housing_application, citizen_of_row=lambda row: _digits_or_none(row["pid"]),
    duplicate=Duplicate(_pending_application, "this person already has a pending application for this project"),
)

SPECS = {
    spec.mutation: spec
    for spec in (
        PERSONS, HOUSEHOLDS, MPI_ASSESSMENTS, DISABILITY_CARDS, CASES, ELDERLY_ALLOWANCES, DISABILITY_ALLOWANCES,
        PAYMENTS, FUNERAL_AID, HOMELESS_COUNTS, HOMELESS_PERSONS, HOUSING_APPLICATIONS,
    )
}

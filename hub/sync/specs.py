"""What each sync mutation writes: from unified input (13-digit IDs, ISO CE dates, DOPA codes,
enum names, decimal baht) to the owning source's native row (the city's dashed PIDs, BE dates,
dist_id and status letters), with every field checked first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
    key: object | None  # None: create, the source assigns the key
    values: dict  # native column values to write
    citizen_id: str | None
    district_code: str | None
    expected_version: int | None


@dataclass(frozen=True)
class WriteSpec:
    mutation: str
    entity: str
    source: str
    table: sa.Table
    key_column: sa.Column
    version_column: sa.Column | None
    prepare: Callable[[dict, dt.datetime], Prepared]
    # The district of an existing row, to keep a districts-limited client to its own rows.
    district_of_row: Callable[[dict], str | None]
    # Whether an item without a key creates a row (the source assigns the key).
    creates_without_key: bool = False
    # Columns set on every write (timestamps), from the write time.
    stamp: Callable[[dt.datetime], dict] = field(default=lambda now: {})


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

    def date(self, name: str, *, required: bool = True, not_after: dt.date | None = None) -> dt.date | None:
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
            if value.year - thai.BE_OFFSET <= not_after.year:
                self.fail(name, f"is in the future; it looks like a Buddhist-Era year (CE = BE - 543, i.e. {value.year - thai.BE_OFFSET})")
            else:
                self.fail(name, "is in the future")
            return None
        if value.year < 1880:
            self.fail(name, "is before 1880")
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


def prepare_person(item: dict, now: dt.datetime) -> Prepared:
    c = _Checker(item)
    cid = c.citizen_id("citizen_id")
    birth = c.date("birth_date", not_after=now.date())
    death = c.date("death_date", required=False, not_after=now.date())
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
        birth = c.date("birth_date", not_after=now.date())
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
            if first > now.date():
                c.fail("month", "is in the future" + (" (a Buddhist-Era year?)" if first.year - thai.BE_OFFSET <= now.year else ""))
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


PERSONS = WriteSpec(
    mutation="syncPersons", entity="person", source="ministry", table=ministry.person,
    key_column=ministry.person.c.citizen_id, version_column=ministry.person.c.version,
    prepare=prepare_person, district_of_row=lambda row: row["subdistrict_code"][:4], stamp=_utc,
)
CASES = WriteSpec(
    mutation="syncCases", entity="welfare_case", source="ministry", table=ministry.welfare_case,
    key_column=ministry.welfare_case.c.case_id, version_column=ministry.welfare_case.c.version,
    prepare=prepare_case, district_of_row=lambda row: row["subdistrict_code"][:4], stamp=_utc,
)
ELDERLY_ALLOWANCES = WriteSpec(
    mutation="syncElderlyAllowances", entity="elderly_allowance", source="city", table=city.tb_elder_allow,
    key_column=city.tb_elder_allow.c.reg_id, version_column=city.tb_elder_allow.c.row_ver,
    prepare=_allowance_preparer(with_card=False), district_of_row=lambda row: str(1000 + row["dist_id"]),
    creates_without_key=True, stamp=lambda now: {"upd_dt": _bangkok_local(now)},
)
DISABILITY_ALLOWANCES = WriteSpec(
    mutation="syncDisabilityAllowances", entity="disability_allowance", source="city", table=city.tb_disab_allow,
    key_column=city.tb_disab_allow.c.reg_id, version_column=city.tb_disab_allow.c.row_ver,
    prepare=_allowance_preparer(with_card=True), district_of_row=lambda row: str(1000 + row["dist_id"]),
    creates_without_key=True, stamp=lambda now: {"upd_dt": _bangkok_local(now)},
)
PAYMENTS = WriteSpec(
    mutation="syncAllowancePayments", entity="allowance_payment", source="city", table=city.tb_allow_pay,
    key_column=city.tb_allow_pay.c.pay_id, version_column=None,
    prepare=prepare_payment, district_of_row=lambda row: None, creates_without_key=True,
)

SPECS = {spec.mutation: spec for spec in (PERSONS, CASES, ELDERLY_ALLOWANCES, DISABILITY_ALLOWANCES, PAYMENTS)}

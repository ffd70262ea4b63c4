"""The checks themselves: pure functions from the rows of one slice of citizen IDs (both sources) to findings.

A slice holds every row either source has for a set of citizen IDs: ministry persons, their
disability cards and welfare cases, and the city's registrations, funeral aid, homeless entries
and housing applications whose PID (less dashes and spaces, the city's indexed `pid_digits`)
falls in the set. City rows are linked to a ministry person exactly as the hub's loaders link
them, on those digits; a PID that is not 13 digits with a valid check digit links to nobody.

The rules, as of the run's date (`today`, in Bangkok):
- an elderly allowance is under age when its fiscal year ends before the holder turns 60 (people
  register the year before, so a 59-year-old registered for the year they turn 60 is fine); it is at
  the wrong tier when the monthly amount is not the rate for the holder's age today;
- ages come from the ministry's birth date, or the city's for a person the ministry does not know;
- a disability card is valid when not revoked and not expired; a registration that links to nobody
  is judged by the card number it names;
- two or more registrations of one person in one table are a duplicate, unless all but one are
  marked moved from other districts (a person who moved);
- "moved" registrations are not compared with the ministry's district (they belong to the old one);
- a case counts for a homeless person when it is a homeless or beggar case, of any status.

One discrepancy gives one finding: a registration counted in a duplicate is not reported again
for its district, and an allowance paid to a deceased person is not checked for age or tier.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hub import thai
from hub.bindings import Binding
from hub.reconcile.kinds import Finding, Kind, Severity

CITIZEN_ID_FIELDS = ("citizen_id", "applicant_citizen_id")
STREET_CASE_CATEGORIES = ("homeless", "beggar")
OPEN_CASE_STATUSES = ("open", "in_progress", "referred")
BANGKOK = thai.BANGKOK_PROVINCE

ELDERLY = "tb_elder_allow"
DISABILITY = "tb_disab_allow"
FUNERAL = "tb_funeral_aid"
HOMELESS = "tb_homeless_person"
HOUSING = "tb_housing_app"
ALLOWANCES = (ELDERLY, DISABILITY)
# City records that give a person money or a home: the ministry should know who they are.
REGISTRATIONS = (ELDERLY, DISABILITY, FUNERAL, HOUSING)

WHAT = {
    ELDERLY: "elderly allowance registration",
    DISABILITY: "disability allowance registration",
    FUNERAL: "funeral aid",
    HOMELESS: "homeless register entry",
    HOUSING: "housing application",
    "person": "person register",
    "disability_card": "disability card",
    "welfare_case": "welfare case",
}


def id_problem(digits: str) -> str | None:
    """Why these characters are not a usable citizen ID, or None when they are one."""
    try:
        parsed = thai.parse_citizen_id(digits)
    except thai.InvalidCitizenId as exc:
        return exc.reason
    if parsed != digits:
        return "a citizen ID may contain only digits, dashes and spaces"
    return None


def link_digits(raw: str) -> str:
    """A typed PID less dashes and spaces: what the city's computed pid_digits columns hold."""
    return raw.replace("-", "").replace(" ", "")


def formatting(raw: str) -> str:
    parts = []
    if "-" in raw:
        parts.append("dashes")
    if " " in raw.strip():
        parts.append("spaces between the digits")
    if raw != raw.strip():
        parts.append("leading or trailing spaces")
    return " and ".join(parts) or "separators"


def card_valid(card, today: dt.date) -> bool:
    return not card.revoked and card.expires_on >= today


@dataclass(slots=True)
class CityRow:
    """One city row: its source key, the PID as typed, its link digits and the normalised record."""

    table: str
    key: int
    pid: str | None
    link: str | None
    record: object
    applicant_pid: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.table}:{self.key}"

    @property
    def status(self) -> str | None:
        return getattr(self.record, "status", None)

    @property
    def district_code(self) -> str | None:
        return getattr(self.record, "district_code", None)


@dataclass
class Slice:
    """Every row of both sources for one slice of citizen IDs (see the module docstring)."""

    persons: Sequence = ()  # citizen_id, birth_date, death_date, household_id, subdistrict_code
    cards: Sequence = ()  # card_no, citizen_id, expires_on, revoked
    cases: Sequence = ()  # case_id, citizen_id, household_id, category, status, subdistrict_code
    city: dict[str, list[CityRow]] = field(default_factory=dict)
    # Looked up after the rows above: cards named by registrations that link to no person, and
    # which formatted funeral-aid applicant IDs the ministry holds.
    cards_by_number: dict[str, object] = field(default_factory=dict)
    known_applicants: set[str] = field(default_factory=set)

    def refs(self) -> Iterator[str]:
        yield from (f"person:{p.citizen_id}" for p in self.persons)
        yield from (f"disability_card:{c.card_no}" for c in self.cards)
        yield from (f"welfare_case:{c.case_id}" for c in self.cases)
        for rows in self.city.values():
            yield from (r.ref for r in rows)


@dataclass(frozen=True)
class Context:
    today: dt.date
    # City housing projects' districts: an application has no district of its own.
    project_districts: Mapping[int, str] = field(default_factory=dict)
    bindings: Mapping[str, Binding] = field(default_factory=dict)


def _district_of_subdistrict(code: str | None) -> str | None:
    return code[:4] if code else None


def _city_district(row: CityRow, ctx: Context) -> str | None:
    if row.table == HOUSING:
        return ctx.project_districts.get(getattr(row.record, "project_id", None))
    return row.district_code


# --- what a slice needs looked up after its rows are read ---------------------------------------------


def card_numbers_to_look_up(data: Slice) -> set[str]:
    """Card numbers on active disability registrations that link to no ministry person."""
    persons = {p.citizen_id for p in data.persons}
    held = {c.card_no for c in data.cards}
    wanted = set()
    for row in data.city.get(DISABILITY, ()):
        card_no = getattr(row.record, "card_no", None)
        if row.status == "ACTIVE" and card_no and card_no not in held and not _linked(row, persons):
            wanted.add(card_no)
    return wanted


def applicants_to_look_up(data: Slice) -> set[str]:
    """Funeral-aid applicant IDs typed with separators: formatting issues if the ministry holds them."""
    wanted = set()
    for row in data.city.get(FUNERAL, ()):
        raw = row.applicant_pid
        if raw is not None:
            digits = link_digits(raw)
            if raw != digits and id_problem(digits) is None:
                wanted.add(digits)
    return wanted


def _linked(row: CityRow, persons) -> bool:
    return row.link is not None and row.link in persons and id_problem(row.link) is None


# --- the checks ------------------------------------------------------------------------------------------


def check_slice(data: Slice, ctx: Context) -> Iterator[Finding]:
    persons = {p.citizen_id: p for p in data.persons}
    # A registration that links to nobody is checked by its card number: the card may be among the
    # slice's own cards (its holder's ID is near the mistyped one) or was looked up by number.
    cards_by_number = {**{c.card_no: c for c in data.cards}, **data.cards_by_number}
    yield from _ministry_ids(data)

    linked: dict[str, dict[str, list[CityRow]]] = defaultdict(lambda: defaultdict(list))
    for table, rows in data.city.items():
        for row in rows:
            yield from _record_checks(row, persons, data.known_applicants, cards_by_number, ctx)
            if row.link is not None and id_problem(row.link) is None:
                linked[row.link][table].append(row)

    cards: dict[str, list] = defaultdict(list)
    for card in data.cards:
        cards[card.citizen_id].append(card)
    cases: dict[str, list] = defaultdict(list)
    for case in data.cases:
        if case.citizen_id is not None:
            cases[case.citizen_id].append(case)

    keys = set(linked) | {cid for cid, found in cases.items() if any(c.category == "homeless" for c in found)}
    for key in sorted(keys):
        yield from _person_checks(key, persons.get(key), linked.get(key, {}), cards.get(key, []),
                                  cases.get(key, []), ctx)


def _ministry_ids(data: Slice) -> Iterator[Finding]:
    """Citizen IDs the ministry itself holds that are not valid (its register, cards and cases)."""
    for person in data.persons:
        problem = id_problem(person.citizen_id)
        if problem:
            ref = f"person:{person.citizen_id}"
            yield Finding(
                Kind.INVALID_CITIZEN_ID, (ref, "citizen_id"), "ministry", f"{WHAT['person']}: {problem}",
                district_code=_district_of_subdistrict(person.subdistrict_code), ministry_refs=(ref,),
            )
    for table, rows, key in (("disability_card", data.cards, "card_no"), ("welfare_case", data.cases, "case_id")):
        for row in rows:
            if row.citizen_id is None:
                continue
            problem = id_problem(row.citizen_id)
            if problem:
                ref = f"{table}:{getattr(row, key)}"
                yield Finding(
                    Kind.INVALID_CITIZEN_ID, (ref, "citizen_id"), "ministry", f"{WHAT[table]}: {problem}",
                    district_code=_district_of_subdistrict(getattr(row, "subdistrict_code", None)),
                    ministry_refs=(ref,),
                )


def _record_checks(
    row: CityRow, persons: Mapping, known_applicants: set[str], cards_by_number: Mapping, ctx: Context
) -> Iterator[Finding]:
    """What one city row shows on its own: its IDs, whether they link, and values that cannot be read."""
    district = _city_district(row, ctx)
    what = WHAT[row.table]
    person = None
    if row.pid is not None and row.link is not None:
        problem = id_problem(row.link)
        column = "deceased_pid" if row.table == FUNERAL else "pid"
        if problem:
            yield Finding(
                Kind.INVALID_CITIZEN_ID, (row.ref, column), "city", f"{what} ({column}): {problem}",
                district_code=district, city_refs=(row.ref,),
            )
        else:
            person = persons.get(row.link)
            if person is not None and row.pid != row.link:
                yield Finding(
                    Kind.CITIZEN_ID_FORMATTING, (row.ref, column), "city",
                    f"{what} ({column}) typed with {formatting(row.pid)}; linked to the ministry's person",
                    district_code=district, citizen_id=row.link,
                    ministry_refs=(f"person:{row.link}",), city_refs=(row.ref,),
                )
            elif person is None and row.table in REGISTRATIONS:
                status = f" ({row.status.lower()})" if row.status else ""
                yield Finding(
                    Kind.UNKNOWN_PERSON, (row.ref,), "both",
                    f"{what}{status} for a citizen ID the ministry's register does not hold",
                    district_code=district, citizen_id=row.link, city_refs=(row.ref,),
                )
    if row.applicant_pid is not None:
        digits = link_digits(row.applicant_pid)
        problem = id_problem(digits)
        if problem:
            yield Finding(
                Kind.INVALID_CITIZEN_ID, (row.ref, "applicant_pid"), "city", f"{what} (applicant_pid): {problem}",
                district_code=district, city_refs=(row.ref,),
            )
        elif digits != row.applicant_pid and digits in known_applicants:
            yield Finding(
                Kind.CITIZEN_ID_FORMATTING, (row.ref, "applicant_pid"), "city",
                f"{what} (applicant_pid) typed with {formatting(row.applicant_pid)}; linked to the ministry's person",
                district_code=district, citizen_id=digits,
                ministry_refs=(f"person:{digits}",), city_refs=(row.ref,),
                # Found by reading the aid (by the deceased's ID), not the applicant's records.
                scope_refs=(row.ref,),
            )
    unreadable = [i for i in getattr(row.record, "issues", ()) if i.field not in CITIZEN_ID_FIELDS]
    if unreadable:
        binding = ctx.bindings.get(row.table)
        columns = [binding.fields[i.field].column.key if binding else i.field for i in unreadable]
        yield Finding(
            Kind.UNREADABLE_VALUE, (row.ref,), "city",
            f"{what}: " + "; ".join(f"{c}: {i.problem}" for c, i in zip(columns, unreadable)),
            district_code=district, city_refs=(row.ref,),
            citizen_id=row.link if person is not None else None,
        )
    if row.table == DISABILITY and row.status == "ACTIVE" and person is None:
        # Not linked to a person (invalid or unknown ID): the card number is all there is to check.
        card_no = getattr(row.record, "card_no", None)
        card = cards_by_number.get(card_no) if card_no else None
        if card is None or not card_valid(card, ctx.today):
            yield Finding(
                Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, (row.ref,), "city",
                f"{what} active; " + _card_problem(card, card_no, ctx.today, linked=False),
                district_code=district, city_refs=(row.ref,),
            )


def _card_problem(card, card_no: str | None, today: dt.date, *, linked: bool) -> str:
    if card is None:
        if card_no and not linked:
            return "the card number on the registration is unknown to the ministry"
        return "the ministry records no disability card for this person"
    if card.revoked:
        return "the disability card was revoked"
    return f"the disability card expired in {card.expires_on.year}"


def _person_checks(
    cid: str, person, rows: Mapping[str, list[CityRow]], cards: list, cases: list, ctx: Context
) -> Iterator[Finding]:
    today = ctx.today
    person_ref = (f"person:{cid}",) if person is not None else ()
    home = _district_of_subdistrict(person.subdistrict_code) if person is not None else None
    deceased = person is not None and person.death_date is not None and person.death_date <= today

    counted_twice: set[str] = set()
    for table in ALLOWANCES:
        registrations = rows.get(table, [])
        if len(registrations) < 2 or _moved_history(registrations):
            continue
        counted_twice.update(r.ref for r in registrations)
        districts = sorted({r.district_code or "unknown" for r in registrations})
        active = sum(r.status == "ACTIVE" for r in registrations)
        where = f"district {districts[0]}" if len(districts) == 1 else "districts " + ", ".join(districts)
        yield Finding(
            Kind.DUPLICATE_REGISTRATION, (table, cid), "city",
            f"{len(registrations)} {WHAT[table]}s in {where} ({active} active)",
            district_code=home or registrations[0].district_code, citizen_id=cid,
            ministry_refs=person_ref, city_refs=tuple(r.ref for r in registrations),
            severity=Severity.HIGH if active > 1 else Severity.LOW,
        )

    for table in ALLOWANCES:
        for row in rows.get(table, ()):
            if row.status != "ACTIVE":
                continue
            what = WHAT[table]
            refs = {"district_code": row.district_code, "citizen_id": cid, "ministry_refs": person_ref,
                    "city_refs": (row.ref,)}
            if deceased:
                yield Finding(
                    Kind.ALLOWANCE_ACTIVE_FOR_DECEASED, (row.ref,), "city",
                    f"{what} active; the ministry records the person as deceased", **refs,
                )
                continue
            if table == ELDERLY:
                yield from _elderly_age(row, person, today, refs)
            elif person is not None and not any(card_valid(c, today) for c in cards):
                card_no = getattr(row.record, "card_no", None)
                named = next((c for c in cards if c.card_no == card_no), None)
                best = named or max(cards, key=lambda c: c.expires_on, default=None)
                yield Finding(
                    Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD, (row.ref,), "city",
                    f"{what} active; " + _card_problem(best, card_no, today, linked=True),
                    **{**refs, "ministry_refs": person_ref + tuple(f"disability_card:{c.card_no}" for c in cards)},
                )

    if person is not None:
        for row in rows.get(FUNERAL, ()):
            if row.status in ("APPROVED", "PENDING") and person.death_date is None:
                yield Finding(
                    Kind.FUNERAL_AID_NOT_DECEASED, (row.ref,), "both",
                    f"funeral aid {row.status.lower()}; the ministry does not record the person as deceased",
                    district_code=row.district_code, citizen_id=cid, ministry_refs=person_ref, city_refs=(row.ref,),
                    severity=Severity.HIGH if row.status == "APPROVED" else Severity.MEDIUM,
                )
        for table in (*ALLOWANCES, FUNERAL):
            for row in rows.get(table, ()):
                if row.ref in counted_twice or row.status == "MOVED" or row.district_code is None:
                    continue
                if home != row.district_code:
                    yield Finding(
                        Kind.DISTRICT_MISMATCH, (row.ref,), "both",
                        f"{WHAT[table]} in district {row.district_code}; the ministry records the person "
                        f"in district {home}",
                        district_code=row.district_code, citizen_id=cid, ministry_refs=person_ref,
                        city_refs=(row.ref,),
                    )

    homeless = rows.get(HOMELESS, [])
    street_cases = [c for c in cases if c.category in STREET_CASE_CATEGORIES]
    if not street_cases:
        for row in homeless:
            known = "" if person is not None else " and its register does not hold the citizen ID"
            yield Finding(
                Kind.HOMELESS_WITHOUT_CASE, (row.ref,), "both",
                f"the city records this person as homeless; the ministry has no homeless or beggar case{known}",
                district_code=row.district_code, citizen_id=cid, ministry_refs=person_ref, city_refs=(row.ref,),
            )
    if not homeless:
        for case in cases:
            if case.category != "homeless" or not case.subdistrict_code.startswith(BANGKOK):
                continue
            closed = case.status == "closed"
            yield Finding(
                Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD, (f"welfare_case:{case.case_id}",), "both",
                f"the ministry has a {'closed' if closed else 'current'} homeless case in Bangkok; "
                "the city's homeless register has no entry with this citizen ID",
                district_code=_district_of_subdistrict(case.subdistrict_code), citizen_id=cid,
                ministry_refs=(f"welfare_case:{case.case_id}", *person_ref),
                severity=Severity.LOW if closed else None,
            )


def _moved_history(registrations: list[CityRow]) -> bool:
    """One current registration, the others marked moved from other districts: a person who moved, not a duplicate."""
    current = [r for r in registrations if r.status != "MOVED"]
    if len(current) != 1:
        return False
    return all(r.district_code != current[0].district_code for r in registrations if r.status == "MOVED")


def _elderly_age(row: CityRow, person, today: dt.date, refs: dict) -> Iterator[Finding]:
    record = row.record
    birth = person.birth_date if person is not None else record.birth_date
    whose = "the ministry's" if person is not None else "the city's"
    if birth is None:
        return
    fiscal_year = record.fiscal_year
    sixtieth = thai.years_before(birth, -60)
    first_year = thai.fiscal_year_be(sixtieth)
    if fiscal_year is not None and fiscal_year < first_year:
        yield Finding(
            Kind.ELDERLY_ALLOWANCE_UNDER_AGE, (row.ref,), "city",
            f"{WHAT[ELDERLY]} active for fiscal year {fiscal_year}; by {whose} birth date the person "
            f"turns 60 only in fiscal year {first_year}",
            **refs,
        )
        return
    age = thai.age_on(birth, today)
    amount = record.monthly_amount
    if age < 60 or amount is None:
        return
    rate = thai.elderly_allowance_rate(age)
    if amount != Decimal(rate):
        band = {600: "60-69", 700: "70-79", 800: "80-89", 1000: "90 or over"}[rate]
        yield Finding(
            Kind.ELDERLY_ALLOWANCE_WRONG_TIER, (row.ref,), "city",
            f"{WHAT[ELDERLY]} pays {amount:,.0f} baht a month; by {whose} birth date the person is {band}, "
            f"tier {rate:,} baht",
            **refs,
        )


# --- households ---------------------------------------------------------------------------------------------


@dataclass
class DeprivedHousehold:
    household_id: int
    subdistrict_code: str
    survey_year: int
    indicators: list[int] = field(default_factory=list)


def missed_household(household: DeprivedHousehold) -> Finding:
    ref = f"household:{household.household_id}"
    indicators = ", ".join(f"#{i}" for i in sorted(household.indicators))
    count = len(household.indicators)
    return Finding(
        Kind.MISSED_HOUSEHOLD, (ref,), "ministry",
        f"deprived on {count} TPMAP indicator{'s' if count > 1 else ''} ({indicators}) in survey "
        f"{household.survey_year}; no open case, no child support grant and no active city allowance",
        district_code=_district_of_subdistrict(household.subdistrict_code), ministry_refs=(ref,),
    )


def stale_source(
    source: str, latest: dt.datetime | None, now: dt.datetime, stale_after: dt.timedelta
) -> Finding | None:
    if latest is not None and now - latest <= stale_after:
        return None
    limit = _days(stale_after)
    if latest is None:
        detail = f"the {source}'s tables record no change time; threshold {limit}"
    else:
        detail = (
            f"the {source}'s newest change is from {latest.date().isoformat()}, {_days(now - latest)} before the "
            f"check; threshold {limit}"
        )
    ref = f"source:{source}"
    refs = {"ministry_refs": (ref,)} if source == "ministry" else {"city_refs": (ref,)}
    return Finding(Kind.STALE_SOURCE, (source,), source, detail, **refs)


def _days(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86_400
    return f"{days:.0f} days" if days >= 2 else f"{delta.total_seconds() / 3600:.0f} hours"


def in_chunks(values: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


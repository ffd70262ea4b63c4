"""The unified vocabulary: records as every source's adapter hands them to the resolvers.

Citizen IDs are 13 digits, dates are CE, districts are DOPA codes, statuses are enum names and
money is Decimal baht, whatever the source stored. A value a source holds that cannot be
normalised becomes None on the record and a RecordIssue beside it, so nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    source_key: str
    updated_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class RecordIssue:
    field: str
    problem: str


@dataclass(slots=True, kw_only=True)
class Record:
    """Base of all unified records: where it came from and what could not be normalised."""

    provenance: Provenance
    issues: list[RecordIssue] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class PersonRecord(Record):
    citizen_id: str
    nationality: str | None
    title: str | None
    first_name: str | None
    last_name: str | None
    sex: str | None
    birth_date: dt.date | None
    death_date: dt.date | None
    household_id: int | None
    subdistrict_code: str | None
    district_code: str | None
    address: str | None = None


@dataclass(slots=True, kw_only=True)
class HouseholdRecord(Record):
    household_id: int
    house_code: str | None
    address: str
    subdistrict_code: str
    district_code: str
    in_bmn: bool
    has_welfare_card: bool
    logbook_stage: int | None


@dataclass(slots=True, kw_only=True)
class MpiRecord(Record):
    household_id: int
    survey_year: int
    indicator: int
    deprived: bool


@dataclass(slots=True, kw_only=True)
class DisabilityCardRecord(Record):
    card_no: str
    citizen_id: str
    disability_type: int
    issued_on: dt.date
    expires_on: dt.date
    revoked: bool


@dataclass(slots=True, kw_only=True)
class WelfareCaseRecord(Record):
    case_id: int
    citizen_id: str | None
    household_id: int | None
    category: str
    channel: str
    centre_code: str | None
    subdistrict_code: str
    district_code: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    summary: str


@dataclass(slots=True, kw_only=True)
class VolunteerRecord(Record):
    volunteer_id: int
    citizen_id: str
    subdistrict_code: str
    district_code: str
    registered_on: dt.date
    active: bool


@dataclass(slots=True, kw_only=True)
class AssistanceCentreRecord(Record):
    centre_code: str
    subdistrict_code: str
    district_code: str
    name_th: str
    opened_on: dt.date


@dataclass(slots=True, kw_only=True)
class BenefitRecord(Record):
    """An elderly or disability allowance registration (city), a child support grant (ministry) or funeral aid (city)."""

    kind: str
    benefit_id: str
    citizen_id: str | None
    district_code: str | None
    status: str | None
    monthly_amount: Decimal | None
    amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    fiscal_year: int | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: dt.date | None = None
    address: str | None = None
    bank_account: str | None = None
    card_no: str | None = None
    carer_citizen_id: str | None = None
    applicant_citizen_id: str | None = None
    registration_id: int | None = None


@dataclass(slots=True, kw_only=True)
class PaymentRecord(Record):
    payment_id: int
    benefit_kind: str
    registration_id: int
    month: dt.date | None
    amount: Decimal
    paid_at: dt.datetime | None
    channel: str | None


@dataclass(slots=True, kw_only=True)
class HomelessCountRecord(Record):
    count_id: int
    district_code: str | None
    count_date: dt.date
    place: str
    male: int
    female: int
    unspecified: int

    @property
    def total(self) -> int:
        return self.male + self.female + self.unspecified


@dataclass(slots=True, kw_only=True)
class HomelessPersonRecord(Record):
    homeless_id: int
    citizen_id: str | None
    nickname: str
    sex: str | None
    age_band: str
    district_code: str | None
    first_seen: dt.date
    last_seen: dt.date
    referred_to: str | None


@dataclass(slots=True, kw_only=True)
class HousingProjectRecord(Record):
    project_id: int
    district_code: str | None
    name: str
    units_total: int
    units_occupied: int
    opened_on: dt.date


@dataclass(slots=True, kw_only=True)
class HousingApplicationRecord(Record):
    application_id: int
    project_id: int
    citizen_id: str | None
    household_size: int
    monthly_income: Decimal
    applied_on: dt.date
    status: str | None
    district_code: str | None = None


@dataclass(slots=True, kw_only=True)
class CommunityRecord(Record):
    community_id: int
    district_code: str | None
    name: str
    community_type: str
    households: int

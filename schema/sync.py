"""Sync mutations: inputs in the unified conventions, one typed result per item."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.common import PageInfo
from schema.guards import masked


@strawberry.enum(description="How a batch treats items that fail.")
class SyncMode(Enum):
    PARTIAL = "PARTIAL"
    ALL_OR_NOTHING = "ALL_OR_NOTHING"


@strawberry.type(description="A field of an item that was refused, and why.")
class FieldProblem:
    field: str = strawberry.field(description="The input field.")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="The item was written.")
class Applied:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The record's key in its source (nullable only so every result type agrees).")
    version: int = strawberry.field(
        description="The record's version after the write; always 1 for kinds whose source keeps no version "
                    "(MPI assessments, disability cards, payments, funeral aid, homeless records, housing applications)."
    )
    operation: str = strawberry.field(
        description="create, update, or unchanged (the record already held what the item says; nothing was written or fed)."
    )


@strawberry.type(description="The item was refused because of its content; nothing of it was written.")
class ValidationError:
    index: int = strawberry.field(description="Position of the item in the batch.")
    problems: list[FieldProblem] = strawberry.field(description="Every problem found.")


@strawberry.type(description="The record changed since the version the item was based on (or exists already); nothing was written.")
class VersionConflict:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The record's key.")
    current_version: int | None = strawberry.field(description="The record's current version.")
    reason: str = strawberry.field(description="What conflicted.")


@strawberry.type(description="The record to update, or the record the item hangs off (its household, person, project or registration), does not exist; nothing was written.")
class NotFound:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The key asked for.")
    field: str | None = strawberry.field(
        default=None, description="The input field naming the missing record when it is a parent (e.g. householdId); null when it is the record itself."
    )


@strawberry.type(description="The client may not write this record (e.g. outside its districts); nothing was written.")
class Forbidden:
    index: int = strawberry.field(description="Position of the item in the batch.")
    reason: str = strawberry.field(description="Why.")


@strawberry.type(description="The item was valid but not written, because another item of an all-or-nothing batch failed.")
class NotApplied:
    index: int = strawberry.field(description="Position of the item in the batch.")
    reason: str = strawberry.field(description="Why.")


ItemResult = Annotated[
    Applied | ValidationError | VersionConflict | NotFound | Forbidden | NotApplied,
    strawberry.union("ItemResult", description="What happened to one item of a batch."),
]


@strawberry.type(description="The outcome of a sync batch.")
class SyncResult:
    idempotency_key: str = strawberry.field(description="The key the batch was sent with.")
    replayed: bool = strawberry.field(description="True when this is the stored result of an earlier identical request.")
    applied: int = strawberry.field(description="How many items were written.")
    failed: int = strawberry.field(description="How many were not.")
    items: list[ItemResult] = strawberry.field(description="One result per item, in order.")


@strawberry.input(description="A person in the ministry's register. Omit expectedVersion to create; give it to update.")
class PersonInput:
    citizen_id: str = strawberry.field(description="13-digit citizen ID (dashes or spaces allowed).")
    nationality: str = strawberry.field(description="ISO 3166 alpha-2, e.g. TH.")
    title: str = strawberry.field(description="Title in Thai.")
    first_name: str = strawberry.field(description="First name in Thai.")
    last_name: str = strawberry.field(description="Last name in Thai.")
    sex: str = strawberry.field(description="MALE or FEMALE.")
    birth_date: str = strawberry.field(description="ISO 8601 date in the common era (not the Buddhist Era).")
    subdistrict_code: str = strawberry.field(description="6-digit DOPA subdistrict code.")
    death_date: str | None = strawberry.field(default=None, description="ISO 8601 date of death, if deceased.")
    household_id: int | None = strawberry.field(default=None, description="The ministry's household number.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="A welfare case (ministry). Omit expectedVersion to create; give it to update.")
class CaseInput:
    case_id: int = strawberry.field(description="The ministry's case number.")
    category: str = strawberry.field(description="HOMELESS, BEGGAR, CHILD, YOUTH, ELDERLY, DISABILITY, WOMEN, FAMILY, VULNERABLE or HOUSING.")
    channel: str = strawberry.field(description="HOTLINE_1300, ONE_HOME, TAMBON_CENTRE, REFERRAL or OUTREACH.")
    status: str = strawberry.field(description="OPEN, IN_PROGRESS, REFERRED or CLOSED.")
    subdistrict_code: str = strawberry.field(description="6-digit DOPA subdistrict code.")
    opened_at: str = strawberry.field(description="ISO 8601 date-time with offset.")
    summary: str = strawberry.field(description="Case summary (special-category data).")
    citizen_id: str | None = strawberry.field(default=None, description="The person concerned, if identified.")
    household_id: int | None = strawberry.field(default=None, description="The household concerned.")
    centre_code: str | None = strawberry.field(default=None, description="The tambon social assistance centre.")
    closed_at: str | None = strawberry.field(default=None, description="ISO 8601 date-time with offset, when closed.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="An allowance registration (city). Omit registrationId to register; give it and expectedVersion to update.")
class AllowanceInput:
    citizen_id: str = strawberry.field(description="13-digit citizen ID; the city stores it in its dashed form.")
    title: str = strawberry.field(description="Title in Thai.")
    first_name: str = strawberry.field(description="First name in Thai.")
    last_name: str = strawberry.field(description="Last name in Thai.")
    birth_date: str = strawberry.field(description="ISO 8601 date in the common era; the city stores it in the Buddhist Era.")
    district_code: str = strawberry.field(description="Bangkok DOPA district code (1001-1050); the city stores its own number.")
    address: str = strawberry.field(description="Address in Thai.")
    fiscal_year: int = strawberry.field(description="Thai fiscal year of registration, Buddhist Era (e.g. 2569).")
    monthly_amount: str = strawberry.field(description="Monthly amount in baht, a decimal string (e.g. \"700.00\").")
    status: str = strawberry.field(description="ACTIVE, SUSPENDED, DECEASED or MOVED.")
    bank_account: str | None = strawberry.field(default=None, description="Account for transfers (special-category data).")
    card_no: str | None = strawberry.field(default=None, description="Disability card number (disability allowance only).")
    registration_id: int | None = strawberry.field(default=None, description="The city's registration number, to update.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="A monthly allowance payment (city).")
class PaymentInput:
    kind: str = strawberry.field(description="ELDERLY_ALLOWANCE or DISABILITY_ALLOWANCE.")
    registration_id: int = strawberry.field(description="The registration paid.")
    month: str = strawberry.field(description="YYYY-MM in the common era; the city stores a Buddhist-Era YYYYMM.")
    amount: str = strawberry.field(description="Amount in baht, a decimal string.")
    channel: str = strawberry.field(description="CASH or TRANSFER.")
    paid_at: str | None = strawberry.field(default=None, description="ISO 8601 date-time with offset, if paid.")


@strawberry.input(description="A household of the ministry's register. Omit expectedVersion to create; give it to update.")
class HouseholdInput:
    household_id: int = strawberry.field(description="The ministry's household number.")
    address: str = strawberry.field(description="Address in Thai.")
    subdistrict_code: str = strawberry.field(description="6-digit DOPA subdistrict code.")
    in_bmn: bool = strawberry.field(description="Whether the household is in the BMN (จปฐ.) census; BMN does not cover Bangkok.")
    has_welfare_card: bool = strawberry.field(description="Whether the household holds a state welfare card.")
    house_code: str | None = strawberry.field(default=None, description="The 11-digit house code of the civil register, if known.")
    logbook_stage: int | None = strawberry.field(
        default=None, description="Family-logbook support stage: 1 survival, 2 sufficiency, 3 sustainability."
    )
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(
    description="One TPMAP (MPI) indicator of a household for a survey year (ministry). The source keeps no version: "
                "an item creates the assessment, or replaces its deprived answer when it exists."
)
class MpiAssessmentInput:
    household_id: int = strawberry.field(description="The ministry's household number; the household must exist.")
    survey_year: int = strawberry.field(description="Survey year in the common era (2000 to this year), not the Buddhist Era.")
    indicator: int = strawberry.field(
        description="BMN indicator number, one of the 17 TPMAP scores: 1, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 19, 20, 21, 22, 27, 28."
    )
    deprived: bool = strawberry.field(description="Whether the household fails the indicator.")


@strawberry.input(
    description="A disability ID card (ministry). The source keeps no version: a new card number creates the card; an "
                "existing one may be corrected, renewed (a later expiresOn) or revoked, but never moved to another "
                "person, shortened or reinstated (VersionConflict)."
)
class DisabilityCardInput:
    card_no: str = strawberry.field(description="The card number (at most 20 characters).")
    citizen_id: str = strawberry.field(description="13-digit citizen ID of the holder; the person must be in the ministry's register.")
    disability_type: int = strawberry.field(
        description="1 visual, 2 hearing or communication, 3 physical or mobility, 4 mental or behavioural, 5 intellectual, 6 learning, 7 autism."
    )
    issued_on: str = strawberry.field(description="ISO 8601 date in the common era; not in the future.")
    expires_on: str = strawberry.field(description="ISO 8601 date in the common era, after issuedOn.")
    revoked: bool = strawberry.field(default=False, description="Whether the card was revoked; a revoked card stays revoked.")


@strawberry.input(description="An elderly funeral aid application (city); create-only, one per death unless an earlier one was rejected.")
class FuneralAidInput:
    deceased_citizen_id: str = strawberry.field(description="13-digit citizen ID of the deceased; the city stores it in its dashed form.")
    deceased_name: str = strawberry.field(description="Title and name of the deceased in Thai.")
    applicant_citizen_id: str = strawberry.field(description="13-digit citizen ID of the heir who applies; stored dashed.")
    district_code: str = strawberry.field(description="Bangkok DOPA district code (1001-1050); the city stores its own number.")
    death_date: str = strawberry.field(description="ISO 8601 date of death in the common era; the city stores it in the Buddhist Era.")
    status: str = strawberry.field(description="APPROVED, PENDING or REJECTED.")
    amount: str | None = strawberry.field(default=None, description='Amount in baht, a decimal string; default "3000.00", the current rate.')
    approved_at: str | None = strawberry.field(
        default=None, description="ISO 8601 date-time with offset of the approval; required for APPROVED, absent otherwise."
    )


@strawberry.input(description="A point-in-time count of homeless people at one place (city); create-only, one per place and date.")
class HomelessCountInput:
    district_code: str = strawberry.field(description="Bangkok DOPA district code (1001-1050).")
    count_date: str = strawberry.field(description="ISO 8601 date of the count in the common era; not in the future.")
    place: str = strawberry.field(description="Where the count was taken, in Thai.")
    male: int = strawberry.field(description="Men counted (0 or more).")
    female: int = strawberry.field(description="Women counted (0 or more).")
    unspecified: int = strawberry.field(description="People counted whose sex was not recorded (0 or more).")


@strawberry.input(description="A person on the city's homeless roster; create-only, one entry per identified person.")
class HomelessPersonInput:
    nickname: str = strawberry.field(description="The name the person goes by.")
    sex: str = strawberry.field(description="MALE, FEMALE or UNSPECIFIED.")
    age_band: str = strawberry.field(
        description="18-29, 30-39, 40-49, 50-59 or 60+ (the roster holds adults; a child is a child-protection case)."
    )
    district_code: str = strawberry.field(description="Bangkok DOPA district code (1001-1050) where the person stays.")
    first_seen: str = strawberry.field(description="ISO 8601 date in the common era; not in the future.")
    last_seen: str | None = strawberry.field(default=None, description="ISO 8601 date, not before firstSeen; default firstSeen.")
    citizen_id: str | None = strawberry.field(
        default=None, description="13-digit citizen ID if the person has one (many do not); the city stores it dashed."
    )
    referred_to: str | None = strawberry.field(default=None, description="Where the person was referred (shelter, hospital ...).")


@strawberry.input(
    description="A housing application (city). Omit applicationId to file one (every filing field required); give "
                "applicationId and status alone to decide a PENDING one (APPROVED or REJECTED; a decision is final)."
)
class HousingApplicationInput:
    status: str = strawberry.field(description="PENDING, APPROVED or REJECTED.")
    application_id: int | None = strawberry.field(default=None, description="The city's application number, to decide it.")
    project_id: int | None = strawberry.field(default=None, description="The housing project applied for; it must exist. Filing only.")
    citizen_id: str | None = strawberry.field(default=None, description="13-digit citizen ID of the applicant; stored dashed. Filing only.")
    household_size: int | None = strawberry.field(default=None, description="Persons in the household, 1-20. Filing only.")
    monthly_income: str | None = strawberry.field(
        default=None, description="Household income per month in baht, a decimal string, not negative. Filing only."
    )
    applied_on: str | None = strawberry.field(default=None, description="ISO 8601 date of the application in the common era. Filing only.")


@strawberry.type(description="One applied change, as the change feed reports it (fetch the record itself to see its data).")
class Change:
    seq: int = strawberry.field(description="Position in the feed.")
    source: str = strawberry.field(description="ministry or city.")
    entity: str = strawberry.field(description="What kind of record changed, e.g. person, elderly_allowance.")
    source_key: str = strawberry.field(description="The source table and key of the record (citizen IDs masked without pii:read).",
                                       extensions=masked("source_key"))
    citizen_id: str | None = strawberry.field(description="The person concerned, if any (masked without pii:read).",
                                              extensions=masked("citizen_id"))
    district_code: str | None = strawberry.field(description="The record's district (DOPA code).")
    operation: str = strawberry.field(description="create or update.")
    version: int = strawberry.field(description="The record's version after the change.")
    changed_fields: list[str] = strawberry.field(description="The source columns written.")
    occurred_at: datetime.datetime = strawberry.field(description="When the change was applied (UTC).")


@strawberry.type(description="A change in the feed, with its cursor.")
class ChangeEdge:
    node: Change = strawberry.field(description="The change.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this change.")


@strawberry.type(description="A page of the change feed, oldest first. Keep endCursor: it is where the next poll starts.")
class ChangeConnection:
    edges: list[ChangeEdge] = strawberry.field(description="The changes on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

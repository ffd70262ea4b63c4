"""The unified record types: persons, households, benefits, cases and the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from resolvers import records as resolve
from schema.common import PageInfo, Provenance, RecordIssue
from schema.geography import District
from schema.guards import CityRead, MinistryRead, PurposeStated, SensitiveRead, masked
from schema.scalars import CitizenId


@strawberry.enum(description="Kinds of benefit the hub brings together.")
class BenefitKind(Enum):
    ELDERLY_ALLOWANCE = "ELDERLY_ALLOWANCE"
    DISABILITY_ALLOWANCE = "DISABILITY_ALLOWANCE"
    CHILD_SUPPORT_GRANT = "CHILD_SUPPORT_GRANT"
    FUNERAL_AID = "FUNERAL_AID"


_district_field = dict(resolver=resolve.district_of, description="The district, by DOPA code (null if unknown).")


@strawberry.type(description="A monthly allowance payment made by a Bangkok district office (city).")
class Payment:
    payment_id: int = strawberry.field(description="The city's payment number.")
    month: dt.date | None = strawberry.field(description="First day of the month paid for (CE).")
    amount: Decimal = strawberry.field(description="Amount paid in baht.")
    paid_at: dt.datetime | None = strawberry.field(description="When it was paid (Bangkok time); null if not yet paid.")
    channel: str | None = strawberry.field(description="CASH or TRANSFER.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")
    issues: list[RecordIssue] = strawberry.field(description="Source values that could not be normalised.")


@strawberry.type(
    description="A benefit: an elderly or disability allowance registration (city), a child support grant "
    "(ministry) or elderly funeral aid (city)."
)
class Benefit:
    kind: BenefitKind = strawberry.field(description="What kind of benefit this is.")
    benefit_id: str = strawberry.field(description="The source's identifier of the registration or grant.")
    citizen_id: CitizenId | None = strawberry.field(
        description="The beneficiary (for funeral aid, the deceased); null when the source's PID is not a valid ID.",
        extensions=masked("citizen_id"),
    )
    status: str | None = strawberry.field(description="ACTIVE, SUSPENDED, DECEASED or MOVED (allowances); APPROVED, PENDING or REJECTED (funeral aid).")
    monthly_amount: Decimal | None = strawberry.field(description="Monthly amount in baht (allowances and grants).")
    amount: Decimal | None = strawberry.field(description="One-off amount in baht (funeral aid).")
    fiscal_year: int | None = strawberry.field(description="Thai fiscal year of registration (Buddhist Era, e.g. 2568).")
    start_date: dt.date | None = strawberry.field(description="Start of a grant; date of death for funeral aid.")
    end_date: dt.date | None = strawberry.field(description="End of a grant, if ended.")
    title: str | None = strawberry.field(description="Title as registered.")
    first_name: str | None = strawberry.field(description="First name as registered (full name for funeral aid).", extensions=masked("name"))
    last_name: str | None = strawberry.field(description="Last name as registered.", extensions=masked("name"))
    birth_date: dt.date | None = strawberry.field(description="Birth date as registered, converted from the Buddhist Era.", extensions=masked("hidden"))
    address: str | None = strawberry.field(description="Address as registered.", extensions=masked("hidden"))
    card_no: str | None = strawberry.field(description="Disability card number quoted in a disability allowance registration.")
    bank_account: str | None = strawberry.field(
        description="Bank account for transfers (special category: needs sensitive:read).",
        permission_classes=[SensitiveRead],
    )
    district: District | None = strawberry.field(**_district_field)
    payments: list[Payment] | None = strawberry.field(
        resolver=resolve.payments, description="Payments of an allowance, oldest month first (city).",
        permission_classes=[CityRead],
    )
    provenance: Provenance = strawberry.field(description="Where the record came from.")
    issues: list[RecordIssue] = strawberry.field(description="Source values that could not be normalised.")


@strawberry.type(description="A disability ID card issued by the ministry (Department of Empowerment of Persons with Disabilities).")
class DisabilityCard:
    card_no: str = strawberry.field(description="Card number.")
    disability_type: int | None = strawberry.field(
        description="Disability type 1-7 (special category: needs sensitive:read).", permission_classes=[SensitiveRead]
    )
    issued_on: dt.date = strawberry.field(description="Date of issue.")
    expires_on: dt.date = strawberry.field(description="Date of expiry.")
    revoked: bool = strawberry.field(description="Whether the card was revoked.")
    valid: bool = strawberry.field(resolver=resolve.card_valid, description="Unexpired and unrevoked today.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A social welfare case handled by the ministry (hotline 1300, One Home teams, tambon centres...).")
class WelfareCase:
    case_id: int = strawberry.field(description="The ministry's case number.")
    citizen_id: CitizenId | None = strawberry.field(
        description="The person concerned; null when the person has no ID (e.g. some homeless people).",
        extensions=masked("citizen_id"),
    )
    category: str = strawberry.field(description="HOMELESS, BEGGAR, CHILD, YOUTH, ELDERLY, DISABILITY, WOMEN, FAMILY, VULNERABLE or HOUSING.")
    channel: str = strawberry.field(description="HOTLINE_1300, ONE_HOME, TAMBON_CENTRE, REFERRAL or OUTREACH.")
    status: str = strawberry.field(description="OPEN, IN_PROGRESS, REFERRED or CLOSED.")
    centre_code: str | None = strawberry.field(description="The tambon social assistance centre handling it, if any.")
    subdistrict_code: str = strawberry.field(description="DOPA subdistrict code.")
    district: District | None = strawberry.field(**_district_field)
    opened_at: dt.datetime = strawberry.field(description="When the case was opened (UTC).")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed (UTC).")
    summary: str | None = strawberry.field(
        description="Case summary (special category: needs sensitive:read).", permission_classes=[SensitiveRead]
    )
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="One TPMAP/BMN indicator result for a household in a survey year.")
class MpiAssessment:
    survey_year: int = strawberry.field(description="Survey year (CE).")
    indicator: int = strawberry.field(description="BMN indicator number (e.g. 8 = secure, durable housing).")
    deprived: bool = strawberry.field(description="Whether the household failed the indicator.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A household in the ministry's register.")
class Household:
    household_id: int = strawberry.field(description="The ministry's household number.")
    house_code: str | None = strawberry.field(description="House code from the civil register, if known.")
    address: str | None = strawberry.field(description="Address in Thai.", extensions=masked("hidden"))
    subdistrict_code: str = strawberry.field(description="DOPA subdistrict code.")
    district: District | None = strawberry.field(**_district_field)
    in_bmn: bool = strawberry.field(description="Covered by the BMN survey (Bangkok is not).")
    has_welfare_card: bool = strawberry.field(description="Holds a state welfare card.")
    logbook_stage: int | None = strawberry.field(description="Family logbook stage: 1 survival, 2 sufficiency, 3 sustainability.")
    members: list[Annotated["Person", strawberry.lazy("schema.persons")]] | None = strawberry.field(
        resolver=resolve.household_members, description="Persons registered in the household."
    )
    mpi_assessments: list[MpiAssessment] | None = strawberry.field(
        resolver=resolve.household_mpi, description="TPMAP indicator results, by year and indicator."
    )
    cases: list[WelfareCase] | None = strawberry.field(resolver=resolve.household_cases, description="Cases opened for the household.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A registered social development volunteer (อพม.).")
class Volunteer:
    volunteer_id: int = strawberry.field(description="The ministry's volunteer number.")
    subdistrict_code: str = strawberry.field(description="Where the volunteer serves.")
    registered_on: dt.date = strawberry.field(description="Date of registration.")
    active: bool = strawberry.field(description="Whether still active.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A person the city's homeless outreach has recorded.")
class HomelessPerson:
    homeless_id: int = strawberry.field(description="The city's record number.")
    citizen_id: CitizenId | None = strawberry.field(description="Citizen ID if known and valid.", extensions=masked("citizen_id"))
    nickname: str | None = strawberry.field(description="Nickname given.", extensions=masked("name"))
    sex: str | None = strawberry.field(description="MALE, FEMALE or UNSPECIFIED.")
    age_band: str = strawberry.field(description="Age band, e.g. 18-29, 60+.")
    district: District | None = strawberry.field(**_district_field)
    first_seen: dt.date = strawberry.field(description="First recorded.")
    last_seen: dt.date = strawberry.field(description="Last recorded.")
    referred_to: str | None = strawberry.field(description="Where the person was referred, if anywhere.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")
    issues: list[RecordIssue] = strawberry.field(description="Source values that could not be normalised.")


@strawberry.type(description="An application for a unit in a city housing project.")
class HousingApplication:
    application_id: int = strawberry.field(description="The city's application number.")
    project_id: int = strawberry.field(description="The housing project applied to.")
    citizen_id: CitizenId | None = strawberry.field(description="The applicant, if the PID is valid.", extensions=masked("citizen_id"))
    household_size: int = strawberry.field(description="Persons in the applying household.")
    monthly_income: Decimal = strawberry.field(description="Declared household income per month in baht.")
    applied_on: dt.date = strawberry.field(description="Date of application.")
    status: str | None = strawberry.field(description="PENDING, APPROVED or REJECTED.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")
    issues: list[RecordIssue] = strawberry.field(description="Source values that could not be normalised.")


@strawberry.input(description="Which cases to list. All given conditions must hold.")
class CaseFilter:
    district_code: str | None = strawberry.field(default=None, description='DOPA district code, e.g. "1001".')
    category: str | None = strawberry.field(default=None, description="HOMELESS, BEGGAR, CHILD, YOUTH, ELDERLY, DISABILITY, WOMEN, FAMILY, VULNERABLE or HOUSING.")
    status: str | None = strawberry.field(default=None, description="OPEN, IN_PROGRESS, REFERRED or CLOSED.")


@strawberry.type(description="A case in a list, with its cursor.")
class CaseEdge:
    node: WelfareCase = strawberry.field(description="The case.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this case.")


async def _case_total(root) -> int:
    return await root.total_count()


@strawberry.type(description="A page of welfare cases in case-number order.")
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(description="The cases on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(resolver=_case_total, description="How many cases match.")


@strawberry.type(description="A point-in-time count of homeless people at one place (city).")
class HomelessCount:
    count_id: int = strawberry.field(description="The city's count record number.")
    count_date: dt.date = strawberry.field(description="Date of the count.")
    place: str = strawberry.field(description="Where people were counted.")
    male: int = strawberry.field(description="Men counted.")
    female: int = strawberry.field(description="Women counted.")
    unspecified: int = strawberry.field(description="People whose sex was not recorded.")
    total: int = strawberry.field(description="Everyone counted.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A city housing project.")
class HousingProject:
    project_id: int = strawberry.field(description="The city's project number.")
    name: str = strawberry.field(description="Project name.")
    units_total: int = strawberry.field(description="Units in the project.")
    units_occupied: int = strawberry.field(description="Units occupied.")
    opened_on: dt.date = strawberry.field(description="Date opened.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A registered community (chumchon) in a Bangkok district.")
class Community:
    community_id: int = strawberry.field(description="The city's community number.")
    name: str = strawberry.field(description="Community name.")
    community_type: str = strawberry.field(description="Type of community as the city classifies it.")
    households: int = strawberry.field(description="Households in the community.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")


@strawberry.type(description="A tambon social assistance centre (ministry).")
class AssistanceCentre:
    centre_code: str = strawberry.field(description="Centre code.")
    name_th: str = strawberry.field(description="Name in Thai.")
    subdistrict_code: str = strawberry.field(description="DOPA subdistrict code.")
    opened_on: dt.date = strawberry.field(description="Date opened.")
    provenance: Provenance = strawberry.field(description="Where the record came from.")

"""The ministry's tables bound to the unified records (its conventions are already tidy)."""

from hub import normalise as n
from hub.bindings import Binding, Col, Relation, prefix_filter
from hub.records import (
    AssistanceCentreRecord,
    BenefitRecord,
    DisabilityCardRecord,
    HouseholdRecord,
    MpiRecord,
    PersonRecord,
    VolunteerRecord,
    WelfareCaseRecord,
)
from hub.sources.ministry import tables as t

SOURCE = "ministry"


def _district(values: dict) -> str | None:
    return n.district_of_subdistrict(values.get("subdistrict_code"))


PERSON = Binding(
    name="ministry.person",
    source=SOURCE,
    record=PersonRecord,
    table=t.person,
    key=t.person.c.citizen_id,
    updated_at=t.person.c.updated_at,
    updated_at_normalise=n.utc,
    fields={
        "citizen_id": Col(t.person.c.citizen_id),
        "nationality": Col(t.person.c.nationality),
        "title": Col(t.person.c.title_th),
        "first_name": Col(t.person.c.first_name_th),
        "last_name": Col(t.person.c.last_name_th),
        "sex": Col(t.person.c.sex, n.letter(n.SEX, "sex")),
        "birth_date": Col(t.person.c.birth_date),
        "death_date": Col(t.person.c.death_date),
        "household_id": Col(t.person.c.household_id),
        "subdistrict_code": Col(t.person.c.subdistrict_code),
    },
    derived={"district_code": _district},
    district_filter=prefix_filter(t.person.c.subdistrict_code),
)

HOUSEHOLD = Binding(
    name="ministry.household",
    source=SOURCE,
    record=HouseholdRecord,
    table=t.household,
    key=t.household.c.household_id,
    updated_at=t.household.c.updated_at,
    updated_at_normalise=n.utc,
    fields={
        "household_id": Col(t.household.c.household_id),
        "house_code": Col(t.household.c.house_code),
        "address": Col(t.household.c.address_th),
        "subdistrict_code": Col(t.household.c.subdistrict_code),
        "in_bmn": Col(t.household.c.in_bmn, bool),
        "has_welfare_card": Col(t.household.c.has_welfare_card, bool),
        "logbook_stage": Col(t.household.c.logbook_stage),
    },
    derived={"district_code": _district},
    district_filter=prefix_filter(t.household.c.subdistrict_code),
)

MPI_ASSESSMENT = Binding(
    name="ministry.mpi_assessment",
    source=SOURCE,
    record=MpiRecord,
    table=t.mpi_assessment,
    key=t.mpi_assessment.c.household_id,
    fields={
        "household_id": Col(t.mpi_assessment.c.household_id),
        "survey_year": Col(t.mpi_assessment.c.survey_year),
        "indicator": Col(t.mpi_assessment.c.indicator),
        "deprived": Col(t.mpi_assessment.c.deprived, bool),
    },
)

DISABILITY_CARD = Binding(
    name="ministry.disability_card",
    source=SOURCE,
    record=DisabilityCardRecord,
    table=t.disability_card,
    key=t.disability_card.c.card_no,
    fields={
        "card_no": Col(t.disability_card.c.card_no),
        "citizen_id": Col(t.disability_card.c.citizen_id),
        "disability_type": Col(t.disability_card.c.disability_type),
        "issued_on": Col(t.disability_card.c.issued_on),
        "expires_on": Col(t.disability_card.c.expires_on),
        "revoked": Col(t.disability_card.c.revoked, bool),
    },
)

WELFARE_CASE = Binding(
    name="ministry.welfare_case",
    source=SOURCE,
    record=WelfareCaseRecord,
    table=t.welfare_case,
    key=t.welfare_case.c.case_id,
    updated_at=t.welfare_case.c.updated_at,
    updated_at_normalise=n.utc,
    fields={
        "case_id": Col(t.welfare_case.c.case_id),
        "citizen_id": Col(t.welfare_case.c.citizen_id),
        "household_id": Col(t.welfare_case.c.household_id),
        "category": Col(t.welfare_case.c.category, str.upper),
        "channel": Col(t.welfare_case.c.channel, str.upper),
        "centre_code": Col(t.welfare_case.c.centre_code),
        "subdistrict_code": Col(t.welfare_case.c.subdistrict_code),
        "status": Col(t.welfare_case.c.status, str.upper),
        "opened_at": Col(t.welfare_case.c.opened_at, n.utc),
        "closed_at": Col(t.welfare_case.c.closed_at, n.utc),
        "summary": Col(t.welfare_case.c.summary),
    },
    derived={"district_code": _district},
    district_filter=prefix_filter(t.welfare_case.c.subdistrict_code),
)

CHILD_SUPPORT_GRANT = Binding(
    name="ministry.child_support_grant",
    source=SOURCE,
    record=BenefitRecord,
    table=t.child_support_grant,
    key=t.child_support_grant.c.grant_id,
    constants={"kind": "CHILD_SUPPORT_GRANT", "district_code": None, "status": None, "amount": None},
    fields={
        "benefit_id": Col(t.child_support_grant.c.grant_id, str),
        "citizen_id": Col(t.child_support_grant.c.child_citizen_id),
        "carer_citizen_id": Col(t.child_support_grant.c.carer_citizen_id),
        "monthly_amount": Col(t.child_support_grant.c.monthly_amount, n.money),
        "start_date": Col(t.child_support_grant.c.start_date),
        "end_date": Col(t.child_support_grant.c.end_date),
    },
)

VOLUNTEER = Binding(
    name="ministry.volunteer",
    source=SOURCE,
    record=VolunteerRecord,
    table=t.volunteer,
    key=t.volunteer.c.volunteer_id,
    fields={
        "volunteer_id": Col(t.volunteer.c.volunteer_id),
        "citizen_id": Col(t.volunteer.c.citizen_id),
        "subdistrict_code": Col(t.volunteer.c.subdistrict_code),
        "registered_on": Col(t.volunteer.c.registered_on),
        "active": Col(t.volunteer.c.active, bool),
    },
    derived={"district_code": _district},
    district_filter=prefix_filter(t.volunteer.c.subdistrict_code),
)

ASSISTANCE_CENTRE = Binding(
    name="ministry.assistance_centre",
    source=SOURCE,
    record=AssistanceCentreRecord,
    table=t.assistance_centre,
    key=t.assistance_centre.c.centre_code,
    fields={
        "centre_code": Col(t.assistance_centre.c.centre_code),
        "subdistrict_code": Col(t.assistance_centre.c.subdistrict_code),
        "name_th": Col(t.assistance_centre.c.name_th),
        "opened_on": Col(t.assistance_centre.c.opened_on),
    },
    derived={"district_code": _district},
    district_filter=prefix_filter(t.assistance_centre.c.subdistrict_code),
)

# Relations from a person (keyed by citizen ID) and a household.
PERSON_DISABILITY_CARDS = Relation(
    "disability_cards", DISABILITY_CARD, t.disability_card.c.citizen_id, "citizen_id",
    order_by=(t.disability_card.c.issued_on,),
)
PERSON_CASES = Relation(
    "cases", WELFARE_CASE, t.welfare_case.c.citizen_id, "citizen_id", order_by=(t.welfare_case.c.opened_at,)
)
PERSON_CHILD_SUPPORT = Relation(
    "child_support_grants", CHILD_SUPPORT_GRANT, t.child_support_grant.c.child_citizen_id, "citizen_id",
    order_by=(t.child_support_grant.c.start_date,),
)
PERSON_VOLUNTEER = Relation("volunteer", VOLUNTEER, t.volunteer.c.citizen_id, "citizen_id", many=False)
PERSON_HOUSEHOLD = Relation("household", HOUSEHOLD, t.household.c.household_id, "household_id", many=False)
HOUSEHOLD_MEMBERS = Relation(
    "members", PERSON, t.person.c.household_id, "household_id", order_by=(t.person.c.birth_date,)
)
HOUSEHOLD_MPI = Relation(
    "mpi_assessments", MPI_ASSESSMENT, t.mpi_assessment.c.household_id, "household_id",
    order_by=(t.mpi_assessment.c.survey_year, t.mpi_assessment.c.indicator),
)
HOUSEHOLD_CASES = Relation(
    "cases", WELFARE_CASE, t.welfare_case.c.household_id, "household_id", order_by=(t.welfare_case.c.opened_at,)
)

BINDINGS = (PERSON, HOUSEHOLD, MPI_ASSESSMENT, DISABILITY_CARD, WELFARE_CASE, CHILD_SUPPORT_GRANT, VOLUNTEER, ASSISTANCE_CENTRE)

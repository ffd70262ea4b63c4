"""The Person type: one citizen ID, both sources."""

from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import persons as resolve
from schema.common import PageInfo, Provenance
from schema.geography import District
from schema.guards import CityRead, MinistryRead, masked
from schema.records import Benefit, BenefitKind, DisabilityCard, HomelessPerson, Household, HousingApplication, Volunteer, WelfareCase
from schema.scalars import CitizenId


@strawberry.type(
    description="A person, joined across the ministry's register and the city's registrations on the citizen ID. "
    "Identity fields come from the ministry when it knows the person, otherwise from the city."
)
class Person:
    citizen_id: CitizenId = strawberry.field(description="Citizen ID (masked without pii:read).", extensions=masked("citizen_id"))
    sources: list[str] = strawberry.field(resolver=resolve.person_sources, description="Which sources know this person: ministry, city or both.")
    nationality: str | None = strawberry.field(description="Nationality (ISO 3166 alpha-2), from the ministry.")
    title: str | None = strawberry.field(description="Title (นาย, นาง, นางสาว, ...).")
    first_name: str | None = strawberry.field(description="First name in Thai (an initial without pii:read).", extensions=masked("name"))
    last_name: str | None = strawberry.field(description="Last name in Thai (an initial without pii:read).", extensions=masked("name"))
    sex: str | None = strawberry.field(description="MALE or FEMALE, from the ministry.")
    birth_date: dt.date | None = strawberry.field(description="Date of birth (null without pii:read).", extensions=masked("hidden"))
    birth_year: int | None = strawberry.field(description="Year of birth (CE); visible without pii:read.")
    age: int | None = strawberry.field(resolver=resolve.age, description="Age in whole years today (at death, if deceased).")
    death_date: dt.date | None = strawberry.field(description="Date of death, if the ministry records one.")
    deceased: bool | None = strawberry.field(description="Whether the ministry records the person as deceased; null if the ministry does not know the person.")
    subdistrict_code: str | None = strawberry.field(description="DOPA subdistrict code of residence (ministry).")
    district: District | None = strawberry.field(resolver=resolve.person_district, description="District of residence: the ministry's, else the city's.")
    household: Household | None = strawberry.field(resolver=resolve.household, description="The household (ministry).", permission_classes=[MinistryRead])
    disability_cards: list[DisabilityCard] | None = strawberry.field(resolver=resolve.disability_cards, description="Disability cards (ministry).", permission_classes=[MinistryRead])
    cases: list[WelfareCase] | None = strawberry.field(resolver=resolve.cases, description="Welfare cases (ministry).", permission_classes=[MinistryRead])
    child_support_grants: list[Benefit] | None = strawberry.field(resolver=resolve.child_support_grants, description="Child support grants for this child (ministry).", permission_classes=[MinistryRead])
    volunteer: Volunteer | None = strawberry.field(resolver=resolve.volunteer, description="Volunteer registration (ministry).", permission_classes=[MinistryRead])
    elderly_allowances: list[Benefit] | None = strawberry.field(resolver=resolve.elderly_allowances, description="Elderly allowance registrations (city), matched on the normalised PID.", permission_classes=[CityRead])
    disability_allowances: list[Benefit] | None = strawberry.field(resolver=resolve.disability_allowances, description="Disability allowance registrations (city).", permission_classes=[CityRead])
    funeral_aid: list[Benefit] | None = strawberry.field(resolver=resolve.funeral_aid, description="Funeral aid paid for this person's death (city).", permission_classes=[CityRead])
    homeless_records: list[HomelessPerson] | None = strawberry.field(resolver=resolve.homeless_records, description="Homeless outreach records (city).", permission_classes=[CityRead])
    housing_applications: list[HousingApplication] | None = strawberry.field(resolver=resolve.housing_applications, description="Housing applications (city).", permission_classes=[CityRead])
    provenance: list[Provenance] = strawberry.field(resolver=resolve.person_provenance, description="Every source record that makes up this person.")


@strawberry.input(description="Which persons to list. All given conditions must hold.")
class PersonFilter:
    district_code: str | None = strawberry.field(default=None, description='DOPA district code, e.g. "1001".')
    age_min: int | None = strawberry.field(default=None, description="Youngest age, in whole years today.")
    age_max: int | None = strawberry.field(default=None, description="Oldest age, in whole years today.")
    benefit_kind: BenefitKind | None = strawberry.field(default=None, description="Holds at least one benefit of this kind.")


@strawberry.type(description="A person in a list, with its cursor.")
class PersonEdge:
    node: Person = strawberry.field(description="The person.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this person.")


async def _person_total(root) -> int:
    return await root.total_count()


@strawberry.type(description="A page of persons in citizen-ID order.")
class PersonConnection:
    edges: list[PersonEdge] = strawberry.field(description="The persons on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(resolver=_person_total, description="How many persons match, across both sources (costs a count on each source).")

"""Per-district figures and the four committees' lenses over them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from hub import geography
from resolvers import figures as resolve
from resolvers import sources as source_resolvers


def _m(name: str):
    return lambda root: getattr(root.ministry, name) if root.ministry is not None else None


def _c(name: str):
    return lambda root: getattr(root.city, name) if root.city is not None else None


def _ministry_field(name: str, description: str):
    return strawberry.field(resolver=_m(name), description=f"{description} (ministry; null if unavailable or not permitted).")


def _city_field(name: str, description: str):
    return strawberry.field(resolver=_c(name), description=f"{description} (city; null if unavailable or not permitted).")


@strawberry.type(description="A count per category.")
class CategoryCount:
    category: str = strawberry.field(description="The category.")
    count: int = strawberry.field(description="How many.")


def _open_cases(root) -> list[CategoryCount] | None:
    if root.ministry is None:
        return None
    return [CategoryCount(category=k, count=v) for k, v in sorted(root.ministry.open_cases.items())]


@strawberry.type(description="Figures for one district from both sources. Ministry figures cover the whole country; city figures only Bangkok.")
class DistrictFigures:
    persons: int | None = _ministry_field("persons", "Living persons registered in the district")
    elderly_persons: int | None = _ministry_field("elderly_persons", "Living persons aged 60 or more")
    deceased_persons: int | None = _ministry_field("deceased_persons", "Persons recorded as deceased")
    households: int | None = _ministry_field("households", "Households")
    households_with_welfare_card: int | None = _ministry_field("households_with_welfare_card", "Households holding a welfare card")
    households_deprived: int | None = _ministry_field("households_deprived", "Households failing at least one TPMAP indicator in the latest survey year")
    households_deprived_living_conditions: int | None = _ministry_field(
        "households_deprived_living_conditions", "Households failing a TPMAP living-conditions indicator (8-11)")
    disability_cards_valid: int | None = _ministry_field("disability_cards_valid", "Unexpired, unrevoked disability cards of residents")
    child_support_grants_active: int | None = _ministry_field("child_support_grants_active", "Child support grants in payment")
    volunteers_active: int | None = _ministry_field("volunteers_active", "Active social development volunteers")
    assistance_centres: int | None = _ministry_field("assistance_centres", "Tambon social assistance centres")
    open_cases: list[CategoryCount] | None = strawberry.field(resolver=_open_cases, description="Open, in-progress or referred cases by category (ministry).")
    elderly_allowance_active: int | None = _city_field("elderly_allowance_active", "Active elderly allowance registrations")
    elderly_allowance_monthly: Decimal | None = _city_field("elderly_allowance_monthly", "Monthly elderly allowance of active registrations, baht")
    disability_allowance_active: int | None = _city_field("disability_allowance_active", "Active disability allowance registrations")
    disability_allowance_monthly: Decimal | None = _city_field("disability_allowance_monthly", "Monthly disability allowance of active registrations, baht")
    funeral_aid_cases: int | None = _city_field("funeral_aid_cases", "Funeral aid applications")
    homeless_counted: int | None = _city_field("homeless_counted", "Homeless people in the latest point-in-time count")
    homeless_count_date: dt.date | None = _city_field("homeless_count_date", "Date of the latest count")
    homeless_persons: int | None = _city_field("homeless_persons", "Homeless people on the outreach register")
    housing_projects: int | None = _city_field("housing_projects", "City housing projects")
    housing_units_total: int | None = _city_field("housing_units_total", "Units in those projects")
    housing_units_occupied: int | None = _city_field("housing_units_occupied", "Occupied units")
    housing_applications_pending: int | None = _city_field("housing_applications_pending", "Pending housing applications")
    communities: int | None = _city_field("communities", "Registered communities")
    community_households: int | None = _city_field("community_households", "Households in those communities")


@strawberry.type(description="A district seen through a committee's lens: the district and its figures.")
class CommitteeDistrict:
    district: Annotated["District", strawberry.lazy("schema.geography")] = strawberry.field(
        resolver=lambda root: geography.district(root.district_code), description="The district."
    )
    figures: DistrictFigures = strawberry.field(description="The district's figures; each committee reads the ones its lens names.")


@strawberry.enum(description="What a committee looks at.")
class CommitteeLens(Enum):
    HOMELESS = "HOMELESS"
    HOUSING = "HOUSING"
    VULNERABLE_GROUPS = "VULNERABLE_GROUPS"
    DATA = "DATA"


LENS_FIGURES = {
    "HOMELESS": ["homelessCounted", "homelessCountDate", "homelessPersons", "openCases"],
    "HOUSING": ["housingProjects", "housingUnitsTotal", "housingUnitsOccupied", "housingApplicationsPending",
                "householdsDeprivedLivingConditions", "communities", "communityHouseholds", "openCases"],
    "VULNERABLE_GROUPS": ["elderlyPersons", "elderlyAllowanceActive", "elderlyAllowanceMonthly", "disabilityCardsValid",
                          "disabilityAllowanceActive", "disabilityAllowanceMonthly", "childSupportGrantsActive",
                          "funeralAidCases", "volunteersActive", "assistanceCentres", "openCases"],
    "DATA": ["persons", "households", "elderlyPersons", "elderlyAllowanceActive", "disabilityCardsValid",
             "disabilityAllowanceActive"],
}


async def _sources(root, info: strawberry.Info):
    if root.lens != "DATA":
        return None
    return await source_resolvers.sources(info)


@strawberry.type(description="One of the four joint MSDHS-BMA committees, as a lens over the same data.")
class Committee:
    number: int = strawberry.field(description="1 homeless and beggars, 2 housing, 3 vulnerable groups, 4 data and information.")
    name_en: str = strawberry.field(description="Name in English.")
    name_th: str = strawberry.field(description="Name in Thai.")
    description: str = strawberry.field(description="What the committee looks at.")
    lens: CommitteeLens = strawberry.field(description="The lens, as an enum.")
    figure_names: list[str] = strawberry.field(
        resolver=lambda root: LENS_FIGURES[root.lens], description="The DistrictFigures fields this committee reads."
    )
    districts: list[CommitteeDistrict] = strawberry.field(
        resolver=resolve.committee_districts,
        description='The districts of a province (default Bangkok, "10") with their figures; a district-limited token sees only its districts.',
    )
    sources: list[Annotated["SourceStatus", strawberry.lazy("schema.sources")]] | None = strawberry.field(
        resolver=_sources,
        description="For committee 4: the state and freshness of each source; null for the other committees.",
    )

"""Provinces, districts and subdistricts, keyed by DOPA codes."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import figures, records
from schema.guards import CityRead, MinistryRead, PurposeStated
from resolvers import geography as resolve


@strawberry.type(description="A subdistrict (tambon, or khwaeng in Bangkok), keyed by its 6-digit DOPA code.")
class Subdistrict:
    code: str = strawberry.field(description='DOPA subdistrict code, e.g. "100101".')
    name_th: str = strawberry.field(description="Official Thai name.")
    name_en: str = strawberry.field(description="Official English name.")
    district_code: str = strawberry.field(description="DOPA code of the district it lies in.")
    postal_codes: list[str] = strawberry.field(description="Postal codes used in the subdistrict.")


@strawberry.type(description='A province (changwat), keyed by its 2-digit DOPA code; Bangkok is "10".')
class Province:
    code: str = strawberry.field(description='DOPA province code, e.g. "10".')
    name_th: str = strawberry.field(description="Official Thai name.")
    name_en: str = strawberry.field(description="Official English name.")
    districts: list[District] = strawberry.field(
        resolver=resolve.districts_of, description="The districts of the province, by code."
    )


@strawberry.type(description="A district (amphoe, or khet in Bangkok), keyed by its 4-digit DOPA code.")
class District:
    code: str = strawberry.field(description='DOPA district code, e.g. "1001" for Phra Nakhon.')
    name_th: str = strawberry.field(description="Official Thai name.")
    name_en: str = strawberry.field(description="Official English name (DOPA spelling, not always RTGS).")
    province_code: str = strawberry.field(description="DOPA code of the province it lies in.")
    province: Province = strawberry.field(
        resolver=resolve.province_of, description="The province the district lies in."
    )
    subdistricts: list[Subdistrict] = strawberry.field(
        resolver=resolve.subdistricts_of, description="The district's current subdistricts, by code."
    )
    homeless_counts: list[Annotated["HomelessCount", strawberry.lazy("schema.records")]] | None = strawberry.field(
        resolver=records.homeless_counts, description="Point-in-time homeless counts (city; Bangkok only).",
        permission_classes=[CityRead],
    )
    housing_projects: list[Annotated["HousingProject", strawberry.lazy("schema.records")]] | None = strawberry.field(
        resolver=records.housing_projects, description="City housing projects (Bangkok only).", permission_classes=[CityRead]
    )
    communities: list[Annotated["Community", strawberry.lazy("schema.records")]] | None = strawberry.field(
        resolver=records.communities, description="Registered communities (city; Bangkok only).", permission_classes=[CityRead]
    )
    assistance_centres: list[Annotated["AssistanceCentre", strawberry.lazy("schema.records")]] | None = strawberry.field(
        resolver=records.assistance_centres, description="Tambon social assistance centres (ministry).",
        permission_classes=[MinistryRead],
    )
    unlinked_registrations: list[Annotated["Benefit", strawberry.lazy("schema.records")]] | None = strawberry.field(
        resolver=records.unlinked_registrations,
        description="Allowance registrations (city) whose PID is no valid citizen ID, so they join no person; "
        "their issues say why. Kept visible rather than dropped.",
        permission_classes=[CityRead, PurposeStated],
    )
    figures: Annotated["DistrictFigures", strawberry.lazy("schema.figures")] | None = strawberry.field(
        resolver=figures.figures_of,
        description="Figures from both sources (null parts where a source is unavailable or not permitted).",
    )

"""The root Query type and the schema object."""

from __future__ import annotations

import strawberry

from resolvers import geography, sources
from schema.geography import District, Province
from schema.sources import SourceStatus


@strawberry.type(description="Read access to the hub's unified view.")
class Query:
    sources: list[SourceStatus] = strawberry.field(
        resolver=sources.sources,
        description="The federated source databases and whether each answers now.",
    )
    provinces: list[Province] = strawberry.field(
        resolver=geography.provinces, description="All provinces, by DOPA code."
    )
    districts: list[District] = strawberry.field(
        resolver=geography.districts,
        description='The districts of a province, by DOPA code; provinceCode "10" gives Bangkok\'s 50 khet.',
    )
    district: District | None = strawberry.field(
        resolver=geography.district, description="One district by its 4-digit DOPA code; null if unknown."
    )


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)

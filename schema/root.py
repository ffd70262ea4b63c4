"""The root Query type and the schema object."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from resolvers import audit as audit_resolvers
from resolvers import data_issues as issue_resolvers
from resolvers import changes as change_resolvers
from resolvers import cases as case_resolvers
from resolvers import figures, geography, persons, sources
from resolvers import sync as sync_resolvers
from schema.audit import AuditConnection, AuditEntry, AuditFilter
from schema.data_issues import DataIssueConnection, DataIssueFilter
from schema.figures import Committee
from schema.geography import District, Province
from schema.guards import AuditRead, CityWrite, MinistryRead, MinistryWrite, PurposeStated
from schema.limits import limit_extensions
from schema.persons import Person, PersonConnection, PersonFilter
from schema.records import CaseConnection, CaseFilter, Household
from schema.errors import HubSchema
from schema.scalars import SCALAR_MAP, CitizenId, parse_citizen_id_argument
from schema.sources import SourceStatus
from schema.sync import (
    AllowanceInput,
    CaseInput,
    ChangeConnection,
    DisabilityCardInput,
    FuneralAidInput,
    HomelessCountInput,
    HomelessPersonInput,
    HouseholdInput,
    HousingApplicationInput,
    MpiAssessmentInput,
    PaymentInput,
    PersonInput,
    SyncMode,
    SyncResult,
)


FIRST = Annotated[int | None, strawberry.argument(description="Page size, 0-100 (default 20).")]
AFTER = Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")]


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

    committees: list[Committee] = strawberry.field(
        resolver=figures.committees, description="The four joint committees, each a lens over the same data."
    )
    committee: Committee | None = strawberry.field(
        resolver=figures.committee, description="One committee by number (1-4); null for another number."
    )

    @strawberry.field(
        description="One person by citizen ID, from every source the token may read; null if no source knows them.",
        permission_classes=[PurposeStated],
    )
    async def person(self, info: strawberry.Info, citizen_id: Annotated[CitizenId, strawberry.argument(description="The person's 13-digit citizen ID (dashes and spaces allowed).")]) -> Person | None:
        return await persons.person(info, citizen_id)

    @strawberry.field(
        description="Persons across both sources in citizen-ID order; at most 100 a page.",
        permission_classes=[PurposeStated],
    )
    async def persons(
        self,
        info: strawberry.Info,
        filter: Annotated[PersonFilter | None, strawberry.argument(description="Conditions every listed person meets.")] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> PersonConnection:
        return await persons.persons(info, filter, first, after)

    @strawberry.field(
        description="One household of the ministry's register by number; null if unknown.",
        permission_classes=[PurposeStated, MinistryRead],
    )
    async def household(self, info: strawberry.Info, id: Annotated[int, strawberry.argument(description="The ministry's household number.")]) -> Household | None:
        return await case_resolvers.household(info, id)

    @strawberry.field(
        description="Welfare cases (ministry) in case-number order; at most 100 a page.",
        permission_classes=[PurposeStated, MinistryRead],
    )
    async def cases(
        self,
        info: strawberry.Info,
        filter: Annotated[CaseFilter | None, strawberry.argument(description="Conditions every listed case meets.")] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> CaseConnection:
        return await case_resolvers.cases(info, filter, first, after)

    @strawberry.field(
        description="Discrepancies between the sources found by `hub reconcile`, with counts per kind and district. "
        "Needs ministry:read and city:read.",
        permission_classes=[PurposeStated],
    )
    async def data_issues(
        self,
        info: strawberry.Info,
        filter: Annotated[DataIssueFilter | None, strawberry.argument(description="Conditions every listed issue meets.")] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> DataIssueConnection:
        return await issue_resolvers.data_issues(info, filter, first, after)

    @strawberry.field(
        description="Applied changes of the sources the token may read, oldest first; keep endCursor and poll from it.",
        permission_classes=[PurposeStated],
    )
    async def changes(self, info: strawberry.Info, after: AFTER = None, first: FIRST = None) -> ChangeConnection:
        return await change_resolvers.changes(info, after, first)

    @strawberry.field(
        description="The audit trail, oldest first; at most 100 a page. Needs audit:read.",
        permission_classes=[AuditRead, PurposeStated],
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: Annotated[AuditFilter | None, strawberry.argument(description="Conditions every listed entry meets.")] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> AuditConnection:
        if filter is not None and filter.citizen_id is not None:
            filter.citizen_id = parse_citizen_id_argument(filter.citizen_id)
        return await audit_resolvers.audit_log_page(info, filter, first, after)

    @strawberry.field(
        description="Every audited access to one person's data (a data-subject access report). Needs audit:read.",
        permission_classes=[AuditRead, PurposeStated],
    )
    async def access_history(self, info: strawberry.Info, citizen_id: Annotated[CitizenId, strawberry.argument(description="The data subject's citizen ID.")]) -> list[AuditEntry]:
        return await audit_resolvers.access_history(info, citizen_id)


KEY = Annotated[str, strawberry.argument(description="Idempotency key: the same key with the same items returns the stored result (kept 48 hours).")]
MODE = Annotated[SyncMode, strawberry.argument(description="PARTIAL writes the valid items; ALL_OR_NOTHING writes none if any fails.")]


def _items(kind: str):
    return Annotated[list[kind], strawberry.argument(description="At most 1,000 items.")]


@strawberry.type(description="Integrator writes: one batch mutation per kind of record, each into the source that owns it.")
class Mutation:
    @strawberry.mutation(description="Create or update persons in the ministry's register. Needs ministry:write.",
                         permission_classes=[MinistryWrite])
    async def sync_persons(self, info: strawberry.Info, items: _items(PersonInput), idempotency_key: KEY,
                           mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncPersons", items, idempotency_key, mode)

    @strawberry.mutation(description="Create or update households in the ministry's register. Needs ministry:write.",
                         permission_classes=[MinistryWrite])
    async def sync_households(self, info: strawberry.Info, items: _items(HouseholdInput), idempotency_key: KEY,
                              mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncHouseholds", items, idempotency_key, mode)

    @strawberry.mutation(description="Create TPMAP (MPI) indicator assessments of households, or replace their answers (ministry). "
                                     "Needs ministry:write.",
                         permission_classes=[MinistryWrite])
    async def sync_mpi_assessments(self, info: strawberry.Info, items: _items(MpiAssessmentInput), idempotency_key: KEY,
                                   mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncMpiAssessments", items, idempotency_key, mode)

    @strawberry.mutation(description="Issue disability ID cards, or correct, renew or revoke them (ministry). Needs ministry:write.",
                         permission_classes=[MinistryWrite])
    async def sync_disability_cards(self, info: strawberry.Info, items: _items(DisabilityCardInput), idempotency_key: KEY,
                                    mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncDisabilityCards", items, idempotency_key, mode)

    @strawberry.mutation(description="Create or update welfare cases (ministry). Needs ministry:write.",
                         permission_classes=[MinistryWrite])
    async def sync_cases(self, info: strawberry.Info, items: _items(CaseInput), idempotency_key: KEY,
                         mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncCases", items, idempotency_key, mode)

    @strawberry.mutation(description="Register or update elderly allowance registrations (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_elderly_allowances(self, info: strawberry.Info, items: _items(AllowanceInput), idempotency_key: KEY,
                                      mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncElderlyAllowances", items, idempotency_key, mode)

    @strawberry.mutation(description="Register or update disability allowance registrations (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_disability_allowances(self, info: strawberry.Info, items: _items(AllowanceInput), idempotency_key: KEY,
                                         mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncDisabilityAllowances", items, idempotency_key, mode)

    @strawberry.mutation(description="Record monthly allowance payments (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_allowance_payments(self, info: strawberry.Info, items: _items(PaymentInput), idempotency_key: KEY,
                                      mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncAllowancePayments", items, idempotency_key, mode)

    @strawberry.mutation(description="Record elderly funeral aid applications (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_funeral_aid(self, info: strawberry.Info, items: _items(FuneralAidInput), idempotency_key: KEY,
                               mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncFuneralAid", items, idempotency_key, mode)

    @strawberry.mutation(description="Record point-in-time homeless counts (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_homeless_counts(self, info: strawberry.Info, items: _items(HomelessCountInput), idempotency_key: KEY,
                                   mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncHomelessCounts", items, idempotency_key, mode)

    @strawberry.mutation(description="Add people to the city's homeless roster. Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_homeless_persons(self, info: strawberry.Info, items: _items(HomelessPersonInput), idempotency_key: KEY,
                                    mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncHomelessPersons", items, idempotency_key, mode)

    @strawberry.mutation(description="File housing applications, or decide pending ones (city). Needs city:write.",
                         permission_classes=[CityWrite])
    async def sync_housing_applications(self, info: strawberry.Info, items: _items(HousingApplicationInput),
                                        idempotency_key: KEY, mode: MODE = SyncMode.PARTIAL) -> SyncResult:
        return await sync_resolvers.sync(info, "syncHousingApplications", items, idempotency_key, mode)


def build_schema(*, production: bool = False) -> strawberry.Schema:
    """The schema; in production introspection and field suggestions are off."""
    extensions = limit_extensions()
    if production:
        extensions.append(DisableIntrospection)
    config = StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production)
    return HubSchema(query=Query, mutation=Mutation, config=config, extensions=extensions)

"""Persons: one view per citizen ID over the ministry's register and the city's registrations."""

from __future__ import annotations

import asyncio
import datetime as dt
import operator
from dataclasses import dataclass, field

import strawberry
from graphql import GraphQLError

from hub import geography
from hub.auth.scopes import Scope
from hub.bindings import Relation
from hub.context import Context
from hub.federation import SourceUnavailable
from hub.person_listing import PersonFilter
from hub.records import BenefitRecord, PersonRecord, Provenance
from hub.sources.city import bindings as city
from hub.sources.ministry import bindings as ministry
from hub.thai import age_on
from resolvers.loaders import related, relation_loader, source_error

# Where a person's city identity comes from when the ministry has no record of them.
CITY_IDENTITY = (city.PERSON_ELDERLY_ALLOWANCES, city.PERSON_DISABILITY_ALLOWANCES)
MINISTRY_PERSON = Relation("person", ministry.PERSON, ministry.t.person.c.citizen_id, "citizen_id", many=False)


@dataclass
class PersonView:
    citizen_id: str
    ministry: PersonRecord | None = None
    city: list[BenefitRecord] = field(default_factory=list)
    unavailable: set[str] = field(default_factory=set)
    # Whether `city` holds all the person's city registrations the token may see. A person listed
    # or reached from the ministry's side has them read only when a field needs them.
    city_complete: bool = True
    city_loading: asyncio.Task | None = None

    @classmethod
    def of_ministry(cls, record: PersonRecord) -> PersonView:
        return cls(citizen_id=record.citizen_id, ministry=record, city_complete=False)

    def _identity(self, name: str):
        if self.ministry is not None:
            return getattr(self.ministry, name)
        if "ministry" in self.unavailable and name in MINISTRY_ONLY:
            raise source_error(SourceUnavailable("ministry", "unavailable"))
        for record in self.city:
            value = getattr(record, name, None)
            if value is not None:
                return value
        return None

    @property
    def sources(self) -> list[str]:
        found = []
        if self.ministry is not None:
            found.append("ministry")
        if self.city:
            found.append("city")
        return found

    title = property(lambda self: self._identity("title"))
    first_name = property(lambda self: self._identity("first_name"))
    last_name = property(lambda self: self._identity("last_name"))
    birth_date = property(lambda self: self._identity("birth_date"))
    nationality = property(lambda self: self._identity("nationality"))
    sex = property(lambda self: self._identity("sex"))
    death_date = property(lambda self: self._identity("death_date"))
    household_id = property(lambda self: self.ministry.household_id if self.ministry else None)
    subdistrict_code = property(lambda self: self._identity("subdistrict_code"))

    @property
    def district_code(self) -> str | None:
        if self.ministry is not None:
            return self.ministry.district_code
        return next((r.district_code for r in self.city if r.district_code), None)

    @property
    def birth_year(self) -> int | None:
        birth = self.birth_date
        return birth.year if birth else None

    @property
    def deceased(self) -> bool | None:
        if self.ministry is not None:
            return self.ministry.death_date is not None
        return None

    @property
    def provenance(self) -> list[Provenance]:
        return ([self.ministry.provenance] if self.ministry else []) + [r.provenance for r in self.city]


MINISTRY_ONLY = {"nationality", "sex", "death_date", "subdistrict_code"}


async def _ministry_person(info: strawberry.Info[Context], citizen_id: str) -> PersonRecord | None:
    records = await relation_loader(info.context, MINISTRY_PERSON).load(citizen_id)
    return records[0] if records else None


async def _city_identity(info: strawberry.Info[Context], citizen_id: str) -> list[BenefitRecord]:
    found: list[BenefitRecord] = []
    for relation in CITY_IDENTITY:
        found.extend(await relation_loader(info.context, relation).load(citizen_id))
    return found


async def load_person(info: strawberry.Info[Context], citizen_id: str) -> PersonView | None:
    """Ask every source the token may read, concurrently; a source outage leaves the others' data."""
    scopes = info.context.subject.scopes
    view = PersonView(citizen_id=citizen_id)
    tasks = {}
    if Scope.MINISTRY_READ in scopes:
        tasks["ministry"] = _ministry_person(info, citizen_id)
    if Scope.CITY_READ in scopes:
        tasks["city"] = _city_identity(info, citizen_id)
    if not tasks:
        raise GraphQLError(
            "reading persons requires ministry:read or city:read",
            extensions={"code": "FORBIDDEN", "scope": "ministry:read city:read"},
        )
    results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    outages: list[SourceUnavailable] = []
    for name, result in zip(tasks, results, strict=True):
        if isinstance(result, SourceUnavailable):
            view.unavailable.add(name)
            outages.append(result)
        elif isinstance(result, BaseException):
            raise result
        elif name == "ministry":
            view.ministry = result
        else:
            view.city = result
    if view.ministry is None and not view.city:
        if outages:
            # The person may exist in the source that did not answer: say so rather than "not found".
            raise source_error(outages[0])
        return None
    return view


async def person(info: strawberry.Info[Context], citizen_id: str) -> PersonView | None:
    return await load_person(info, citizen_id)


async def complete_city(root: PersonView, info: strawberry.Info[Context]) -> None:
    """Read the person's city registrations if not yet read (once, whichever field asks first)."""
    if root.city_complete:
        return
    if root.city_loading is None:
        root.city_loading = asyncio.ensure_future(_load_city(root, info))
    await root.city_loading


async def _load_city(root: PersonView, info: strawberry.Info[Context]) -> None:
    context = info.context
    if Scope.CITY_READ in context.subject.scopes:
        try:
            root.city = await _city_identity(info, root.citizen_id)
        except SourceUnavailable as exc:
            # Listed without the city's part; said once per request, not once per person.
            if ("city-identity", exc.source) not in context.reported_outages:
                context.reported_outages.add(("city-identity", exc.source))
                from resolvers.connections import report_partial

                report_partial(info, [exc])
    root.city_complete = True


async def person_sources(root: PersonView, info: strawberry.Info[Context]) -> list[str]:
    await complete_city(root, info)
    return root.sources


async def person_provenance(root: PersonView, info: strawberry.Info[Context]) -> list[Provenance]:
    await complete_city(root, info)
    return root.provenance


# What the compiled execution path reads: these need the person's city registrations, then the attribute.
for _resolver, _attribute in ((person_sources, "sources"), (person_provenance, "provenance")):
    _resolver.city_identity = True
    _resolver.value = operator.attrgetter(_attribute)


def person_district(root: PersonView):
    code = root.district_code
    return geography.district(code) if code else None


def _ministry_relation(relation):
    resolve = related(relation)

    async def resolver(root: PersonView, info: strawberry.Info[Context]):
        if root.ministry is None:
            if "ministry" in root.unavailable:
                raise source_error(SourceUnavailable("ministry", "unavailable"))
            # No ministry record visible to this token (none, or outside its districts): nothing to follow.
            return [] if relation.many else None
        return await resolve(root, info)

    resolver.__name__ = resolve.__name__
    # What the compiled execution path reads to load this field in one statement per level.
    resolver.relation_for = lambda root: relation
    resolver.many = relation.many
    resolver.ministry_only = True
    return resolver


disability_cards = _ministry_relation(ministry.PERSON_DISABILITY_CARDS)
cases = _ministry_relation(ministry.PERSON_CASES)
child_support_grants = _ministry_relation(ministry.PERSON_CHILD_SUPPORT)
volunteer = _ministry_relation(ministry.PERSON_VOLUNTEER)
household = _ministry_relation(ministry.PERSON_HOUSEHOLD)

elderly_allowances = related(city.PERSON_ELDERLY_ALLOWANCES)
disability_allowances = related(city.PERSON_DISABILITY_ALLOWANCES)
funeral_aid = related(city.PERSON_FUNERAL_AID)
homeless_records = related(city.PERSON_HOMELESS_RECORDS)
housing_applications = related(city.PERSON_HOUSING_APPLICATIONS)


def age(root: PersonView) -> int | None:
    birth = root.birth_date
    if birth is None:
        return None
    end = root.death_date if root.ministry is not None and root.ministry.death_date else dt.date.today()
    return age_on(birth, end)


def listing_filter(scopes: frozenset, district_code: str | None, age_min: int | None, age_max: int | None,
                   benefit_kind: str | None) -> PersonFilter:
    """The listing's filter from the persons() arguments; a GraphQLError for values it cannot take."""
    for name, value in (("age_min", age_min), ("age_max", age_max)):
        if value is not None and not 0 <= value <= 150:
            raise GraphQLError(f"{name} must lie between 0 and 150", extensions={"code": "BAD_USER_INPUT"})
    if district_code is not None and geography.district(district_code) is None:
        raise GraphQLError("districtCode is not a DOPA district code", extensions={"code": "BAD_USER_INPUT"})
    needed = Scope.MINISTRY_READ if benefit_kind == "CHILD_SUPPORT_GRANT" else Scope.CITY_READ if benefit_kind else None
    if needed is not None and needed not in scopes:
        # Filtering on a source's records would reveal them: the filter needs that source's scope.
        raise GraphQLError(
            f"filtering by {benefit_kind} needs the scope {needed.value}",
            extensions={"code": "FORBIDDEN", "scope": needed.value},
        )
    return PersonFilter(district_code=district_code, age_min=age_min, age_max=age_max, benefit_kind=benefit_kind)


async def persons(info: strawberry.Info[Context], given_filter, first: int | None, after: str | None):
    """A page of persons across both sources (see hub.person_listing)."""
    from resolvers.connections import person_connection

    person_filter = PersonFilter()
    if given_filter is not None:
        person_filter = listing_filter(
            info.context.subject.scopes, given_filter.district_code, given_filter.age_min, given_filter.age_max,
            given_filter.benefit_kind.value if given_filter.benefit_kind else None,
        )
    return await person_connection(info, person_filter, first, after)

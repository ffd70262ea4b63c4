"""Resolvers of fields on unified records: districts, relations across tables and sources."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.dataloader import DataLoader

from hub import geography
from hub.sources.city import bindings as city
from hub.sources.ministry import bindings as ministry
from hub.federation import SourceUnavailable
from resolvers.loaders import related, source_error


def district_of(root):
    code = getattr(root, "district_code", None)
    return geography.district(code) if code else None


def card_valid(root) -> bool:
    return not root.revoked and root.expires_on >= dt.date.today()


_elderly_payments = related(city.ELDERLY_PAYMENTS)
_disability_payments = related(city.DISABILITY_PAYMENTS)


async def payments(root, info: strawberry.Info):
    if root.kind == "ELDERLY_ALLOWANCE":
        return await _elderly_payments(root, info)
    if root.kind == "DISABILITY_ALLOWANCE":
        return await _disability_payments(root, info)
    return []


_members = related(ministry.HOUSEHOLD_MEMBERS)


async def household_members(root, info: strawberry.Info):
    from resolvers.persons import PersonView

    return [PersonView.of_ministry(record) for record in await _members(root, info)]


household_mpi = related(ministry.HOUSEHOLD_MPI)
household_cases = related(ministry.HOUSEHOLD_CASES)


def _district_loader(context, binding, kind: str):
    """Records of `binding` for many districts at once: one statement per binding per request."""
    key = ("district-list", binding.name)
    loader = context.loaders.get(key)
    if loader is None:
        session = context.sources[binding.source]

        async def batch(codes: list[str]) -> list:
            wanted = frozenset(codes)
            if context.subject.districts is not None:
                wanted = wanted & context.subject.districts
            statement = binding.restrict(binding.select(), context.subject.districts)
            statement = statement.where(binding.district_filter(wanted)).order_by(binding.key)
            grouped: dict[str, list] = {code: [] for code in codes}
            for row in await session.rows(statement):
                record = binding.to_record(row)
                if record.district_code in grouped:
                    grouped[record.district_code].append(record)
            return [grouped[code] for code in codes]

        loader = context.loaders[key] = DataLoader(load_fn=batch)
    return loader


def district_list(binding):
    async def resolve(root, info: strawberry.Info):
        try:
            return await _district_loader(info.context, binding, binding.name).load(root.code)
        except SourceUnavailable as exc:
            raise source_error(exc) from None

    resolve.__name__ = f"resolve_{binding.name.replace('.', '_')}"
    return resolve


homeless_counts = district_list(city.HOMELESS_COUNT)
housing_projects = district_list(city.HOUSING_PROJECT)
communities = district_list(city.COMMUNITY)
assistance_centres = district_list(ministry.ASSISTANCE_CENTRE)

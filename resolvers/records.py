"""Resolvers of fields on unified records: districts, relations across tables and sources."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import strawberry
from strawberry.dataloader import DataLoader

from hub import geography
from hub.sources.city import bindings as city
from hub.sources.ministry import bindings as ministry
from hub.thai import is_valid_citizen_id
from hub.federation import SourceUnavailable
from resolvers.loaders import related, source_error


def district_of(root):
    code = getattr(root, "district_code", None)
    return geography.district(code) if code else None


def card_valid(root) -> bool:
    return not root.revoked and root.expires_on >= dt.date.today()


_elderly_payments = related(city.ELDERLY_PAYMENTS)
_disability_payments = related(city.DISABILITY_PAYMENTS)


_PAYMENTS = {"ELDERLY_ALLOWANCE": city.ELDERLY_PAYMENTS, "DISABILITY_ALLOWANCE": city.DISABILITY_PAYMENTS}


async def payments(root, info: strawberry.Info):
    if root.kind == "ELDERLY_ALLOWANCE":
        return await _elderly_payments(root, info)
    if root.kind == "DISABILITY_ALLOWANCE":
        return await _disability_payments(root, info)
    return []


# What the compiled execution path reads: which relation gives an allowance's payments.
payments.relation_for = lambda root: _PAYMENTS.get(root.kind)
payments.many = True
payments.ministry_only = False


_members = related(ministry.HOUSEHOLD_MEMBERS)


async def household_members(root, info: strawberry.Info):
    from resolvers.persons import PersonView

    return [PersonView.of_ministry(record) for record in await _members(root, info)]


household_mpi = related(ministry.HOUSEHOLD_MPI)
household_cases = related(ministry.HOUSEHOLD_CASES)


def _district_loader(context, binding):
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
            return await _district_loader(info.context, binding).load(root.code)
        except SourceUnavailable as exc:
            raise source_error(exc) from None

    resolve.__name__ = f"resolve_{binding.name.replace('.', '_')}"
    return resolve


homeless_counts = district_list(city.HOMELESS_COUNT)
housing_projects = district_list(city.HOUSING_PROJECT)
communities = district_list(city.COMMUNITY)
assistance_centres = district_list(ministry.ASSISTANCE_CENTRE)


async def unlinked_registrations(root, info: strawberry.Info):
    """Allowance registrations of the district whose PID is no valid citizen ID: kept visible, not dropped.

    Two statements per allowance table: the district's PIDs (two narrow columns), then the
    full records of the ones that fail the check.
    """
    context = info.context
    allowed = context.subject.districts
    if allowed is not None and root.code not in allowed:
        return []
    if not root.code.startswith("10"):
        return []
    session = context.sources["city"]
    dist_id = int(root.code) - 1000
    found = []
    try:
        for binding in (city.ELDERLY_ALLOWANCE, city.DISABILITY_ALLOWANCE):
            table = binding.table
            rows = await session.rows(sa.select(table.c.reg_id, table.c.pid_digits).where(table.c.dist_id == dist_id))
            bad = [reg_id for reg_id, digits in rows if not is_valid_citizen_id(digits or "")]
            if bad:
                records = await session.rows(binding.select().where(table.c.reg_id.in_(bad)).order_by(table.c.reg_id))
                found.extend(binding.to_record(row) for row in records)
    except SourceUnavailable as exc:
        raise source_error(exc) from None
    return found

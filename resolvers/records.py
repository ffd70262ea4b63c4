"""Resolvers of fields on unified records: districts, relations across tables and sources."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub import geography
from hub.sources.city import bindings as city
from hub.sources.ministry import bindings as ministry
from resolvers.loaders import related


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

"""Resolvers of provinces, districts and subdistricts (reference data from geothai).

They return geothai's own records; the schema types read their attributes by name.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from hub import geography


def provinces():
    return geography.provinces()


def districts(province_code: Annotated[str, strawberry.argument(description='DOPA province code, e.g. "10" for Bangkok.')]):
    return geography.districts(province_code)


def district(code: Annotated[str, strawberry.argument(description='4-digit DOPA district code, e.g. "1001".')]):
    return geography.district(code)


def province_of(root):
    return geography.province(root.province_code)


def subdistricts_of(root):
    return geography.subdistricts(root.code)


def districts_of(root):
    return geography.districts(root.code)

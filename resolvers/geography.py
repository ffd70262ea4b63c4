"""Resolvers of provinces, districts and subdistricts (reference data from geothai).

They return geothai's own records; the schema types read their attributes by name.
"""

from __future__ import annotations

from hub import geography


def provinces():
    return geography.provinces()


def districts(province_code: str):
    return geography.districts(province_code)


def district(code: str):
    return geography.district(code)


def province_of(root):
    return geography.province(root.province_code)


def subdistricts_of(root):
    return geography.subdistricts(root.code)


def districts_of(root):
    return geography.districts(root.code)

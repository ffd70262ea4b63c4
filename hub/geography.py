"""Reference geography (provinces, districts, subdistricts) from the maintained geothai package.

geothai's data is DOPA's, published under CC-BY-4.0; the README credits it. The data is
immutable for a pinned package version, so reading it in process keeps no shared state.
"""

from __future__ import annotations

import geothai
from geothai.types import District, Province, Subdistrict

DATA_VERSION = geothai.DATA_VERSION
BANGKOK = "10"


def provinces() -> tuple[Province, ...]:
    return tuple(geothai.provinces())


def province(code: str) -> Province | None:
    return geothai.province(code)


def districts(province_code: str) -> tuple[District, ...]:
    return tuple(geothai.districts(province_code))


def district(code: str) -> District | None:
    return geothai.district(code)


def subdistricts(district_code: str) -> tuple[Subdistrict, ...]:
    return tuple(geothai.subdistricts(district_code))


def subdistrict(code: str) -> Subdistrict | None:
    return geothai.subdistrict(code)


def bangkok_districts() -> tuple[District, ...]:
    return districts(BANGKOK)

"""Per-district figures from both sources, computed set-based: a few GROUP BY statements per source.

Each figure is computed by the source that owns it and keyed by DOPA district code; a source
that is down leaves its figures out (None) and is reported. A districts claim restricts the
rows behind every figure: districts outside it are never computed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from hub.bindings import code_prefix
from hub.federation import RequestSources, SourceUnavailable
from hub.sources.city import tables as c
from hub.sources.ministry import tables as m
from hub.thai import dist_id_from_district_code, years_before

# TPMAP's living-conditions dimension (BMN indicators): housing, drinking water, water for use, tidy home.
LIVING_CONDITION_INDICATORS = (8, 9, 10, 11)
OPEN_CASE_STATUSES = ("open", "in_progress", "referred")


@dataclass
class MinistryFigures:
    persons: int = 0
    elderly_persons: int = 0
    deceased_persons: int = 0
    households: int = 0
    households_with_welfare_card: int = 0
    households_deprived: int = 0
    households_deprived_living_conditions: int = 0
    disability_cards_valid: int = 0
    child_support_grants_active: int = 0
    volunteers_active: int = 0
    assistance_centres: int = 0
    open_cases: dict[str, int] = field(default_factory=dict)


@dataclass
class CityFigures:
    elderly_allowance_active: int = 0
    elderly_allowance_monthly: Decimal = Decimal("0.00")
    disability_allowance_active: int = 0
    disability_allowance_monthly: Decimal = Decimal("0.00")
    funeral_aid_cases: int = 0
    homeless_counted: int = 0
    homeless_count_date: dt.date | None = None
    homeless_persons: int = 0
    housing_projects: int = 0
    housing_units_total: int = 0
    housing_units_occupied: int = 0
    housing_applications_pending: int = 0
    communities: int = 0
    community_households: int = 0


@dataclass
class DistrictFigures:
    code: str
    ministry: MinistryFigures | None
    city: CityFigures | None


def count_if(condition: sa.ColumnElement) -> sa.ColumnElement:
    """COUNT(*) FILTER (WHERE ...) in a form MariaDB also runs."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _district_of(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.substr(column, 1, 4)


def _in_districts(column: sa.ColumnElement, codes: list[str]) -> sa.ColumnElement:
    return sa.or_(*(code_prefix(column, code) for code in codes))


async def _ministry(sources: RequestSources, codes: list[str], today: dt.date) -> dict[str, MinistryFigures]:
    session = sources["ministry"]
    figures = {code: MinistryFigures() for code in codes}
    p, h = m.person, m.household
    district = _district_of(p.c.subdistrict_code).label("district")
    elderly_born_before = years_before(today, 60)
    rows = await session.rows(
        sa.select(
            district,
            count_if(p.c.death_date.is_(None)),
            count_if(sa.and_(p.c.death_date.is_(None), p.c.birth_date <= elderly_born_before)),
            count_if(p.c.death_date.is_not(None)),
        )
        .where(_in_districts(p.c.subdistrict_code, codes))
        .group_by(district)
    )
    for code, alive, elderly, dead in rows:
        figures[code].persons, figures[code].elderly_persons, figures[code].deceased_persons = alive, elderly, dead

    hdistrict = _district_of(h.c.subdistrict_code).label("district")
    latest_year = sa.select(sa.func.max(m.mpi_assessment.c.survey_year)).scalar_subquery()
    deprived = (
        sa.select(m.mpi_assessment.c.household_id)
        .where(m.mpi_assessment.c.deprived.is_(True), m.mpi_assessment.c.survey_year == latest_year)
    )
    deprived_living = deprived.where(m.mpi_assessment.c.indicator.in_(LIVING_CONDITION_INDICATORS))
    rows = await session.rows(
        sa.select(
            hdistrict,
            sa.func.count(),
            count_if(h.c.has_welfare_card.is_(True)),
            count_if(h.c.household_id.in_(deprived)),
            count_if(h.c.household_id.in_(deprived_living)),
        )
        .where(_in_districts(h.c.subdistrict_code, codes))
        .group_by(hdistrict)
    )
    for code, total, card, dep, dep_living in rows:
        f = figures[code]
        f.households, f.households_with_welfare_card, f.households_deprived, f.households_deprived_living_conditions = (
            total, card, dep, dep_living,
        )

    card = m.disability_card
    rows = await session.rows(
        sa.select(district, sa.func.count(sa.distinct(card.c.card_no)))
        .select_from(card.join(p, p.c.citizen_id == card.c.citizen_id))
        .where(card.c.revoked.is_(False), card.c.expires_on >= today, _in_districts(p.c.subdistrict_code, codes))
        .group_by(district)
    )
    for code, count in rows:
        figures[code].disability_cards_valid = count

    grant = m.child_support_grant
    rows = await session.rows(
        sa.select(district, sa.func.count(sa.distinct(grant.c.grant_id)))
        .select_from(grant.join(p, p.c.citizen_id == grant.c.child_citizen_id))
        .where(sa.or_(grant.c.end_date.is_(None), grant.c.end_date >= today), _in_districts(p.c.subdistrict_code, codes))
        .group_by(district)
    )
    for code, count in rows:
        figures[code].child_support_grants_active = count

    case = m.welfare_case
    cdistrict = _district_of(case.c.subdistrict_code).label("district")
    rows = await session.rows(
        sa.select(cdistrict, case.c.category, sa.func.count())
        .where(case.c.status.in_(OPEN_CASE_STATUSES), _in_districts(case.c.subdistrict_code, codes))
        .group_by(cdistrict, case.c.category)
    )
    for code, category, count in rows:
        figures[code].open_cases[category.upper()] = count

    vol = m.volunteer
    vdistrict = _district_of(vol.c.subdistrict_code).label("district")
    rows = await session.rows(
        sa.select(vdistrict, sa.func.count())
        .where(vol.c.active.is_(True), _in_districts(vol.c.subdistrict_code, codes))
        .group_by(vdistrict)
    )
    for code, count in rows:
        figures[code].volunteers_active = count

    centre = m.assistance_centre
    adistrict = _district_of(centre.c.subdistrict_code).label("district")
    rows = await session.rows(
        sa.select(adistrict, sa.func.count()).where(_in_districts(centre.c.subdistrict_code, codes)).group_by(adistrict)
    )
    for code, count in rows:
        figures[code].assistance_centres = count
    return figures


async def _city(sources: RequestSources, codes: list[str]) -> dict[str, CityFigures]:
    session = sources["city"]
    ids = {dist_id_from_district_code(code): code for code in codes if code.startswith("10")}
    figures = {code: CityFigures() for code in codes}
    if not ids:
        return figures
    id_list = sorted(ids)

    for table, count_attr, sum_attr in (
        (c.tb_elder_allow, "elderly_allowance_active", "elderly_allowance_monthly"),
        (c.tb_disab_allow, "disability_allowance_active", "disability_allowance_monthly"),
    ):
        rows = await session.rows(
            sa.select(table.c.dist_id, sa.func.count(), sa.func.sum(table.c.amount))
            .where(table.c.status == "A", table.c.dist_id.in_(id_list))
            .group_by(table.c.dist_id)
        )
        for dist_id, count, total in rows:
            setattr(figures[ids[dist_id]], count_attr, count)
            setattr(figures[ids[dist_id]], sum_attr, Decimal(total or 0).quantize(Decimal("0.01")))

    aid = c.tb_funeral_aid
    rows = await session.rows(
        sa.select(aid.c.dist_id, sa.func.count()).where(aid.c.dist_id.in_(id_list)).group_by(aid.c.dist_id)
    )
    for dist_id, count in rows:
        figures[ids[dist_id]].funeral_aid_cases = count

    hc = c.tb_homeless_count
    latest = (
        sa.select(hc.c.dist_id, sa.func.max(hc.c.count_date).label("latest"))
        .where(hc.c.dist_id.in_(id_list))
        .group_by(hc.c.dist_id)
        .subquery()
    )
    rows = await session.rows(
        sa.select(hc.c.dist_id, latest.c.latest, sa.func.sum(hc.c.male + hc.c.female + hc.c.unspecified))
        .join(latest, sa.and_(latest.c.dist_id == hc.c.dist_id, latest.c.latest == hc.c.count_date))
        .group_by(hc.c.dist_id, latest.c.latest)
    )
    for dist_id, day, total in rows:
        figures[ids[dist_id]].homeless_counted = int(total or 0)
        figures[ids[dist_id]].homeless_count_date = day

    hp = c.tb_homeless_person
    rows = await session.rows(
        sa.select(hp.c.dist_id, sa.func.count()).where(hp.c.dist_id.in_(id_list)).group_by(hp.c.dist_id)
    )
    for dist_id, count in rows:
        figures[ids[dist_id]].homeless_persons = count

    proj = c.tb_housing_proj
    rows = await session.rows(
        sa.select(proj.c.dist_id, sa.func.count(), sa.func.sum(proj.c.units_total), sa.func.sum(proj.c.units_occupied))
        .where(proj.c.dist_id.in_(id_list))
        .group_by(proj.c.dist_id)
    )
    for dist_id, count, total, occupied in rows:
        f = figures[ids[dist_id]]
        f.housing_projects, f.housing_units_total, f.housing_units_occupied = count, int(total or 0), int(occupied or 0)

    app = c.tb_housing_app
    rows = await session.rows(
        sa.select(proj.c.dist_id, sa.func.count())
        .select_from(app.join(proj, proj.c.proj_id == app.c.proj_id))
        .where(app.c.status == "P", proj.c.dist_id.in_(id_list))
        .group_by(proj.c.dist_id)
    )
    for dist_id, count in rows:
        figures[ids[dist_id]].housing_applications_pending = count

    comm = c.tb_community
    rows = await session.rows(
        sa.select(comm.c.dist_id, sa.func.count(), sa.func.sum(comm.c.households))
        .where(comm.c.dist_id.in_(id_list))
        .group_by(comm.c.dist_id)
    )
    for dist_id, count, households in rows:
        figures[ids[dist_id]].communities = count
        figures[ids[dist_id]].community_households = int(households or 0)
    return figures


async def district_figures(
    sources: RequestSources,
    codes: list[str],
    *,
    read_ministry: bool,
    read_city: bool,
    today: dt.date | None = None,
) -> tuple[dict[str, DistrictFigures], list[SourceUnavailable]]:
    """Figures for these districts from the sources the caller may read, both sources concurrently."""
    today = today or dt.date.today()
    codes = sorted(set(codes))
    tasks = {}
    if read_ministry and codes:
        tasks["ministry"] = _ministry(sources, codes, today)
    if read_city and codes:
        tasks["city"] = _city(sources, codes)
    results = dict(zip(tasks, await asyncio.gather(*tasks.values(), return_exceptions=True), strict=True))
    outages = []
    for name, result in results.items():
        if isinstance(result, SourceUnavailable):
            outages.append(result)
        elif isinstance(result, BaseException):
            raise result
    ministry = results.get("ministry")
    city = results.get("city")
    combined = {
        code: DistrictFigures(
            code,
            ministry[code] if isinstance(ministry, dict) else None,
            city[code] if isinstance(city, dict) else None,
        )
        for code in codes
    }
    return combined, outages

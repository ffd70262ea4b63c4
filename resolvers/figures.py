"""Resolvers of per-district figures and the four committees' lenses over them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from hub import geography
from hub.auth.scopes import Scope
from hub.context import Context
from hub.figures import DistrictFigures, district_figures
from resolvers.connections import report_partial


def _figures_loader(context: Context) -> DataLoader:
    loader = context.loaders.get("district_figures")
    if loader is None:
        scopes = context.subject.scopes

        async def batch(codes: list[str]) -> list[DistrictFigures]:
            figures, outages = await district_figures(
                context.sources,
                codes,
                read_ministry=Scope.MINISTRY_READ in scopes,
                read_city=Scope.CITY_READ in scopes,
            )
            context.request_outages.extend(o for o in outages if o.source not in {x.source for x in context.request_outages})
            return [figures[code] for code in codes]

        loader = context.loaders["district_figures"] = DataLoader(load_fn=batch)
    return loader


def _check_district_allowed(context: Context, code: str) -> None:
    allowed = context.subject.districts
    if allowed is not None and code not in allowed:
        raise GraphQLError(
            "this token is limited to other districts", extensions={"code": "FORBIDDEN", "reason": "DISTRICT_NOT_ALLOWED"}
        )


def _report_scope_gaps(info: strawberry.Info[Context]) -> None:
    scopes = info.context.subject.scopes
    missing = [s for s in (Scope.MINISTRY_READ, Scope.CITY_READ) if s not in scopes]
    for scope in missing:
        info.context.partial_errors.append(
            GraphQLError(
                f"figures from the {scope.value.split(':')[0]} source need the scope {scope.value}; they are null",
                path=info.path.as_list(),
                extensions={"code": "FORBIDDEN", "scope": scope.value},
            )
        )


async def figures_of(root, info: strawberry.Info[Context]) -> DistrictFigures:
    _check_district_allowed(info.context, root.code)
    figures = await _figures_loader(info.context).load(root.code)
    _report_scope_gaps(info)
    report_partial(info, [o for o in info.context.request_outages if not _already_reported(info, o)])
    return figures


def _already_reported(info, outage) -> bool:
    key = (outage.source, tuple(info.path.as_list()))
    if key in info.context.reported_outages:
        return True
    info.context.reported_outages.add(key)
    return False


@dataclass(frozen=True)
class CommitteeRow:
    number: int
    name_en: str
    name_th: str
    description: str
    lens: str


COMMITTEES = (
    CommitteeRow(1, "Homeless people and beggars", "คณะกรรมการด้านคนไร้ที่พึ่งและคนขอทาน",
                 "Point-in-time homeless counts and outreach records (city), homeless and beggar cases (ministry), linked where a citizen ID exists.", "HOMELESS"),
    CommitteeRow(2, "Housing", "คณะกรรมการด้านที่อยู่อาศัย",
                 "Housing projects and applications (city), housing cases and TPMAP living-condition deprivations (ministry).", "HOUSING"),
    CommitteeRow(3, "Children, youth, persons with disabilities, the elderly, women, families and vulnerable groups",
                 "คณะกรรมการด้านเด็ก เยาวชน คนพิการ ผู้สูงอายุ สตรี ครอบครัว และกลุ่มเปราะบาง",
                 "Benefits, disability cards, child support and cases by group, per district.", "VULNERABLE_GROUPS"),
    CommitteeRow(4, "Data and information systems", "คณะกรรมการด้านข้อมูลและระบบสารสนเทศ",
                 "Source health and freshness, and per-district coverage of both sources.", "DATA"),
)


def committees() -> list[CommitteeRow]:
    return list(COMMITTEES)


def committee(number: Annotated[int, strawberry.argument(description="1 to 4.")]) -> CommitteeRow | None:
    return next((c for c in COMMITTEES if c.number == number), None)


@dataclass
class LensRow:
    district_code: str
    figures: DistrictFigures


async def committee_districts(
    root: CommitteeRow,
    info: strawberry.Info[Context],
    province_code: Annotated[str, strawberry.argument(description='DOPA province code (default "10", Bangkok).')] = "10",
) -> list[LensRow]:
    if geography.province(province_code) is None:
        raise GraphQLError("provinceCode is not a DOPA province code", extensions={"code": "BAD_USER_INPUT"})
    codes = [d.code for d in geography.districts(province_code)]
    allowed = info.context.subject.districts
    if allowed is not None:
        codes = [code for code in codes if code in allowed]
    loader = _figures_loader(info.context)
    figures = await loader.load_many(codes)
    _report_scope_gaps(info)
    report_partial(info, [o for o in info.context.request_outages if not _already_reported(info, o)])
    return [LensRow(code, f) for code, f in zip(codes, figures, strict=True)]

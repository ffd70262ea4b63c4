"""Plain functions that put known rows into the source databases, in each source's own dialect."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from hub import thai
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry

NOW = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def citizen_id(body12: str) -> str:
    return thai.with_check_digit(body12)


def person(cid: str, *, first="สมชาย", last="ใจดี", sex="M", birth=dt.date(1950, 5, 17), death=None,
           subdistrict="100101", household_id=None, nationality="TH", title="นาย") -> dict:
    return dict(
        citizen_id=cid, nationality=nationality, title_th=title, first_name_th=first, last_name_th=last, sex=sex,
        birth_date=birth, death_date=death, household_id=household_id, subdistrict_code=subdistrict, version=1,
        updated_at=NOW,
    )


def household(household_id: int, *, subdistrict="100101", in_bmn=False, welfare=True) -> dict:
    return dict(
        household_id=household_id, house_code=f"{household_id:011d}", address_th="12 ถนนราชดำเนิน", subdistrict_code=subdistrict,
        in_bmn=in_bmn, has_welfare_card=welfare, logbook_stage=1, version=1, updated_at=NOW,
    )


def disability_card(card_no: str, cid: str, *, kind=1, issued=dt.date(2022, 1, 10), expires=dt.date(2030, 1, 10), revoked=False) -> dict:
    return dict(card_no=card_no, citizen_id=cid, disability_type=kind, issued_on=issued, expires_on=expires, revoked=revoked)


def case(case_id: int, cid: str | None, *, category="elderly", status="open", subdistrict="100101", summary="ติดตามเยี่ยมบ้าน") -> dict:
    return dict(
        case_id=case_id, citizen_id=cid, household_id=None, category=category, channel="hotline_1300", centre_code=None,
        subdistrict_code=subdistrict, status=status, opened_at=NOW, closed_at=None, summary=summary, version=1, updated_at=NOW,
    )


def elder_allowance(pid: str, *, reg_id: int, first="สมชาย", last="ใจดี", birth=dt.date(1950, 5, 17), dist_id=1,
                    amount=700, status="A", bank="1234567890", fy=2568, birth_be: str | None = None) -> dict:
    return dict(
        reg_id=reg_id, pid=pid, prename="นาย", fname=first, lname=last,
        birth_be=birth_be if birth_be is not None else thai.to_be_string(birth),
        dist_id=dist_id, addr="12 ถนนราชดำเนิน", reg_fy=fy, amount=Decimal(amount), status=status, bank_acct=bank,
        upd_dt=dt.datetime(2026, 10, 15, 14, 30), row_ver=1,
    )


def payment(reg_id: int, month_be: str, *, kind="E", amount=700, pay_id=None) -> dict:
    row = dict(reg_kind=kind, reg_id=reg_id, pay_ym=month_be, amount=Decimal(amount), paid_dt=dt.datetime(2026, 10, 9, 10, 0), channel="T")
    if pay_id is not None:
        row["pay_id"] = pay_id
    return row


async def insert(engine, table: sa.Table, rows: list[dict]) -> None:
    if rows:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(table), rows)


async def clear(engines: dict) -> None:
    for name, metadata in (("ministry", ministry.metadata), ("city", city.metadata)):
        async with engines[name].begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(sa.delete(table))

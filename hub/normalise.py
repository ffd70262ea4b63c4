"""Normalisers: one source value in, the unified value out, or NormalisationError saying why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from hub import thai

BANGKOK_TIME = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")


class NormalisationError(ValueError):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def citizen_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return thai.parse_citizen_id(raw)
    except thai.InvalidCitizenId as exc:
        raise NormalisationError(f"citizen ID not usable: {exc.reason}") from None


def be_date(raw: str | None) -> dt.date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return thai.parse_be_string(raw)
    except thai.InvalidBuddhistEraDate as exc:
        raise NormalisationError(f"Buddhist-Era date not usable: {exc}") from None


def be_month(raw: str | None) -> dt.date | None:
    if raw is None:
        return None
    try:
        return thai.parse_be_month(raw.strip())
    except thai.InvalidBuddhistEraDate as exc:
        raise NormalisationError(f"Buddhist-Era month not usable: {exc}") from None


def dist_id(raw: int | None) -> str | None:
    if raw is None:
        return None
    try:
        return thai.district_code_from_dist_id(int(raw))
    except (TypeError, ValueError):
        raise NormalisationError("district number outside 1..50") from None


def district_of_subdistrict(code: str | None) -> str | None:
    return code[:4] if code else None


def money(raw) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except InvalidOperation:
        raise NormalisationError("amount is not a number") from None
    return value.quantize(Decimal("0.01"))


def utc(raw: dt.datetime | None) -> dt.datetime | None:
    """A timestamp the store or the ministry wrote in UTC (naive from SQLite and MariaDB)."""
    if raw is None:
        return None
    return raw.replace(tzinfo=dt.UTC) if raw.tzinfo is None else raw.astimezone(dt.UTC)


def bangkok_local(raw: dt.datetime | None) -> dt.datetime | None:
    """The city's timestamps are Bangkok local time without a zone."""
    if raw is None:
        return None
    return raw.replace(tzinfo=BANGKOK_TIME) if raw.tzinfo is None else raw


def letter(mapping: dict[str, str], what: str):
    def normalise(raw: str | None) -> str | None:
        if raw is None:
            return None
        try:
            return mapping[raw.strip().upper()]
        except KeyError:
            raise NormalisationError(f"unknown {what} code") from None

    normalise.__name__ = f"{what.replace(' ', '_')}_letter"
    return normalise


def stripped(raw: str | None) -> str | None:
    return raw.strip() if isinstance(raw, str) else raw


ALLOWANCE_STATUS = {"A": "ACTIVE", "S": "SUSPENDED", "D": "DECEASED", "M": "MOVED"}
PAYMENT_CHANNEL = {"C": "CASH", "T": "TRANSFER"}
APPLICATION_STATUS = {"P": "PENDING", "A": "APPROVED", "R": "REJECTED"}
FUNERAL_AID_STATUS = {"A": "APPROVED", "P": "PENDING", "R": "REJECTED"}
SEX = {"M": "MALE", "F": "FEMALE", "U": "UNSPECIFIED", "X": "UNSPECIFIED"}

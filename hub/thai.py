"""Thai identifiers and calendars: citizen IDs, Buddhist-Era dates, fiscal years, Bangkok district numbers."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re

CITIZEN_ID_LENGTH = 13
_SEPARATORS = re.compile(r"[\s\-]+")
_ASCII_DIGITS = re.compile(r"[0-9]{13}")
BE_OFFSET = 543
BANGKOK_PROVINCE = "10"


class InvalidCitizenId(ValueError):
    """A citizen ID that is not 13 ASCII digits with a valid check digit."""

    def __init__(self, reason: str) -> None:
        # The reason never repeats the input: the input is personal data.
        super().__init__(reason)
        self.reason = reason


class InvalidBuddhistEraDate(ValueError):
    """A Buddhist-Era date string that is not a real calendar date."""


_WEIGHTS = tuple(range(13, 1, -1))
_ZERO_SUM = ord("0") * sum(_WEIGHTS)


def check_digit(first_twelve: str) -> int:
    """The 13th digit of a citizen ID: (11 - sum(d_i * (14 - i)) mod 11) mod 10 (ASCII digits only)."""
    total = sum(map(operator.mul, first_twelve.encode(), _WEIGHTS)) - _ZERO_SUM
    return (11 - total % 11) % 10


def with_check_digit(first_twelve: str) -> str:
    return first_twelve + str(check_digit(first_twelve))


def strip_citizen_id(raw: str) -> str:
    """Drop the spaces and dashes clerks type; nothing else is changed."""
    return _SEPARATORS.sub("", raw)


def parse_citizen_id(raw: str) -> str:
    """Normalise a typed citizen ID to 13 digits, or raise InvalidCitizenId saying why."""
    if not isinstance(raw, str):
        raise InvalidCitizenId("a citizen ID must be a string of 13 digits")
    return _parse_citizen_id(raw)


@functools.lru_cache(maxsize=65_536)
def _parse_citizen_id(raw: str) -> str:
    # Remembered for the most recent IDs (a large page checks thousands, mostly the same ones
    # request after request); a refused ID is not remembered and is checked again each time.
    if len(raw) == CITIZEN_ID_LENGTH and raw.isascii() and raw.isdigit():
        digits = raw  # the common case: already 13 ASCII digits
    else:
        digits = strip_citizen_id(raw)
        if len(digits) != CITIZEN_ID_LENGTH:
            raise InvalidCitizenId(f"a citizen ID has 13 digits, this one has {len(digits)} characters")
        if not _ASCII_DIGITS.fullmatch(digits):
            raise InvalidCitizenId("a citizen ID may contain only the digits 0-9 (Thai digits are not accepted)")
    if check_digit(digits[:12]) != int(digits[12]):
        raise InvalidCitizenId("the check digit of this citizen ID does not match")
    return digits


def is_valid_citizen_id(raw: str) -> bool:
    try:
        parse_citizen_id(raw)
    except InvalidCitizenId:
        return False
    return True


def format_citizen_id(digits: str) -> str:
    """13 digits as N-NNNN-NNNNN-NN-N."""
    return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"


def mask_citizen_id(digits: str) -> str:
    """Keep the type, registry office and check digit: 1-1020-xxxxx-xx-6."""
    return f"{digits[0]}-{digits[1:5]}-xxxxx-xx-{digits[12]}"


def be_year(ce_date: dt.date) -> int:
    """The Buddhist-Era year of a common-era date (BE = CE + 543; before 1941, Jan-Mar were CE + 542)."""
    if ce_date.year < 1941 and ce_date.month < 4:
        return ce_date.year + BE_OFFSET - 1
    return ce_date.year + BE_OFFSET


def ce_year(be: int, month: int) -> int:
    """The common-era year of a Buddhist-Era year and month (the inverse of be_year)."""
    year = be - BE_OFFSET
    if month < 4 and year + 1 < 1941:
        # Before 1941 the BE year began on 1 April, so Jan-Mar belong to the next CE year.
        return year + 1
    return year


def to_be_string(ce_date: dt.date) -> str:
    """'DD/MM/YYYY' in the Buddhist Era, as the city's systems store it."""
    return f"{ce_date.day:02d}/{ce_date.month:02d}/{be_year(ce_date)}"


_BE_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")


def parse_be_string(raw: str) -> dt.date:
    """Parse 'DD/MM/YYYY' (Buddhist Era) to a CE date, or raise InvalidBuddhistEraDate."""
    return _parse_be_string(raw if isinstance(raw, str) else "")


@functools.lru_cache(maxsize=65_536)  # about 180 years of distinct dates; a refused one is not kept
def _parse_be_string(raw: str) -> dt.date:
    match = _BE_DATE.fullmatch(raw)
    if not match:
        raise InvalidBuddhistEraDate("a Buddhist-Era date is written DD/MM/YYYY")
    day, month, be = (int(g) for g in match.groups())
    if be < 2400 or be > 2700:
        raise InvalidBuddhistEraDate("the year of a Buddhist-Era date must lie between 2400 and 2700")
    try:
        return dt.date(ce_year(be, month), month, day)
    except ValueError as exc:
        raise InvalidBuddhistEraDate("that Buddhist-Era date does not exist in the calendar") from exc


def to_be_month(ce_date: dt.date) -> str:
    """'YYYYMM' in the Buddhist Era (the city's pay month)."""
    return f"{be_year(ce_date.replace(day=1))}{ce_date.month:02d}"


def parse_be_month(raw: str) -> dt.date:
    """'YYYYMM' (Buddhist Era) to the first day of that month in CE."""
    if not raw or len(raw) != 6 or not raw.isascii() or not raw.isdigit():
        raise InvalidBuddhistEraDate("a Buddhist-Era month is written YYYYMM")
    be, month = int(raw[:4]), int(raw[4:])
    if not 1 <= month <= 12:
        raise InvalidBuddhistEraDate("the month of a Buddhist-Era month must be 01-12")
    return parse_be_string(f"01/{month:02d}/{be}")


def fiscal_year_be(ce_date: dt.date) -> int:
    """The Thai fiscal year (1 Oct - 30 Sep, named by the BE year it ends in)."""
    year = ce_date.year + 1 if ce_date.month >= 10 else ce_date.year
    return year + BE_OFFSET


def fiscal_year_start(fy_be: int) -> dt.date:
    return dt.date(fy_be - BE_OFFSET - 1, 10, 1)


def district_code_from_dist_id(dist_id: int) -> str:
    """The city's dist_id (1..50) as a DOPA district code (1001..1050)."""
    if not 1 <= dist_id <= 50:
        raise ValueError("a Bangkok dist_id lies between 1 and 50")
    return str(1000 + dist_id)


def dist_id_from_district_code(code: str) -> int:
    if len(code) != 4 or not code.startswith(BANGKOK_PROVINCE) or not 1 <= int(code[2:]) <= 50:
        raise ValueError("only Bangkok districts (1001..1050) have a city dist_id")
    return int(code) - 1000


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def elderly_allowance_rate(age: int) -> int:
    """Monthly elderly living allowance in baht by age tier (600/700/800/1,000)."""
    if age >= 90:
        return 1000
    if age >= 80:
        return 800
    if age >= 70:
        return 700
    if age >= 60:
        return 600
    return 0


def disability_allowance_rate(age: int) -> int:
    """Monthly disability allowance in baht: 1,000 under 18, 800 otherwise."""
    return 1000 if age < 18 else 800

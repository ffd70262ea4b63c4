"""Citizen IDs, Buddhist-Era dates and Bangkok district numbers."""

import datetime as dt

import pytest

from hub import thai


@pytest.mark.parametrize("raw", ["1-1120-34563-56-2", "1112034563562", " 1 1120 34563 56 2 ", "1-2345-67890-12-1"])
def test_valid_citizen_ids(raw):
    assert thai.parse_citizen_id(raw) == raw.replace("-", "").replace(" ", "")


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("1-2345-67890-12-3", "check digit"),
        ("123456789012", "13 digits"),
        ("12345678901234", "13 digits"),
        ("๑๑๑๒๐๓๔๕๖๓๕๖๒", "only the digits 0-9"),
        ("1a12034563562", "only the digits 0-9"),
    ],
)
def test_invalid_citizen_ids_say_why_without_echoing(raw, reason):
    with pytest.raises(thai.InvalidCitizenId) as excinfo:
        thai.parse_citizen_id(raw)
    assert reason in str(excinfo.value)
    assert raw.strip() not in str(excinfo.value)


def test_check_digit_against_the_published_rule():
    # s = sum(d_i * (14 - i)), check = (11 - s mod 11) mod 10, computed by hand for 1-1120-34563-56-?
    digits = [1, 1, 1, 2, 0, 3, 4, 5, 6, 3, 5, 6]
    s = sum(d * (13 - i) for i, d in enumerate(digits))
    assert (11 - s % 11) % 10 == 2 == thai.check_digit("111203456356")


def test_format_and_mask():
    assert thai.format_citizen_id("1102003456786") == "1-1020-03456-78-6"
    assert thai.mask_citizen_id("1102003456786") == "1-1020-xxxxx-xx-6"


@pytest.mark.parametrize(
    "ce, be",
    [
        (dt.date(2025, 10, 1), "01/10/2568"),
        (dt.date(1960, 1, 31), "31/01/2503"),
        (dt.date(1940, 2, 3), "03/02/2482"),  # before 1941 the BE year began in April
        (dt.date(1940, 4, 1), "01/04/2483"),
    ],
)
def test_buddhist_era_round_trip(ce, be):
    assert thai.to_be_string(ce) == be
    assert thai.parse_be_string(be) == ce


@pytest.mark.parametrize("raw", ["31/02/2568", "2568-10-01", "01/10/1968", "", "1/13/2568", "aa/bb/cccc"])
def test_bad_buddhist_era_dates(raw):
    with pytest.raises(thai.InvalidBuddhistEraDate):
        thai.parse_be_string(raw)


def test_be_months_and_fiscal_years():
    assert thai.to_be_month(dt.date(2025, 1, 15)) == "256801"
    assert thai.parse_be_month("256801") == dt.date(2025, 1, 1)
    with pytest.raises(thai.InvalidBuddhistEraDate):
        thai.parse_be_month("256813")
    assert thai.fiscal_year_be(dt.date(2024, 10, 1)) == 2568
    assert thai.fiscal_year_be(dt.date(2025, 9, 30)) == 2568
    assert thai.fiscal_year_start(2568) == dt.date(2024, 10, 1)


def test_dist_id_maps_to_dopa_codes():
    assert thai.district_code_from_dist_id(1) == "1001"
    assert thai.district_code_from_dist_id(50) == "1050"
    assert thai.dist_id_from_district_code("1039") == 39
    for bad in (0, 51):
        with pytest.raises(ValueError):
            thai.district_code_from_dist_id(bad)
    with pytest.raises(ValueError):
        thai.dist_id_from_district_code("5001")


def test_allowance_tiers():
    assert [thai.elderly_allowance_rate(a) for a in (59, 60, 69, 70, 80, 89, 90, 104)] == [0, 600, 600, 700, 800, 800, 1000, 1000]
    assert thai.disability_allowance_rate(17) == 1000
    assert thai.disability_allowance_rate(18) == 800

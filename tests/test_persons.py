"""A person joined across both sources on the normalised citizen ID, with masks and scopes."""

from __future__ import annotations

import asyncio
import json
import datetime as dt

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.bootstrap import migrate_all
from hub.databases import Databases
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry
from tests import factories as f
from tests.backends import create_databases, drop_databases
from tests.conftest import settings_for
from tests.tokens import mint

BOTH = f.citizen_id("110200345678")
DASHED = f.citizen_id("310100123456")
SPACED = f.citizen_id("310100654321")
MINISTRY_ONLY = f.citizen_id("120300111222")
CITY_ONLY = f.citizen_id("350100999888")
TYPO_INTENDED = f.citizen_id("310100777777")
TYPO = TYPO_INTENDED[:12] + str((int(TYPO_INTENDED[12]) + 1) % 10)  # one wrong digit: invalid check digit
DECEASED = f.citizen_id("310100222333")

PERSON_QUERY = """
query($id: CitizenId!) {
  person(citizenId: $id) {
    citizenId sources firstName lastName birthDate birthYear deceased
    district { code }
    household { householdId }
    disabilityCards { cardNo disabilityType valid }
    cases { caseId status summary }
    elderlyAllowances { benefitId status monthlyAmount fiscalYear bankAccount birthDate
                        payments { month amount channel } provenance { source sourceKey } }
    provenance { source sourceKey }
  }
}
"""


@pytest.fixture(scope="module")
def unified(backend_kind, tmp_path_factory):
    async def setup():
        test_dbs = await create_databases(backend_kind, tmp_path_factory.mktemp("unified"))
        databases = Databases.from_settings(settings_for(test_dbs.urls))
        try:
            await migrate_all(databases)
            m, c = databases["ministry"], databases["city"]
            await f.insert(m, ministry.household, [f.household(501)])
            await f.insert(m, ministry.person, [
                f.person(BOTH, household_id=501, subdistrict="100101"),
                f.person(DASHED, first="สมหญิง", sex="F", title="นาง", subdistrict="100201"),
                f.person(SPACED, first="บุญมี", subdistrict="100301"),
                f.person(MINISTRY_ONLY, first="มานะ", birth=dt.date(1990, 2, 1), subdistrict="500101"),
                f.person(TYPO_INTENDED, first="ประยูร", subdistrict="100101"),
                f.person(DECEASED, first="สมศักดิ์", death=dt.date(2025, 3, 4), subdistrict="100101"),
            ])
            await f.insert(m, ministry.disability_card, [f.disability_card("D-1", MINISTRY_ONLY, kind=2)])
            await f.insert(m, ministry.welfare_case, [f.case(9001, MINISTRY_ONLY, summary="ต้องการกายอุปกรณ์")])
            await f.insert(c, city.tb_elder_allow, [
                f.elder_allowance(BOTH, reg_id=1, dist_id=1),
                f.elder_allowance(f"{DASHED[0]}-{DASHED[1:5]}-{DASHED[5:10]}-{DASHED[10:12]}-{DASHED[12]}", reg_id=2, first="สมหญิง", dist_id=2),
                f.elder_allowance(f"{SPACED[:1]} {SPACED[1:5]} {SPACED[5:10]} {SPACED[10:12]} {SPACED[12]}", reg_id=3, first="บุญมี", dist_id=3),
                f.elder_allowance(CITY_ONLY, reg_id=4, first="ลำดวน", last="ทองดี", birth=dt.date(1940, 7, 9), dist_id=4, amount=1000),
                f.elder_allowance(TYPO, reg_id=5, first="ประยูร", dist_id=1),
                f.elder_allowance(DECEASED, reg_id=6, first="สมศักดิ์", dist_id=1, status="A"),
            ])
            await f.insert(c, city.tb_allow_pay, [
                f.payment(1, "256908"), f.payment(1, "256909"), f.payment(1, "256910"),
                f.payment(1, "256910", kind="D", amount=800),  # a disability payment with the same reg_id
            ])
        finally:
            await databases.dispose()
        return test_dbs

    test_dbs = asyncio.run(setup())
    yield test_dbs
    asyncio.run(drop_databases(test_dbs))


@pytest.fixture(scope="module")
def app_client(unified):
    with TestClient(create_app(settings_for(unified.urls))) as client:
        yield client


def query(client, token, document, variables=None, purpose="case review"):
    headers = {"Authorization": f"Bearer {token}"}
    if purpose:
        headers["X-Purpose"] = purpose
    response = client.post("/graphql", json={"query": document, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


FULL = "ministry:read city:read pii:read sensitive:read"


@pytest.fixture(scope="module")
def full_token(unified):
    return mint(settings_for(unified.urls), FULL)


def test_person_in_both_sources(app_client, full_token):
    body = query(app_client, full_token, PERSON_QUERY, {"id": BOTH})
    assert "errors" not in body, body
    person = body["data"]["person"]
    assert person["citizenId"] == BOTH
    assert person["sources"] == ["ministry", "city"]
    assert person["firstName"] == "สมชาย" and person["birthDate"] == "1950-05-17"
    assert person["household"] == {"householdId": 501}
    assert person["district"] == {"code": "1001"}
    [allowance] = person["elderlyAllowances"]
    assert allowance["benefitId"] == "E1" and allowance["status"] == "ACTIVE"
    assert allowance["monthlyAmount"] == "700.00" and allowance["fiscalYear"] == 2568
    assert allowance["birthDate"] == "1950-05-17"
    # Only the elderly payments of registration 1, not the disability payment sharing its number.
    assert [p["month"] for p in allowance["payments"]] == ["2026-08-01", "2026-09-01", "2026-10-01"]
    assert {p["source"] for p in person["provenance"]} == {"ministry", "city"}


@pytest.mark.parametrize("cid, reg_id", [(DASHED, 2), (SPACED, 3)], ids=["dashed", "spaced"])
def test_city_pid_typed_with_separators_still_links(app_client, full_token, cid, reg_id):
    person = query(app_client, full_token, PERSON_QUERY, {"id": cid})["data"]["person"]
    assert person["sources"] == ["ministry", "city"]
    assert [a["benefitId"] for a in person["elderlyAllowances"]] == [f"E{reg_id}"]


def test_person_only_in_the_ministry(app_client, full_token):
    person = query(app_client, full_token, PERSON_QUERY, {"id": MINISTRY_ONLY})["data"]["person"]
    assert person["sources"] == ["ministry"]
    assert person["elderlyAllowances"] == []
    assert person["disabilityCards"] == [{"cardNo": "D-1", "disabilityType": 2, "valid": True}]
    assert person["cases"] == [{"caseId": 9001, "status": "OPEN", "summary": "ต้องการกายอุปกรณ์"}]
    assert person["district"] == {"code": "5001"}


def test_person_only_in_the_city(app_client, full_token):
    person = query(app_client, full_token, PERSON_QUERY, {"id": CITY_ONLY})["data"]["person"]
    assert person["sources"] == ["city"]
    assert person["firstName"] == "ลำดวน" and person["birthDate"] == "1940-07-09"
    assert person["deceased"] is None
    assert person["district"] == {"code": "1004"}
    assert person["household"] is None and person["cases"] == []


def test_invalid_city_pid_links_to_nobody(app_client, full_token):
    person = query(app_client, full_token, PERSON_QUERY, {"id": TYPO_INTENDED})["data"]["person"]
    assert person["sources"] == ["ministry"]
    assert person["elderlyAllowances"] == []


def test_deceased_person_with_active_allowance_is_shown_as_both_sources_say(app_client, full_token):
    person = query(app_client, full_token, PERSON_QUERY, {"id": DECEASED})["data"]["person"]
    assert person["deceased"] is True
    assert person["elderlyAllowances"][0]["status"] == "ACTIVE"


def test_unknown_person_is_null(app_client, full_token):
    assert query(app_client, full_token, PERSON_QUERY, {"id": f.citizen_id("999999999999")})["data"]["person"] is None


@pytest.mark.parametrize("bad", ["1-2345-67890-12-3", "12345", "๑๒๓๔๕๖๗๘๙๐๑๒๓"])
def test_malformed_citizen_id_is_a_typed_error(app_client, full_token, bad):
    body = query(app_client, full_token, PERSON_QUERY, {"id": bad})
    assert body.get("data") is None
    [error] = body["errors"]
    assert "CitizenId" in error["message"]
    assert bad not in error["message"]


def test_without_pii_read_identity_is_masked(app_client, unified):
    token = mint(settings_for(unified.urls), "ministry:read city:read")
    person = query(app_client, token, PERSON_QUERY, {"id": BOTH})["data"]["person"]
    assert person["citizenId"] == f"{BOTH[0]}-{BOTH[1:5]}-xxxxx-xx-{BOTH[12]}"
    assert person["firstName"] == "ส." and person["lastName"] == "ใ."
    assert person["birthDate"] is None and person["birthYear"] == 1950
    assert person["elderlyAllowances"][0]["birthDate"] is None


def test_without_sensitive_read_special_category_fields_are_refused(app_client, unified):
    token = mint(settings_for(unified.urls), "ministry:read city:read pii:read")
    body = query(app_client, token, PERSON_QUERY, {"id": MINISTRY_ONLY})
    person = body["data"]["person"]
    assert person["disabilityCards"][0]["disabilityType"] is None
    assert person["cases"][0]["summary"] is None
    codes = {(tuple(e["path"][-1:]), e["extensions"]["code"], e["extensions"].get("scope")) for e in body["errors"]}
    assert (("disabilityType",), "FORBIDDEN", "sensitive:read") in codes
    assert (("summary",), "FORBIDDEN", "sensitive:read") in codes


def test_without_city_read_city_fields_are_refused(app_client, unified):
    token = mint(settings_for(unified.urls), "ministry:read pii:read sensitive:read")
    body = query(app_client, token, PERSON_QUERY, {"id": BOTH})
    person = body["data"]["person"]
    assert person["sources"] == ["ministry"]
    assert person["elderlyAllowances"] is None
    assert any(e["extensions"] == {"code": "FORBIDDEN", "scope": "city:read"} for e in body["errors"])
    # A person only the city knows is invisible without city:read.
    assert query(app_client, token, PERSON_QUERY, {"id": CITY_ONLY})["data"]["person"] is None


def test_reading_a_person_needs_a_purpose(app_client, unified):
    token = mint(settings_for(unified.urls), FULL, purpose=None)
    body = query(app_client, token, PERSON_QUERY, {"id": BOTH}, purpose=None)
    assert body["data"]["person"] is None
    assert body["errors"][0]["extensions"]["reason"] == "PURPOSE_REQUIRED"
    # The purpose may come from the token instead of the header.
    token = mint(settings_for(unified.urls), FULL, purpose="eligibility check")
    assert query(app_client, token, PERSON_QUERY, {"id": BOTH}, purpose=None)["data"]["person"]["citizenId"] == BOTH


def test_district_limited_token_sees_only_its_districts(app_client, unified):
    token = mint(settings_for(unified.urls), FULL, districts=["1001"])
    person = query(app_client, token, PERSON_QUERY, {"id": MINISTRY_ONLY})["data"]["person"]
    assert person is None  # lives in 5001
    person = query(app_client, token, PERSON_QUERY, {"id": BOTH})["data"]["person"]
    assert person["citizenId"] == BOTH


LIST = """
query($filter: PersonFilter, $first: Int, $after: String) {
  persons(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { citizenId sources } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ALL_VALID_IDS = sorted({BOTH, DASHED, SPACED, MINISTRY_ONLY, CITY_ONLY, TYPO_INTENDED, DECEASED})


def _walk(client, token, filter=None, first=2):
    seen, after, total = [], None, None
    for _ in range(20):
        data = query(client, token, LIST, {"filter": filter, "first": first, "after": after})
        assert "errors" not in data, data
        connection = data["data"]["persons"]
        total = connection["totalCount"]
        seen += [e["node"]["citizenId"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen, total
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


def test_persons_lists_both_sources_once_each_in_order(app_client, full_token):
    seen, total = _walk(app_client, full_token)
    assert seen == ALL_VALID_IDS  # the invalid PID is no person; dashed and spaced PIDs are not duplicated
    assert total == len(ALL_VALID_IDS)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_listed_person_shows_the_same_sources_and_provenance_as_when_asked_alone(unified, compiled):
    settings = settings_for(unified.urls, compiled_execution=compiled)
    token = mint(settings, FULL, purpose="case review")
    fields = "citizenId sources provenance { source sourceKey }"
    with TestClient(create_app(settings)) as client:
        alone = query(client, token, f"query($id: CitizenId!) {{ person(citizenId: $id) {{ {fields} }} }}", {"id": BOTH})
        listed = query(client, token, f'{{ persons(first: 100, filter: {{districtCode: "1001"}}) {{ edges {{ node {{ {fields} }} }} }} }}')
        members = query(client, token, f"{{ household(id: 501) {{ members {{ {fields} }} }} }}")
    node = next(e["node"] for e in listed["data"]["persons"]["edges"] if e["node"]["citizenId"] == BOTH)
    assert alone["data"]["person"]["sources"] == ["ministry", "city"]
    assert node == alone["data"]["person"]
    assert members["data"]["household"]["members"] == [alone["data"]["person"]]


def test_persons_filtered_by_district(app_client, full_token):
    # Ministry persons by their ministry district; the city-only person by the city's district (1004).
    seen, total = _walk(app_client, full_token, {"districtCode": "1001"})
    assert seen == sorted({BOTH, TYPO_INTENDED, DECEASED}) and total == 3
    seen, total = _walk(app_client, full_token, {"districtCode": "1004"})
    assert seen == [CITY_ONLY] and total == 1


def test_persons_filtered_by_age_and_benefit(app_client, full_token):
    seen, total = _walk(app_client, full_token, {"ageMax": 40})
    assert seen == [MINISTRY_ONLY] and total == 1  # born 1990
    seen, total = _walk(app_client, full_token, {"ageMin": 80})
    assert seen == [CITY_ONLY] and total == 1  # born 1940, city only
    seen, total = _walk(app_client, full_token, {"benefitKind": "ELDERLY_ALLOWANCE"}, first=3)
    assert seen == sorted({BOTH, DASHED, SPACED, CITY_ONLY, DECEASED}) and total == 5


def test_persons_page_size_is_capped(app_client, full_token):
    body = query(app_client, full_token, LIST, {"first": 101})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = query(app_client, full_token, LIST, {"after": "bm90LWEtY3Vyc29y"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_persons_respect_districts_claim(app_client, unified):
    token = mint(settings_for(unified.urls), FULL, districts=["1001", "1004"])
    seen, total = _walk(app_client, token)
    assert seen == sorted({BOTH, TYPO_INTENDED, DECEASED, CITY_ONLY}) and total == 4


FIGURES = """
{ district(code: "1001") { code figures { persons elderlyPersons deceasedPersons households elderlyAllowanceActive
    elderlyAllowanceMonthly disabilityAllowanceActive openCases { category count } } } }
"""


def test_district_figures_from_both_sources(app_client, full_token):
    body = query(app_client, full_token, FIGURES)
    assert "errors" not in body, body
    figures = body["data"]["district"]["figures"]
    # Ministry, district 1001: BOTH, TYPO_INTENDED alive (born 1950: elderly), DECEASED dead; household 501.
    assert figures["persons"] == 2 and figures["elderlyPersons"] == 2 and figures["deceasedPersons"] == 1
    assert figures["households"] == 1
    # City, dist_id 1: registrations 1 (BOTH), 5 (TYPO) and 6 (DECEASED), all active at 700.
    assert figures["elderlyAllowanceActive"] == 3 and figures["elderlyAllowanceMonthly"] == "2100.00"
    assert figures["disabilityAllowanceActive"] == 0
    assert figures["openCases"] == [{"category": "ELDERLY", "count": 1}]  # case 9001 was opened in 100101


def test_committees(app_client, full_token):
    body = query(app_client, full_token, "{ committees { number lens figureNames } committee(number: 4) { sources { name reachable lastChange } districts { district { code } figures { persons } } } }")
    assert "errors" not in body, body
    assert [c["number"] for c in body["data"]["committees"]] == [1, 2, 3, 4]
    data = body["data"]["committee"]
    assert {s["name"] for s in data["sources"]} == {"ministry", "city"}
    freshness = {s["name"]: s["lastChange"] for s in data["sources"]}
    assert freshness["ministry"].startswith("2026-11-01T09:00:00")  # factories' updated_at (UTC)
    assert freshness["city"] == "2026-10-15T14:30:00+07:00"  # city upd_dt is Bangkok local time
    assert len(data["districts"]) == 50
    by_code = {d["district"]["code"]: d["figures"]["persons"] for d in data["districts"]}
    assert by_code["1001"] == 2 and by_code["1002"] == 1 and by_code["1050"] == 0


def test_figures_of_other_districts_are_refused_to_a_limited_token(app_client, unified):
    token = mint(settings_for(unified.urls), FULL, districts=["1002"])
    body = query(app_client, token, FIGURES)
    assert body["data"]["district"]["figures"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = query(app_client, token, "{ committee(number: 3) { districts { district { code } } } }")
    assert [d["district"]["code"] for d in body["data"]["committee"]["districts"]] == ["1002"]


NESTED = """
query($first: Int) {
  persons(first: $first) {
    edges { node {
      citizenId firstName district { code }
      household { householdId members { citizenId } }
      disabilityCards { cardNo } cases { caseId } childSupportGrants { benefitId } volunteer { volunteerId }
      elderlyAllowances { benefitId payments { month } }
      disabilityAllowances { benefitId payments { month } }
      funeralAid { benefitId } homelessRecords { homelessId } housingApplications { applicationId }
    } }
  }
}
"""


class StatementCounter:
    """Statements per database while it is open: the store's as SQLAlchemy runs them, the sources'
    as the hub times them (some source reads run on the driver directly, past SQLAlchemy)."""

    def __init__(self, app):
        import sqlalchemy as sa

        self.counts: dict[str, int] = {}
        self._listeners = []
        self._metrics = app.state.metrics
        store = app.state.databases.engines["store"].sync_engine

        def listener(*_args, **_kwargs):
            self.counts["store"] = self.counts.get("store", 0) + 1

        sa.event.listen(store, "before_cursor_execute", listener)
        self._listeners.append((store, listener))
        observe = self._metrics.observe_source

        def observed(source, seconds, ok):
            if source != "store":
                self.counts[source] = self.counts.get(source, 0) + 1
            observe(source, seconds, ok)

        self._metrics.observe_source = observed

    def reset(self):
        self.counts = {}

    def close(self):
        import sqlalchemy as sa

        for engine, listener in self._listeners:
            sa.event.remove(engine, "before_cursor_execute", listener)
        del self._metrics.observe_source  # the class's own method again


def _away_from_tidying() -> None:
    """Wait out the seconds in which the rate counters' store work also drops old windows (a
    minute's first second, an hour's first five), so statement counts compare like for like."""
    import datetime as dt
    import time

    while True:
        now = dt.datetime.now(dt.UTC)
        if now.second not in (58, 59, 0) and not (now.minute == 0 and now.second < 6) and \
                not (now.minute == 59 and now.second >= 58):
            return
        time.sleep(0.2)


def test_statements_do_not_grow_with_rows_returned(app_client, full_token):
    # The first request also loads the signing keys, and records the seven persons as read this hour
    # (the persons guard writes only for persons new to the client's hour).
    query(app_client, full_token, NESTED, {"first": 7})
    _away_from_tidying()
    counter = StatementCounter(app_client.app)
    try:
        counts = {}
        for first in (1, 3, 7):
            counter.reset()
            body = query(app_client, full_token, NESTED, {"first": first})
            assert "errors" not in body, body
            assert len(body["data"]["persons"]["edges"]) == first
            counts[first] = dict(counter.counts)
        assert counts[1] == counts[3] == counts[7], counts
        # Store: the revocation check and the audit entry. Ministry: page, registrant check, relations.
        # Store: revocation check, request rate, persons-read guard, audit entry (SQLite counts each BEGIN too).
        assert counts[7]["store"] <= 14
        assert counts[7]["ministry"] <= 9 and counts[7]["city"] <= 10, counts[7]
    finally:
        counter.close()


def test_cases_and_households(app_client, full_token):
    body = query(app_client, full_token, """
      { cases(filter: {category: "ELDERLY"}, first: 5) { totalCount edges { node { caseId category district { code } } } }
        household(id: 501) { householdId members { citizenId } district { code } }
        none: household(id: 999) { householdId } }""")
    assert "errors" not in body, body
    assert body["data"]["cases"]["totalCount"] == 1
    assert body["data"]["cases"]["edges"][0]["node"] == {"caseId": 9001, "category": "ELDERLY", "district": {"code": "1001"}}
    assert body["data"]["household"]["members"] == [{"citizenId": BOTH}]
    assert body["data"]["none"] is None
    bad = query(app_client, full_token, '{ cases(filter: {category: "ROBBERY"}) { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_registrations_with_invalid_pids_stay_visible(app_client, full_token):
    body = query(app_client, full_token, '{ district(code: "1001") { unlinkedRegistrations { benefitId citizenId firstName issues { field problem } } } }')
    assert "errors" not in body, body
    [registration] = body["data"]["district"]["unlinkedRegistrations"]
    assert registration["benefitId"] == "E5" and registration["citizenId"] is None
    assert registration["firstName"] == "ประยูร"
    assert registration["issues"] == [{"field": "citizenId", "problem": "citizen ID not usable: the check digit of this citizen ID does not match"}]
    assert TYPO not in str(body)


def test_district_limited_token_sees_nested_records_of_its_persons_only(app_client, unified):
    settings = settings_for(unified.urls)
    mine = mint(settings, FULL, districts=["5001"])
    person = query(app_client, mine, PERSON_QUERY, {"id": MINISTRY_ONLY})["data"]["person"]
    assert person["disabilityCards"] == [{"cardNo": "D-1", "disabilityType": 2, "valid": True}]
    # The case was opened in 100101, outside the token's districts.
    assert person["cases"] == []
    other = mint(settings, FULL, districts=["1004"])
    # CITY_ONLY lives in 1004 per the city; the ministry knows nothing of them: no ministry records follow.
    person = query(app_client, other, PERSON_QUERY, {"id": CITY_ONLY})["data"]["person"]
    assert person["sources"] == ["city"] and person["disabilityCards"] == []
    # BOTH lives in 1001 per the ministry and is registered in dist 1: invisible from 1004.
    assert query(app_client, other, PERSON_QUERY, {"id": BOTH})["data"]["person"] is None


EVERY_PATH = """
query($id: CitizenId!, $city: CitizenId!) {
  person(citizenId: $id) { citizenId firstName lastName birthDate provenance { sourceKey }
    household { address members { citizenId firstName lastName birthDate } cases { citizenId } }
    cases { citizenId } disabilityCards { cardNo }
    elderlyAllowances { citizenId firstName lastName birthDate address } }
  city: person(citizenId: $city) { citizenId firstName lastName birthDate
    elderlyAllowances { citizenId firstName lastName birthDate address } }
  persons(first: 100) { edges { cursor node { citizenId firstName lastName birthDate provenance { sourceKey }
    elderlyAllowances { citizenId firstName lastName birthDate address } } } }
  cases(first: 100) { edges { node { citizenId } } }
  district(code: "1001") { unlinkedRegistrations { citizenId firstName lastName birthDate address } }
}
"""


def test_without_pii_read_no_identity_leaks_on_any_path(app_client, unified):
    token = mint(settings_for(unified.urls), "ministry:read city:read")
    body = query(app_client, token, EVERY_PATH, {"id": BOTH, "city": CITY_ONLY})
    assert body["data"]["person"]["household"]["members"], body
    text = json.dumps(body, ensure_ascii=False)
    for cid in (BOTH, DASHED, SPACED, MINISTRY_ONLY, CITY_ONLY, TYPO_INTENDED, TYPO, DECEASED):
        assert cid not in text
    for name in ("สมชาย", "ใจดี", "สมหญิง", "บุญมี", "มานะ", "ประยูร", "สมศักดิ์", "ลำดวน", "ทองดี", "ราชดำเนิน"):
        assert name not in text, name
    assert "1950-05-17" not in text and "1940-07-09" not in text


def test_filters_need_the_scope_of_the_source_they_look_at(app_client, unified):
    token = mint(settings_for(unified.urls), "ministry:read pii:read")
    body = query(app_client, token, LIST, {"filter": {"benefitKind": "ELDERLY_ALLOWANCE"}})
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "city:read"}
    token = mint(settings_for(unified.urls), "city:read pii:read")
    body = query(app_client, token, LIST, {"filter": {"benefitKind": "CHILD_SUPPORT_GRANT"}})
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "ministry:read"}


def test_cursors_are_sealed(app_client, unified):
    import base64

    token = mint(settings_for(unified.urls), "ministry:read city:read")
    body = query(app_client, token, LIST, {"first": 3})
    for edge in body["data"]["persons"]["edges"]:
        raw = base64.urlsafe_b64decode(edge["cursor"] + "=" * (-len(edge["cursor"]) % 4))
        assert not any(cid.encode() in raw for cid in ALL_VALID_IDS)
    tampered = body["data"]["persons"]["pageInfo"]["endCursor"][:-2] + "AA"
    assert query(app_client, token, LIST, {"after": tampered})["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_registrations_and_their_payments_are_read_in_one_statement(app_client, full_token):
    """A person's elderly and disability registrations and the payments the query asks of them
    come from one city statement (each registration outer-joined to its own kind's payments)."""
    counter = StatementCounter(app_client.app)
    try:
        body = query(app_client, full_token, """
          query($id: CitizenId!) { person(citizenId: $id) {
            elderlyAllowances { benefitId payments { month amount } }
            disabilityAllowances { benefitId payments { month } } } }""", {"id": BOTH})
        assert "errors" not in body, body
        [allowance] = body["data"]["person"]["elderlyAllowances"]
        # Only the elderly payments of registration 1, in month order, not the disability payment sharing its number.
        assert [p["month"] for p in allowance["payments"]] == ["2026-08-01", "2026-09-01", "2026-10-01"]
        assert counter.counts.get("city") == 1, counter.counts
        counter.reset()
        # Asked of a registration without payments: none, still from the one statement.
        body = query(app_client, full_token, """
          query($id: CitizenId!) { person(citizenId: $id) { elderlyAllowances { benefitId payments { month } } } }""",
                     {"id": CITY_ONLY})
        assert body["data"]["person"]["elderlyAllowances"] == [{"benefitId": "E4", "payments": []}], body
        assert counter.counts.get("city") == 1, counter.counts
    finally:
        counter.close()

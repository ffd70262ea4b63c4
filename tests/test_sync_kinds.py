"""The remaining sync kinds: households, MPI assessments and disability cards (ministry); funeral aid,
homeless counts and persons, housing applications (city). Native forms, replays, per-item errors,
create-only and upsert rules, parents (existence and districts), and the audit trail and feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from decimal import Decimal

import sqlalchemy as sa

from hub.db import create_engine
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry
from hub.store.tables import audit_log, change_log
from tests import factories as f
from tests.test_sync import A, B, C, client, dbs, integrator, rows, run  # noqa: F401 (fixtures)

DOCUMENT = """
mutation($items: [%(input)s!]!, $key: String!, $mode: SyncMode) {
  %(name)s(items: $items, idempotencyKey: $key, mode: $mode) {
    replayed applied failed
    items {
      __typename
      ... on Applied { index key version operation }
      ... on ValidationError { index problems { field message } }
      ... on VersionConflict { index key currentVersion reason }
      ... on NotFound { index key field }
      ... on Forbidden { index reason }
      ... on NotApplied { index }
    }
  }
}
"""
INPUTS = {
    "syncHouseholds": "HouseholdInput",
    "syncMpiAssessments": "MpiAssessmentInput",
    "syncDisabilityCards": "DisabilityCardInput",
    "syncFuneralAid": "FuneralAidInput",
    "syncHomelessCounts": "HomelessCountInput",
    "syncHomelessPersons": "HomelessPersonInput",
    "syncHousingApplications": "HousingApplicationInput",
}
BAD_CID = "1-2345-67890-12-3"  # the check digit does not match


def sync(client, token, mutation, items, key, mode=None):
    variables = {"items": items, "key": key}
    if mode:
        variables["mode"] = mode
    body = run(client, token, DOCUMENT % {"name": mutation, "input": INPUTS[mutation]}, variables)
    assert "errors" not in body, body
    return body["data"][mutation]


def kinds(result):
    return [i["__typename"] for i in result["items"]]


def problems(item):
    return {p["field"]: p["message"] for p in item["problems"]}


def dashed(cid):
    return f"{cid[0]}-{cid[1:5]}-{cid[5:10]}-{cid[10:12]}-{cid[12]}"


def put(dbs, source, table, records):
    async def go():
        engine = create_engine(dbs.urls[source])
        try:
            await f.insert(engine, table, records)
        finally:
            await engine.dispose()

    asyncio.run(go())


def table_rows(dbs, source, table, *order_by):
    return [dict(r._mapping) for r in rows(dbs.urls[source], sa.select(table).order_by(*(order_by or table.primary_key.columns)))]


def feed(dbs):
    return rows(dbs.urls["store"], sa.select(change_log.c.entity, change_log.c.source_key, change_log.c.operation,
                                             change_log.c.district_code, change_log.c.citizen_id).order_by(change_log.c.seq))


# --- ministry ------------------------------------------------------------------------------------

def household(household_id, **changes):
    item = {"householdId": household_id, "address": "12 ถนนราชดำเนิน", "subdistrictCode": "100101", "inBmn": False,
            "hasWelfareCard": True}
    item.update(changes)
    return item


def test_households_are_created_updated_and_checked(client, dbs):
    token = integrator(dbs)
    created = sync(client, token, "syncHouseholds",
                   [household(7, houseCode="10010000007", logbookStage=2), household(8, subdistrictCode="500101", inBmn=True)], "h1")
    assert created["items"] == [
        {"__typename": "Applied", "index": 0, "key": "7", "version": 1, "operation": "create"},
        {"__typename": "Applied", "index": 1, "key": "8", "version": 1, "operation": "create"}]
    again = sync(client, token, "syncHouseholds",
                 [household(7, houseCode="10010000007", logbookStage=2), household(8, subdistrictCode="500101", inBmn=True)], "h1")
    assert again["replayed"] is True and again["items"] == created["items"]
    first, _ = table_rows(dbs, "ministry", ministry.household)
    assert {k: first[k] for k in ("household_id", "house_code", "subdistrict_code", "in_bmn", "has_welfare_card", "logbook_stage", "version")} == {
        "household_id": 7, "house_code": "10010000007", "subdistrict_code": "100101", "in_bmn": False,
        "has_welfare_card": True, "logbook_stage": 2, "version": 1}

    updated = sync(client, token, "syncHouseholds", [household(7, hasWelfareCard=False, expectedVersion=1)], "h2")
    assert updated["items"][0]["version"] == 2
    stale = sync(client, token, "syncHouseholds", [household(7, expectedVersion=1)], "h3")
    assert stale["items"][0]["__typename"] == "VersionConflict" and stale["items"][0]["currentVersion"] == 2

    bad = sync(client, token, "syncHouseholds", [
        household(9, inBmn=True),                      # Bangkok is outside BMN
        household(10, subdistrictCode="999999"),       # unknown subdistrict
        household(11, houseCode="1001-7", logbookStage=4),
        household(0),
    ], "h4")
    assert kinds(bad) == ["ValidationError"] * 4
    assert list(problems(bad["items"][0])) == ["inBmn"] and "Bangkok" in problems(bad["items"][0])["inBmn"]
    assert problems(bad["items"][1]) == {"subdistrictCode": "is not a DOPA subdistrict code"}
    assert problems(bad["items"][2]) == {"houseCode": "must be 11 digits", "logbookStage": "must be a whole number from 1 to 3"}
    assert list(problems(bad["items"][3])) == ["householdId"]
    assert [r["household_id"] for r in table_rows(dbs, "ministry", ministry.household)] == [7, 8]
    assert len(feed(dbs)) == 3


def mpi(household_id, indicator, deprived=False, year=2025):
    return {"householdId": household_id, "surveyYear": year, "indicator": indicator, "deprived": deprived}


def test_mpi_assessments_are_upserted_on_their_composite_key(client, dbs):
    put(dbs, "ministry", ministry.household, [f.household(7, subdistrict="500101", in_bmn=True)])
    token = integrator(dbs)
    created = sync(client, token, "syncMpiAssessments", [mpi(7, 8, True), mpi(7, 22)], "m1")
    assert created["items"] == [
        {"__typename": "Applied", "index": 0, "key": "7:2025:8", "version": 1, "operation": "create"},
        {"__typename": "Applied", "index": 1, "key": "7:2025:22", "version": 1, "operation": "create"}]
    assert sync(client, token, "syncMpiAssessments", [mpi(7, 8, True), mpi(7, 22)], "m1")["replayed"] is True
    assert [tuple(r.values()) for r in table_rows(dbs, "ministry", ministry.mpi_assessment)] == [(7, 2025, 8, True), (7, 2025, 22, False)]

    # The later answer replaces the earlier one; the same answer again writes (and feeds) nothing.
    upsert = sync(client, token, "syncMpiAssessments", [mpi(7, 22, True), mpi(7, 8, True)], "m2")
    assert [(i["operation"], i["key"]) for i in upsert["items"]] == [("update", "7:2025:22"), ("unchanged", "7:2025:8")]
    assert [r["deprived"] for r in table_rows(dbs, "ministry", ministry.mpi_assessment)] == [True, True]
    assert [(e, k, o, d) for e, k, o, d, _ in feed(dbs)] == [
        ("mpi_assessment", "mpi_assessment:7:2025:8", "create", "5001"),
        ("mpi_assessment", "mpi_assessment:7:2025:22", "create", "5001"),
        ("mpi_assessment", "mpi_assessment:7:2025:22", "update", "5001")]

    bad = sync(client, token, "syncMpiAssessments", [
        mpi(7, 2),                # not a TPMAP indicator
        mpi(7, 8, year=2568),     # a Buddhist-Era survey year
        mpi(7, 8, year=1999),
        mpi(999, 8),              # no such household
    ], "m3")
    assert kinds(bad) == ["ValidationError", "ValidationError", "ValidationError", "NotFound"]
    assert list(problems(bad["items"][0])) == ["indicator"] and "27, 28" in problems(bad["items"][0])["indicator"]
    assert "Buddhist-Era" in problems(bad["items"][1])["surveyYear"] and "2025" in problems(bad["items"][1])["surveyYear"]
    assert problems(bad["items"][2])["surveyYear"].startswith("must be a year of the common era from 2000")
    assert bad["items"][3] == {"__typename": "NotFound", "index": 3, "key": "999", "field": "householdId"}
    assert len(table_rows(dbs, "ministry", ministry.mpi_assessment)) == 2 and len(feed(dbs)) == 3


def card(card_no, cid, **changes):
    item = {"cardNo": card_no, "citizenId": cid, "disabilityType": 3, "issuedOn": "2022-01-10", "expiresOn": "2030-01-10"}
    item.update(changes)
    return item


def test_disability_cards_are_issued_renewed_and_revoked_but_never_moved_or_reinstated(client, dbs):
    put(dbs, "ministry", ministry.person, [f.person(A, subdistrict="100201"), f.person(B)])
    token = integrator(dbs)
    created = sync(client, token, "syncDisabilityCards", [card("PWD25650000001", dashed(A))], "d1")
    assert created["items"] == [{"__typename": "Applied", "index": 0, "key": "PWD25650000001", "version": 1, "operation": "create"}]
    assert sync(client, token, "syncDisabilityCards", [card("PWD25650000001", dashed(A))], "d1")["replayed"] is True
    [row] = table_rows(dbs, "ministry", ministry.disability_card)
    assert row == {"card_no": "PWD25650000001", "citizen_id": A, "disability_type": 3, "issued_on": dt.date(2022, 1, 10),
                   "expires_on": dt.date(2030, 1, 10), "revoked": False}

    renewed = sync(client, token, "syncDisabilityCards", [card("PWD25650000001", A, expiresOn="2034-01-10")], "d2")
    assert renewed["items"][0]["operation"] == "update"
    refused = sync(client, token, "syncDisabilityCards", [
        card("PWD25650000001", B, expiresOn="2034-01-10"),      # another person's card number
        card("PWD25650000001", A, expiresOn="2031-01-10"),      # shortened
    ], "d3")
    assert kinds(refused) == ["VersionConflict", "VersionConflict"]
    assert refused["items"][0]["reason"] == "this card number belongs to another person"
    assert "expiresOn would move back" in refused["items"][1]["reason"]
    revoked = sync(client, token, "syncDisabilityCards", [card("PWD25650000001", A, expiresOn="2034-01-10", revoked=True)], "d4")
    assert revoked["items"][0]["operation"] == "update"
    reinstated = sync(client, token, "syncDisabilityCards", [card("PWD25650000001", A, expiresOn="2034-01-10")], "d5")
    assert kinds(reinstated) == ["VersionConflict"] and "revoked" in reinstated["items"][0]["reason"]
    [row] = table_rows(dbs, "ministry", ministry.disability_card)
    assert (row["citizen_id"], row["expires_on"], row["revoked"]) == (A, dt.date(2034, 1, 10), True)

    bad = sync(client, token, "syncDisabilityCards", [
        card("X1", BAD_CID),
        card("X2", B, disabilityType=8, issuedOn="2565-01-10"),   # a BE issue date typed as CE
        card("X3", B, issuedOn="2024-05-01", expiresOn="2024-04-30"),
        card("X4", B, expiresOn="2573-01-10"),                     # a BE expiry typed as CE
        card("X5", C),                                             # not in the register
    ], "d6")
    assert kinds(bad) == ["ValidationError"] * 4 + ["NotFound"]
    assert problems(bad["items"][0]) == {"citizenId": "the check digit of this citizen ID does not match"}
    assert set(problems(bad["items"][1])) == {"disabilityType", "issuedOn"} and "Buddhist-Era" in problems(bad["items"][1])["issuedOn"]
    assert problems(bad["items"][2]) == {"expiresOn": "must be after the issue date"}
    assert "Buddhist-Era" in problems(bad["items"][3])["expiresOn"]
    assert bad["items"][4] == {"__typename": "NotFound", "index": 4, "key": C, "field": "citizenId"}
    assert BAD_CID not in json.dumps(bad)
    assert [r["card_no"] for r in table_rows(dbs, "ministry", ministry.disability_card)] == ["PWD25650000001"]
    assert [(o, d, c) for _, _, o, d, c in feed(dbs)] == [("create", "1002", A), ("update", "1002", A), ("update", "1002", A)]


# --- city ----------------------------------------------------------------------------------------

def funeral(deceased, **changes):
    item = {"deceasedCitizenId": deceased, "deceasedName": "นายสมชาย ใจดี", "applicantCitizenId": B, "districtCode": "1001",
            "deathDate": "2026-09-03", "status": "APPROVED", "approvedAt": "2026-10-01T10:00:00+07:00"}
    item.update(changes)
    return item


def test_funeral_aid_is_written_in_the_citys_form_once_per_death(client, dbs):
    token = integrator(dbs, "city")
    created = sync(client, token, "syncFuneralAid", [funeral(A), funeral(C, status="PENDING", approvedAt=None, amount="2000.00")], "f1")
    assert kinds(created) == ["Applied", "Applied"]
    assert sync(client, token, "syncFuneralAid", [funeral(A), funeral(C, status="PENDING", approvedAt=None, amount="2000.00")], "f1")["replayed"] is True
    first, second = table_rows(dbs, "city", city.tb_funeral_aid)
    assert {k: v for k, v in first.items() if k not in ("aid_id", "deceased_pid_digits")} == {
        "deceased_pid": dashed(A), "deceased_name": "นายสมชาย ใจดี", "applicant_pid": dashed(B), "dist_id": 1,
        "death_be": "03/09/2569", "amount": Decimal("3000.00"), "approved_dt": dt.datetime(2026, 10, 1, 10, 0), "status": "A"}
    assert (second["status"], second["amount"], second["approved_dt"]) == ("P", Decimal("2000.00"), None)

    again = sync(client, token, "syncFuneralAid", [funeral(dashed(A))], "f2")
    assert kinds(again) == ["VersionConflict"] and again["items"][0]["key"] == str(first["aid_id"])

    bad = sync(client, token, "syncFuneralAid", [
        funeral(BAD_CID),
        funeral(A, districtCode="5001", deathDate="2569-09-03"),   # not Bangkok; a BE year typed as CE
        funeral(A, amount="-3000.00"),
        funeral(A, applicantCitizenId=A, approvedAt=None),
        funeral(A, status="A", approvedAt="2026-10-01"),
    ], "f3")
    assert kinds(bad) == ["ValidationError"] * 5
    assert problems(bad["items"][0]) == {"deceasedCitizenId": "the check digit of this citizen ID does not match"}
    assert problems(bad["items"][1])["districtCode"] == "is not a Bangkok district code (1001-1050)"
    assert "Buddhist-Era" in problems(bad["items"][1])["deathDate"] and "2026" in problems(bad["items"][1])["deathDate"]
    assert problems(bad["items"][2]) == {"amount": "must not be negative"}
    assert set(problems(bad["items"][3])) == {"applicantCitizenId", "approvedAt"}
    assert set(problems(bad["items"][4])) == {"status", "approvedAt"}
    assert len(table_rows(dbs, "city", city.tb_funeral_aid)) == 2
    assert [(e, d, c) for e, _, _, d, c in feed(dbs)] == [("funeral_aid", "1001", A), ("funeral_aid", "1001", C)]


def count(**changes):
    item = {"districtCode": "1001", "countDate": "2026-10-20", "place": "ถนนราชดำเนินกลาง", "male": 12, "female": 4, "unspecified": 1}
    item.update(changes)
    return item


def test_homeless_counts_are_create_only_and_never_negative(client, dbs):
    token = integrator(dbs, "city")
    created = sync(client, token, "syncHomelessCounts", [count(), count(districtCode="1050", male=0, female=0, unspecified=0)], "c1")
    assert kinds(created) == ["Applied", "Applied"]
    assert sync(client, token, "syncHomelessCounts", [count(), count(districtCode="1050", male=0, female=0, unspecified=0)], "c1")["replayed"] is True
    first, second = table_rows(dbs, "city", city.tb_homeless_count)
    assert {k: v for k, v in first.items() if k != "count_id"} == {
        "dist_id": 1, "count_date": dt.date(2026, 10, 20), "spot_desc": "ถนนราชดำเนินกลาง", "male": 12, "female": 4, "unspecified": 1}
    assert second["dist_id"] == 50

    bad = sync(client, token, "syncHomelessCounts", [
        count(male=-1),
        count(districtCode="1051"),
        count(districtCode="1201"),                 # Nonthaburi: not Bangkok
        count(countDate="2569-10-20"),              # a BE year typed as CE
        count(countDate="2026-12-31"),              # in the future
        count(),                                    # the same place and night again
    ], "c2")
    assert kinds(bad) == ["ValidationError"] * 5 + ["VersionConflict"]
    assert problems(bad["items"][0]) == {"male": "must not be negative"}
    assert problems(bad["items"][1]) == problems(bad["items"][2]) == {"districtCode": "is not a Bangkok district code (1001-1050)"}
    assert "Buddhist-Era" in problems(bad["items"][3])["countDate"]
    assert problems(bad["items"][4]) == {"countDate": "is in the future"}
    assert bad["items"][5]["key"] == str(first["count_id"])
    assert len(table_rows(dbs, "city", city.tb_homeless_count)) == 2 and len(feed(dbs)) == 2


def homeless(**changes):
    item = {"nickname": "ลุงดำ", "sex": "UNSPECIFIED", "ageBand": "60+", "districtCode": "1001", "firstSeen": "2025-03-01"}
    item.update(changes)
    return item


def test_homeless_persons_with_and_without_an_id(client, dbs):
    token = integrator(dbs, "city")
    created = sync(client, token, "syncHomelessPersons", [
        homeless(), homeless(citizenId=A, sex="MALE", ageBand="40-49", lastSeen="2026-11-01", referredTo="บ้านมิตรไมตรี")], "p1")
    assert kinds(created) == ["Applied", "Applied"]
    assert sync(client, token, "syncHomelessPersons", [
        homeless(), homeless(citizenId=A, sex="MALE", ageBand="40-49", lastSeen="2026-11-01", referredTo="บ้านมิตรไมตรี")], "p1")["replayed"] is True
    anonymous, named = table_rows(dbs, "city", city.tb_homeless_person)
    assert (anonymous["pid"], anonymous["sex"], anonymous["age_band"], anonymous["last_seen"]) == (None, "U", "60+", dt.date(2025, 3, 1))
    assert {k: v for k, v in named.items() if k not in ("hl_id", "pid_digits")} == {
        "pid": dashed(A), "nickname": "ลุงดำ", "sex": "M", "age_band": "40-49", "dist_id": 1,
        "first_seen": dt.date(2025, 3, 1), "last_seen": dt.date(2026, 11, 1), "referred_to": "บ้านมิตรไมตรี"}

    bad = sync(client, token, "syncHomelessPersons", [
        homeless(citizenId=BAD_CID),
        homeless(ageBand="10-17", sex="M"),
        homeless(districtCode="5001", firstSeen="2568-03-01"),
        homeless(firstSeen="2026-01-10", lastSeen="2025-01-10"),
        homeless(citizenId=dashed(A)),               # already on the roster
        homeless(),                                  # without an ID nobody can tell: a new entry
    ], "p2")
    assert kinds(bad) == ["ValidationError"] * 4 + ["VersionConflict", "Applied"]
    assert problems(bad["items"][0]) == {"citizenId": "the check digit of this citizen ID does not match"}
    assert problems(bad["items"][1]) == {"sex": "must be one of FEMALE, MALE, UNSPECIFIED",
                                         "ageBand": "must be one of 18-29, 30-39, 40-49, 50-59, 60+"}
    assert set(problems(bad["items"][2])) == {"districtCode", "firstSeen"} and "Buddhist-Era" in problems(bad["items"][2])["firstSeen"]
    assert problems(bad["items"][3]) == {"lastSeen": "is before firstSeen"}
    assert bad["items"][4]["key"] == str(named["hl_id"])
    assert len(table_rows(dbs, "city", city.tb_homeless_person)) == 3
    assert [c for _, _, _, _, c in feed(dbs)] == [None, A, None]


def application(**changes):
    item = {"projectId": 2, "citizenId": A, "householdSize": 4, "monthlyIncome": "15000.00", "appliedOn": "2026-06-15", "status": "PENDING"}
    item.update(changes)
    return item


PROJECTS = [
    {"proj_id": 1, "dist_id": 1, "proj_name": "บ้านมั่นคงพระนคร", "units_total": 100, "units_occupied": 80, "opened_dt": dt.date(2010, 1, 1)},
    {"proj_id": 2, "dist_id": 2, "proj_name": "อาคารเคหะดุสิต", "units_total": 200, "units_occupied": 150, "opened_dt": dt.date(2012, 1, 1)},
]


def test_housing_applications_are_filed_then_decided_once(client, dbs):
    put(dbs, "city", city.tb_housing_proj, PROJECTS)
    token = integrator(dbs, "city")
    filed = sync(client, token, "syncHousingApplications", [application()], "a1")
    assert kinds(filed) == ["Applied"]
    assert sync(client, token, "syncHousingApplications", [application()], "a1")["replayed"] is True
    [row] = table_rows(dbs, "city", city.tb_housing_app)
    assert {k: v for k, v in row.items() if k not in ("app_id", "pid_digits")} == {
        "proj_id": 2, "pid": dashed(A), "household_size": 4, "income_month": Decimal("15000.00"),
        "applied_dt": dt.date(2026, 6, 15), "status": "P"}
    app_id = row["app_id"]
    assert kinds(sync(client, token, "syncHousingApplications", [application()], "a2")) == ["VersionConflict"]  # already pending

    decided = sync(client, token, "syncHousingApplications", [{"applicationId": app_id, "status": "APPROVED"}], "a3")
    assert decided["items"][0] == {"__typename": "Applied", "index": 0, "key": str(app_id), "version": 1, "operation": "update"}
    final = sync(client, token, "syncHousingApplications", [
        {"applicationId": app_id, "status": "REJECTED"},
        {"applicationId": app_id, "status": "APPROVED"},
        {"applicationId": 999, "status": "APPROVED"},
    ], "a4")
    assert kinds(final) == ["VersionConflict", "Applied", "NotFound"]
    assert "already decided (APPROVED)" in final["items"][0]["reason"] and final["items"][1]["operation"] == "unchanged"
    assert final["items"][2] == {"__typename": "NotFound", "index": 2, "key": "999", "field": None}
    [row] = table_rows(dbs, "city", city.tb_housing_app)
    assert row["status"] == "A"

    bad = sync(client, token, "syncHousingApplications", [
        application(citizenId=BAD_CID, householdSize=0),
        application(householdSize=21, monthlyIncome="-1.00"),
        application(appliedOn="2569-06-15"),
        application(projectId=99),
        {"applicationId": app_id, "status": "REJECTED", "householdSize": 3},
    ], "a5")
    assert kinds(bad) == ["ValidationError", "ValidationError", "ValidationError", "NotFound", "ValidationError"]
    assert problems(bad["items"][0]) == {"citizenId": "the check digit of this citizen ID does not match",
                                         "householdSize": "must be a whole number from 1 to 20"}
    assert problems(bad["items"][1]) == {"householdSize": "must be a whole number from 1 to 20", "monthlyIncome": "must not be negative"}
    assert "Buddhist-Era" in problems(bad["items"][2])["appliedOn"]
    assert bad["items"][3] == {"__typename": "NotFound", "index": 3, "key": "99", "field": "projectId"}
    assert list(problems(bad["items"][4])) == ["householdSize"]
    assert len(table_rows(dbs, "city", city.tb_housing_app)) == 1


def test_a_new_kind_is_audited_and_fed_once_per_applied_change(client, dbs):
    put(dbs, "city", city.tb_housing_proj, PROJECTS)
    token = integrator(dbs, "city")
    filed = sync(client, token, "syncHousingApplications", [application(), application(citizenId=B, projectId=1)], "e1")
    app_id = filed["items"][0]["key"]
    sync(client, token, "syncHousingApplications", [{"applicationId": int(app_id), "status": "REJECTED"}], "e2")
    sync(client, token, "syncHousingApplications", [{"applicationId": int(app_id), "status": "REJECTED"}], "e3")  # unchanged
    sync(client, token, "syncHousingApplications", [{"applicationId": int(app_id), "status": "REJECTED"}], "e2")  # replay

    writes = [json.loads(d) for (d,) in rows(dbs.urls["store"], sa.select(audit_log.c.detail).where(audit_log.c.kind == "write").order_by(audit_log.c.id))]
    assert [(w["entity"], w["operation"]) for w in writes] == [
        ("housing_application", "create"), ("housing_application", "create"), ("housing_application", "update")]
    assert writes[2]["before"] == {"status": "P"} and writes[2]["after"]["status"] == "R"
    # The decision names no person, yet its audit entry and feed record concern the applicant,
    # and its district is its project's.
    assert feed(dbs) == [
        ("housing_application", f"tb_housing_app:{app_id}", "create", "1002", A),
        ("housing_application", f"tb_housing_app:{int(app_id) + 1}", "create", "1001", B),
        ("housing_application", f"tb_housing_app:{app_id}", "update", "1002", A)]
    page = run(client, token, "{ changes(first: 10) { edges { node { entity operation districtCode } } } }", {})
    assert [n["node"]["operation"] for n in page["data"]["changes"]["edges"]] == ["create", "create", "update"]


def test_districts_of_parents_bound_a_district_limited_client(client, dbs):
    put(dbs, "city", city.tb_housing_proj, PROJECTS)
    put(dbs, "ministry", ministry.household, [f.household(7, subdistrict="100101"), f.household(8, subdistrict="100201")])
    put(dbs, "ministry", ministry.person, [f.person(A, subdistrict="100101"), f.person(B, subdistrict="100201")])
    ministry_token = integrator(dbs, districts=["1002"])
    assessed = sync(client, ministry_token, "syncMpiAssessments", [mpi(7, 8), mpi(8, 8)], "l1")
    assert kinds(assessed) == ["Forbidden", "Applied"] and "household" in assessed["items"][0]["reason"]
    cards = sync(client, ministry_token, "syncDisabilityCards", [card("K1", A), card("K2", B)], "l2")
    assert kinds(cards) == ["Forbidden", "Applied"]
    city_token = integrator(dbs, "city", districts=["1002"])
    applied = sync(client, city_token, "syncHousingApplications", [application(projectId=1), application(projectId=2)], "l3")
    assert kinds(applied) == ["Forbidden", "Applied"] and "housing project" in applied["items"][0]["reason"]
    aid = sync(client, city_token, "syncFuneralAid", [funeral(A), funeral(C, districtCode="1002")], "l4")
    assert kinds(aid) == ["Forbidden", "Applied"]
    # A decision on an application of another district's project is refused too.
    full = integrator(dbs, "city")
    other = sync(client, full, "syncHousingApplications", [application(projectId=1, citizenId=C)], "l5")["items"][0]["key"]
    decided = sync(client, city_token, "syncHousingApplications", [{"applicationId": int(other), "status": "APPROVED"}], "l6")
    assert kinds(decided) == ["Forbidden"]
    assert [r["status"] for r in table_rows(dbs, "city", city.tb_housing_app)] == ["P", "P"]
    assert {d for _, _, _, d, _ in feed(dbs)} == {"1002", "1001"}


def test_all_or_nothing_and_write_scopes_hold_for_the_new_kinds(client, dbs):
    city_token = integrator(dbs, "city")
    body = sync(client, city_token, "syncHomelessCounts", [count(), count(female=-2)], "x1", mode="ALL_OR_NOTHING")
    assert kinds(body) == ["NotApplied", "ValidationError"]
    assert table_rows(dbs, "city", city.tb_homeless_count) == [] and feed(dbs) == []
    ministry_token = integrator(dbs)
    refused = run(client, ministry_token, DOCUMENT % {"name": "syncFuneralAid", "input": "FuneralAidInput"},
                  {"items": [funeral(A)], "key": "x2"})
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "city:write"}
    refused = run(client, city_token, DOCUMENT % {"name": "syncHouseholds", "input": "HouseholdInput"},
                  {"items": [household(7)], "key": "x3"})
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "ministry:write"}
    assert table_rows(dbs, "city", city.tb_funeral_aid) == [] and table_rows(dbs, "ministry", ministry.household) == []


def test_concurrent_decisions_on_one_application_apply_once(client, dbs):
    put(dbs, "city", city.tb_housing_proj, PROJECTS)
    token = integrator(dbs, "city")
    app_id = int(sync(client, token, "syncHousingApplications", [application()], "base")["items"][0]["key"])
    outcomes = []

    def decide(status, key):
        body = run(client, token, DOCUMENT % {"name": "syncHousingApplications", "input": "HousingApplicationInput"},
                   {"items": [{"applicationId": app_id, "status": status}], "key": key})
        # As in tests.test_sync: on SQLite a writer whose read snapshot went stale may be refused outright.
        if body.get("data"):
            outcomes.append(body["data"]["syncHousingApplications"]["items"][0])

    threads = [threading.Thread(target=decide, args=(s, f"w{i}")) for i, s in enumerate(["APPROVED", "REJECTED", "REJECTED", "APPROVED"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    updates = [o for o in outcomes if o.get("operation") == "update"]
    assert len(updates) == 1, outcomes
    # The others lost: refused (decided meanwhile), or found the same decision already there.
    assert all(o["__typename"] == "VersionConflict" or o.get("operation") == "unchanged" for o in outcomes if o not in updates), outcomes
    assert [o for _, _, o, _, _ in feed(dbs)] == ["create", "update"]

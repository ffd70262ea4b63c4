"""Integrator sync: idempotent, versioned, per-item results, native forms, audited, fed out, crash-safe."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub.app import create_app
from hub.bootstrap import migrate_all
from hub.databases import Databases
from hub.db import create_engine
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry
from hub.store.tables import audit_log, change_log, idempotency_record
from tests import factories as f
from tests.backends import create_databases, drop_databases
from tests.conftest import settings_for
from tests.tokens import mint

A = f.citizen_id("110200111111")
B = f.citizen_id("110200222222")
C = f.citizen_id("110200333333")

PERSONS = """
mutation($items: [PersonInput!]!, $key: String!, $mode: SyncMode) {
  syncPersons(items: $items, idempotencyKey: $key, mode: $mode) {
    replayed applied failed
    items {
      __typename
      ... on Applied { index key version operation }
      ... on ValidationError { index problems { field message } }
      ... on VersionConflict { index key currentVersion reason }
      ... on NotFound { index key }
      ... on Forbidden { index reason }
      ... on NotApplied { index }
    }
  }
}
"""
ALLOWANCES = PERSONS.replace("syncPersons", "syncElderlyAllowances").replace("PersonInput", "AllowanceInput")
PAYMENTS = PERSONS.replace("syncPersons", "syncAllowancePayments").replace("PersonInput", "PaymentInput")
CHANGES = "query($after: String) { changes(after: $after, first: 2) { edges { node { seq entity sourceKey operation version } } pageInfo { hasNextPage endCursor } } }"


def person(cid, **changes):
    item = {"citizenId": cid, "nationality": "TH", "title": "นาย", "firstName": "สมชาย", "lastName": "ใจดี",
            "sex": "MALE", "birthDate": "1950-05-17", "subdistrictCode": "100101"}
    item.update(changes)
    return item


def allowance(cid, **changes):
    item = {"citizenId": cid, "title": "นาย", "firstName": "สมชาย", "lastName": "ใจดี", "birthDate": "1950-05-17",
            "districtCode": "1001", "address": "12 ถนนราชดำเนิน", "fiscalYear": 2569, "monthlyAmount": "800.00",
            "status": "ACTIVE"}
    item.update(changes)
    return item


@pytest.fixture
def dbs(backend_kind, tmp_path):
    async def setup():
        test_dbs = await create_databases(backend_kind, tmp_path)
        databases = Databases.from_settings(settings_for(test_dbs.urls))
        try:
            await migrate_all(databases)
        finally:
            await databases.dispose()
        return test_dbs

    test_dbs = asyncio.run(setup())
    yield test_dbs
    asyncio.run(drop_databases(test_dbs))


@pytest.fixture
def client(dbs):
    with TestClient(create_app(settings_for(dbs.urls))) as test_client:
        yield test_client


def run(client, token, document, variables):
    response = client.post("/graphql", json={"query": document, "variables": variables},
                           headers={"Authorization": f"Bearer {token}", "X-Purpose": "sync test"})
    assert response.status_code == 200, response.text
    return response.json()


def rows(url, statement):
    async def go():
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(statement)).all()
        finally:
            await engine.dispose()

    return asyncio.run(go())


def integrator(dbs, source="ministry", **kwargs):
    return mint(settings_for(dbs.urls), f"{source}:read {source}:write pii:read", **kwargs)


def test_create_then_replay_applies_once(client, dbs):
    token = integrator(dbs)
    body = run(client, token, PERSONS, {"items": [person(A), person(B)], "key": "batch-1"})
    result = body["data"]["syncPersons"]
    assert result == {"replayed": False, "applied": 2, "failed": 0, "items": [
        {"__typename": "Applied", "index": 0, "key": A, "version": 1, "operation": "create"},
        {"__typename": "Applied", "index": 1, "key": B, "version": 1, "operation": "create"}]}
    again = run(client, token, PERSONS, {"items": [person(A), person(B)], "key": "batch-1"})["data"]["syncPersons"]
    assert again["replayed"] is True and again["items"] == result["items"]
    assert len(rows(dbs.urls["ministry"], sa.select(ministry.person))) == 2
    assert len(rows(dbs.urls["store"], sa.select(change_log))) == 2
    # The same key with another payload is refused, and changes nothing.
    reused = run(client, token, PERSONS, {"items": [person(C)], "key": "batch-1"})
    assert reused["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(rows(dbs.urls["ministry"], sa.select(ministry.person))) == 2


def test_optimistic_concurrency(client, dbs):
    token = integrator(dbs)
    run(client, token, PERSONS, {"items": [person(A)], "key": "c1"})
    updated = run(client, token, PERSONS, {"items": [person(A, firstName="สมชัย", expectedVersion=1)], "key": "c2"})
    assert updated["data"]["syncPersons"]["items"][0]["version"] == 2
    stale = run(client, token, PERSONS, {"items": [person(A, firstName="สมปอง", expectedVersion=1)], "key": "c3"})
    assert stale["data"]["syncPersons"]["items"][0] == {
        "__typename": "VersionConflict", "index": 0, "key": A, "currentVersion": 2, "reason": "the record changed since expectedVersion"}
    [(first_name, version)] = rows(dbs.urls["ministry"], sa.select(ministry.person.c.first_name_th, ministry.person.c.version))
    assert (first_name, version) == ("สมชัย", 2)
    missing = run(client, token, PERSONS, {"items": [person(C, expectedVersion=1)], "key": "c4"})
    assert missing["data"]["syncPersons"]["items"][0]["__typename"] == "NotFound"
    exists = run(client, token, PERSONS, {"items": [person(A)], "key": "c5"})
    assert exists["data"]["syncPersons"]["items"][0]["__typename"] == "VersionConflict"


def test_concurrent_writers_with_the_same_base_version_one_wins(client, dbs):
    token = integrator(dbs)
    run(client, token, PERSONS, {"items": [person(A)], "key": "base"})
    outcomes = []

    def write(name, key):
        outcomes.append(run(client, token, PERSONS, {"items": [person(A, firstName=name, expectedVersion=1)], "key": key}))

    threads = [threading.Thread(target=write, args=(name, f"w{i}")) for i, name in enumerate(["กมล", "ขวัญ", "คนึง", "จันทร์"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every writer gets a typed answer (no internal errors), and exactly one wins.
    assert all(o.get("data") for o in outcomes), outcomes
    kinds = sorted(o["data"]["syncPersons"]["items"][0]["__typename"] for o in outcomes)
    assert kinds.count("Applied") == 1, outcomes
    assert all(k in ("Applied", "VersionConflict") for k in kinds), outcomes
    [(version,)] = rows(dbs.urls["ministry"], sa.select(ministry.person.c.version))
    assert version == 2


BAD_ITEMS = [
    person(A),
    person("1-2345-67890-12-3"),                    # invalid check digit
    person(B, subdistrictCode="999999"),            # unknown subdistrict
    person(C, birthDate="2511-05-17"),              # a Buddhist-Era year typed as CE
]


def test_bad_items_are_reported_each_and_change_nothing_else(client, dbs):
    token = integrator(dbs)
    body = run(client, token, PERSONS, {"items": BAD_ITEMS, "key": "bad-1"})
    items = body["data"]["syncPersons"]["items"]
    assert [i["__typename"] for i in items] == ["Applied", "ValidationError", "ValidationError", "ValidationError"]
    assert items[1]["problems"] == [{"field": "citizenId", "message": "the check digit of this citizen ID does not match"}]
    assert items[2]["problems"] == [{"field": "subdistrictCode", "message": "is not a DOPA subdistrict code"}]
    assert items[3]["problems"][0]["field"] == "birthDate" and "Buddhist-Era" in items[3]["problems"][0]["message"]
    assert "1-2345-67890-12-3" not in json.dumps(body)
    assert [r[0] for r in rows(dbs.urls["ministry"], sa.select(ministry.person.c.citizen_id))] == [A]


def test_all_or_nothing_writes_nothing_if_one_fails(client, dbs):
    token = integrator(dbs)
    body = run(client, token, PERSONS, {"items": BAD_ITEMS, "key": "bad-2", "mode": "ALL_OR_NOTHING"})
    assert [i["__typename"] for i in body["data"]["syncPersons"]["items"]] == ["NotApplied", "ValidationError", "ValidationError", "ValidationError"]
    assert rows(dbs.urls["ministry"], sa.select(ministry.person)) == []
    assert rows(dbs.urls["store"], sa.select(change_log)) == []


def test_city_rows_are_written_in_the_citys_own_form(client, dbs):
    token = integrator(dbs, "city")
    body = run(client, token, ALLOWANCES, {"items": [allowance(A), allowance(B, monthlyAmount="-5"), allowance(C, districtCode="5001")], "key": "city-1"})
    items = body["data"]["syncElderlyAllowances"]["items"]
    assert items[0]["__typename"] == "Applied"
    assert items[1]["problems"] == [{"field": "monthlyAmount", "message": "must not be negative"}]
    assert items[2]["problems"] == [{"field": "districtCode", "message": "is not a Bangkok district code (1001-1050)"}]
    [row] = rows(dbs.urls["city"], sa.select(city.tb_elder_allow))
    m = row._mapping
    assert m["pid"] == f"{A[0]}-{A[1:5]}-{A[5:10]}-{A[10:12]}-{A[12]}"
    assert m["birth_be"] == "17/05/2493" and m["dist_id"] == 1 and m["status"] == "A" and m["row_ver"] == 1
    reg_id = int(items[0]["key"])
    paid = run(client, token, PAYMENTS, {"items": [
        {"kind": "ELDERLY_ALLOWANCE", "registrationId": reg_id, "month": "2026-10", "amount": "800.00", "channel": "TRANSFER"},
        {"kind": "ELDERLY_ALLOWANCE", "registrationId": reg_id, "month": "2026-10", "amount": "800.00", "channel": "TRANSFER"},
        {"kind": "ELDERLY_ALLOWANCE", "registrationId": 999999, "month": "2026-10", "amount": "800.00", "channel": "CASH"},
    ], "key": "pay-1"})
    assert [i["__typename"] for i in paid["data"]["syncAllowancePayments"]["items"]] == ["Applied", "VersionConflict", "NotFound"]
    [payment] = rows(dbs.urls["city"], sa.select(city.tb_allow_pay.c.pay_ym, city.tb_allow_pay.c.channel))
    assert tuple(payment) == ("256910", "T")


def test_every_change_is_audited_with_before_and_after_and_fed_once(client, dbs):
    token = integrator(dbs)
    run(client, token, PERSONS, {"items": [person(A), person(B), person(C)], "key": "feed-1"})
    run(client, token, PERSONS, {"items": [person(A, firstName="สมชัย", expectedVersion=1)], "key": "feed-2"})
    writes = rows(dbs.urls["store"], sa.select(audit_log.c.detail, audit_log.c.client_id).where(audit_log.c.kind == "write").order_by(audit_log.c.id))
    assert len(writes) == 4
    last = json.loads(writes[-1][0])
    assert last["before"]["first_name_th"] == "สมชาย" and last["after"]["first_name_th"] == "สมชัย"
    assert last["operation"] == "update" and last["version"] == 2
    seen, after = [], None
    while True:
        page = run(client, token, CHANGES, {"after": after})["data"]["changes"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [(n["seq"], n["operation"], n["version"]) for n in seen] == [(1, "create", 1), (2, "create", 1), (3, "create", 1), (4, "update", 2)]
    # Polling again from the last cursor returns nothing new and keeps the cursor.
    again = run(client, token, CHANGES, {"after": page["pageInfo"]["endCursor"]})["data"]["changes"]
    assert again["edges"] == [] and again["pageInfo"]["endCursor"] == page["pageInfo"]["endCursor"]


def test_write_scopes_and_districts(client, dbs):
    settings = settings_for(dbs.urls)
    reader = mint(settings, "ministry:read pii:read")
    assert run(client, reader, PERSONS, {"items": [person(A)], "key": "s1"})["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "ministry:write"}
    auditor = mint(settings, "ministry:read city:read pii:read sensitive:read audit:read")
    assert run(client, auditor, ALLOWANCES, {"items": [allowance(A)], "key": "s2"})["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    limited = integrator(dbs, districts=["1002"])
    body = run(client, limited, PERSONS, {"items": [person(A), person(B, subdistrictCode="100201")], "key": "s3"})
    assert [i["__typename"] for i in body["data"]["syncPersons"]["items"]] == ["Forbidden", "Applied"]
    assert [r[0] for r in rows(dbs.urls["ministry"], sa.select(ministry.person.c.citizen_id))] == [B]


def test_batches_are_capped(client, dbs):
    body = run(client, integrator(dbs), PERSONS, {"items": [person(A)] * 1001, "key": "big"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("step", ["before_source_commit", "after_source_commit", "after_store_commit"])
def test_a_process_killed_at_each_step_loses_and_duplicates_nothing(dbs, step):
    settings = settings_for(dbs.urls)
    token = integrator(dbs)
    body = {"query": PERSONS, "variables": {"items": [person(A), person(B)], "key": "crash-1"}}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{name.upper()}_URL": url for name, url in dbs.urls.items()}, HUB_FAULT_CRASH_AT=step)
    killed = subprocess.run([sys.executable, "-m", "tests.crash_client", token, json.dumps(body)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 70, killed.stdout + killed.stderr

    persons_after_crash = rows(dbs.urls["ministry"], sa.select(ministry.person.c.citizen_id))
    assert len(persons_after_crash) == (0 if step == "before_source_commit" else 2)
    if step == "before_source_commit":
        # The dead attempt's lease runs out (as time would); then the retry applies the batch.
        asyncio.run(_expire_leases(dbs.urls["store"]))

    # A new process starts (its startup relays what the dead one left) and the client retries.
    with TestClient(create_app(settings)) as client:
        retry = run(client, token, PERSONS, {"items": [person(A), person(B)], "key": "crash-1"})["data"]["syncPersons"]
    assert [i["__typename"] for i in retry["items"]] == ["Applied", "Applied"]
    assert retry["replayed"] is (step != "before_source_commit")
    assert sorted(r[0] for r in rows(dbs.urls["ministry"], sa.select(ministry.person.c.citizen_id))) == sorted([A, B])
    assert [r[0] for r in rows(dbs.urls["ministry"], sa.select(ministry.person.c.version))] == [1, 1]
    assert len(rows(dbs.urls["store"], sa.select(change_log))) == 2
    assert len(rows(dbs.urls["store"], sa.select(audit_log).where(audit_log.c.kind == "write"))) == 2
    [(state,)] = rows(dbs.urls["store"], sa.select(idempotency_record.c.state))
    assert state == "done"
    unrelayed = rows(dbs.urls["ministry"], sa.select(ministry.hub_batch).where(ministry.hub_batch.c.relayed_at.is_(None)))
    assert unrelayed == []


async def _expire_leases(url):
    import datetime as dt

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.update(idempotency_record).values(lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    finally:
        await engine.dispose()


def test_a_key_still_in_flight_is_refused_as_a_conflict(client, dbs):
    import datetime as dt

    from hub.sync import idempotency
    from hub.sync.engine import payload_hash

    token = integrator(dbs)
    items = [person(A)]

    async def claim_first():
        engine = create_engine(dbs.urls["store"])
        try:
            # Another process has claimed this key and is still applying it.
            await idempotency.claim(engine, client_id="test-client", mutation="syncPersons", key="busy",
                                    payload_hash=payload_hash("syncPersons", "PARTIAL", [{
                                        "citizen_id": A, "nationality": "TH", "title": "นาย", "first_name": "สมชาย",
                                        "last_name": "ใจดี", "sex": "MALE", "birth_date": "1950-05-17",
                                        "subdistrict_code": "100101", "death_date": None, "household_id": None,
                                        "expected_version": None}]),
                                    batch_id="b" * 32, now=dt.datetime.now(dt.UTC))
        finally:
            await engine.dispose()

    asyncio.run(claim_first())
    body = run(client, token, PERSONS, {"items": items, "key": "busy"})
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert rows(dbs.urls["ministry"], sa.select(ministry.person)) == []

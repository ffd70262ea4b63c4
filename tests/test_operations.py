"""Operations: metrics that move, request ids, JSON logs without secrets, and a circuit breaker per source."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.logs import JsonFormatter
from tests import factories as f
from tests.backends import SERVERS
from tests.conftest import settings_for
from tests.proxy import behind_proxy
from tests.tokens import mint

PERSON = 'query Lookup($id: CitizenId!) { person(citizenId: $id) { citizenId sources elderlyAllowances { benefitId } } }'
SOMEONE = f.citizen_id("110200345678")


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", re.M)
    total = 0.0
    for match in pattern.finditer(text):
        if all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_metrics_move_under_requests(migrated_databases):
    settings = settings_for(migrated_databases.urls)
    token = mint(settings, "ministry:read city:read pii:read")
    with TestClient(create_app(settings)) as client:
        before = client.get("/metrics").text
        for _ in range(3):
            client.post("/graphql", json={"query": PERSON, "variables": {"id": SOMEONE}},
                        headers={"Authorization": f"Bearer {token}", "X-Purpose": "metrics test"})
        client.post("/graphql", json={"query": "{ sources { name } }"}, headers={"Authorization": "Bearer nonsense"})
        client.post("/graphql", json={"query": "{ nope }"}, headers={"Authorization": f"Bearer {token}"})
        after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert metric(text, "hub_request_seconds_count", operation="Lookup") - metric(before, "hub_request_seconds_count", operation="Lookup") == 3
    assert metric(text, "hub_source_query_seconds_count", source="ministry") > metric(before, "hub_source_query_seconds_count", source="ministry")
    assert metric(text, "hub_tokens_total", outcome="refused") >= 1
    assert metric(text, "hub_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") >= 1
    assert metric(text, "hub_http_responses_total", route="/graphql", status="200") >= 4
    assert "hub_audit_queue_depth" in text and "hub_pool_connections_in_use" in text


def test_every_response_carries_a_request_id(migrated_databases):
    with TestClient(create_app(settings_for(migrated_databases.urls))) as client:
        first = client.get("/healthz").headers["x-request-id"]
        second = client.get("/healthz").headers["x-request-id"]
        assert first != second and re.fullmatch(r"[0-9a-f]{32}", first)
        assert client.get("/healthz", headers={"X-Request-Id": "lb-123"}).headers["x-request-id"] == "lb-123"
        assert client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["x-request-id"] != "bad id with spaces"


def test_json_logs_carry_ids_and_no_secrets(migrated_databases, caplog):
    settings = settings_for(migrated_databases.urls)
    token = mint(settings, "ministry:read pii:read")
    formatter = JsonFormatter()
    with caplog.at_level(logging.INFO):
        with TestClient(create_app(settings)) as client:
            client.post("/graphql", json={"query": PERSON, "variables": {"id": "1-2345-67890-12-3"}},
                        headers={"Authorization": f"Bearer {token}", "X-Purpose": "log test"})
            client.post("/graphql", json={"query": PERSON}, headers={"Authorization": f"Bearer {token}x"})
    lines = [formatter.format(record) for record in caplog.records]
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
    text = "\n".join(lines)
    assert token[:40] not in text
    assert "1-2345-67890-12-3" not in text and "1234567890123" not in text
    unauthenticated = [json.loads(line) for line in lines if "unauthenticated" in line]
    assert unauthenticated and all("request_id" in entry for entry in unauthenticated)


def test_a_failing_source_trips_its_breaker_and_resets(migrated_databases):
    if migrated_databases.kind != SERVERS:
        pytest.skip("needs the city on a database server (MariaDB) behind a proxy")
    with behind_proxy(migrated_databases.urls, "city", 3306) as (proxy, urls):
        settings = settings_for(urls, source_timeout=2, breaker_failures=2, breaker_reset=1.5)
        token = mint(settings, "ministry:read city:read pii:read")
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "breaker test"}

        def ask():
            started = time.perf_counter()
            body = client.post("/graphql", json={"query": PERSON, "variables": {"id": SOMEONE}}, headers=headers).json()
            return body, time.perf_counter() - started

        def circuit():
            return client.get("/readyz").json()["databases"]["city"]["circuit"]

        with TestClient(create_app(settings)) as client:
            assert circuit() == "closed"
            proxy.stop()
            for _ in range(2):
                body, _ = ask()
                assert any(e["extensions"]["code"] == "SOURCE_UNAVAILABLE" for e in body["errors"])
            assert circuit() == "open"
            body, elapsed = ask()  # skipped at once: no connection attempt while open
            assert any(e["extensions"]["code"] == "SOURCE_UNAVAILABLE" for e in body["errors"])
            assert "hub_source_circuit_open{source=\"city\"} 1.0" in client.get("/metrics").text
            proxy.start()
            time.sleep(1.6)
            assert circuit() == "half_open"
            body, _ = ask()  # the probe goes through and closes the breaker
            assert "errors" not in body, body
            assert circuit() == "closed"
            assert "hub_source_circuit_open{source=\"city\"} 0.0" in client.get("/metrics").text



def test_request_rate_limit_per_client(migrated_databases):
    settings = settings_for(migrated_databases.urls, requests_per_minute=3)
    token = mint(settings, "ministry:read")
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/graphql", json={"query": '{ district(code: "1001") { code } }'},
                             headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(5)]
        metrics = client.get("/metrics").text
    # Five requests within one minute: the fourth and fifth are refused (unless a minute boundary falls between).
    assert codes.count(200) <= 4 and 429 in codes
    assert metric(metrics, "hub_rate_limited_total", limit="requests_per_minute") >= 1


def test_bulk_extraction_guard(fresh_person_dbs):
    settings = settings_for(fresh_person_dbs.urls, persons_per_hour=3)
    token = mint(settings, "ministry:read pii:read")
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bulk test"}
    with TestClient(create_app(settings)) as client:
        first = client.post("/graphql", json={"query": "{ persons(first: 2) { edges { node { citizenId } } } }"}, headers=headers).json()
        assert len(first["data"]["persons"]["edges"]) == 2
        again = client.post("/graphql", json={"query": "{ persons(first: 2) { edges { node { citizenId } } } }"}, headers=headers).json()
        assert "errors" not in again  # the same two persons: still two distinct
        more = client.post("/graphql", json={"query": "{ persons(first: 5) { edges { node { citizenId firstName } } } }"}, headers=headers).json()
        assert more["data"] is None and more["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "สมชาย" not in json.dumps(more, ensure_ascii=False)


@pytest.fixture
def fresh_person_dbs(backend_kind, tmp_path):
    import asyncio

    from hub.bootstrap import migrate_all
    from hub.databases import Databases
    from hub.sources.ministry import tables as ministry
    from tests.backends import create_databases, drop_databases

    async def setup():
        test_dbs = await create_databases(backend_kind, tmp_path)
        databases = Databases.from_settings(settings_for(test_dbs.urls))
        try:
            await migrate_all(databases)
            await f.insert(databases["ministry"], ministry.person, [f.person(f.citizen_id(f"1102003456{i:02d}")) for i in range(6)])
        finally:
            await databases.dispose()
        return test_dbs

    test_dbs = asyncio.run(setup())
    yield test_dbs
    asyncio.run(drop_databases(test_dbs))


def test_a_store_outage_refuses_requests_with_a_typed_error_and_the_hub_recovers(migrated_databases):
    """With the store gone, nothing is run and nothing is shown: a request that must be admitted
    first gets 503 STORE_UNAVAILABLE, a compiled read gets AUDIT_UNAVAILABLE; once the store is
    back, requests are answered again without a restart."""
    if migrated_databases.kind != SERVERS:
        pytest.skip("needs the store on a database server (PostgreSQL) behind a proxy")
    with behind_proxy(migrated_databases.urls, "store", 5432) as (proxy, urls):
        settings = settings_for(urls)
        token = mint(settings, "ministry:read pii:read")
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "outage test"}
        districts = {"query": '{ districts(provinceCode: "10") { code } }'}
        person = {"query": PERSON, "variables": {"id": SOMEONE}}
        with TestClient(create_app(settings)) as client:
            assert client.post("/graphql", json=districts, headers=headers).status_code == 200
            proxy.stop()
            refused = client.post("/graphql", json=districts, headers=headers)
            assert refused.status_code == 503, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"
            assert refused.headers["retry-after"] == "5"
            read = client.post("/graphql", json=person, headers=headers).json()
            assert read.get("data") is None
            assert read["errors"][0]["extensions"]["code"] in ("STORE_UNAVAILABLE", "AUDIT_UNAVAILABLE")
            proxy.start()
            time.sleep(1.2)  # past the store's ping-after-idle
            assert client.post("/graphql", json=districts, headers=headers).status_code == 200
            assert "errors" not in client.post("/graphql", json=person, headers=headers).json()

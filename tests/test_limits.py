"""Operations over budget are refused before any source database is asked anything."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from tests.conftest import settings_for
from tests.test_persons import StatementCounter
from tests.tokens import mint


@pytest.fixture(scope="module")
def client(migrated_databases):
    with TestClient(create_app(settings_for(migrated_databases.urls))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def headers(migrated_databases):
    token = mint(settings_for(migrated_databases.urls), "ministry:read city:read pii:read")
    return {"Authorization": f"Bearer {token}", "X-Purpose": "test"}


def nested(levels: int) -> str:
    """A query whose deepest field sits at `levels` levels."""
    body = "code"
    names = ["districts", "province"]
    root_arguments = '(provinceCode: "10")'
    for level in range(levels - 1, 0, -1):
        field = names[(level - 1) % 2]
        arguments = root_arguments if level == 1 else ""
        body = f"{field}{arguments} {{ {body} }}"
    return "{ " + body + " }"


CASES = {
    "8-level nesting": nested(8),
    "101 aliases": "{ " + " ".join(f"a{i}: districts(provinceCode: \"10\") {{ code }}" for i in range(101)) + " }",
    "500 repeated fields": "{ districts(provinceCode: \"10\") { " + "code " * 500 + "} }",
    "11 root fields": "{ " + " ".join(f"d{i}: district(code: \"10{i:02d}\") {{ code }}" for i in range(1, 12)) + " }",
    "10 unknown directives": "{ districts(provinceCode: \"10\") " + " ".join(f"@d{i}" for i in range(10)) + " { code } }",
    "circular fragments": "{ districts(provinceCode: \"10\") { ...A } } fragment A on District { province { districts { ...B } } } fragment B on District { ...A }",
    "first: 99999999": "{ persons(first: 99999999) { edges { node { citizenId } } } }",
    "cost of nested pages": "{ persons(first: 100) { edges { node { household { members { cases { caseId } disabilityCards { cardNo } elderlyAllowances { payments { month } } } } } } } }",
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_without_touching_a_source(client, headers, name):
    client.post("/graphql", json={"query": "{ districts(provinceCode: \"10\") { code } }"}, headers=headers)
    counter = StatementCounter(client.app)
    try:
        response = client.post("/graphql", json={"query": CASES[name]}, headers=headers)
    finally:
        counter.close()
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert body["errors"][0]["extensions"]["code"] in {"QUERY_TOO_COMPLEX", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
    # Not even the store: refused before the token is checked or a request counted.
    assert counter.counts == {}, counter.counts


def test_seven_levels_pass(client, headers):
    seven = "{ persons(first: 5) { edges { node { household { members { household { householdId } } } } } } }"
    response = client.post("/graphql", json={"query": seven}, headers=headers)
    assert "errors" not in response.json(), response.json()


def test_over_budget_codes(client, headers):
    for name in ("8-level nesting", "101 aliases", "500 repeated fields", "11 root fields", "cost of nested pages"):
        body = client.post("/graphql", json={"query": CASES[name]}, headers=headers).json()
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", (name, body)


def test_a_2mb_body_is_refused(client, headers):
    big = "{ districts(provinceCode: \"10\") { code } }" + " " * (2 * 1024 * 1024)
    response = client.post("/graphql", json={"query": big}, headers=headers)
    assert response.status_code == 413


def test_form_encoded_posts_are_refused(client, headers):
    response = client.post("/graphql", data={"query": "{ districts(provinceCode: \"10\") { code } }"}, headers=headers)
    assert response.status_code == 415


def test_batched_operations_are_refused(client, headers):
    operations = [{"query": "{ districts(provinceCode: \"10\") { code } }"}] * 11
    response = client.post("/graphql", json=operations, headers=headers)
    assert response.status_code == 400


def test_production_turns_off_introspection_suggestions_ide_and_get(migrated_databases):
    settings = settings_for(migrated_databases.urls, env="production")
    token = mint(settings, "ministry:read")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        body = client.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=auth).json()
        assert body.get("data") is None and body["errors"]
        body = client.post("/graphql", json={"query": "{ district(code: \"1001\") { nameE } }"}, headers=auth).json()
        assert "Did you mean" not in body["errors"][0]["message"]
        ide = client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code in (401, 404, 405) or "graphiql" not in ide.text.lower()
        get = client.get("/graphql", params={"query": "{ districts(provinceCode: \"10\") { code } }"}, headers=auth)
        assert get.status_code in (404, 405)
    with TestClient(create_app(settings_for(migrated_databases.urls))) as client:
        body = client.post("/graphql", json={"query": "{ district(code: \"1001\") { nameE } }"}, headers=auth).json()
        assert "Did you mean" in body["errors"][0]["message"]  # the demo keeps them


def test_mutations_over_get_are_refused(client, headers):
    response = client.get("/graphql", params={"query": "mutation { syncPersons(items: [], idempotencyKey: \"k\") { applied } }"}, headers=headers)
    assert response.status_code == 405


def test_graphql_over_http_media_types_and_status_codes(client, headers):
    gql = {**headers, "Accept": "application/graphql-response+json"}
    ok = client.post("/graphql", json={"query": '{ district(code: "1001") { code } }'}, headers=gql)
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/graphql-response+json"
    invalid = client.post("/graphql", json={"query": "{ nope }"}, headers=gql)
    assert invalid.status_code == 400 and "data" not in invalid.json()
    syntax = client.post("/graphql", json={"query": "{ district("}, headers=gql)
    assert syntax.status_code == 400 and "data" not in syntax.json()
    legacy = client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")
    assert "data" not in legacy.json() and legacy.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("body", [b"{not json", b'"just a string"', b'{"variables": {}}', b'{"query": 42}'])
def test_malformed_bodies_get_a_json_error(client, headers, body):
    response = client.post("/graphql", content=body, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

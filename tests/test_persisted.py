"""Persisted queries: a document sent by its SHA-256 hash, registered by sending it once with the hash."""

import hashlib

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from tests.conftest import settings_for
from tests.tokens import mint

QUERY = '{ districts(provinceCode: "10") { code } }'
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


@pytest.fixture
def client(seeded_databases):
    settings = settings_for(seeded_databases.urls)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {mint(settings, 'ministry:read')}"}) as c:
        yield c


def apq(digest: str, query: str | None = None) -> dict:
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


def test_an_unknown_hash_asks_for_the_document(client):
    response = client.post("/graphql", json=apq(HASH))
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in response.json()


def test_a_document_sent_with_its_hash_is_then_run_by_hash(client):
    direct = client.post("/graphql", json={"query": QUERY}).json()
    registered = client.post("/graphql", json=apq(HASH, QUERY)).json()
    by_hash = client.post("/graphql", json=apq(HASH)).json()
    by_id = client.post("/graphql", json={"documentId": f"sha256:{HASH}"}).json()
    assert len(direct["data"]["districts"]) == 50
    assert registered == by_hash == by_id == direct


def test_a_document_with_another_documents_hash_is_refused_and_not_registered(client):
    other = '{ districts(provinceCode: "50") { code } }'
    response = client.post("/graphql", json=apq(HASH, other))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # The hash still names nothing (the other document was not stored under it).
    assert client.post("/graphql", json=apq(HASH)).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("body", [
    apq("ABC"), apq(HASH.upper()), {"documentId": HASH}, {"documentId": 7},
    {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": HASH}}},
])
def test_malformed_persisted_query_references_are_typed_errors(client, body):
    response = client.post("/graphql", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_limits_apply_to_a_persisted_document(client):
    deep = "{ persons { edges { node { household { members { household { members { household { members { citizenId } } } } } } } } } }"
    digest = hashlib.sha256(deep.encode()).hexdigest()
    first = client.post("/graphql", json=apq(digest, deep)).json()
    again = client.post("/graphql", json=apq(digest)).json()
    assert first["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert again == first

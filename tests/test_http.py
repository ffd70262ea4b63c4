"""HTTP through the ASGI app: liveness, readiness and the GraphQL endpoint."""

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from tests.conftest import settings_for
from tests.tokens import mint


@pytest.fixture
def client(seeded_databases):
    settings = settings_for(seeded_databases.urls)
    app = create_app(settings)
    with TestClient(app, headers={"Authorization": f"Bearer {mint(settings, 'ministry:read city:read')}"}) as test_client:
        yield test_client


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_database(client, seeded_databases):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["databases"]) == {"ministry", "city", "store"}
    expected_engine = {"ministry": "postgresql", "city": "mysql", "store": "postgresql"}
    for name, state in body["databases"].items():
        assert state["reachable"] is True
        assert state["revision"] == state["expected_revision"]
        if seeded_databases.kind == "sqlite":
            assert state["engine"] == "sqlite"
        else:
            assert state["engine"] == expected_engine[name]


def test_readyz_unavailable_when_a_database_is_down(seeded_databases):
    urls = dict(seeded_databases.urls)
    # Nothing listens on port 9 (discard) on this machine: the city source is down.
    urls["city"] = "mysql+asyncmy://root@127.0.0.1:9/nowhere"
    with TestClient(create_app(settings_for(urls, source_timeout=2))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    city = response.json()["databases"]["city"]
    assert city["reachable"] is False
    assert "127.0.0.1" not in response.text  # no hosts or URLs leak through readiness


def test_bangkok_districts_over_graphql(client):
    response = client.post(
        "/graphql", json={"query": '{ districts(provinceCode: "10") { code nameTh nameEn } }'}
    )
    assert response.status_code == 200
    districts = response.json()["data"]["districts"]
    assert len(districts) == 50
    assert [d["code"] for d in districts] == [str(1001 + i) for i in range(50)]
    assert districts[0] == {"code": "1001", "nameTh": "เขตพระนคร", "nameEn": "Phra Nakhon"}
    assert {"code": "1039", "nameTh": "เขตวัฒนา", "nameEn": "Vadhana"} in districts


def test_district_by_code_and_unknown_code(client):
    response = client.post(
        "/graphql",
        json={"query": '{ a: district(code: "1050") { nameEn province { code } subdistricts { code } } b: district(code: "9999") { code } }'},
    )
    data = response.json()["data"]
    assert data["a"]["nameEn"] == "Bang Bon"
    assert data["a"]["province"]["code"] == "10"
    assert all(s["code"].startswith("1050") for s in data["a"]["subdistricts"])
    assert data["b"] is None


def test_sources_over_graphql(client, seeded_databases):
    response = client.post("/graphql", json={"query": "{ sources { name engine reachable latencyMs schemaRevision } }"})
    sources = {s["name"]: s for s in response.json()["data"]["sources"]}
    assert set(sources) == {"ministry", "city"}
    for source in sources.values():
        assert source["reachable"] is True
        assert source["latencyMs"] >= 0
        assert source["schemaRevision"]
    if seeded_databases.kind != "sqlite":
        assert sources["ministry"]["engine"] == "postgresql"
        assert sources["city"]["engine"] == "mysql"

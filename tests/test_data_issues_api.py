"""dataIssues over GraphQL: the findings of a reconciliation of generated data, counted, paged, masked."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.databases import Databases
from hub.reconcile import reconcile
from tests.conftest import settings_for
from tests.tokens import mint

QUERY = """query($filter: DataIssueFilter, $after: String) {
  dataIssues(filter: $filter, first: 50, after: $after) {
    totalCount countsByKind { category count } countsByDistrict { category count }
    edges { node { issueKey kind severity source district { code } citizenId ministryRecords cityRecords detail suggestion firstSeenAt resolvedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture(scope="module")
def reconciled(seeded_databases):
    async def run():
        databases = Databases.from_settings(settings_for(seeded_databases.urls))
        try:
            return await reconcile(databases["ministry"], databases["city"], databases["store"], progress=False)
        finally:
            await databases.dispose()

    summary = asyncio.run(run())
    return seeded_databases, summary


def _post(client, token, variables=None):
    body = client.post("/graphql", json={"query": QUERY, "variables": variables or {}},
                       headers={"Authorization": f"Bearer {token}", "X-Purpose": "data quality review"}).json()
    assert "errors" not in body, body
    return body["data"]["dataIssues"]


def test_counts_pages_and_filters(reconciled):
    dbs, summary = reconciled
    settings = settings_for(dbs.urls)
    token = mint(settings, "ministry:read city:read pii:read")
    with TestClient(create_app(settings)) as client:
        first = _post(client, token)
        total = first["totalCount"]
        assert total == sum(c["count"] for c in first["countsByKind"]) == sum(c["count"] for c in first["countsByDistrict"])
        assert total == summary.total("open")
        kinds = {c["category"] for c in first["countsByKind"]}
        assert {"INVALID_CITIZEN_ID", "ALLOWANCE_ACTIVE_FOR_DECEASED", "DUPLICATE_REGISTRATION", "MISSED_HOUSEHOLD"} <= kinds
        seen, after = [], None
        while True:
            page = _post(client, token, {"after": after})
            seen += [e["node"]["issueKey"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == total
        deceased = _post(client, token, {"filter": {"kinds": ["ALLOWANCE_ACTIVE_FOR_DECEASED"]}})
        node = deceased["edges"][0]["node"]
        assert node["severity"] == "high" and node["cityRecords"] and node["ministryRecords"] and node["suggestion"]
        assert re.fullmatch(r"\d{13}", node["citizenId"])
        district = node["district"]["code"]
        local = _post(client, token, {"filter": {"districtCode": district}})
        assert all(e["node"]["district"]["code"] == district for e in local["edges"])


def test_masked_without_pii_and_limited_to_districts(reconciled):
    dbs, _ = reconciled
    settings = settings_for(dbs.urls)
    with TestClient(create_app(settings)) as client:
        masked = _post(client, mint(settings, "ministry:read city:read"))
        text = json.dumps(masked)
        assert not re.search(r"(?<![\d-])\d{13}(?!\d)", text)
        limited = _post(client, mint(settings, "ministry:read city:read", districts=["1001"]))
        assert {c["category"] for c in limited["countsByDistrict"]} <= {"1001"}
        refused = client.post("/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {mint(settings, 'city:read')}", "X-Purpose": "x"}).json()
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

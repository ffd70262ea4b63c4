"""The merged view of generated data, checked against an independent, straightforward model of it.

The model reads the raw source tables with plain SQL and does its own normalisation (strip
dashes and spaces, check digit, Buddhist Era to CE); it shares no code with the hub's adapters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from tests.backends import read_sql
from tests.conftest import settings_for
from tests.tokens import mint


def model_check_digit_ok(digits: str) -> bool:
    if not re.fullmatch(r"[0-9]{13}", digits):
        return False
    total = sum(int(digits[i]) * (13 - i) for i in range(12))
    return (11 - total % 11) % 10 == int(digits[12])


def model_be_date(text: str) -> dt.date | None:
    match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text.strip())
    if not match:
        return None
    day, month, be = map(int, match.groups())
    year = be - 543
    if year + 1 < 1941 and month < 4:  # the old calendar: BE years began in April
        year += 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def model(seeded_databases):
    urls = seeded_databases.urls
    ministry = asyncio.run(read_sql(urls["ministry"], "SELECT citizen_id, first_name_th, birth_date, death_date, subdistrict_code FROM person"))
    elder = asyncio.run(read_sql(urls["city"], "SELECT reg_id, pid, fname, birth_be, dist_id, status FROM tb_elder_allow ORDER BY reg_id"))
    disab = asyncio.run(read_sql(urls["city"], "SELECT reg_id, pid, fname, birth_be, dist_id, status FROM tb_disab_allow ORDER BY reg_id"))
    persons = {row[0]: row for row in ministry}
    city_by_id: dict[str, dict[str, list]] = defaultdict(lambda: {"elder": [], "disab": []})
    raw_forms: dict[str, set[str]] = defaultdict(set)
    invalid = []
    for kind, rows in (("elder", elder), ("disab", disab)):
        for row in rows:
            digits = re.sub(r"[\s-]", "", row[1])
            if model_check_digit_ok(digits):
                city_by_id[digits][kind].append(row)
                raw_forms[digits].add(row[1])
            else:
                invalid.append((kind, row))
    return {"persons": persons, "city": dict(city_by_id), "raw": raw_forms, "invalid": invalid}


def _expected(model, cid):
    ministry = model["persons"].get(cid)
    city = model["city"].get(cid, {"elder": [], "disab": []})
    sources = (["ministry"] if ministry else []) + (["city"] if city["elder"] or city["disab"] else [])
    if ministry:
        first_name, birth = ministry[1], ministry[2]
        birth = birth if isinstance(birth, dt.date) else dt.date.fromisoformat(str(birth))
        district = ministry[4][:4]
    else:
        first = (city["elder"] + city["disab"])[0]
        first_name, birth, district = first[2].strip(), model_be_date(first[3]), str(1000 + first[4])
    return {
        "citizenId": cid,
        "sources": sources,
        "firstName": first_name,
        "birthDate": birth.isoformat() if birth else None,
        "district": {"code": district},
        "elderlyAllowances": [{"benefitId": f"E{r[0]}"} for r in city["elder"]],
        "disabilityAllowances": [{"benefitId": f"D{r[0]}"} for r in city["disab"]],
    }


QUERY = """query($id: CitizenId!) { person(citizenId: $id) {
  citizenId sources firstName birthDate district { code }
  elderlyAllowances { benefitId } disabilityAllowances { benefitId } } }"""


@pytest.fixture(scope="module")
def client(seeded_databases):
    settings = settings_for(seeded_databases.urls)
    token = mint(settings, "ministry:read city:read pii:read")
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}", "X-Purpose": "model check"}) as c:
        yield c


def _samples(model) -> dict[str, list[str]]:
    persons, city, raw = model["persons"], model["city"], model["raw"]
    both = [cid for cid in city if cid in persons]
    return {
        "both, typed plainly": [c for c in both if raw[c] == {c}][:15],
        "both, typed with dashes": [c for c in both if any("-" in r for r in raw[c])][:10],
        "both, typed with spaces": [c for c in both if any(" " in r for r in raw[c])][:10],
        "ministry only": [c for c in persons if c not in city][:15],
        "city only": [c for c in city if c not in persons][:10],
    }


@pytest.mark.parametrize("kind", ["both, typed plainly", "both, typed with dashes", "both, typed with spaces", "ministry only", "city only"])
def test_merged_person_matches_the_model(model, client, kind):
    sample = _samples(model)[kind]
    assert sample, f"the generated data has no person of kind {kind!r}"
    for cid in sample:
        body = client.post("/graphql", json={"query": QUERY, "variables": {"id": cid}}).json()
        assert "errors" not in body, body
        assert body["data"]["person"] == _expected(model, cid), cid


def test_invalid_pids_link_to_nobody(model, client):
    assert model["invalid"], "the generated data has no invalid PID"
    for kind, row in model["invalid"][:10]:
        digits = re.sub(r"[\s-]", "", row[1])
        benefit = f"{'E' if kind == 'elder' else 'D'}{row[0]}"
        # Whoever the clerk meant, no person carries this registration.
        if re.fullmatch(r"[0-9]{13}", digits):
            intended = digits[:12] + str((11 - sum(int(digits[i]) * (13 - i) for i in range(12)) % 11) % 10)
            body = client.post("/graphql", json={"query": QUERY, "variables": {"id": intended}}).json()
            person = body["data"]["person"]
            if person is not None:
                assert benefit not in str(person)


def test_every_person_counted_once(model, client):
    expected = set(model["persons"]) | set(model["city"])
    body = client.post("/graphql", json={"query": "{ persons { totalCount } }"}).json()
    assert body["data"]["persons"]["totalCount"] == len(expected)


def test_walking_every_page_lists_exactly_the_model(model, client):
    expected = sorted(set(model["persons"]) | set(model["city"]))
    seen, after = [], None
    while True:
        body = client.post("/graphql", json={"query": "query($after: String) { persons(first: 100, after: $after) { edges { node { citizenId } } pageInfo { hasNextPage endCursor } } }",
                                             "variables": {"after": after}}).json()
        connection = body["data"]["persons"]
        seen += [e["node"]["citizenId"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected

"""The audit trail: every personal read is recorded with whose data it returned, and tampering is detected."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub.app import create_app
from hub.audit import AuditEntry, append, verify, AuditWriter
from hub.bootstrap import migrate_all
from hub.cli import main as cli_main
from hub.databases import Databases
from hub.db import create_engine
from hub.sources.ministry import tables as ministry
from hub.store.tables import audit_log
from tests import factories as f
from tests.backends import create_databases, drop_databases
from tests.conftest import settings_for
from tests.tokens import mint

ALICE = f.citizen_id("110200345678")
BOB = f.citizen_id("310100123456")


@pytest.fixture
def fresh(backend_kind, tmp_path):
    async def setup():
        test_dbs = await create_databases(backend_kind, tmp_path)
        databases = Databases.from_settings(settings_for(test_dbs.urls))
        try:
            await migrate_all(databases)
            await f.insert(databases["ministry"], ministry.person, [f.person(ALICE), f.person(BOB, first="บ๊อบ")])
        finally:
            await databases.dispose()
        return test_dbs

    test_dbs = asyncio.run(setup())
    yield test_dbs
    asyncio.run(drop_databases(test_dbs))


def _entry(i: int, ids=()) -> AuditEntry:
    return AuditEntry(kind="read", request_id=f"r{i}", client_id="c", subject="s", scopes="ministry:read", purpose="p",
                      operation_name=None, document_hash=None, citizen_ids=frozenset(ids), outcome="ok")


async def _store_work(urls, work):
    engine = create_engine(urls["store"])
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def test_reads_are_audited_with_whose_data_and_why(fresh):
    settings = settings_for(fresh.urls)
    reader = mint(settings, "ministry:read pii:read", purpose="eligibility check")
    auditor = mint(settings, "ministry:read pii:read audit:read", purpose="audit")
    with TestClient(create_app(settings)) as client:
        def post(token, document, variables=None):
            return client.post("/graphql", json={"query": document, "variables": variables or {}},
                               headers={"Authorization": f"Bearer {token}"}).json()

        post(reader, "query One($id: CitizenId!) { person(citizenId: $id) { firstName } }", {"id": ALICE})
        post(reader, "{ persons(first: 10) { edges { node { citizenId } } } }")
        post(reader, '{ districts(provinceCode: "10") { code } }')  # no personal data: not audited
        history = post(auditor, "query($id: CitizenId!) { accessHistory(citizenId: $id) { kind clientId purpose operationName citizenIds outcome } }", {"id": ALICE})
        assert "errors" not in history, history
        entries = history["data"]["accessHistory"]
        assert [e["operationName"] for e in entries] == ["One", None]
        assert all(e["purpose"] == "eligibility check" and e["outcome"] == "ok" for e in entries)
        assert entries[0]["citizenIds"] == [ALICE]
        assert set(entries[1]["citizenIds"]) == {ALICE, BOB}
        bob = post(auditor, "query($id: CitizenId!) { accessHistory(citizenId: $id) { operationName } }", {"id": BOB})
        # Bob's data was read once, by the list (Alice's access-history read touched only Alice).
        assert [e["operationName"] for e in bob["data"]["accessHistory"]] == [None]
        log = post(auditor, "{ auditLog(first: 100) { totalCount edges { node { id kind prevHash entryHash } } } }")
        assert log["data"]["auditLog"]["totalCount"] == 4  # two reads, Alice's history, Bob's history
        nodes = [e["node"] for e in log["data"]["auditLog"]["edges"]]
        assert all(a["entryHash"] == b["prevHash"] for a, b in zip(nodes, nodes[1:]))
        refused = post(reader, "{ auditLog { totalCount } }")
        assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "audit:read"}


def test_audit_failure_fails_the_request(fresh):
    settings = settings_for(fresh.urls)
    token = mint(settings, "ministry:read pii:read")
    with TestClient(create_app(settings)) as client:
        async def break_chain(engine):
            async with engine.begin() as connection:
                await connection.execute(sa.text("DROP TABLE audit_subject"))

        asyncio.run(_store_work(fresh.urls, break_chain))
        body = client.post("/graphql", json={"query": "query($id: CitizenId!) { person(citizenId: $id) { firstName } }",
                                             "variables": {"id": ALICE}},
                           headers={"Authorization": f"Bearer {token}", "X-Purpose": "t"}).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
        assert "สมชาย" not in str(body)


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "delete-last"])
def test_tampering_is_detected_and_named(fresh, tamper, monkeypatch, capsys):
    async def scenario(engine):
        await append(engine, [_entry(i, [ALICE]) for i in range(1, 6)])
        assert await verify(engine) == (5, None)
        async with engine.begin() as connection:
            if tamper == "edit":
                await connection.execute(sa.update(audit_log).where(audit_log.c.id == 3).values(purpose="nothing to see"))
            elif tamper == "delete":
                await connection.execute(sa.delete(audit_log).where(audit_log.c.id == 3))
            elif tamper == "delete-last":
                await connection.execute(sa.delete(audit_log).where(audit_log.c.id == 5))
            else:
                rows = {r.id: r._mapping for r in (await connection.execute(sa.select(audit_log).where(audit_log.c.id.in_([2, 3])))).all()}
                for new_id, old_id in ((2, 3), (3, 2)):
                    values = {k: v for k, v in rows[old_id].items() if k != "id"}
                    await connection.execute(sa.update(audit_log).where(audit_log.c.id == new_id).values(**values))
        return await verify(engine)

    checked, problem = asyncio.run(_store_work(fresh.urls, scenario))
    expected_first_bad = {"edit": 3, "delete": 3, "reorder": 2, "delete-last": 5}[tamper]
    assert problem is not None and problem.entry_id == expected_first_bad, problem
    for name, url in fresh.urls.items():
        monkeypatch.setenv(f"HUB_{name.upper()}_URL", url)
    assert cli_main(["audit", "verify"]) == 1
    assert f"entry {expected_first_bad}" in capsys.readouterr().out


def test_concurrent_appends_form_one_chain(fresh):
    async def scenario(engine):
        await asyncio.gather(*(append(engine, [_entry(i)]) for i in range(20)))
        return await verify(engine)

    assert asyncio.run(_store_work(fresh.urls, scenario)) == (20, None)


def test_stopping_the_writer_answers_every_queued_entry(fresh):
    async def scenario(engine):
        writer = AuditWriter(engine)
        writer.start()
        pending = [asyncio.create_task(writer.record(_entry(i))) for i in range(40)]
        await asyncio.sleep(0)  # queued, and the first batch under way
        await writer.stop()
        ids = await asyncio.wait_for(asyncio.gather(*pending), 30)
        after = await writer.record(_entry(99))  # stopped: written on its own
        return sorted(ids), after, await verify(engine)

    ids, after, verified = asyncio.run(_store_work(fresh.urls, scenario))
    assert ids == list(range(1, 41))
    assert after == 41
    assert verified == (41, None)


def _audit_rows(urls) -> list:
    async def rows(engine):
        async with engine.connect() as connection:
            return (await connection.execute(
                sa.select(audit_log.c.outcome, audit_log.c.citizen_ids).order_by(audit_log.c.id))).all()

    return asyncio.run(_store_work(urls, rows))


PERSON_QUERY = "query($id: CitizenId!) { person(citizenId: $id) { firstName } }"


def test_a_read_with_a_token_revoked_meanwhile_is_refused_and_audited_as_refused(fresh):
    """A read the compiled path answers is checked against the revoked tokens with its audit
    entry, after it ran and before anything is shown: the read is refused (401) and its entry
    says so; a later request with that token is refused before anything runs."""
    from joserfc import jws

    from hub.auth.revocation import revoke

    settings = settings_for(fresh.urls)
    token = mint(settings, "ministry:read pii:read")
    claims = json.loads(jws.extract_compact(token.encode()).payload)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "t"}
    ask = {"query": PERSON_QUERY, "variables": {"id": ALICE}}
    with TestClient(create_app(settings)) as client:
        assert client.post("/graphql", json=ask, headers=headers).json()["data"]["person"]["firstName"] == "สมชาย"
        # Revoked by another hub process: this one learns it from the store.
        asyncio.run(_store_work(fresh.urls, lambda engine: revoke(engine, claims["jti"], claims["exp"])))
        refused = client.post("/graphql", json=ask, headers=headers)
        assert refused.status_code == 401 and "สมชาย" not in refused.text
        assert _audit_rows(fresh.urls) == [("ok", ALICE), ("refused", ALICE)]
        again = client.post("/graphql", json=ask, headers=headers)
        assert again.status_code == 401
        assert _audit_rows(fresh.urls) == [("ok", ALICE), ("refused", ALICE)]  # nothing ran, nothing read


def test_reads_past_the_request_rate_are_refused_and_audited(fresh):
    settings = settings_for(fresh.urls, requests_per_minute=2)
    token = mint(settings, "ministry:read pii:read")
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "t"}
    ask = {"query": PERSON_QUERY, "variables": {"id": ALICE}}
    with TestClient(create_app(settings)) as client:
        responses = [client.post("/graphql", json=ask, headers=headers) for _ in range(5)]
    codes = [r.status_code for r in responses]
    # Within one minute the third is refused (unless a minute boundary falls between requests).
    assert 429 in codes and codes.count(200) <= 4, codes
    assert all("สมชาย" not in r.text for r in responses if r.status_code == 429)
    outcomes = [outcome for outcome, _ in _audit_rows(fresh.urls)]
    # Every answered read is audited ok; a refused read that ran is audited refused; once refused,
    # the client's next requests this minute are refused before anything runs.
    assert outcomes.count("ok") == codes.count(200)
    assert 1 <= outcomes.count("refused") <= codes.count(429)

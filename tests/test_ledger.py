"""The request ledger: the rate counts and revocation lookups of concurrent requests share store transactions,
and every caller gets the answer it would have had from calls made one after another."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub.app import create_app
from hub.auth.revocation import revoke
from hub.db import create_engine
from hub.ratelimit import RateLimited, RequestLedger, count_persons, count_request
from hub.store.tables import person_read, rate_window
from tests import factories as f
from tests.conftest import settings_for
from tests.tokens import mint

# A fixed instant away from the minute's and the hour's first seconds (when old windows are tidied).
NOW = dt.datetime(2030, 1, 1, 12, 30, 15, tzinfo=dt.UTC)
TIMEOUT = 30


@pytest.fixture
async def store(migrated_databases):
    engine = create_engine(migrated_databases.urls["store"])
    yield engine
    await engine.dispose()


@pytest.fixture
async def ledger(store):
    started = RequestLedger(store)
    started.start()
    yield started
    await started.stop()


def client() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"


async def outcomes(calls) -> list[BaseException | None]:
    """Run the calls concurrently (queued in the order given); each one's exception, or None."""
    return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), TIMEOUT)


async def sequential(calls) -> list[BaseException | None]:
    results: list[BaseException | None] = []
    for call in calls:
        try:
            await call
        except Exception as exc:  # noqa: BLE001 - collected for comparison
            results.append(exc)
        else:
            results.append(None)
    return results


def limits(results) -> list[str | None]:
    assert all(r is None or isinstance(r, RateLimited) for r in results), results
    return [None if r is None else r.limit for r in results]


async def counter(store, client_id: str, window: str) -> int | None:
    async with store.connect() as connection:
        return (await connection.execute(
            sa.select(rate_window.c["count"]).where(rate_window.c.client_id == client_id, rate_window.c.window == window)
        )).scalar()


async def persons_recorded(store, client_id: str) -> set[str]:
    async with store.connect() as connection:
        rows = await connection.execute(sa.select(person_read.c.citizen_id).where(person_read.c.client_id == client_id))
    return {row[0] for row in rows}


async def test_concurrent_requests_accept_exactly_the_limit(store, ledger):
    calls, limit = 25, 10
    batched, alone = client(), client()
    results = await outcomes([ledger.count_request(batched, per_minute=limit, now=NOW) for _ in range(calls)])
    expected = await sequential([count_request(store, alone, per_minute=limit, now=NOW) for _ in range(calls)])
    assert limits(results) == limits(expected) == [None] * limit + ["requests_per_minute"] * (calls - limit)
    assert all(r.retry_after == 45 for r in results[limit:])
    assert ledger.transactions < calls
    # Refused requests count too, as they do one by one.
    assert await counter(store, batched, "m203001011230") == await counter(store, alone, "m203001011230") == calls


async def test_requests_of_several_clients_and_minutes_in_one_batch(store, ledger):
    first, second = client(), client()
    later = NOW + dt.timedelta(minutes=1)
    calls = [
        ledger.count_request(first, per_minute=2, now=NOW),
        ledger.count_request(second, per_minute=1, now=NOW),
        ledger.count_request(first, per_minute=2, now=later),
        ledger.count_request(first, per_minute=2, now=NOW),
        ledger.count_request(second, per_minute=1, now=NOW),
        ledger.count_request(first, per_minute=2, now=NOW),
    ]
    assert limits(await outcomes(calls)) == [None, None, None, None, "requests_per_minute", "requests_per_minute"]


def ids(*numbers: int) -> set[str]:
    return {f.citizen_id(f"1102003456{n:02d}") for n in numbers}


def persons_calls(count, client_id: str) -> list:
    """Overlapping reads by one client: distinct persons 2 (already recorded), 4, 6, 6, 11 and 11, against 10."""
    sets = [ids(1, 2, 3, 4), ids(3, 4, 5, 6), ids(1, 2, 5, 6), set(), ids(7, 8, 9, 10, 11), ids(1)]
    return [count(client_id, cids, per_hour=10, now=NOW) for cids in sets]


async def test_concurrent_persons_are_counted_distinct_across_the_batch(store, ledger):
    batched, alone = client(), client()
    for client_id in (batched, alone):
        await count_persons(store, client_id, ids(1, 2), per_hour=10, now=NOW)
    before = ledger.transactions
    results = await outcomes(persons_calls(ledger.count_persons, batched))
    expected = await sequential(persons_calls(lambda *a, **k: count_persons(store, *a, **k), alone))
    refused = "distinct_persons_per_hour"
    assert limits(results) == limits(expected) == [None, None, None, None, refused, refused]
    assert all(r.retry_after == 3600 - 30 * 60 - 15 for r in results[4:])
    assert ledger.transactions - before < 5  # the empty read costs nothing
    assert await persons_recorded(store, batched) == await persons_recorded(store, alone) == ids(*range(1, 12))
    assert await counter(store, batched, "ph2030010112") == await counter(store, alone, "ph2030010112") == 11


async def test_persons_and_requests_share_a_batch(store, ledger):
    client_id = client()
    results = await outcomes([
        ledger.count_request(client_id, per_minute=1, now=NOW),
        ledger.count_persons(client_id, ids(1, 2), per_hour=2, now=NOW),
        ledger.count_request(client_id, per_minute=1, now=NOW),
        ledger.count_persons(client_id, ids(2, 3), per_hour=2, now=NOW),
    ])
    assert limits(results) == [None, None, "requests_per_minute", "distinct_persons_per_hour"]
    assert ledger.transactions == 1


async def test_revocation_lookups_in_one_batch(store, ledger):
    revoked, kept = [uuid.uuid4().hex for _ in range(3)], [uuid.uuid4().hex for _ in range(4)]
    expires = int(time.time()) + 3600
    for jti in revoked:
        await revoke(store, jti, expires)
    asked = [kept[0], revoked[0], kept[1], revoked[1], revoked[0], kept[2], revoked[2], kept[3], kept[0]]
    answers = await asyncio.wait_for(asyncio.gather(*(ledger.is_revoked(jti) for jti in asked)), TIMEOUT)
    assert answers == [jti in revoked for jti in asked]
    assert ledger.transactions == 1


async def test_admission_refuses_revoked_tokens_without_counting_them(store, ledger):
    revoked, kept = uuid.uuid4().hex, uuid.uuid4().hex
    await revoke(store, revoked, int(time.time()) + 3600)
    client_id = client()
    calls = [ledger.admit(client_id, jti, per_minute=2, now=NOW) for jti in (kept, revoked, kept, revoked, kept)]
    results = await outcomes(calls)
    assert [type(r).__name__ if r else None for r in results] == [
        None, "TokenRejected", None, "TokenRejected", "RateLimited"]
    assert ledger.transactions == 1
    async with store.connect() as connection:
        count = (await connection.execute(
            sa.select(rate_window.c["count"]).where(rate_window.c.client_id == client_id))).scalar_one()
    assert count == 3  # the revoked token's requests were not counted


async def test_a_batch_costs_fewer_transactions_than_its_calls(store, ledger):
    calls = 20
    await outcomes([ledger.count_request(client(), per_minute=5, now=NOW) for _ in range(calls)])
    await outcomes([ledger.is_revoked(uuid.uuid4().hex) for _ in range(calls)])
    assert ledger.transactions < 2 * calls
    assert ledger.transactions <= 4


async def test_not_started_each_call_is_its_own_transaction(store):
    ledger = RequestLedger(store)
    client_id = client()
    results = await outcomes([ledger.count_request(client_id, per_minute=3, now=NOW) for _ in range(5)])
    assert limits(results).count(None) == 3
    assert await ledger.is_revoked(uuid.uuid4().hex) is False
    assert ledger.transactions == 6


async def test_stop_answers_what_is_queued_then_runs_calls_alone(store):
    ledger = RequestLedger(store)
    ledger.start()
    client_id = client()
    queued = [asyncio.ensure_future(ledger.count_request(client_id, per_minute=2, now=NOW)) for _ in range(4)]
    await asyncio.sleep(0)
    await asyncio.wait_for(ledger.stop(), TIMEOUT)
    assert limits(await outcomes(queued)) == [None, None, "requests_per_minute", "requests_per_minute"]
    during = ledger.transactions
    with pytest.raises(RateLimited):
        await ledger.count_request(client_id, per_minute=2, now=NOW)
    assert ledger.transactions == during + 1
    assert await counter(store, client_id, "m203001011230") == 5


async def test_a_failed_batch_fails_every_caller_as_a_call_alone_would(migrated_databases):
    # The ministry database has no rate or revocation tables: every store statement fails there.
    engine = create_engine(migrated_databases.urls["ministry"])
    ledger = RequestLedger(engine)
    ledger.start()
    try:
        alone = await outcomes([count_request(engine, "c", per_minute=5, now=NOW)])
        assert isinstance(alone[0], sa.exc.DBAPIError)
        for _ in range(2):  # the ledger keeps serving after a failed batch
            results = await outcomes(
                [ledger.count_request("c", per_minute=5, now=NOW) for _ in range(3)]
                + [ledger.count_persons("c", ids(1), per_hour=5, now=NOW)]
            )
            assert [type(r) for r in results] == [type(alone[0])] * 4
            lookups = await outcomes([ledger.is_revoked(uuid.uuid4().hex) for _ in range(3)])
            assert all(isinstance(r, sa.exc.DBAPIError) for r in lookups), lookups
    finally:
        await ledger.stop()
        await engine.dispose()


def test_the_app_counts_and_checks_tokens_through_its_ledger(migrated_databases):
    settings = settings_for(migrated_databases.urls)
    token = mint(settings, "ministry:read")
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        for _ in range(3):
            before = ledger.transactions
            http.post("/graphql", json={"query": '{ district(code: "1001") { code } }'},
                      headers={"Authorization": f"Bearer {token}"})
            # The revocation lookup and the request count, in one transaction.
            assert ledger.transactions - before == 1


async def test_persons_a_process_saw_recorded_are_not_looked_up_again(store):
    """The guard's count is the store's, across processes, though each process looks up only
    the persons it has not itself seen recorded this hour."""
    first, second = RequestLedger(store), RequestLedger(store)  # two hub processes
    who = client()
    lookups = []

    def count_lookups(_conn, _cursor, statement, *_args):
        if "person_read" in statement and statement.lstrip().upper().startswith("SELECT"):
            lookups.append(statement)

    sa.event.listen(store.sync_engine, "before_cursor_execute", count_lookups)
    try:
        await first.count_persons(who, ids(1, 2, 3), per_hour=4, now=NOW)
        lookups.clear()
        await first.count_persons(who, ids(1, 2, 3), per_hour=4, now=NOW)  # all seen by this process
        assert lookups == []
        await second.count_persons(who, ids(3, 4), per_hour=4, now=NOW)  # 4 distinct: at the limit
        assert len(lookups) == 1
        with pytest.raises(RateLimited):  # 5 is the fifth distinct person: 4 was recorded by the other process
            await first.count_persons(who, ids(4, 5), per_hour=4, now=NOW)
    finally:
        sa.event.remove(store.sync_engine, "before_cursor_execute", count_lookups)
    assert await persons_recorded(store, who) == ids(1, 2, 3, 4, 5)
    assert await counter(store, who, NOW.strftime("ph%Y%m%d%H")) == 5


def _reads(client_id: str, jtis: dict[str, str]) -> list:
    """Compiled reads of one client settled together: against 3 requests a minute and 5 persons an
    hour (2 recorded before), a read bringing the sixth person, reads in the next minute, a read
    of no one, the fourth request of a minute, and a revoked token's read in between."""
    from hub.audit import AuditEntry
    from hub.ratelimit import PersonsTally, RequestTally, Settlement

    later = NOW + dt.timedelta(minutes=1)
    plan = [("kept", NOW, ids(1, 2, 3)), ("kept", NOW, ids(3, 4)), ("revoked", NOW, ids(5)), ("kept", NOW, set()),
            ("kept", later, ids(5, 6)), ("kept", NOW, ids(1)), ("kept", later, ids(7))]
    reads = []
    for number, (token, now, cids) in enumerate(plan):
        jti = jtis[token]
        entry = AuditEntry(kind="read", request_id=f"{client_id}-{number}", client_id=client_id, subject="s",
                           scopes="ministry:read", purpose="test", operation_name="Q", document_hash=None,
                           citizen_ids=frozenset(cids), outcome="ok", occurred_at=now)
        reads.append(Settlement(request=RequestTally(client_id, 3, now, jti),
                                persons=PersonsTally(client_id, frozenset(cids), 5, now, jti) if cids else None,
                                entry=entry))
    return reads


async def test_settling_on_the_driver_answers_as_the_general_path(store):
    """On PostgreSQL a batch of compiled reads is settled in two statements on the driver; its
    refusals, counts, persons recorded and audit entries are those of the general path (and a
    batch holding a revoked token is settled by the general path)."""
    from hub.audit import verify
    from hub.auth.tokens import TokenRejected
    from hub.store.tables import audit_log

    jtis = {"kept": uuid.uuid4().hex, "revoked": uuid.uuid4().hex}
    await revoke(store, jtis["revoked"], int(time.time()) + 3600)
    answers = {}
    on_driver = []
    for path in ("driver", "general"):
        ledger = RequestLedger(store)
        settle_on_driver = ledger._settle_on_driver

        async def counted(*args, settle_on_driver=settle_on_driver):
            settled = await settle_on_driver(*args)
            on_driver.append(settled is not None)
            return settled

        async def refused(*args):
            return None

        ledger._settle_on_driver = counted if path == "driver" else refused
        client_id = client()
        await count_persons(store, client_id, ids(8, 9), per_hour=5, now=NOW)
        reads = _reads(client_id, jtis)
        # Without the revoked token's read (settled on the driver), then all of them (a revoked token).
        batches = [[r for r in reads if r.request.jti == jtis["kept"]], reads]
        refusals = [await ledger._settle(batch) for batch in batches]
        async with store.connect() as connection:
            audited = [tuple(row) for row in await connection.execute(
                sa.select(audit_log.c.request_id, audit_log.c.outcome, audit_log.c.citizen_ids)
                .where(audit_log.c.client_id == client_id).order_by(audit_log.c.id))]
        answers[path] = (
            [[None if r is None else (type(r).__name__, getattr(r, "limit", None)) for r in batch] for batch in refusals],
            await counter(store, client_id, "m203001011230"), await counter(store, client_id, "m203001011231"),
            await counter(store, client_id, "ph2030010112"), await persons_recorded(store, client_id),
            [(request_id.split("-")[-1], outcome, cids) for request_id, outcome, cids in audited],
        )
    assert answers["driver"] == answers["general"]
    refusals = answers["general"][0]
    limited, persons = ("RateLimited", "requests_per_minute"), ("RateLimited", "distinct_persons_per_hour")
    assert refusals[0] == [None, persons, None, persons, limited, persons]
    assert refusals[1][:3] == [limited, limited, (TokenRejected.__name__, None)]
    assert (await verify(store))[1] is None
    if store.dialect.name == "postgresql":
        assert on_driver == [True, False]  # the second batch holds a revoked token
    else:
        assert on_driver == []


async def test_a_settlement_waiting_on_another_counts_what_that_one_committed(store, monkeypatch):
    """Two hub processes settle reads of the same persons at once: the second waits on the first's
    rows and, once the first commits, counts the persons it recorded (a read that adds no person
    still sees the hour's count as committed, not as it was when its statement began)."""
    if store.dialect.name != "postgresql":
        pytest.skip("the settlement on the driver runs on a PostgreSQL store only")
    from hub import settle_pg
    from hub.audit import AuditEntry
    from hub.ratelimit import PersonsTally, RequestTally, Settlement

    client_id, jti, persons = client(), uuid.uuid4().hex, frozenset(ids(1, 2, 3, 4, 5, 6))
    now = NOW

    def read(number: int) -> Settlement:
        entry = AuditEntry(kind="read", request_id=f"{client_id}-{number}", client_id=client_id, subject="s",
                           scopes="ministry:read", purpose="test", operation_name="Q", document_hash=None,
                           citizen_ids=persons, outcome="ok", occurred_at=now)
        return Settlement(request=RequestTally(client_id, 100, now, jti),
                          persons=PersonsTally(client_id, persons, 5, now, jti), entry=entry)

    first_settled, release = asyncio.Event(), asyncio.Event()
    append = settle_pg.append

    async def held(driver, entries, head):
        if not first_settled.is_set():
            first_settled.set()  # the first settlement holds its rows until released
            await release.wait()
        return await append(driver, entries, head)

    monkeypatch.setattr(settle_pg, "append", held)
    first = asyncio.create_task(RequestLedger(store)._settle([read(1)]))
    await asyncio.wait_for(first_settled.wait(), TIMEOUT)
    second = asyncio.create_task(RequestLedger(store)._settle([read(2)]))
    waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    for _ in range(TIMEOUT * 20):
        async with store.connect() as connection:
            if (await connection.execute(waiting)).scalar():
                break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the second settlement never waited on the first")
    release.set()
    refusals = await asyncio.wait_for(asyncio.gather(first, second), TIMEOUT)
    assert limits([r for [r] in refusals]) == ["distinct_persons_per_hour"] * 2
    assert await counter(store, client_id, "p" + now.strftime("h%Y%m%d%H")) == 6
    assert await persons_recorded(store, client_id) == persons

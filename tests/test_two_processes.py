"""Two hub processes on one PostgreSQL store behave as one: revocation, idempotency, rate limits, feed, keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from hub.auth.clients import create_client
from tests.backends import SERVERS
from tests.conftest import settings_for
from tests.test_sync import PERSONS, person
from tests import factories as f

A = f.citizen_id("110200444444")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(process.stderr.read().decode())


@pytest.fixture(scope="module")
def two_hubs(migrated_databases):
    if migrated_databases.kind != SERVERS:
        pytest.skip("runs two processes on the PostgreSQL store")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{n.upper()}_URL": u for n, u in migrated_databases.urls.items()}, HUB_REQUESTS_PER_MINUTE="6")
    ports = [_free_port(), _free_port()]
    processes = [_start(env, port) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports], migrated_databases
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _client(databases, scope):
    import asyncio

    from hub.db import create_engine

    async def go():
        engine = create_engine(databases.urls["store"])
        try:
            return await create_client(engine, name="two-process test", scope=scope)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _token(base, record, secret, **form):
    response = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials", **form}, auth=(record.client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _gql(base, token, query, variables=None):
    return httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}},
                      headers={"Authorization": f"Bearer {token}", "X-Purpose": "two-process test"}, timeout=30)


def test_revocation_on_one_is_honoured_by_the_other(two_hubs):
    (a, b), databases = two_hubs
    record, secret = _client(databases, "ministry:read")
    token = _token(a, record, secret)
    assert _gql(b, token, '{ district(code: "1001") { code } }').status_code == 200
    assert httpx.post(f"{a}/oauth/revoke", data={"token": token}, auth=(record.client_id, secret)).status_code == 200
    assert _gql(b, token, '{ district(code: "1001") { code } }').status_code == 401


def test_an_idempotency_key_is_shared(two_hubs):
    (a, b), databases = two_hubs
    record, secret = _client(databases, "ministry:read ministry:write pii:read")
    token = _token(a, record, secret)
    variables = {"items": [person(A)], "key": "shared-key"}
    first_body = _gql(a, token, PERSONS, variables).json()
    assert first_body.get("data"), first_body
    first = first_body["data"]["syncPersons"]
    second = _gql(b, token, PERSONS, variables).json()["data"]["syncPersons"]
    assert first["replayed"] is False and second["replayed"] is True
    assert second["items"] == first["items"]
    feed = _gql(b, token, "{ changes { edges { node { sourceKey version } } } }").json()["data"]["changes"]["edges"]
    assert [e["node"] for e in feed] == [{"sourceKey": f"person:{A}", "version": 1}]


def test_rate_limits_count_across_processes(two_hubs):
    (a, b), databases = two_hubs
    record, secret = _client(databases, "ministry:read")
    token = _token(a, record, secret)
    if time.gmtime().tm_sec > 45:
        time.sleep(61 - time.gmtime().tm_sec)  # keep the burst inside one minute window
    codes = [_gql(host, token, '{ district(code: "1001") { code } }').status_code for host in (a, b) * 4]
    # Six requests a minute per client, counted in the shared store: whichever process answers.
    assert codes == [200] * 6 + [429] * 2, codes


def test_key_rotation_is_seen_by_both(two_hubs):
    (a, b), databases = two_hubs
    record, secret = _client(databases, "ministry:read")
    before = _token(a, record, secret)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{n.upper()}_URL": u for n, u in databases.urls.items()})
    subprocess.run([sys.executable, "-m", "hub.cli", "keys", "rotate"], env=env, check=True, capture_output=True)
    after = _token(b, record, secret)
    for host in (a, b):
        for token in (before, after):
            assert _gql(host, token, '{ district(code: "1001") { code } }').status_code == 200


def test_sigterm_during_a_burst_loses_no_request(migrated_databases):
    if migrated_databases.kind != SERVERS:
        pytest.skip("runs on the server databases")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{n.upper()}_URL": u for n, u in migrated_databases.urls.items()})
    port = _free_port()
    process = _start(env, port)
    base = f"http://127.0.0.1:{port}"
    record, secret = _client(migrated_databases, "ministry:read pii:read")
    token = _token(base, record, secret)
    results: list[tuple[float, int]] = []  # (when the request was sent, status; 0 = dropped, -1 = refused)
    started = threading.Event()

    def fire():
        # A new connection per request: after SIGTERM a new one is refused or reset before the
        # application sees it, while every request sent before SIGTERM must be answered.
        with httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            started.set()
            for _ in range(10):
                sent = time.monotonic()
                try:
                    response = client.post(f"{base}/graphql", json={"query": "{ persons(first: 50) { totalCount edges { node { citizenId } } } }"},
                                           headers={"Authorization": f"Bearer {token}", "X-Purpose": "burst"})
                    results.append((sent, response.status_code))
                except httpx.ConnectError:
                    results.append((sent, -1))
                    return
                except httpx.HTTPError:
                    results.append((sent, 0))
                    return

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.3)
    sigterm_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join()
    # uvicorn re-raises SIGTERM after a clean shutdown, so the exit status is the signal's.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in process.stderr.read()
    in_flight = [status for sent, status in results if sent < sigterm_at - 0.05]
    assert in_flight and all(status == 200 for status in in_flight), results
    assert sum(1 for _, status in results if status == 200) >= 8, results

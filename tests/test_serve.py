"""`hub serve` as a newcomer runs it: nothing configured, SQLite files created, migrated and seeded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests import backends

HUB = [sys.executable, "-m", "hub.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_embedded_default_end_to_end(tmp_path: Path):
    backends.exercised.add("sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATA_DIR=str(tmp_path / "var"), HUB_DEMO_PERSONS="300")
    port = _free_port()
    server = subprocess.Popen([*HUB, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hub serve did not come up"
            time.sleep(0.3)
        assert {p.name for p in (tmp_path / "var").iterdir()} >= {"ministry.db", "city.db", "store.db"}
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        token = subprocess.run([*HUB, "token", "--persona", "frontend"], env=env, cwd=tmp_path,
                               capture_output=True, text=True, check=True).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        districts = httpx.post(f"{base}/graphql", headers=headers,
                               json={"query": '{ districts(provinceCode: "10") { code nameTh nameEn } }'}).json()
        assert len(districts["data"]["districts"]) == 50
        persons = httpx.post(f"{base}/graphql", headers=headers,
                             json={"query": "{ persons(first: 5) { totalCount edges { node { citizenId sources } } } }"}).json()
        assert "errors" not in persons, persons
        assert persons["data"]["persons"]["totalCount"] >= 300  # the demo data was generated on first start
        assert httpx.post(f"{base}/graphql", json={"query": "{ sources { name } }"}).status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

"""What the audit trail costs: the same personal-data queries against the hub with its audit trail
as it is, and with no entry written, measured one after the other in one run.

    .venv/bin/python bench/audit_cost.py [--persons 200000] [--duration 10] [--concurrency 10]

It reuses the PostgreSQL databases `bench/run.py --reuse` leaves (hubbench_p<N>_s2568_pgpg_*),
so run that once first. The no-op exists only inside this script's server process; the
hub itself has no way to switch auditing off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432/"
QUERY = ("query Lookup($id: CitizenId!) { person(citizenId: $id) { citizenId firstName lastName "
         "district { code } elderlyAllowances { monthlyAmount status } } }")


def _serve(port: int, audit: bool) -> None:
    import uvicorn

    from hub.app import create_app
    from hub.audit import AuditWriter
    from hub.config import Settings

    from hub import ratelimit, settle_pg
    from hub.serving import HTTP_PROTOCOL

    if not audit:
        # The measurement's baseline: no entry written, neither by the audit writer (reads the
        # reference resolvers answer) nor with a compiled read's settlement, which still checks
        # revocation, counts the request and the persons and takes the chain head's lock.
        async def record(self, entry):
            return 0

        async def append(driver, entries, head):
            return []

        AuditWriter.record = record
        ratelimit._audited = lambda settlements, refusals: []
        settle_pg.append = append
    uvicorn.run(create_app(Settings(_env_file=None)), host="127.0.0.1", port=port, log_level="warning",
                http=HTTP_PROTOCOL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _drive(base: str, token: str, ids: list[str], duration: float, concurrency: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + duration
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "audit cost benchmark"}

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = await client.post(f"{base}/graphql", json={"query": QUERY, "variables": {"id": ids[i % len(ids)]}},
                                         headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or "errors" in response.json():
                errors += 1
            i += concurrency

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(worker(client, n) for n in range(concurrency)))
    latencies.sort()
    return {"requests": len(latencies), "rps": len(latencies) / duration, "errors": errors,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--serve", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.port, args.serve == "on")
        return 0

    prefix = f"hubbench_p{args.persons}_s2568_pgpg_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({f"HUB_{n.upper()}_URL": PG + prefix + n for n in ("ministry", "city", "store")},
               HUB_REQUESTS_PER_MINUTE="1000000000", HUB_PERSONS_PER_HOUR="1000000000")
    hub = [sys.executable, "-m", "hub.cli"]
    token = subprocess.run([*hub, "token", "--scope", "ministry:read city:read pii:read", "--purpose", "benchmark"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    ids_sql = ("SELECT pid_digits FROM tb_elder_allow WHERE status = 'A' AND length(pid_digits) = 13 "
               "ORDER BY reg_id LIMIT 200")
    ids = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-At", "-d", prefix + "city", "-c", ids_sql],
                         capture_output=True, text=True, check=True).stdout.split()
    from hub.thai import is_valid_citizen_id

    ids = [i for i in ids if is_valid_citizen_id(i)]
    random.Random(1).shuffle(ids)
    results = {}
    for mode in ("off", "on", "off", "on"):  # interleaved, so drift in the machine's load hits both
        port = _free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", mode, "--port", str(port)], env=env, cwd=ROOT)
        try:
            import httpx

            for _ in range(100):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            asyncio.run(_drive(f"http://127.0.0.1:{port}", token, ids, 2.0, args.concurrency))  # warm-up
            run = asyncio.run(_drive(f"http://127.0.0.1:{port}", token, ids, args.duration, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=30)
        results.setdefault(mode, []).append(run)
        print(f"audit {mode:3}: {run['rps']:8.1f} req/s  p50 {run['p50_ms']:6.1f} ms  p99 {run['p99_ms']:6.1f} ms  errors {run['errors']}")
    on = sum(r["rps"] for r in results["on"]) / len(results["on"])
    off = sum(r["rps"] for r in results["off"]) / len(results["off"])
    print(f"throughput with the audit trail / without: {on / off:.2f}")
    out = ROOT / "bench" / "results" / time.strftime("audit-cost-%Y%m%dT%H%M%SZ.json", time.gmtime())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results, "ratio": on / off}, indent=2))
    print(f"JSON: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

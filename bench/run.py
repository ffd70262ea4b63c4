#!/usr/bin/env python
"""The benchmark: the hub with its full security stack against a raw-SQL floor, in one run.

    .venv/bin/python bench/run.py --persons 200000 --duration 20 --concurrency 10 \
        [--engine postgresql|sqlite] [--city-engine mariadb] [--workers 1|2|1,2] [--reuse] [--profile]

One script, four roles: the orchestrator (the default), the raw-SQL floor server (`_floor`, run by the
orchestrator under uvicorn in its own process), the load generator (`_load`, its own process), and the
report. The hub is started as a user starts it (`hub serve`), and every request to it carries a real
token (JWT check, scopes, masking, purpose, audit trail, rate-limit bookkeeping). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
HUB_COMMAND = str(VENV_BIN / "hub")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MY = {"host": "127.0.0.1", "port": 3306, "user": "root"}
SCOPES = "ministry:read city:read pii:read"
PURPOSE = "benchmark"
# The per-client limits would stop a benchmark within seconds; they are raised for the hub process.
UNLIMITED = "1000000000"
TOKEN_REFRESH_SECONDS = 300  # tokens live 600 s
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
QUERIES = ("Q1", "Q2", "Q3")
TARGETS = {"Q1": (0.5, 1.5), "Q2": (0.7, 1.5)}  # minimum req/s ratio, maximum DB CPU ratio

# ---------------------------------------------------------------------------------------------
# The GraphQL documents (identical on every request; Q2 rotates its variable over fixed IDs)
# ---------------------------------------------------------------------------------------------

Q1_NODE = ("citizenId firstName lastName elderlyAllowances { monthlyAmount status } "
           "disabilityAllowances { monthlyAmount status }")
Q2_DOCUMENT = (
    "query Q2($id: CitizenId!) { person(citizenId: $id) { citizenId firstName lastName "
    "district { code nameEn } elderlyAllowances { monthlyAmount status payments { month amount } } } }"
)


def q1_document(districts: list[str], first: int, kind: str | None, age_min: int | None) -> str:
    fields = []
    for code in districts:
        condition = f'districtCode: "{code}"' + (f", ageMin: {age_min}" if age_min is not None else "")
        condition += f", benefitKind: {kind}" if kind else ""
        fields.append(f"  d{code}: persons(first: {first}, filter: {{{condition}}}) {{ edges {{ node {{ {Q1_NODE} }} }} }}")
    return "query Q1 {\n" + "\n".join(fields) + "\n}"


def q3_document(district: str, first: int, age_min: int | None) -> str:
    condition = f'districtCode: "{district}"' + (f", ageMin: {age_min}" if age_min is not None else "")
    return (f'query Q3 {{ persons(first: {first}, filter: {{{condition}}}) {{ edges {{ node {{ '
            f"citizenId cases {{ caseId status }} elderlyAllowances {{ monthlyAmount }} }} }} }} }}")


# ---------------------------------------------------------------------------------------------
# Database access shared by the floor and the orchestrator: raw drivers, hand-written SQL
# ---------------------------------------------------------------------------------------------


class Sql:
    """Placeholders and list parameters in each driver's dialect, collected in order."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.args: list = []

    def __call__(self, value) -> str:
        self.args.append(value)
        if self.dialect == "postgresql":
            return f"${len(self.args)}"
        return "?" if self.dialect == "sqlite" else "%s"

    def in_(self, column: str, values) -> str:
        values = list(values)
        if self.dialect == "postgresql":
            return f"{column} = ANY({self(values)})"
        if self.dialect == "sqlite":
            return f"{column} IN (SELECT value FROM json_each({self(json.dumps(values))}))"
        if not values:
            return "1 = 0"
        return f"{column} IN ({', '.join(self(v) for v in values)})"


class Source:
    """One database reached through its raw async driver with a small connection pool; counts statements."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.statements = 0

    @classmethod
    async def open(cls, url: str, size: int) -> Source:
        kind, _, rest = url.partition("://")
        if kind.startswith("postgresql"):
            import asyncpg

            source = cls("postgresql")
            # No reset round trip when a connection goes back to the pool: the floor opens no
            # transactions and changes no session state (asyncpg's default reset is 1 more statement).
            source._pool = await asyncpg.create_pool(f"postgresql://{rest}", min_size=size, max_size=size,
                                                     reset=_no_reset)
        elif kind.startswith("sqlite"):
            import aiosqlite

            source = cls("sqlite")
            path = rest[1:] if rest.startswith("/") else rest
            source._idle = asyncio.Queue()
            source._all = []
            for _ in range(size):
                connection = await aiosqlite.connect(path, isolation_level=None)
                source._all.append(connection)
                source._idle.put_nowait(connection)
        elif kind.startswith(("mysql", "mariadb")):
            import asyncmy

            source = cls("mysql")
            hostport, _, database = rest.partition("/")
            user, _, hostport = hostport.rpartition("@")
            host, _, port = hostport.partition(":")
            source._pool = await asyncmy.create_pool(
                host=host, port=int(port or 3306), user=user or "root", password="", db=database,
                minsize=size, maxsize=size, autocommit=True, charset="utf8mb4",
            )
        else:
            raise ValueError(f"unsupported URL {url}")
        return source

    @contextlib.asynccontextmanager
    async def connection(self):
        if self.dialect == "postgresql":
            async with self._pool.acquire() as connection:
                yield _Connection(self, connection)
        elif self.dialect == "sqlite":
            connection = await self._idle.get()
            try:
                yield _Connection(self, connection)
            finally:
                self._idle.put_nowait(connection)
        else:
            async with self._pool.acquire() as connection:
                yield _Connection(self, connection)

    async def fetch(self, sql: str, args=()) -> list:
        async with self.connection() as connection:
            return await connection.fetch(sql, args)

    async def close(self) -> None:
        if self.dialect == "postgresql":
            await self._pool.close()
        elif self.dialect == "sqlite":
            for connection in self._all:
                await connection.close()
        else:
            self._pool.close()
            await self._pool.wait_closed()


async def _no_reset(connection) -> None:
    return None


class _Connection:
    def __init__(self, source: Source, raw) -> None:
        self.source = source
        self.raw = raw

    async def fetch(self, sql: str, args=()) -> list:
        self.source.statements += 1
        dialect = self.source.dialect
        if dialect == "postgresql":
            return await self.raw.fetch(sql, *args)
        if dialect == "sqlite":
            return list(await self.raw.execute_fetchall(sql, list(args)))
        async with self.raw.cursor() as cursor:
            await cursor.execute(sql, list(args) or None)  # no arguments: no %-formatting of the SQL
            return list(await cursor.fetchall())


# ---------------------------------------------------------------------------------------------
# The raw-SQL floor: the same rows in the same JSON as the hub's answer, without GraphQL or auth
# ---------------------------------------------------------------------------------------------

ALLOWANCE_STATUS = {"A": "ACTIVE", "S": "SUSPENDED", "D": "DECEASED", "M": "MOVED"}
ALLOWANCE_TABLES = {"ELDERLY_ALLOWANCE": "tb_elder_allow", "DISABILITY_ALLOWANCE": "tb_disab_allow"}
CENT = Decimal("0.01")


def money(value) -> str | None:
    if value is None:
        return None
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return str(amount if amount.as_tuple().exponent == -2 else amount.quantize(CENT))


def allowance_status(raw: str | None) -> str | None:
    return None if raw is None else ALLOWANCE_STATUS.get(raw.strip().upper())


def valid_citizen_id(digits: str) -> bool:
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def be_month_iso(raw: str | None) -> str | None:
    if raw is None:
        return None
    raw = raw.strip()
    return f"{int(raw[:4]) - 543:04d}-{raw[4:6]}-01"


def stripped(value):
    return value.strip() if isinstance(value, str) else value


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def be_date(raw: str | None) -> dt.date | None:
    """A city 'DD/MM/YYYY' Buddhist-Era date, or None when it cannot be read (as the hub's normaliser)."""
    from hub.thai import InvalidBuddhistEraDate, parse_be_string  # the calendar rule, not the hub's logic

    if raw is None or not raw.strip():
        return None
    try:
        return parse_be_string(raw)
    except InvalidBuddhistEraDate:
        return None


class Floor:
    """Hand-written, batched SQL per query: a statement per step, never one per row."""

    def __init__(self, ministry: Source, city: Source, config: dict) -> None:
        import geothai

        self.ministry = ministry
        self.city = city
        self.q1_districts: list[str] = config["q1"]["districts"]
        self.q1_first: int = config["q1"]["first"]
        self.q1_kind: str | None = config["q1"]["kind"]
        self.q1_age_min: int | None = config["q1"]["age_min"]
        self.q3_district: str = config["q3"]["district"]
        self.q3_first: int = config["q3"]["first"]
        self.q3_age_min: int | None = config["q3"]["age_min"]
        self.district_names = {
            d.code: d.name_en for p in geothai.provinces() for d in geothai.districts(p.code)
        }
        self.requests = 0

    # -- listing persons of districts in citizen-ID order, as the hub's persons(filter) does --

    async def _ministry_pages(self, m: _Connection, wants: list[tuple[int, str, str | None, int]],
                              born_by: dt.date | None) -> dict:
        """The next `limit` ministry persons of each district (after a cursor), one statement for all."""
        sql = Sql(m.source.dialect)
        parts = []
        for i, code, after, limit in wants:
            condition = f"subdistrict_code >= {sql(code + '00')} AND subdistrict_code <= {sql(code + '99')}"
            if after is not None:
                condition += f" AND citizen_id > {sql(after)}"
            if born_by is not None:
                condition += f" AND birth_date <= {sql(born_by.isoformat() if sql.dialect == 'sqlite' else born_by)}"
            parts.append(
                f"SELECT * FROM (SELECT {i} AS i, citizen_id, first_name_th, last_name_th FROM person "
                f"WHERE {condition} ORDER BY citizen_id LIMIT {sql(limit)}) AS s{i}"
            )
        pages: dict[int, list] = {want[0]: [] for want in wants}
        for row in await m.fetch(" UNION ALL ".join(parts), sql.args):
            pages[row[0]].append((row[1], row[2], row[3]))
        return pages

    async def _list(self, m: _Connection, c: _Connection, districts: list[str], first: int,
                    kind: str | None, age_min: int | None = None) -> list[list[tuple[str, tuple | None]]]:
        """Per district: the first `first` persons (citizen ID, ministry names or None for city-only)."""
        today = dt.date.today()
        born_by = years_before(today, age_min) if age_min is not None else None
        found: dict[int, list] = {i: [] for i in range(len(districts))}
        complete: dict[int, bool] = {}  # district -> the ministry stream was read to its end
        # With a benefit filter only holders count: the first batch is wider, later ones are sized
        # by the share of holders seen so far.
        wants = [(i, code, None, first if kind is None else 2 * first) for i, code in enumerate(districts)]
        read: Counter = Counter()
        while wants:
            pages = await self._ministry_pages(m, wants, born_by)
            holders = None
            if kind is not None:
                ids = [row[0] for page in pages.values() for row in page]
                sql = Sql(c.source.dialect)
                rows = await c.fetch(
                    f"SELECT DISTINCT pid_digits FROM {ALLOWANCE_TABLES[kind]} WHERE {sql.in_('pid_digits', ids)}",
                    sql.args,
                ) if ids else []
                holders = {r[0] for r in rows}
            next_wants = []
            for i, code, _, limit in wants:
                page = pages[i]
                found[i].extend(row for row in page if holders is None or row[0] in holders)
                read[i] += len(page)
                if len(page) < limit:
                    complete[i] = True
                elif len(found[i]) < first:
                    share = max(len(found[i]) / read[i], 0.02)
                    size = min(max(math.ceil((first - len(found[i])) / share * 1.25), first), 50 * first)
                    next_wants.append((i, code, page[-1][0], size))
            wants = next_wants

        # City-only persons: valid PIDs registered in the district that the ministry does not know,
        # only those that sort before the last ministry person a district will show.
        sql = Sql(c.source.dialect)
        tables = [ALLOWANCE_TABLES[kind]] if kind else ["tb_elder_allow", "tb_disab_allow"]
        parts = []
        for i, code in enumerate(districts):
            if not (code.startswith("10") and 1 <= int(code[2:]) <= 50):
                continue
            for table in tables:
                condition = f"dist_id = {sql(int(code) - 1000)}"
                if not complete.get(i) and len(found[i]) >= first:
                    condition += f" AND pid_digits < {sql(found[i][first - 1][0])}"
                parts.append(f"SELECT {i} AS i, pid_digits FROM {table} WHERE {condition}")
        candidates: dict[int, set[str]] = defaultdict(set)
        if parts:
            for row in await c.fetch(" UNION ALL ".join(parts), sql.args):
                if row[1] is not None and valid_citizen_id(row[1]):
                    candidates[row[0]].add(row[1])
        every = set().union(*candidates.values()) if candidates else set()
        known: set[str] = set()
        if every:
            sql = Sql(m.source.dialect)
            known = {r[0] for r in await m.fetch(f"SELECT citizen_id FROM person WHERE {sql.in_('citizen_id', every)}", sql.args)}
        if age_min is not None and every - known:
            # A city-only person is judged by the first of their registrations with a readable birth date.
            city_only = sorted(every - known)
            sql = Sql(c.source.dialect)
            rows = await c.fetch(
                f"SELECT 0 AS k, pid_digits, reg_id, birth_be FROM tb_elder_allow WHERE {sql.in_('pid_digits', city_only)} "
                f"UNION ALL SELECT 1 AS k, pid_digits, reg_id, birth_be FROM tb_disab_allow "
                f"WHERE {sql.in_('pid_digits', city_only)} ORDER BY 1, 3",
                sql.args,
            )
            births: dict[str, dt.date] = {}
            for row in rows:
                if row[1] not in births and (birth := be_date(row[3])) is not None:
                    births[row[1]] = birth
            too_young = {pid for pid in city_only if pid not in births or age_on(births[pid], today) < age_min}
            known |= too_young  # left out like the ministry's persons
        listed = []
        for i in range(len(districts)):
            merged = [(row[0], (row[1], row[2])) for row in found[i]]
            merged += [(pid, None) for pid in candidates.get(i, ()) if pid not in known]
            merged.sort(key=lambda item: item[0])
            listed.append(merged[:first])
        return listed

    async def q1(self) -> dict:
        async with self.ministry.connection() as m, self.city.connection() as c:
            listed = await self._list(m, c, self.q1_districts, self.q1_first, self.q1_kind, self.q1_age_min)
            ids = sorted({cid for persons in listed for cid, _ in persons})
            elderly: dict[str, list] = defaultdict(list)
            disability: dict[str, list] = defaultdict(list)
            if ids:
                sql = Sql(c.source.dialect)
                rows = await c.fetch(
                    "SELECT 0 AS k, pid_digits, reg_id, amount, status, fname, lname FROM tb_elder_allow "
                    f"WHERE {sql.in_('pid_digits', ids)} UNION ALL "
                    "SELECT 1 AS k, pid_digits, reg_id, amount, status, fname, lname FROM tb_disab_allow "
                    f"WHERE {sql.in_('pid_digits', ids)} ORDER BY 1, 3",
                    sql.args,
                )
                for row in rows:
                    (disability if row[0] else elderly)[row[1]].append(row)
        data = {}
        for code, persons in zip(self.q1_districts, listed, strict=True):
            edges = []
            for cid, names in persons:
                own_e, own_d = elderly.get(cid, ()), disability.get(cid, ())
                if names is None:  # known to the city only: identity from its first registration
                    first_record = next(iter([*own_e, *own_d]), None)
                    names = (stripped(first_record[5]), stripped(first_record[6])) if first_record else (None, None)
                edges.append({"node": {
                    "citizenId": cid,
                    "firstName": names[0],
                    "lastName": names[1],
                    "elderlyAllowances": [{"monthlyAmount": money(r[3]), "status": allowance_status(r[4])} for r in own_e],
                    "disabilityAllowances": [{"monthlyAmount": money(r[3]), "status": allowance_status(r[4])} for r in own_d],
                }})
            data[f"d{code}"] = {"edges": edges}
        return {"data": data}

    async def q2(self, cid: str) -> dict:
        if not valid_citizen_id(cid):
            return {"data": None, "errors": [{"message": "invalid CitizenId", "extensions": {"code": "BAD_USER_INPUT"}}]}

        async def ministry_part():
            async with self.ministry.connection() as m:
                sql = Sql(m.source.dialect)
                rows = await m.fetch(
                    f"SELECT first_name_th, last_name_th, subdistrict_code FROM person WHERE citizen_id = {sql(cid)}",
                    sql.args,
                )
                return rows[0] if rows else None

        async def city_part():
            async with self.city.connection() as c:
                sql = Sql(c.source.dialect)
                elderly = await c.fetch(
                    "SELECT e.reg_id, e.amount, e.status, e.fname, e.lname, e.dist_id, p.pay_ym, p.amount "
                    "FROM tb_elder_allow e LEFT JOIN tb_allow_pay p ON p.reg_kind = 'E' AND p.reg_id = e.reg_id "
                    f"WHERE e.pid_digits = {sql(cid)} ORDER BY e.reg_id, p.pay_ym, p.pay_id",
                    sql.args,
                )
                return elderly

        person, elderly = await asyncio.gather(ministry_part(), city_part())
        allowances: list[dict] = []
        by_registration: dict = {}
        for row in elderly:
            allowance = by_registration.get(row[0])
            if allowance is None:
                allowance = by_registration[row[0]] = {
                    "monthlyAmount": money(row[1]), "status": allowance_status(row[2]), "payments": [],
                }
                allowances.append(allowance)
            if row[6] is not None:
                allowance["payments"].append({"month": be_month_iso(row[6]), "amount": money(row[7])})
        if person is not None:
            first_name, last_name, district_code = person[0], person[1], (person[2] or "")[:4] or None
        else:
            identity = [(r[3], r[4], r[5]) for r in elderly]
            if not identity:  # the disability register is asked only when it can matter
                async with self.city.connection() as c:
                    sql = Sql(c.source.dialect)
                    identity = [tuple(r) for r in await c.fetch(
                        f"SELECT fname, lname, dist_id FROM tb_disab_allow WHERE pid_digits = {sql(cid)} ORDER BY reg_id",
                        sql.args,
                    )]
            if not identity:
                return {"data": {"person": None}}
            first_name, last_name = stripped(identity[0][0]), stripped(identity[0][1])
            district_code = next((str(1000 + d) for _, _, d in identity if d is not None and 1 <= d <= 50), None)
        name = self.district_names.get(district_code) if district_code else None
        return {"data": {"person": {
            "citizenId": cid,
            "firstName": first_name,
            "lastName": last_name,
            "district": {"code": district_code, "nameEn": name} if name is not None else None,
            "elderlyAllowances": allowances,
        }}}

    async def q3(self) -> dict:
        async with self.ministry.connection() as m, self.city.connection() as c:
            [persons] = await self._list(m, c, [self.q3_district], self.q3_first, None, self.q3_age_min)
            ids = [cid for cid, _ in persons]
            ministry_ids = [cid for cid, names in persons if names is not None]

            async def cases():
                if not ministry_ids:
                    return []
                sql = Sql(m.source.dialect)
                return await m.fetch(
                    f"SELECT citizen_id, case_id, status FROM welfare_case WHERE {sql.in_('citizen_id', ministry_ids)} "
                    "ORDER BY opened_at, case_id",
                    sql.args,
                )

            async def elderly():
                if not ids:
                    return []
                sql = Sql(c.source.dialect)
                return await c.fetch(
                    f"SELECT pid_digits, amount FROM tb_elder_allow WHERE {sql.in_('pid_digits', ids)} ORDER BY reg_id",
                    sql.args,
                )

            case_rows, elderly_rows = await asyncio.gather(cases(), elderly())
        by_person: dict[str, list] = defaultdict(list)
        for row in case_rows:
            by_person[row[0]].append({"caseId": int(row[1]), "status": row[2].upper()})
        allowances: dict[str, list] = defaultdict(list)
        for row in elderly_rows:
            allowances[row[0]].append({"monthlyAmount": money(row[1])})
        edges = [{"node": {
            "citizenId": cid,
            "cases": by_person.get(cid, []),
            "elderlyAllowances": allowances.get(cid, []),
        }} for cid in ids]
        return {"data": {"persons": {"edges": edges}}}


def floor_app(config: dict):
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        ministry = await Source.open(config["urls"]["ministry"], config["pool"])
        city = await Source.open(config["urls"]["city"], config["pool"])
        state["floor"] = Floor(ministry, city, config)
        try:
            yield
        finally:
            await ministry.close()
            await city.close()

    def answer(body: dict) -> Response:
        state["floor"].requests += 1
        return Response(orjson.dumps(body), media_type="application/json")

    async def q1(request):
        return answer(await state["floor"].q1())

    async def q2(request):
        return answer(await state["floor"].q2(request.path_params["cid"]))

    async def q3(request):
        return answer(await state["floor"].q3())

    async def stats(request):
        floor = state["floor"]
        return JSONResponse({"requests": floor.requests,
                             "statements": {"ministry": floor.ministry.statements, "city": floor.city.statements}})

    async def ready(request):
        return JSONResponse({"status": "ready"})

    return Starlette(routes=[
        Route("/q1", q1), Route("/q2/{cid}", q2), Route("/q3", q3), Route("/stats", stats), Route("/readyz", ready),
    ], lifespan=lifespan)


def serve_floor(argv: list[str]) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="run.py _floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True, help="JSON")
    args = parser.parse_args(argv)
    from hub.serving import HTTP_PROTOCOL

    # The same server stack the hub runs on: uvicorn with the loop and HTTP parser the project
    # installs, and the HTTP protocol `hub serve` gives it (Nagle off, a turn's writes joined).
    uvicorn.run(floor_app(json.loads(args.config)), host="127.0.0.1", port=args.port, workers=1,
                http=HTTP_PROTOCOL, access_log=False, log_level="warning")
    return 0


# ---------------------------------------------------------------------------------------------
# The load generator: its own process, keep-alive HTTP/1.1 connections, exactly N requests in flight
# ---------------------------------------------------------------------------------------------


def render_request(method: str, path: str, host: str, headers: dict, body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length or 0)
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q
    low, high = math.floor(k), math.ceil(k)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (k - low)


async def load(spec: dict) -> dict:
    host, port = spec["host"], spec["port"]

    def build() -> list[bytes]:
        headers = dict(spec["headers"])
        if spec.get("token_file"):
            headers["Authorization"] = "Bearer " + Path(spec["token_file"]).read_text().strip()
        return [render_request(r["method"], r["path"], f"{host}:{port}", headers,
                               r["body"].encode() if r.get("body") is not None else None)
                for r in spec["requests"]]

    requests = build()
    order = itertools.cycle(range(len(requests)))
    window = {"start": None, "end": None, "stop": False}
    latencies: list[float] = []
    errors: Counter = Counter()
    received = 0

    async def refresh_token():
        nonlocal requests
        path = Path(spec["token_file"])
        seen = path.stat().st_mtime
        while not window["stop"]:
            await asyncio.sleep(1)
            if path.stat().st_mtime != seen:
                seen = path.stat().st_mtime
                requests = build()

    async def worker():
        nonlocal received
        reader = writer = None
        while not window["stop"]:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
                request = requests[next(order)]
                started = time.perf_counter()
                writer.write(request)
                status, body = await read_response(reader)
                finished = time.perf_counter()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                if window["stop"]:
                    break
                errors[f"connection:{type(exc).__name__}"] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            if window["start"] is not None and finished >= window["start"] and (
                    window["end"] is None or finished <= window["end"]):
                latencies.append(finished - started)
                received += len(body)
                if status != 200:
                    errors[f"http:{status}"] += 1
                elif b'"errors"' in body:
                    errors["graphql"] += 1
        if writer is not None:
            writer.close()

    tasks = [asyncio.create_task(worker()) for _ in range(spec["concurrency"])]
    refresher = asyncio.create_task(refresh_token()) if spec.get("token_file") else None
    await asyncio.sleep(spec["warmup"])
    window["start"] = time.perf_counter()
    print("START", flush=True)
    await asyncio.sleep(spec["duration"])
    window["end"] = time.perf_counter()
    print("END", flush=True)
    window["stop"] = True
    await asyncio.wait(tasks, timeout=30)
    if refresher is not None:
        refresher.cancel()
    seconds = window["end"] - window["start"]
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": _ms(percentile(latencies, 0.50)),
        "p90_ms": _ms(percentile(latencies, 0.90)),
        "p99_ms": _ms(percentile(latencies, 0.99)),
        "mean_ms": _ms(statistics.fmean(latencies)) if latencies else None,
        "max_ms": _ms(latencies[-1]) if latencies else None,
        "response_bytes_mean": received / len(latencies) if latencies else None,
        "errors": dict(errors),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def load_main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    result = asyncio.run(load(spec))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Measuring: CPU of process trees and database processes from /proc, sampled in the background
# ---------------------------------------------------------------------------------------------


@dataclass
class ProcInfo:
    comm: str
    ppid: int
    ticks: int  # user + system
    title: str = ""
    sys_ticks: int = 0  # the process title of database server processes (names the database)


class ProcSampler(threading.Thread):
    """Reads utime+stime of every process twice a second, so processes that come and go are counted too."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.lock = threading.Lock()
        self.known: dict[tuple[int, int], ProcInfo] = {}
        self.halt = threading.Event()

    def scan(self) -> dict[tuple[int, int], ProcInfo]:
        seen = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    data = handle.read().decode("latin-1")
            except OSError:
                continue
            close = data.rfind(")")
            comm = data[data.find("(") + 1:close]
            fields = data[close + 2:].split()
            key = (int(name), int(fields[19]))
            ticks = int(fields[11]) + int(fields[12])
            sys_ticks = int(fields[12])
            previous = self.known.get(key)
            title = previous.title if previous else ""
            # A backend just forked still shows the postmaster's command line until it has set
            # its title (user, database, client address): read it again until it has.
            if comm in ("postgres", "mariadbd", "mysqld") and (not previous or "(" not in title):
                try:
                    with open(f"/proc/{name}/cmdline", "rb") as handle:
                        title = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
                except OSError:
                    pass
            seen[key] = ProcInfo(comm, int(fields[1]), ticks, title, sys_ticks)
        with self.lock:
            self.known.update(seen)
            now = time.monotonic()
            self.last_scan = now
        return seen

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            self.scan()

    def snapshot(self) -> tuple[float, dict[tuple[int, int], ProcInfo]]:
        """A fresh scan: every process ever seen, with the CPU ticks last read."""
        self.scan()
        with self.lock:
            return time.monotonic(), {k: ProcInfo(v.comm, v.ppid, v.ticks, v.title, v.sys_ticks)
                                      for k, v in self.known.items()}

    def stop(self) -> None:
        self.halt.set()


def cpu_deltas(before: dict, after: dict, groups: dict[str, callable], kind: str = "ticks") -> dict[str, float]:
    """CPU seconds per group between two snapshots (a process born in between counts from zero)."""
    parents = {pid: info.ppid for (pid, _), info in after.items()}

    def descends(pid: int, root: int) -> bool:
        for _ in range(64):
            if pid == root:
                return True
            pid = parents.get(pid, 0)
            if pid <= 1:
                return False
        return False

    totals = {name: 0.0 for name in groups}
    for key, info in after.items():
        delta = getattr(info, kind) - (getattr(before[key], kind) if key in before else 0)
        if delta <= 0:
            continue
        for name, test in groups.items():
            if test(key[0], info, descends):
                totals[name] += delta / CLOCK_TICKS
    return totals


def tree(root_pid: int):
    return lambda pid, info, descends: descends(pid, root_pid)


def pg_backend(database: str):
    marker = f" {database} "
    return lambda pid, info, descends: info.comm == "postgres" and marker in info.title


def is_postgres(pid, info, descends) -> bool:
    return info.comm == "postgres"


def is_mariadb(pid, info, descends) -> bool:
    return info.comm in ("mariadbd", "mysqld")


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    import httpx

    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout)
    return response.status_code, response.content


_METRIC = re.compile(r'^hub_source_query_seconds_count\{source="([a-z]+)"\} ([0-9.e+]+)$', re.M)


def hub_statements(port: int) -> dict[str, float]:
    _, body = http_get(port, "/metrics")
    return {source: float(value) for source, value in _METRIC.findall(body.decode())}


class PgStats:
    """pg_stat_database counters of the benchmark's databases (transactions, rows read), via asyncpg."""

    def __init__(self, databases: list[str]) -> None:
        import asyncpg

        self.databases = databases
        self.loop = asyncio.new_event_loop()
        self.connection = self.loop.run_until_complete(asyncpg.connect(database="postgres", **PG))

    def read(self) -> dict[str, dict[str, int]]:
        rows = self.loop.run_until_complete(self.connection.fetch(
            "SELECT datname, xact_commit + xact_rollback AS xacts, tup_returned, tup_fetched, "
            "tup_inserted + tup_updated + tup_deleted AS tup_written FROM pg_stat_database WHERE datname = ANY($1)",
            self.databases,
        ))
        return {r["datname"]: {k: int(r[k]) for k in ("xacts", "tup_returned", "tup_fetched", "tup_written")}
                for r in rows}

    def close(self) -> None:
        self.loop.run_until_complete(self.connection.close())
        self.loop.close()


# ---------------------------------------------------------------------------------------------
# The dataset: databases created, migrated with `hub migrate`, filled with `hub seed`
# ---------------------------------------------------------------------------------------------

ROLES = ("ministry", "city", "store")


def run_async(coroutine):
    return asyncio.run(coroutine)


@dataclass
class Dataset:
    engine: str
    city_engine: str
    persons: int
    seed: int
    reuse: bool
    names: dict[str, str] = field(default_factory=dict)  # role -> database name (or file)
    urls: dict[str, str] = field(default_factory=dict)   # role -> URL the hub is given
    directory: Path | None = None
    reused: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def plan(cls, args) -> Dataset:
        dataset = cls(args.engine, args.city_engine or args.engine, args.persons, args.seed, args.reuse)
        tag = {"postgresql": "pg", "sqlite": "lite", "mariadb": "my"}
        suffix = f"p{args.persons}_s{args.seed}_{tag[dataset.engine]}{tag[dataset.city_engine]}"
        stem = f"hubbench_{suffix}" if args.reuse else f"hubbench_{secrets.token_hex(3)}"
        if dataset.engine == "sqlite" or dataset.city_engine == "sqlite":
            if args.reuse:
                dataset.directory = Path(tempfile.gettempdir()) / f"hubbench-{suffix}"
                dataset.directory.mkdir(exist_ok=True)
            else:
                dataset.directory = Path(tempfile.mkdtemp(prefix="hubbench-"))
        for role in ROLES:
            kind = dataset.city_engine if role == "city" else dataset.engine
            if kind == "sqlite":
                path = dataset.directory / f"{role}.db"
                dataset.names[role] = str(path)
                dataset.urls[role] = f"sqlite:///{path}"
            elif kind == "postgresql":
                dataset.names[role] = f"{stem}_{role}"
                dataset.urls[role] = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{stem}_{role}"
            else:
                dataset.names[role] = f"{stem}_{role}"
                dataset.urls[role] = f"mysql://{MY['user']}@{MY['host']}:{MY['port']}/{stem}_{role}"
        return dataset

    def kind(self, role: str) -> str:
        return self.city_engine if role == "city" else self.engine

    def hub_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        env.update({f"HUB_{role.upper()}_URL": url for role, url in self.urls.items()})
        env.update({"HUB_ENV": "demo", "HUB_REQUESTS_PER_MINUTE": UNLIMITED, "HUB_PERSONS_PER_HOUR": UNLIMITED})
        return env

    # -- create, check, drop --

    async def _exists(self, role: str) -> bool:
        kind, name = self.kind(role), self.names[role]
        if kind == "sqlite":
            return Path(name).exists()
        if kind == "postgresql":
            import asyncpg

            connection = await asyncpg.connect(database="postgres", **PG)
            try:
                return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
            finally:
                await connection.close()
        import asyncmy

        connection = await asyncmy.connect(**MY)
        try:
            async with connection.cursor() as cursor:
                await cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
                return bool(await cursor.fetchall())
        finally:
            connection.close()

    async def _create(self, role: str) -> None:
        kind, name = self.kind(role), self.names[role]
        if kind == "sqlite":
            return  # the file is created on first connect
        if kind == "postgresql":
            import asyncpg

            connection = await asyncpg.connect(database="postgres", **PG)
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()
            return
        import asyncmy

        connection = await asyncmy.connect(**MY)
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        finally:
            connection.close()

    async def _drop(self, role: str) -> None:
        kind, name = self.kind(role), self.names[role]
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            return
        if kind == "postgresql":
            import asyncpg

            connection = await asyncpg.connect(database="postgres", **PG)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await connection.close()
            return
        import asyncmy

        connection = await asyncmy.connect(**MY)
        try:
            async with connection.cursor() as cursor:
                with warnings.catch_warnings():  # "database doesn't exist" is what IF EXISTS is for
                    warnings.simplefilter("ignore")
                    await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            connection.close()

    async def _complete(self) -> bool:
        """A finished `hub seed` of these persons and seed, as the hub's own seed_run records it."""
        store = await Source.open(self.urls["store"], 1)
        ministry = await Source.open(self.urls["ministry"], 1)
        try:
            sql = Sql(store.dialect)
            runs = await store.fetch(
                f"SELECT persons, seed, finished_at FROM seed_run ORDER BY id DESC LIMIT 1", sql.args)
            if not runs or runs[0][2] is None or (runs[0][0], runs[0][1]) != (self.persons, self.seed):
                return False
            [[count]] = await ministry.fetch("SELECT count(*) FROM person")
            return count == self.persons
        except Exception:  # noqa: BLE001 - no tables yet, or a half-built database: build it again
            return False
        finally:
            await store.close()
            await ministry.close()

    def prepare(self, log) -> None:
        if self.reuse and all(run_async(self._exists(role)) for role in ROLES) and run_async(self._complete()):
            self.reused = True
            log(f"reusing the databases of {self.persons:,} persons (seed {self.seed})")
            # Kept databases are brought up to this checkout's schema, as an upgrade would.
            subprocess.run([HUB_COMMAND, "migrate"], env=self.hub_env(), check=True, stdout=subprocess.DEVNULL,
                           cwd=self.workdir())
            return
        for role in ROLES:
            run_async(self._drop(role))
            run_async(self._create(role))
        env = self.hub_env()
        started = time.monotonic()
        subprocess.run([HUB_COMMAND, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=self.workdir())
        self.seconds["migrate"] = time.monotonic() - started
        log(f"seeding {self.persons:,} persons (hub seed --seed {self.seed}) ...")
        started = time.monotonic()
        subprocess.run([HUB_COMMAND, "seed", "--persons", str(self.persons), "--seed", str(self.seed), "--quiet"],
                       env=env, check=True, stdout=subprocess.DEVNULL, cwd=self.workdir())
        self.seconds["seed"] = time.monotonic() - started
        log(f"seeded in {self.seconds['seed']:.1f} s")

    def workdir(self) -> str:
        # Not the project folder: an .env file there must not change what is measured.
        return tempfile.gettempdir()

    def drop(self) -> None:
        for role in ROLES:
            with contextlib.suppress(Exception):
                run_async(self._drop(role))
        if self.directory is not None and not self.reuse:
            shutil.rmtree(self.directory, ignore_errors=True)

    # -- what the data holds --

    async def _counts(self) -> dict:
        ministry = await Source.open(self.urls["ministry"], 1)
        city = await Source.open(self.urls["city"], 1)
        try:
            counts = {}
            for label, source, sql in (
                ("persons", ministry, "SELECT count(*) FROM person"),
                ("persons_bangkok", ministry, "SELECT count(*) FROM person WHERE subdistrict_code LIKE '10%'"),
                ("welfare_cases", ministry, "SELECT count(*) FROM welfare_case"),
                ("elderly_allowances", city, "SELECT count(*) FROM tb_elder_allow"),
                ("disability_allowances", city, "SELECT count(*) FROM tb_disab_allow"),
                ("allowance_payments", city, "SELECT count(*) FROM tb_allow_pay"),
            ):
                [[counts[label]]] = await source.fetch(sql)
            counts["allowances"] = counts["elderly_allowances"] + counts["disability_allowances"]
            counts["districts_with_allowances"] = len(await city.fetch("SELECT DISTINCT dist_id FROM tb_elder_allow"))
            return {k: int(v) for k, v in counts.items()}
        finally:
            await ministry.close()
            await city.close()

    def counts(self) -> dict:
        return run_async(self._counts())

    async def _q2_ids(self, how_many: int) -> list[str]:
        ministry = await Source.open(self.urls["ministry"], 1)
        city = await Source.open(self.urls["city"], 1)
        try:
            pids = [r[0] for r in await city.fetch(
                "SELECT DISTINCT pid_digits FROM tb_elder_allow WHERE status = 'A' ORDER BY pid_digits")]
            pids = [p for p in pids if p and valid_citizen_id(p)]
            known: set[str] = set()
            for start in range(0, len(pids), 5000):
                sql = Sql(ministry.dialect)
                chunk = pids[start:start + 5000]
                known |= {r[0] for r in await ministry.fetch(
                    f"SELECT citizen_id FROM person WHERE {sql.in_('citizen_id', chunk)}", sql.args)}
            usable = [p for p in pids if p in known]
            step = max(1, len(usable) // how_many)
            return usable[::step][:how_many]
        finally:
            await ministry.close()
            await city.close()

    def q2_ids(self, how_many: int) -> list[str]:
        return run_async(self._q2_ids(how_many))


# ---------------------------------------------------------------------------------------------
# Servers: the hub as a user starts it, and the floor
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(Exception):
                status, _ = http_get(self.port, "/readyz", timeout=5)
                if status == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this script started for it
            self.process.wait()

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's workers, or the server itself with one worker."""
        children = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                with contextlib.suppress(OSError):
                    with open(f"/proc/{name}/stat") as handle:
                        data = handle.read()
                    fields = data[data.rfind(")") + 2:].split()
                    if int(fields[1]) == self.process.pid and "python" in data[data.find("(") + 1:data.rfind(")")]:
                        children.append(int(name))
        return children or [self.process.pid]


def start_hub(dataset: Dataset, workers: int, logdir: Path) -> Server:
    port = free_port()
    log_path = logdir / f"hub-w{workers}.log"
    process = subprocess.Popen(
        [HUB_COMMAND, "serve", "--port", str(port), "--workers", str(workers)],
        env=dataset.hub_env(), cwd=dataset.workdir(), stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(f"hub ({workers} worker{'s' if workers > 1 else ''})", process, port, log_path)
    server.wait_ready()
    return server


def start_floor(dataset: Dataset, config: dict, logdir: Path) -> Server:
    port = free_port()
    log_path = logdir / "floor.log"
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "_floor", "--port", str(port), "--config", json.dumps(config)],
        cwd=ROOT, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server("floor", process, port, log_path)
    server.wait_ready()
    return server


class TokenKeeper:
    """A file holding a current bearer token from `hub token`, renewed before the 10-minute expiry."""

    def __init__(self, dataset: Dataset, path: Path) -> None:
        self.dataset = dataset
        self.path = path
        self.halt = threading.Event()
        self.renew()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def renew(self) -> str:
        token = subprocess.run(
            [HUB_COMMAND, "token", "--scope", SCOPES, "--purpose", PURPOSE],
            env=self.dataset.hub_env(), cwd=self.dataset.workdir(), check=True, capture_output=True, text=True,
        ).stdout.strip()
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(token)
        temporary.replace(self.path)
        return token

    def _loop(self) -> None:
        while not self.halt.wait(TOKEN_REFRESH_SECONDS):
            with contextlib.suppress(Exception):
                self.renew()

    @property
    def token(self) -> str:
        return self.path.read_text().strip()

    def stop(self) -> None:
        self.halt.set()


# ---------------------------------------------------------------------------------------------
# Requests, and checking that hub and floor give the same data
# ---------------------------------------------------------------------------------------------


def hub_requests(documents: dict, q2_ids: list[str]) -> dict[str, list[dict]]:
    def body(query: str, variables: dict | None = None, name: str | None = None) -> str:
        return json.dumps({"query": query, "variables": variables or {}, "operationName": name}, ensure_ascii=False)

    return {
        "Q1": [{"method": "POST", "path": "/graphql", "body": body(documents["Q1"], None, "Q1")}],
        "Q2": [{"method": "POST", "path": "/graphql", "body": body(documents["Q2"], {"id": cid}, "Q2")} for cid in q2_ids],
        "Q3": [{"method": "POST", "path": "/graphql", "body": body(documents["Q3"], None, "Q3")}],
    }


HUB_HEADERS = {"Content-Type": "application/json", "X-Purpose": PURPOSE}


def floor_requests(q2_ids: list[str]) -> dict[str, list[dict]]:
    return {
        "Q1": [{"method": "GET", "path": "/q1"}],
        "Q2": [{"method": "GET", "path": f"/q2/{cid}"} for cid in q2_ids],
        "Q3": [{"method": "GET", "path": "/q3"}],
    }


def ask(port: int, request: dict, headers: dict) -> tuple[int, dict]:
    import httpx

    for attempt in range(5):
        try:
            response = httpx.request(request["method"], f"http://127.0.0.1:{port}{request['path']}",
                                     content=request.get("body", "").encode() if request.get("body") else None,
                                     headers=headers, timeout=120)
            return response.status_code, response.json()
        except httpx.ConnectError:
            if attempt == 4:
                raise RuntimeError(f"nothing answers on port {port}") from None
            time.sleep(1)


def first_difference(a, b, path="") -> str | None:
    if type(a) is not type(b):
        return f"{path or '.'}: {json.dumps(a, ensure_ascii=False)[:120]} != {json.dumps(b, ensure_ascii=False)[:120]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: present only in {'hub' if key in a else 'floor'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def shape(query: str, data: dict) -> dict:
    if query == "Q1":
        nodes = [e["node"] for conn in data.values() for e in conn["edges"]]
        per = [len(conn["edges"]) for conn in data.values()]
        return {"persons": len(nodes), "persons_per_district": per,
                "elderly_allowances": sum(len(n["elderlyAllowances"]) for n in nodes),
                "disability_allowances": sum(len(n["disabilityAllowances"]) for n in nodes),
                "allowances": sum(len(n["elderlyAllowances"]) + len(n["disabilityAllowances"]) for n in nodes)}
    if query == "Q2":
        person = data["person"]
        allowances = person["elderlyAllowances"] if person else []
        return {"found": person is not None, "allowances": len(allowances),
                "payments": sum(len(a["payments"]) for a in allowances)}
    nodes = [e["node"] for e in data["persons"]["edges"]]
    return {"persons": len(nodes), "cases": sum(len(n["cases"]) for n in nodes),
            "elderly_allowances": sum(len(n["elderlyAllowances"]) for n in nodes)}


def verify(hub: Server, floor: Server, token: str, hub_reqs: dict, floor_reqs: dict) -> dict:
    """Every request the load will send, asked once of both: same data, no errors."""
    headers = {**HUB_HEADERS, "Authorization": f"Bearer {token}"}
    report = {}
    for query in QUERIES:
        shapes, problems = [], []
        for hub_request, floor_request in zip(hub_reqs[query], floor_reqs[query], strict=True):
            hub_status, hub_body = ask(hub.port, hub_request, headers)
            floor_status, floor_body = ask(floor.port, floor_request, {})
            if hub_status != 200 or "errors" in hub_body:
                problems.append(f"hub answered {hub_status}: {json.dumps(hub_body.get('errors'), ensure_ascii=False)[:300]}")
                continue
            difference = first_difference(hub_body, floor_body)
            if difference:
                problems.append(f"{floor_request['path']}: {difference}")
            shapes.append(shape(query, hub_body["data"]))
        summary: dict = {"requests_checked": len(hub_reqs[query]), "identical": not problems, "problems": problems[:5]}
        if query == "Q2" and shapes:
            summary["shape"] = {"ids": len(shapes), "found": sum(s["found"] for s in shapes),
                                "allowances_mean": statistics.fmean(s["allowances"] for s in shapes),
                                "payments_mean": statistics.fmean(s["payments"] for s in shapes)}
        elif shapes:
            summary["shape"] = shapes[0]
        report[query] = summary
    return report


# ---------------------------------------------------------------------------------------------
# One measured phase: a target, a query, fixed concurrency, fixed time
# ---------------------------------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    dataset: Dataset
    sampler: ProcSampler
    pg: PgStats | None
    rundir: Path
    log: callable


def measure(ctx: Context, server: Server, target: str, query: str, requests: list[dict], headers: dict,
            token_file: Path | None, duration: float | None = None, during=None) -> dict:
    spec = {
        "host": "127.0.0.1", "port": server.port, "concurrency": ctx.args.concurrency,
        "warmup": ctx.args.warmup, "duration": duration or ctx.args.duration,
        "headers": headers, "requests": requests, "token_file": str(token_file) if token_file else None,
    }
    spec_path = ctx.rundir / f"load-{target}-{query}.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False))
    loader = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_load", str(spec_path)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    is_hub = target.startswith("hub")
    samples = {}
    result = None
    side = None
    for line in loader.stdout:
        line = line.strip()
        if line in ("START", "END"):
            t_cpu, cpu = ctx.sampler.snapshot()
            t_stmt = time.monotonic()
            statements = hub_statements(server.port) if is_hub else json.loads(http_get(server.port, "/stats")[1])["statements"]
            t_pg = time.monotonic()
            pg = ctx.pg.read() if ctx.pg else None
            samples[line] = {"t_cpu": t_cpu, "cpu": cpu, "t_stmt": t_stmt, "statements": statements, "t_pg": t_pg, "pg": pg}
            if line == "START" and during is not None:
                side = during(server)
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    loader.wait()
    if side is not None:
        side.wait()
    if result is None or "START" not in samples or "END" not in samples:
        raise RuntimeError(f"the load generator failed for {target} {query}")
    start, end = samples["START"], samples["END"]
    rate = result["rps"]

    def per_request(amount: float, seconds: float) -> float | None:
        return amount / (rate * seconds) if rate else None

    me = os.getpid()
    groups = {"server": tree(server.process.pid), "load_generator": tree(loader.pid),
              "orchestrator": lambda pid, info, descends: pid == me}  # itself only: the servers are its children
    db_roles = {}
    for role in ROLES:
        kind = ctx.dataset.kind(role)
        if kind == "postgresql":
            groups[f"db:{role}"] = pg_backend(ctx.dataset.names[role])
            db_roles[role] = "postgresql"
        elif kind == "mariadb":
            db_roles[role] = "mariadb"
    if "postgresql" in db_roles.values():
        groups["postgres_all"] = is_postgres
    if "mariadb" in db_roles.values():
        groups["mariadbd_all"] = is_mariadb
    cpu_seconds = cpu_deltas(start["cpu"], end["cpu"], groups)
    server_sys = cpu_deltas(start["cpu"], end["cpu"], {"server": groups["server"]}, "sys_ticks")["server"]
    cpu_interval = end["t_cpu"] - start["t_cpu"]
    cpu_ms = {name: per_request(seconds, cpu_interval) * 1000 if rate else None for name, seconds in cpu_seconds.items()}
    if not rate:
        ctx.log(f"   no request of {target} {query} completed within {duration or ctx.args.duration:g} s")
    # The database CPU a request costs: the backends serving the benchmark's PostgreSQL databases
    # (shared background processes and other users' databases are not counted), plus the whole
    # mariadbd process when the city lives there (MariaDB cannot attribute threads to databases here).
    db_ms = None
    if db_roles and rate:
        db_ms = sum(cpu_ms[f"db:{role}"] for role, kind in db_roles.items() if kind == "postgresql")
        if "mariadb" in db_roles.values():
            db_ms += cpu_ms["mariadbd_all"]
    statement_interval = end["t_stmt"] - start["t_stmt"]
    statements = {source: per_request(end["statements"].get(source, 0) - start["statements"].get(source, 0),
                                      statement_interval)
                  for source in ("ministry", "city")}
    pg_per_request = None
    if start["pg"] is not None:
        pg_interval = end["t_pg"] - start["t_pg"]
        pg_per_request = {}
        for role in ROLES:
            name = ctx.dataset.names[role]
            if name in end["pg"] and name in start["pg"]:
                pg_per_request[role] = {k: per_request(end["pg"][name][k] - start["pg"][name][k], pg_interval)
                                        for k in end["pg"][name]}
    return {
        "target": target,
        "query": query,
        **result,
        "cpu_ms_per_request": {
            "server": cpu_ms["server"],
            "database": db_ms,
            **{k: v for k, v in cpu_ms.items() if k.startswith(("db:", "postgres_all", "mariadbd_all"))},
            "load_generator": cpu_ms["load_generator"],
            "orchestrator": cpu_ms["orchestrator"],
        },
        "server_cpu_utilisation": cpu_seconds["server"] / cpu_interval,
        # The kernel's share of the server's CPU (socket reads and writes to clients and databases).
        "server_cpu_system_share": server_sys / cpu_seconds["server"] if cpu_seconds["server"] else None,
        "statements_per_request": {**statements,
                                   "total": sum(v for v in statements.values() if v is not None) if rate else None},
        "pg_stat_database_per_request": pg_per_request,
    }


# ---------------------------------------------------------------------------------------------
# Profiling the hub with py-spy (a separate, unmeasured phase)
# ---------------------------------------------------------------------------------------------


_FRAME_FILE = re.compile(r"\(([^()]*?)(?::\d+)?\)$")
PROFILE_LAYERS = (
    ("GraphQL execution (strawberry, graphql-core)", ("strawberry", "graphql")),
    ("SQLAlchemy (statement building, compile, cache keys, results, pool)", ("sqlalchemy", "greenlet")),
    ("PostgreSQL driver (asyncpg)", ("asyncpg",)),
    ("SQLite / MariaDB drivers", ("aiosqlite", "sqlite3", "asyncmy", "pymysql")),
    ("hub code (hub, schema, resolvers)", ("hub", "schema", "resolvers")),
    ("JWT and hashing (joserfc, cryptography, hashlib)", ("joserfc", "cryptography", "authlib", "hashlib")),
    ("HTTP server (uvicorn, h11, starlette)", ("uvicorn", "h11", "starlette", "httptools")),
    ("event loop and sockets (asyncio, selectors)", ("asyncio", "selectors", "socket")),
    ("JSON (json, orjson)", ("json", "orjson")),
    ("logging", ("logging",)),
    ("metrics (prometheus_client)", ("prometheus_client",)),
)


_LINE = re.compile(r":\d+\)$")


def package_of(frame: str) -> str:
    """The top-level package of a py-spy frame such as 'execute (sqlalchemy/engine/base.py:1494)'."""
    match = _FRAME_FILE.search(frame)
    path = match.group(1) if match else ""
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    return path.split("/", 1)[0].removesuffix(".py") or "?"


def layer_of(package: str) -> str:
    for name, packages in PROFILE_LAYERS:
        if package in packages:
            return name
    return f"other ({package})"


def summarise_profile(raw_path: Path, top: int = 20) -> dict:
    """Where the hub's CPU goes: each sample charged to the package of its innermost frame (self time),
    and the project's own functions by inclusive time (what they and their callees cost)."""
    self_samples: Counter = Counter()
    layers: Counter = Counter()
    project_inclusive: Counter = Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        frames = [_LINE.sub(")", f) for f in frames]  # one entry per function, not per line
        self_samples[frames[-1]] += n
        layers[layer_of(package_of(frames[-1]))] += n
        for frame in set(frames):
            if package_of(frame) in ("hub", "schema", "resolvers") and not frame.startswith(("<module>", "main ", "_serve ")):
                project_inclusive[frame] += n

    def share(counter: Counter, limit: int = top) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(limit)] if total else []

    return {"samples": total, "self_by_layer_percent": share(layers, 30),
            "self_by_function_percent": share(self_samples),
            "project_functions_inclusive_percent": share(project_inclusive)}


def py_spy_command() -> str | None:
    candidate = VENV_BIN / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def source_db_cpu(cpu: dict) -> float | None:
    """The agencies' databases' CPU per request (ministry + city; the store left out), when measured."""
    city = cpu.get("db:city", cpu.get("mariadbd_all"))
    if "db:ministry" not in cpu or city is None:
        return None
    return cpu["db:ministry"] + city


def ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def table(report: dict) -> str:
    lines = []
    header = (f"{'target':<15} {'query':<5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>11} "
              f"{'DB CPU':>9} {'loadgen':>8} {'SQL stmts':>10} {'DB xacts':>9} {'DB rows':>10} {'errors':>7}")
    units = (f"{'':<15} {'':<5} {'':>9} {'':>8} {'':>8} {'ms/req':>11} {'ms/req':>9} {'ms/req':>8} "
             f"{'per req':>10} {'per req':>9} {'read/req':>10} {'':>7}")
    lines += [header, units, "-" * len(header)]
    for block in report["blocks"]:
        for query in QUERIES:
            rows = [r for r in block["phases"] if r["query"] == query]
            if not rows:
                continue
            for r in rows:
                cpu = r["cpu_ms_per_request"]
                xacts = rows_read = None
                if r["pg_stat_database_per_request"] and r["rps"]:
                    xacts = sum(v["xacts"] for v in r["pg_stat_database_per_request"].values())
                    rows_read = sum(v["tup_returned"] for v in r["pg_stat_database_per_request"].values())
                errors = sum(r["errors"].values())
                lines.append(
                    f"{r['target']:<15} {query:<5} {fmt(r['rps']):>9} {fmt(r['p50_ms']):>8} {fmt(r['p99_ms']):>8} "
                    f"{fmt(cpu['server'], 2):>11} {fmt(cpu['database'], 2):>9} {fmt(cpu['load_generator'], 2):>8} "
                    f"{fmt(r['statements_per_request']['total']):>10} {fmt(xacts):>9} {fmt(rows_read, 0):>10} {errors:>7}"
                )
            ratios = block["ratios"].get(query)
            if ratios:
                goal = TARGETS.get(query)
                rps_text = f"req/s {fmt(ratios['rps'], 3)}"
                db_text = f"DB CPU/req {fmt(ratios['db_cpu'], 2)}" if ratios["db_cpu"] is not None else "DB CPU/req -"
                srv_text = f"server CPU/req {fmt(ratios['server_cpu'], 1)}"
                if goal:
                    rps_text += f" (target >= {goal[0]}: {'PASS' if ratios['rps_ok'] else 'FAIL'})"
                    if ratios["db_cpu"] is not None:
                        db_text += f" (target <= {goal[1]}: {'PASS' if ratios['db_ok'] else 'FAIL'})"
                lines.append(f"{'  hub / floor':<21} {rps_text}; {db_text}; {srv_text}")
                by_db = []
                for r in rows:
                    cpu = r["cpu_ms_per_request"]
                    parts = [f"{role} {fmt(cpu.get(f'db:{role}'), 2)}" for role in ROLES if f"db:{role}" in cpu]
                    if "mariadbd_all" in cpu:
                        parts.insert(1, f"city (whole mariadbd) {fmt(cpu['mariadbd_all'], 2)}")
                    if parts:
                        by_db.append(f"{r['target'].split(' ')[0]}: " + ", ".join(parts))
                if by_db:
                    lines.append(f"{'  DB CPU ms/req':<21} " + "; ".join(by_db))
                sources = [source_db_cpu(r["cpu_ms_per_request"]) for r in rows[-2:]]
                if len(sources) == 2 and None not in sources:
                    lines.append(f"{'  sources only':<21} DB CPU/req {fmt(ratio(*sources), 2)} (ministry + city, "
                                 "without the hub's own store of audit trail and rate counters; informative)")
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The orchestrator
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark the hub (full security stack) against a raw-SQL floor measured in the same run.",
    )
    parser.add_argument("--persons", type=int, default=200_000, help="persons `hub seed` generates (default 200000)")
    parser.add_argument("--seed", type=int, default=2568, help="seed for `hub seed` (default 2568)")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per query per target")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each measurement")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight (default 10)")
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql",
                        help="engine of the ministry, city and store databases")
    parser.add_argument("--city-engine", choices=["postgresql", "sqlite", "mariadb"],
                        help="another engine for the city database (e.g. mariadb at 127.0.0.1:3306, user root)")
    parser.add_argument("--workers", default="1",
                        help="hub worker processes: 1, 2 (one per core) or a list such as 1,2 (default 1)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the databases (named after persons and seed) and reuse them next time")
    parser.add_argument("--q1-benefit-kind", default="auto",
                        choices=["auto", "none", "ELDERLY_ALLOWANCE", "DISABILITY_ALLOWANCE"],
                        help="Q1's benefitKind filter; auto: ELDERLY_ALLOWANCE when the data would give Q1 far "
                             "fewer allowances than persons")
    parser.add_argument("--q1-age-min", default="auto",
                        help="Q1's ageMin filter: a number, none, or auto (60 together with the automatic "
                             "benefitKind, so that the hub's listing finds the holders within its scan budget)")
    parser.add_argument("--q1-districts", default=",".join(f"10{i:02d}" for i in range(1, 11)),
                        help="Q1's ten Bangkok districts (DOPA codes)")
    parser.add_argument("--q3-district", default="1001")
    parser.add_argument("--q3-age-min", default="auto",
                        help="Q3's ageMin filter: a number, none, or auto (60 when the data gives allowances only "
                             "to the elderly and disabled, so that the page holds persons with city allowances)")
    parser.add_argument("--q2-ids", type=int, default=100, help="citizen IDs Q2 rotates over")
    parser.add_argument("--queries", default="Q1,Q2,Q3", help="which queries to measure")
    parser.add_argument("--profile", action="store_true",
                        help="after measuring, profile the (first) hub under each query with py-spy (unmeasured)")
    parser.add_argument("--keep-going", action="store_true",
                        help="measure even if the floor's answers differ from the hub's")
    parser.add_argument("--report", metavar="JSON", help="print the table of an earlier run's JSON and exit")
    return parser.parse_args(argv)


def main_benchmark(args: argparse.Namespace) -> int:
    started_at = dt.datetime.now(dt.UTC)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    rundir = Path(tempfile.mkdtemp(prefix=f"hubbench-run-{stamp}-"))
    workers_list = [int(w) for w in args.workers.split(",")]
    queries = [q.strip().upper() for q in args.queries.split(",")]
    t0 = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - t0:7.1f}s] {message}", file=sys.stderr, flush=True)

    dataset = Dataset.plan(args)
    sampler = ProcSampler()
    sampler.start()
    servers: list[Server] = []
    keeper = None
    pg = None
    report: dict = {"started_at": started_at.isoformat(), "blocks": []}
    succeeded = False
    try:
        dataset.prepare(log)
        counts = dataset.counts()
        log(f"dataset: {counts}")
        q2_ids = dataset.q2_ids(args.q2_ids)
        districts = [d.strip() for d in args.q1_districts.split(",")]
        allowances_per_bangkok_person = counts["allowances"] / max(1, counts["persons_bangkok"])
        sparse = allowances_per_bangkok_person < 1
        if args.q1_benefit_kind == "auto":
            kind = "ELDERLY_ALLOWANCE" if sparse else None
        else:
            kind = None if args.q1_benefit_kind == "none" else args.q1_benefit_kind
        if args.q1_age_min == "auto":
            q1_age_min = 60 if sparse and kind == "ELDERLY_ALLOWANCE" else None
        else:
            q1_age_min = None if args.q1_age_min == "none" else int(args.q1_age_min)
        if args.q3_age_min == "auto":
            age_min = 60 if allowances_per_bangkok_person < 1 else None
        else:
            age_min = None if args.q3_age_min == "none" else int(args.q3_age_min)
        documents = {"Q1": q1_document(districts, 100, kind, q1_age_min), "Q2": Q2_DOCUMENT,
                     "Q3": q3_document(args.q3_district, 50, age_min)}
        floor_config = {
            "urls": {role: dataset.urls[role] for role in ("ministry", "city")},
            "pool": max(4, args.concurrency),
            "q1": {"districts": districts, "first": 100, "kind": kind, "age_min": q1_age_min},
            "q3": {"district": args.q3_district, "first": 50, "age_min": age_min},
        }
        pg_names = [dataset.names[r] for r in ROLES if dataset.kind(r) == "postgresql"]
        pg = PgStats(pg_names) if pg_names else None
        floor = start_floor(dataset, floor_config, rundir)
        servers.append(floor)
        keeper = TokenKeeper(dataset, rundir / "token")
        hub_reqs = hub_requests(documents, q2_ids)
        floor_reqs = floor_requests(q2_ids)
        hub_headers = dict(HUB_HEADERS)
        report.update({
            "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                        "loadavg_at_start": os.getloadavg()},
            "settings": {k: v for k, v in vars(args).items()},
            "dataset": {"engine": dataset.engine, "city_engine": dataset.city_engine, "persons": dataset.persons,
                        "seed": dataset.seed, "reused": dataset.reused, "databases": dataset.names,
                        "seconds": dataset.seconds, "counts": counts,
                        "allowances_per_bangkok_person": allowances_per_bangkok_person},
            "queries": {"Q1": {"document": documents["Q1"], "benefit_kind": kind, "age_min": q1_age_min,
                               "districts": districts},
                        "Q2": {"document": Q2_DOCUMENT, "citizen_ids": q2_ids},
                        "Q3": {"document": documents["Q3"], "age_min": age_min}},
            "hub_environment": {"HUB_REQUESTS_PER_MINUTE": UNLIMITED, "HUB_PERSONS_PER_HOUR": UNLIMITED,
                                "HUB_ENV": "demo", "token": f"hub token --scope '{SCOPES}' --purpose {PURPOSE}"},
            "versions": versions(),
        })
        for workers in workers_list:
            hub = start_hub(dataset, workers, rundir)
            servers.append(hub)
            label = f"hub ({workers}w)"
            log(f"{hub.name} on port {hub.port}, floor on port {floor.port}")
            check = verify(hub, floor, keeper.renew(), hub_reqs, floor_reqs)
            block = {"workers": workers, "verification": check, "phases": [], "ratios": {}}
            report["blocks"].append(block)
            for query, outcome in check.items():
                log(f"{query}: hub and floor {'agree' if outcome['identical'] else 'DIFFER'}; shape {outcome.get('shape')}")
                for problem in outcome["problems"]:
                    log(f"   {problem}")
            if not all(o["identical"] for o in check.values()) and not args.keep_going:
                raise SystemExit("the floor does not return the hub's data; fix it or pass --keep-going")
            for query in queries:
                for target, server, requests, headers, token_file in (
                    (label, hub, hub_reqs[query], hub_headers, keeper.path),
                    ("floor", floor, floor_reqs[query], {}, None),
                ):
                    if target.startswith("hub"):
                        keeper.renew()  # a fresh 10-minute token for every phase
                    log(f"{target} {query}: {args.warmup:g} s warm-up, {args.duration:g} s measured, "
                        f"{args.concurrency} in flight")
                    phase = measure(Context(args, dataset, sampler, pg, rundir, log), server, target, query,
                                    requests, headers, token_file)
                    block["phases"].append(phase)
                    log(f"   {phase['rps']:.1f} req/s, p50 {fmt(phase['p50_ms'])} ms, p99 {fmt(phase['p99_ms'])} ms, "
                        f"server {fmt(phase['cpu_ms_per_request']['server'], 2)} ms CPU/req, "
                        f"DB {fmt(phase['cpu_ms_per_request']['database'], 2)} ms CPU/req, errors {phase['errors']}")
                hub_row, floor_row = block["phases"][-2], block["phases"][-1]
                db_ratio = ratio(hub_row["cpu_ms_per_request"]["database"], floor_row["cpu_ms_per_request"]["database"])
                rps_ratio = ratio(hub_row["rps"], floor_row["rps"])
                goal = TARGETS.get(query)
                block["ratios"][query] = {
                    "rps": rps_ratio, "db_cpu": db_ratio,
                    "server_cpu": ratio(hub_row["cpu_ms_per_request"]["server"], floor_row["cpu_ms_per_request"]["server"]),
                    "p50": ratio(hub_row["p50_ms"], floor_row["p50_ms"]),
                    "rps_ok": goal is not None and rps_ratio is not None and rps_ratio >= goal[0],
                    "db_ok": goal is not None and db_ratio is not None and db_ratio <= goal[1],
                    "target": {"min_rps_ratio": goal[0], "max_db_cpu_ratio": goal[1]} if goal else None,
                }
            if args.profile and workers == workers_list[0]:
                block["profile"] = profile_hub(args, dataset, sampler, pg, rundir, log, hub, label, hub_reqs,
                                               hub_headers, keeper, queries, stamp)
            hub.stop()
            servers.remove(hub)
        report["machine"]["loadavg_at_end"] = os.getloadavg()
        succeeded = True
    finally:
        if keeper is not None:
            keeper.stop()
        for server in servers:
            server.stop()
        sampler.stop()
        if pg is not None:
            pg.close()
        if not args.reuse:
            dataset.drop()
            log("dropped the benchmark databases")
        if not succeeded:
            log(f"server logs kept in {rundir}")
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
    report["notes"] = notes(report)
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print_report(report)
    print(f"\nJSON: {out.relative_to(ROOT)}")
    shutil.rmtree(rundir, ignore_errors=True)
    return 0


def print_report(report: dict) -> None:
    print()
    print(headline(report))
    print()
    print(table(report))
    print("\n".join(f"* {note}" for note in report["notes"]))
    for block in report["blocks"]:
        if block.get("profile"):
            print()
            print(profile_text(block["profile"], block["workers"], block["phases"]))


def profile_hub(args, dataset, sampler, pg, rundir, log, hub, label, hub_reqs, hub_headers, keeper, queries, stamp) -> dict:
    spy = py_spy_command()
    if spy is None:
        log("py-spy is not installed (.venv/bin/pip install py-spy): no profile")
        return {"error": "py-spy not installed"}
    profiles = {}
    for query in queries:
        raw = RESULTS / f"{stamp}-profile-{query}.txt"
        pids = hub.worker_pids()
        duration = max(5, int(args.duration))

        def during(server, raw=raw, pids=pids, duration=duration):
            return subprocess.Popen([spy, "record", "--pid", str(pids[0]), "--rate", "100",
                                     "--format", "raw", "--duration", str(duration), "--output", str(raw)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        keeper.renew()
        log(f"profiling {label} {query} with py-spy for {duration} s (not measured)")
        phase = measure(Context(args, dataset, sampler, pg, rundir, log), hub, label, query, hub_reqs[query],
                        hub_headers, keeper.path, duration=duration + 1, during=during)
        if raw.exists():
            profiles[query] = {"raw": str(raw.relative_to(ROOT)), "rps_while_profiled": phase["rps"],
                               **summarise_profile(raw)}
        else:
            profiles[query] = {"error": "py-spy wrote nothing (ptrace not permitted?)"}
    return profiles


def profile_text(profiles: dict, workers: int, phases: list[dict]) -> str:
    lines = [
        f"Profile of the hub ({workers} worker) under the same load, not measured: py-spy at 100 Hz, pausing the "
        "process for each sample. Each sample is charged to the package of its innermost frame. Two caveats: "
        "statements run inside SQLAlchemy's greenlets, where py-spy sees no caller, so the hub functions' "
        "inclusive shares leave out the SQL they issue; and py-spy counts a thread that is runnable but waiting "
        "for a core as busy, so on a saturated machine the moments after the hub wakes a database backend "
        "(asyncio's _SelectorSocketTransport.write) are over-counted: the kernel's share of the hub's measured "
        "CPU is given beside each query."]
    system = {p["query"]: p.get("server_cpu_system_share") for p in phases if p["target"].startswith("hub")}
    for query, p in profiles.items():
        if "error" in p:
            lines.append(f"{query}: {p['error']}")
            continue
        share = system.get(query)
        lines.append(f"{query} ({p['samples']} samples, {p['rps_while_profiled']:.1f} req/s while profiled; "
                     f"kernel share of the hub's CPU when measured: {fmt(100 * share if share is not None else None)}%; "
                     f"collapsed stacks in {p['raw']}):")
        lines.append("  by layer:  " + "; ".join(f"{name} {share}%" for name, share in p["self_by_layer_percent"][:9]))
        lines.append("  hottest functions (self):  " + "; ".join(
            f"{name} {share}%" for name, share in p["self_by_function_percent"][:8]))
        lines.append("  hub functions (inclusive):  " + "; ".join(
            f"{name} {share}%" for name, share in p["project_functions_inclusive_percent"][:10]))
    return "\n".join(lines)


def versions() -> dict:
    from importlib.metadata import version

    found = {}
    for name in ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "sqlalchemy", "asyncpg", "aiosqlite",
                 "asyncmy", "orjson", "uvloop", "httptools"):
        try:
            found[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            found[name] = None
    with contextlib.suppress(Exception):
        found["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                             text=True).stdout.strip()
    return found


def headline(report: dict) -> str:
    d = report["dataset"]
    c = d["counts"]
    engines = d["engine"] if d["engine"] == d["city_engine"] else f"{d['engine']} (city: {d['city_engine']})"
    q1 = report["queries"]["Q1"]
    lines = [
        f"Dataset: {engines}, {c['persons']:,} persons ({c['persons_bangkok']:,} in Bangkok), "
        f"{c['elderly_allowances']:,} elderly + {c['disability_allowances']:,} disability allowances "
        f"({c['allowances']:,}), {c['allowance_payments']:,} payments, {c['welfare_cases']:,} cases; "
        f"hub seed --seed {d['seed']}{' (reused)' if d['reused'] else ''}",
    ]
    if report["blocks"]:
        check = report["blocks"][0]["verification"]
        s1, s2, s3 = (check[q].get("shape") or {} for q in QUERIES)
        filt = (f", ageMin: {q1['age_min']}" if q1["age_min"] is not None else "") + (
            f", benefitKind: {q1['benefit_kind']}" if q1["benefit_kind"] else "")
        lines.append(f"Q1: 10 x persons(first: 100, filter: {{districtCode{filt}}}) over {','.join(q1['districts'])}: "
                     f"{s1.get('persons')} persons, {s1.get('allowances')} allowances per request")
        lines.append(f"Q2: person(citizenId) rotating over {s2.get('ids')} IDs with allowances: "
                     f"{fmt(s2.get('allowances_mean'), 2)} allowances, {fmt(s2.get('payments_mean'), 2)} payments on average")
        age = report["queries"]["Q3"]["age_min"]
        lines.append(f"Q3: persons(first: 50, district {report['settings']['q3_district']}"
                     f"{f', ageMin {age}' if age is not None else ''}) with cases (ministry) and "
                     f"elderly allowances (city): {s3.get('persons')} persons, {s3.get('cases')} cases, "
                     f"{s3.get('elderly_allowances')} allowances")
        same = all(o["identical"] for b in report["blocks"] for o in b["verification"].values())
        lines.append(f"Hub and floor answers compared before measuring: {'identical' if same else 'DIFFERENT (see JSON)'}")
    return "\n".join(lines)


def notes(report: dict) -> list[str]:
    s = report["settings"]
    d = report["dataset"]
    found = [
        f"{s['concurrency']} requests in flight, {s['warmup']:g} s warm-up then {s['duration']:g} s measured per query "
        f"and target; one floor process (uvicorn, 1 worker), the hub as `hub serve --workers N`.",
        f"This machine has {report['machine']['cpus']} cores: the load generator (its own process), the servers and "
        f"the databases share them, and other work on the machine adds noise; compare ratios from one run.",
        "The hub runs with its full security stack: a JWT from `hub token` checked on every request, scopes "
        "(ministry:read city:read pii:read), field masking, the X-Purpose header, the audit trail and the store-kept "
        "rate-limit counters; HUB_REQUESTS_PER_MINUTE and HUB_PERSONS_PER_HOUR are set to 1e9 so that the "
        "per-client limits do not stop the benchmark (their bookkeeping still runs).",
        "The floor is hand-written SQL on the raw drivers, batched per step (never a statement per row), "
        "returning the same rows in the same JSON (orjson), with no GraphQL and no auth; both run on uvicorn "
        "as installed with the project (no uvloop, no httptools), with the HTTP protocol of `hub serve`.",
        "CPU per request is measured from /proc (utime+stime) over the measured window: server = the server's "
        "process tree (all uvicorn workers); DB = the PostgreSQL backends serving the benchmark's own databases "
        "(PostgreSQL's shared background processes and other users' databases excluded; all postgres processes "
        "are in the JSON as postgres_all).",
        "SQL statements per request: the hub's from its /metrics (hub_source_query_seconds_count, ministry + city "
        "statements; the store's statements for tokens, rate limits and audit are not counted there, see DB xacts); "
        "the floor counts its own. DB xacts per request: pg_stat_database xact_commit+xact_rollback over the "
        "benchmark's databases, store included (approximate: backends report every second); DB rows read: "
        "its tup_returned (rows scanned), the same way.",
    ]
    q1 = report["queries"]["Q1"]
    if q1["benefit_kind"]:
        found.append(
            f"Q1 filters benefitKind: {q1['benefit_kind']}: the seed gives allowances only to Bangkok elderly and "
            f"disabled persons ({d['allowances_per_bangkok_person']:.2f} allowances per Bangkok person), so the first "
            "100 persons of a district would carry few allowances; with the filter every listed person holds one.")
    if q1["age_min"] is not None and q1["benefit_kind"]:
        found.append(
            f"Q1 also filters ageMin: {q1['age_min']} (which changes the rows by less than the seed's 1% of "
            "registrants under 60): the young (type-1) citizen IDs sort first and hold no elderly allowance, so "
            "without it the listing reads far more ministry rows than the page holds.")
    if report["queries"]["Q3"]["age_min"] is not None:
        found.append(
            f"Q3 filters ageMin: {report['queries']['Q3']['age_min']}: the first 50 persons of a district in "
            "citizen-ID order are young (IDs are issued by birth year), so without it the page would hold no city "
            "allowances and the cross-source part would return nothing.")
    if d["city_engine"] == "mariadb":
        found.append("The city is on MariaDB: its CPU is the whole mariadbd process (no performance_schema to "
                     "attribute threads to databases), so other users of that server add to it.")
    if d["engine"] == "sqlite":
        found.append("SQLite runs inside the server processes: DB CPU is part of server CPU and not reported apart.")
    return found


def main(argv: list[str]) -> int:
    if argv and argv[0] == "_floor":
        return serve_floor(argv[1:])
    if argv and argv[0] == "_load":
        return load_main(argv[1:])
    args = parse_args(argv)
    if args.report:
        print_report(json.loads(Path(args.report).read_text()))
        return 0
    return main_benchmark(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

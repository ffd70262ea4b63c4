"""Per-client limits kept in the store, so every hub process counts against the same numbers.

Within a process, the counts of concurrent requests are made together (RequestLedger): one
store transaction counts a whole batch, and each request gets the answer it would have had if
the requests of the batch had been counted one after another, in the order they arrived.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit import AuditEntry, AuditUnavailable, append_in
from hub.auth.revocation import revoked_among, revoked_in
from hub.auth.tokens import TokenRejected
from hub import settle_pg
from hub.batching import Batcher
from hub.db import writing

from hub.store.tables import person_read, rate_window

log = logging.getLogger("hub.ratelimit")

# IDs per IN list when looking up persons already recorded.
ID_CHUNK = 2000

CounterKey = tuple[str, str]  # (client_id, window): one row of rate_window


class RateLimited(Exception):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(limit)
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True)
class RequestTally:
    """One request, to count in its client's minute; with its token id, not counted if the token is revoked."""

    client_id: str
    per_minute: int
    now: dt.datetime
    jti: str | None = None

    @functools.cached_property  # computed once: a batch asks for it several times
    def counter(self) -> CounterKey:
        return self.client_id, _minute(self.now)

    def verdict(self, count: int) -> RateLimited | None:
        return RateLimited("requests_per_minute", 60 - self.now.second) if count > self.per_minute else None


@dataclass(frozen=True)
class PersonsTally:
    """The persons one request read, to record in its client's hour; with its token id, not
    recorded if the token is revoked."""

    client_id: str
    citizen_ids: frozenset[str]
    per_hour: int
    now: dt.datetime
    jti: str | None = None

    @functools.cached_property  # computed once: a batch asks for it several times
    def hour(self) -> str:
        return self.now.strftime("h%Y%m%d%H")

    @functools.cached_property
    def counter(self) -> CounterKey:
        return self.client_id, f"p{self.hour}"

    def verdict(self, distinct: int) -> RateLimited | None:
        if distinct <= self.per_hour:
            return None
        return RateLimited("distinct_persons_per_hour", 3600 - self.now.minute * 60 - self.now.second)


Tally = RequestTally | PersonsTally


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _minute(now: dt.datetime) -> str:
    """The name of the request-count window `now` falls in."""
    return now.strftime("m%Y%m%d%H%M")


def _insert(dialect: str, table: sa.Table):
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, mysql.insert)(table)


# The statements every request's bookkeeping runs are built once per dialect, with bound
# parameters: building a statement and computing its cache key anew costs more than running it.
@functools.cache
def _counter_upsert(dialect: str) -> sa.Insert:
    """Add :amount to the counter (:client_id, :window); on PostgreSQL and SQLite the new count comes back."""
    amount = sa.bindparam("amount", type_=sa.Integer)
    statement = _insert(dialect, rate_window).values(
        client_id=sa.bindparam("client_id"), window=sa.bindparam("window"), count=amount
    )
    if dialect in ("postgresql", "sqlite"):
        return statement.on_conflict_do_update(
            index_elements=["client_id", "window"], set_={"count": rate_window.c["count"] + amount}
        ).returning(rate_window.c["count"])
    return statement.on_duplicate_key_update(count=rate_window.c["count"] + amount)


_COUNTER = sa.select(rate_window.c["count"]).where(
    rate_window.c.client_id == sa.bindparam("client_id"), rate_window.c.window == sa.bindparam("window")
)


@functools.cache
def _persons_insert(dialect: str) -> sa.Insert:
    insert = _insert(dialect, person_read)
    return insert.on_conflict_do_nothing() if dialect in ("postgresql", "sqlite") else insert.prefix_with("IGNORE")


async def count_request(store: AsyncEngine, client_id: str, *, per_minute: int, now: dt.datetime | None = None) -> None:
    """Count one request in the client's current minute; raise RateLimited past the limit."""
    [verdict] = await tally(store, [RequestTally(client_id, per_minute, now or _now())])
    _raise_if(verdict)


async def count_persons(store: AsyncEngine, client_id: str, citizen_ids: Collection[str], *, per_hour: int,
                        now: dt.datetime | None = None) -> None:
    """Record the persons a client read this hour; raise RateLimited if that makes more than per_hour distinct ones.

    The cost follows the persons of this request, not the client's hour so far: the IDs already
    recorded are looked up by key, the new ones added, and a running count kept beside them.
    """
    if not citizen_ids:
        return
    [verdict] = await tally(store, [PersonsTally(client_id, frozenset(citizen_ids), per_hour, now or _now())])
    _raise_if(verdict)


def _raise_if(verdict: Exception | None) -> None:
    if verdict is not None:
        raise verdict


async def tally(store: AsyncEngine, tallies: Sequence[Tally]) -> list[Exception | None]:
    """Count the tallies in one store transaction; the verdicts are those of counting them one by one, in order.

    Each counter gets one upsert for the whole batch; a counter's count before the batch plus
    the tallies' shares up to and including a tally is that tally's count. A request whose
    token id is revoked is not counted: its verdict is TokenRejected.
    """
    async with writing(store).begin() as connection:
        return await tally_in(connection, tallies)


class RecordedPersons:
    """Citizen IDs this process knows are recorded in a client's hour (it saw them committed, or
    found them there), so the persons guard looks up only the others. Only the newest hour is kept."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self._hour = ""
        self._ids: dict[str, set[str]] = {}  # client_id -> IDs, for self._hour
        self._size = 0

    def known(self, client_id: str, hour: str) -> set[str]:
        return self._ids.get(client_id, set()) if hour == self._hour else set()

    def learn(self, tallies: Sequence[PersonsTally]) -> None:
        """After the transaction that recorded these tallies' persons has committed."""
        for item in tallies:
            if item.hour > self._hour:
                self._hour, self._ids, self._size = item.hour, {}, 0
            if item.hour != self._hour:
                continue
            ids = self._ids.setdefault(item.client_id, set())
            before = len(ids)
            ids |= item.citizen_ids
            self._size += len(ids) - before
        if self._size > self.limit:
            self._ids, self._size = {}, 0


async def tally_in(connection: AsyncConnection, tallies: Sequence[Tally],
                   recorded: RecordedPersons | None = None) -> list[Exception | None]:
    """As tally, within the caller's store transaction; persons `recorded` knows are not looked up."""
    dialect = connection.dialect.name
    revoked = await revoked_in(connection, {t.jti for t in tallies if t.jti})
    counted = [t for t in tallies if t.jti not in revoked]
    shares = await _record_persons(connection, dialect, counted, recorded)
    before = await _add_to_counters(connection, dialect, counted, shares)
    await _tidy(connection, counted)
    running = dict(before)
    verdicts: dict[int, Exception | None] = {}
    for item, share in zip(counted, shares, strict=True):
        running[item.counter] += share
        verdicts[id(item)] = item.verdict(running[item.counter])
    return [verdicts[id(t)] if id(t) in verdicts else TokenRejected("revoked") for t in tallies]


async def _record_persons(connection: AsyncConnection, dialect: str, tallies: Sequence[Tally],
                          recorded: RecordedPersons | None = None) -> list[int]:
    """Record the persons not yet recorded in their client's hour; return what each tally adds to its counter.

    A request adds 1; a persons tally adds its persons new to the hour, not counting those an
    earlier tally of the batch added.
    """
    seen = await _known_persons(connection, [t for t in tallies if isinstance(t, PersonsTally)], recorded)
    shares: list[int] = []
    rows: list[dict[str, str]] = []
    for item in tallies:
        if isinstance(item, RequestTally):
            shares.append(1)
            continue
        already = seen[(item.client_id, item.hour)]
        new = item.citizen_ids - already
        already |= new
        shares.append(len(new))
        rows.extend({"client_id": item.client_id, "hour": item.hour, "citizen_id": cid} for cid in new)
    if rows:
        # In key order, so that concurrent hub processes take the row locks in the same order.
        rows.sort(key=lambda row: (row["client_id"], row["hour"], row["citizen_id"]))
        # Two processes adding the same person at once may both count it: the guard errs on the safe side.
        await connection.execute(_persons_insert(dialect), rows)
    return shares


@functools.cache
def _recorded(dialect: str) -> sa.Select:
    """Which of :ids are recorded in the hour :hour of :client_id. On PostgreSQL the IDs are one
    array joined as a set: a generic plan would otherwise test each of the hour's rows against
    the whole array."""
    where = (person_read.c.client_id == sa.bindparam("client_id"), person_read.c.hour == sa.bindparam("hour"))
    if dialect != "postgresql":
        return sa.select(person_read.c.citizen_id).where(
            *where, person_read.c.citizen_id.in_(sa.bindparam("ids", expanding=True))
        )
    wanted = sa.func.unnest(sa.bindparam("ids", type_=postgresql.ARRAY(person_read.c.citizen_id.type)))
    wanted = wanted.table_valued("citizen_id").render_derived(name="wanted")
    return (sa.select(person_read.c.citizen_id)
            .join(wanted, wanted.c.citizen_id == person_read.c.citizen_id).where(*where))


async def _known_persons(connection: AsyncConnection, tallies: Sequence[PersonsTally],
                         recorded: RecordedPersons | None = None) -> dict[tuple[str, str], set[str]]:
    """The citizen IDs of the tallies already recorded, by (client_id, hour): those `recorded`
    knows, and the others looked up by key."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in tallies:
        wanted[(item.client_id, item.hour)] |= item.citizen_ids
    known: dict[tuple[str, str], set[str]] = {}
    for (client_id, hour), ids in sorted(wanted.items()):
        found: set[str] = set()
        if recorded is not None:
            found = ids & recorded.known(client_id, hour)
            ids = ids - found
        ordered = sorted(ids)
        for start in range(0, len(ordered), ID_CHUNK):
            found.update(
                row[0] for row in await connection.execute(
                    _recorded(connection.dialect.name),
                    {"client_id": client_id, "hour": hour, "ids": ordered[start : start + ID_CHUNK]},
                )
            )
        known[(client_id, hour)] = found
    return known


async def _add_to_counters(connection: AsyncConnection, dialect: str, tallies: Sequence[Tally],
                           shares: Sequence[int]) -> dict[CounterKey, int]:
    """Add the tallies' shares to their counters, one upsert per counter; return each counter's count before."""
    amounts: dict[CounterKey, int] = defaultdict(int)
    for item, share in zip(tallies, shares, strict=True):
        amounts[item.counter] += share
    before: dict[CounterKey, int] = {}
    # In key order, so that concurrent hub processes take the row locks in the same order.
    for counter, amount in sorted(amounts.items()):
        client_id, window = counter
        key = {"client_id": client_id, "window": window}
        if amount and dialect in ("postgresql", "sqlite"):
            # The count after the upsert comes back with it.
            count = (await connection.execute(_counter_upsert(dialect), {**key, "amount": amount})).scalar_one()
            before[counter] = count - amount
            continue
        if amount:
            await connection.execute(_counter_upsert(dialect), {**key, "amount": amount})
        count = (await connection.execute(_COUNTER, key)).scalar() or 0
        before[counter] = count - amount
    return before


async def _tidy(connection: AsyncConnection, tallies: Sequence[Tally]) -> None:
    """Drop windows of no further use: a batch holding a minute's first request, or an hour's first seconds, does it."""
    minute = next((t.now for t in tallies if isinstance(t, RequestTally) and t.now.second == 0), None)
    if minute is not None:
        old = _minute(minute - dt.timedelta(minutes=10))
        await connection.execute(sa.delete(rate_window).where(rate_window.c.window.like("m%"), rate_window.c.window < old))
    hour = next(
        (t.now for t in tallies if isinstance(t, PersonsTally) and t.now.minute == 0 and t.now.second < 5), None
    )
    if hour is not None:
        old = (hour - dt.timedelta(hours=2)).strftime("h%Y%m%d%H")
        await connection.execute(sa.delete(person_read).where(person_read.c.hour < old))
        await connection.execute(
            sa.delete(rate_window).where(rate_window.c.window.like("p%"), rate_window.c.window < f"p{old}")
        )


def _tidies(tallies: Sequence[Tally]) -> bool:
    """Whether counting these tallies drops windows of no further use (see _tidy)."""
    return any((isinstance(t, RequestTally) and t.now.second == 0)
               or (isinstance(t, PersonsTally) and t.now.minute == 0 and t.now.second < 5) for t in tallies)


def _verdicts(tallies: Sequence[Tally], settled: settle_pg.Settled) -> list[Exception | None]:
    """The tallies' verdicts from what SETTLE found, as tally_in gives them: each counter's count
    before the batch plus the shares of the tallies up to and including each; a persons tally's
    share is its persons new to the hour that no earlier tally of the batch added."""
    shares: list[int] = []
    amounts: dict[CounterKey, int] = defaultdict(int)
    claimed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in tallies:
        if isinstance(item, RequestTally):
            share = 1
        else:
            key = (item.client_id, item.hour)
            new = (item.citizen_ids & settled.new.get(key, set())) - claimed[key]
            claimed[key] |= new
            share = len(new)
        shares.append(share)
        amounts[item.counter] += share
    running = {counter: settled.counts.get(counter, 0) - amount for counter, amount in amounts.items()}
    verdicts: list[Exception | None] = []
    for item, share in zip(tallies, shares, strict=True):
        running[item.counter] += share
        verdicts.append(item.verdict(running[item.counter]))
    return verdicts


def _audited(settlements: Sequence[Settlement], refusals: Sequence[Exception | None]) -> list[AuditEntry]:
    return [replace(item.entry, outcome="refused") if refusal is not None else item.entry
            for item, refusal in zip(settlements, refusals, strict=True)]


@dataclass(frozen=True)
class Settlement:
    """What one read answered by the compiled path leaves in the store, all in one transaction:
    the request counted in its minute (not if its token is revoked), the persons it read
    recorded in the client's hour, and its audit entry, marked refused if either says no."""

    request: RequestTally
    persons: PersonsTally | None
    entry: AuditEntry


# Token ids seen revoked, kept by a process to refuse them again without asking the store.
REVOKED_SEEN_KEPT = 10_000


class RequestLedger:
    """Group commit for what the store is asked on every request: the rate counts and the revocation lookup.

    Counts queued by concurrent requests are made in one write transaction (see tally), and
    revocation lookups in one read; every caller gets the answer its own call would have given,
    and a failed transaction fails every caller of its batch with the error a call of its own
    would have raised.
    """

    def __init__(self, store: AsyncEngine) -> None:
        self.store = store
        self.transactions = 0  # store transactions run: counts and revocation lookups
        self._counts: Batcher[Tally, Exception | None] = Batcher("request-ledger", self._count)
        self._revocations: Batcher[str, bool] = Batcher("revocation-lookups", self._revoked)
        self._settlements: Batcher[Settlement, Exception | None] = Batcher("read-settlements", self._settle)
        # What this process has already been told: revoked token ids, and the minute each client
        # was last refused for its request rate in (a refusal is repeated without executing anything).
        self._revoked_seen: set[str] = set()
        self._limited_in: dict[str, str] = {}
        self._recorded = RecordedPersons()

    def start(self) -> None:
        self._counts.start()
        self._revocations.start()
        self._settlements.start()

    async def stop(self) -> None:
        """Finish what is queued, then stop (graceful shutdown)."""
        await self._settlements.stop()
        await self._counts.stop()
        await self._revocations.stop()

    def known_refusal(self, client_id: str, jti: str, now: dt.datetime | None = None) -> Exception | None:
        """The refusal this process already knows a request will get: its token id was seen
        revoked, or its client was refused for its rate this minute. None: ask the store."""
        if jti in self._revoked_seen:
            return TokenRejected("revoked")
        limited_in = self._limited_in.get(client_id)
        if limited_in is None:
            return None
        now = now or _now()
        if limited_in == _minute(now):
            return RateLimited("requests_per_minute", 60 - now.second)
        return None

    def _remember(self, item: Tally, verdict: Exception | None) -> None:
        if isinstance(verdict, TokenRejected) and item.jti:
            if len(self._revoked_seen) >= REVOKED_SEEN_KEPT:
                self._revoked_seen.clear()
            self._revoked_seen.add(item.jti)
        elif isinstance(verdict, RateLimited) and isinstance(item, RequestTally):
            self._limited_in[item.client_id] = item.counter[1]

    async def settle(self, settlement: Settlement) -> Exception | None:
        """Count, tally and audit a read in the batch's one store transaction; the refusal it
        gets (TokenRejected, RateLimited), or None. AuditUnavailable if the transaction failed:
        then nothing of it is recorded and nothing may be shown."""
        return await self._settlements.submit(settlement)

    async def count_request(self, client_id: str, *, per_minute: int, now: dt.datetime | None = None) -> None:
        """As count_request, counted with the concurrent calls."""
        _raise_if(await self._counts.submit(RequestTally(client_id, per_minute, now or _now())))

    async def admit(self, client_id: str, jti: str, *, per_minute: int, now: dt.datetime | None = None) -> None:
        """Check the token id against the revoked ones and count the request, in the batch's one
        transaction: TokenRejected if revoked (then not counted), RateLimited past the limit."""
        item = RequestTally(client_id, per_minute, now or _now(), jti)
        verdict = await self._counts.submit(item)
        self._remember(item, verdict)
        _raise_if(verdict)

    async def count_persons(self, client_id: str, citizen_ids: Collection[str], *, per_hour: int,
                            now: dt.datetime | None = None) -> None:
        """As count_persons, counted with the concurrent calls."""
        if not citizen_ids:
            return
        _raise_if(await self._counts.submit(PersonsTally(client_id, frozenset(citizen_ids), per_hour, now or _now())))

    async def is_revoked(self, jti: str) -> bool:
        """As hub.auth.revocation.is_revoked, looked up with the concurrent calls."""
        return await self._revocations.submit(jti)

    async def _count(self, tallies: list[Tally]) -> list[Exception | None]:
        self.transactions += 1
        async with writing(self.store).begin() as connection:
            verdicts = await tally_in(connection, tallies, self._recorded)
        self._learn(tallies, verdicts)
        return verdicts

    def _learn(self, tallies: Sequence[Tally], verdicts: Sequence[Exception | None]) -> None:
        """Once their transaction committed: the persons of tallies that were recorded (not revoked)."""
        self._recorded.learn([t for t, v in zip(tallies, verdicts, strict=True)
                              if isinstance(t, PersonsTally) and not isinstance(v, TokenRejected)])

    async def _settle(self, settlements: list[Settlement]) -> list[Exception | None]:
        self.transactions += 1
        tallies: list[Tally] = []
        for item in settlements:
            tallies.append(item.request)
            if item.persons is not None:
                tallies.append(item.persons)
        try:
            settled = None
            if self.store.dialect.name == "postgresql" and not _tidies(tallies):
                settled = await self._settle_on_driver(settlements, tallies)
            if settled is None:
                async with writing(self.store).begin() as connection:
                    outcome = await tally_in(connection, tallies, self._recorded)
                    refusals = self._refusals(settlements, tallies, outcome)
                    await append_in(connection, _audited(settlements, refusals))
            else:
                outcome, refusals = settled
        except Exception as exc:  # noqa: BLE001 - nothing is shown that was not audited
            log.error("settling reads failed: %s", type(exc).__name__)
            raise AuditUnavailable() from None
        self._learn(tallies, outcome)
        return refusals

    def _refusals(self, settlements: list[Settlement], tallies: list[Tally],
                  outcome: Sequence[Exception | None]) -> list[Exception | None]:
        """Each read's refusal from its tallies' verdicts: its request's, else its persons'."""
        verdicts = dict(zip(map(id, tallies), outcome, strict=True))
        refusals = []
        for item in settlements:
            refusal = verdicts[id(item.request)]
            if refusal is None and item.persons is not None:
                refusal = verdicts[id(item.persons)]
            refusals.append(refusal)
            self._remember(item.request, verdicts[id(item.request)])
        return refusals

    async def _settle_on_driver(self, settlements: list[Settlement], tallies: list[Tally]):
        """The batch settled in one PostgreSQL transaction of two statements on the driver (see
        hub.settle_pg): the tallies' verdicts and the reads' refusals; None when a token id
        of the batch is revoked (nothing was written: the general path settles it)."""
        persons: set[tuple[str, str, str]] = set()
        amounts: dict[CounterKey, int] = defaultdict(int)
        for item in tallies:
            if isinstance(item, RequestTally):
                amounts[item.counter] += 1
                continue
            amounts[item.counter] += 0
            known = self._recorded.known(item.client_id, item.hour)
            persons.update((item.client_id, item.hour, cid) for cid in item.citizen_ids - known)
        arguments = settle_pg.settle_arguments({t.jti for t in tallies if t.jti}, list(persons), list(amounts.items()))
        async with self.store.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            try:
                async with driver.transaction():
                    settled = settle_pg.Settled(await driver.fetch(settle_pg.SETTLE, *arguments))
                    if settled.revoked:
                        return None  # nothing written; the transaction ends with nothing to undo
                    outcome = _verdicts(tallies, settled)
                    refusals = self._refusals(settlements, tallies, outcome)
                    await settle_pg.append(driver, _audited(settlements, refusals), settled.head)
            except BaseException:
                # The connection may be broken: the pool must not hand it out again.
                await connection.invalidate()
                raise
        return outcome, refusals

    async def _revoked(self, jtis: list[str]) -> list[bool]:
        self.transactions += 1
        revoked = await revoked_among(self.store, set(jtis))
        return [jti in revoked for jti in jtis]

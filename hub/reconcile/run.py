"""One reconciliation run: read both sources slice by slice, check, write findings, resolve what went away.

A full run walks every citizen ID the ministry holds (and every city row in between) and every
deprived household; an incremental run starts from the previous run's watermarks and looks only
at the rows that changed since, the persons and households they involve, and the open findings
that name them. Tables that record no change time or growing key (disability cards, TPMAP
assessments, child support grants) are only re-read by full runs.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from hub.federation import SourceSession, SourceUnavailable
from hub.freshness import last_change
from hub.normalise import BANGKOK_TIME, utc
from hub.reconcile import read as r
from hub.reconcile.checks import Context, check_slice, in_chunks, missed_household, stale_source
from hub.reconcile.kinds import Kind
from hub.reconcile.store import FindingWriter, count_issues, finish_run, involved, last_run, resolve_unseen, start_run
from hub.sources.ministry import tables as m

PAGE_PERSONS = 20_000
HOUSEHOLD_BATCH = 2_000
STALE_AFTER = dt.timedelta(days=7)
# Freshness reads MAX(updated_at) over whole tables; at national scale that takes a while.
FRESHNESS_TIMEOUT = 300.0


@dataclass
class KindCounts:
    found: int = 0  # seen by this run
    new: int = 0  # seen for the first time
    reopened: int = 0  # seen again after being resolved
    resolved: int = 0  # no longer seen by this run
    open: int = 0  # open in the store after the run (all of them, not only those in this run's scope)


@dataclass
class ReconcileSummary:
    run_id: int
    mode: str  # 'full' or 'incremental' (an incremental run with no previous run runs full)
    as_of: dt.datetime
    elapsed_seconds: float
    persons_examined: int  # ministry persons read (all of them in a full run)
    # Households checked against the city: the deprived ones with no open case and no child grant (full
    # run), or the households in scope (incremental run).
    households_examined: int
    counts: dict[str, KindCounts] = field(default_factory=dict)
    statements: dict[str, int] = field(default_factory=dict)

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.counts.values())


async def reconcile(
    ministry: AsyncEngine,
    city: AsyncEngine,
    store: AsyncEngine,
    *,
    progress: bool = True,
    incremental: bool = False,
    now: dt.datetime | None = None,
    stale_after: dt.timedelta = STALE_AFTER,
    page_size: int = PAGE_PERSONS,
) -> ReconcileSummary:
    """Check both sources against each other and record the findings in the store.

    `now` is the reference time of the checks (ages, card validity, staleness) and the time
    recorded on findings; it defaults to the current time. Raises SourceUnavailable when a source
    cannot be read; nothing is resolved then, and the run stays unfinished in reconcile_run.
    """
    now = utc(now) if now is not None else dt.datetime.now(dt.UTC)
    today = now.astimezone(BANGKOK_TIME).date()
    clock = time.perf_counter()
    async with (
        r.open_reader("ministry", ministry) as ministry_reader,
        r.open_reader("ministry", ministry) as household_reader,
        r.open_reader("city", city) as city_reader,
        store.connect() as store_connection,
    ):
        marks = {"ministry": await r.watermarks(ministry_reader), "city": await r.watermarks(city_reader)}
        previous = await last_run(store_connection) if incremental else None
        await store_connection.rollback()
        mode = "incremental" if previous is not None else "full"
        run_id = await start_run(store, mode, now)
        writer = FindingWriter(store, run_id, now)
        context = Context(today=today, project_districts=await r.project_districts(city_reader), bindings=r.BINDINGS)
        # The records an incremental run looked at: the findings naming them are in its scope.
        examined: set[str] | None = None
        households: set[int] | None = None

        if previous is None:
            persons = await _full_person_pass(ministry_reader, city_reader, writer, context, page_size, progress)
        else:
            examined, households = set(), set()
            persons = await _changed_person_pass(
                ministry_reader, city_reader, store, writer, context, previous.watermarks, examined, households,
                progress,
            )
        household_count = await _household_pass(
            household_reader, ministry_reader, city_reader, writer, today, households, progress
        )
        if examined is not None:
            examined.update(f"household:{h}" for h in households)

        for name, engine in (("ministry", ministry), ("city", city)):
            session = SourceSession(name, engine, FRESHNESS_TIMEOUT)
            try:
                latest = await last_change(session)
            finally:
                await session.close()
            finding = stale_source(name, latest, now, stale_after)
            if finding is not None:
                await writer.add([finding])
            if examined is not None:
                examined.add(f"source:{name}")
        await writer.flush()

    resolved = await resolve_unseen(store, run_id, now, examined)
    async with store.connect() as connection:
        open_now = await count_issues(connection, group_by="kind")
    counts = {
        kind.value: KindCounts(
            found=writer.found[kind], new=writer.new[kind], reopened=writer.reopened[kind],
            resolved=resolved[kind], open=open_now.get(kind.value, 0),
        )
        for kind in Kind
    }
    await finish_run(
        store, run_id,
        {k: {"found": c.found, "new": c.new, "reopened": c.reopened, "resolved": c.resolved}
         for k, c in counts.items()},
        marks,
    )
    return ReconcileSummary(
        run_id=run_id,
        mode=mode,
        as_of=now,
        elapsed_seconds=time.perf_counter() - clock,
        persons_examined=persons,
        households_examined=household_count,
        counts=counts,
        statements={
            "ministry": ministry_reader.statements + household_reader.statements,
            "city": city_reader.statements,
            "store": writer.statements,
        },
    )


async def _full_person_pass(
    ministry: r.Reader, city: r.Reader, writer: FindingWriter, context: Context, page_size: int, progress: bool
) -> int:
    total = (await ministry.rows(sa.select(sa.func.count()).select_from(m.person)))[0][0]
    examined = 0
    with tqdm(total=total, unit="persons", desc="reconcile", file=sys.stderr, disable=not progress,
              smoothing=0.1) as bar:
        async for page, low, high in r.person_pages(ministry, page_size):
            data = await r.read_slice(ministry, city, page, r.by_range(low, high))
            await ministry.end_transaction()
            await city.end_transaction()
            await writer.add(check_slice(data, context))
            examined += len(page)
            bar.update(len(page))
    return examined


async def _changed_person_pass(
    ministry: r.Reader,
    city: r.Reader,
    store: AsyncEngine,
    writer: FindingWriter,
    context: Context,
    marks: dict,
    examined: set[str],
    households: set[int],
    progress: bool,
) -> int:
    ministry_changes = await r.changes_since(ministry, marks.get("ministry", {}))
    city_changes = await r.changes_since(city, marks.get("city", {}))
    refs = ministry_changes.refs | city_changes.refs
    ids = ministry_changes.ids | city_changes.ids
    households.update(ministry_changes.households | city_changes.households)
    # A changed record may have left a finding behind (e.g. a duplicate whose PID was corrected):
    # the persons and households of the open findings naming it are checked again too.
    more_ids, more_households = await involved(store, refs)
    ids |= more_ids
    households |= more_households
    examined.update(refs)
    persons = 0
    with tqdm(total=len(ids), unit="persons", desc="reconcile (changes)", file=sys.stderr,
              disable=not progress) as bar:
        for chunk in in_chunks(sorted(ids), r.IN_CHUNK):
            found = await r.persons_for(ministry, chunk)
            data = await r.read_slice(ministry, city, found, r.by_ids(chunk))
            await ministry.end_transaction()
            await city.end_transaction()
            examined.update(data.refs())
            households.update(p.household_id for p in found if p.household_id is not None)
            await writer.add(check_slice(data, context))
            persons += len(found)
            bar.update(len(chunk))
    return persons


async def _household_pass(
    stream: r.Reader,
    ministry: r.Reader,
    city: r.Reader,
    writer: FindingWriter,
    today: dt.date,
    households: set[int] | None,
    progress: bool,
) -> int:
    """Deprived households with no open case, no child grant and no member with an active city allowance."""
    if households is not None and not households:
        return 0
    candidates = 0
    with tqdm(unit="households", desc="reconcile households", file=sys.stderr, disable=not progress) as bar:
        async for batch in r.deprived_household_batches(
            stream, today, None if households is None else sorted(households), HOUSEHOLD_BATCH
        ):
            served, _ = await r.members_with_city_allowance(ministry, city, [h.household_id for h in batch])
            await ministry.end_transaction()
            await city.end_transaction()
            await writer.add(missed_household(h) for h in batch if h.household_id not in served)
            candidates += len(batch)
            bar.update(len(batch))
    await stream.end_transaction()
    return candidates if households is None else len(households)


__all__ = ["KindCounts", "ReconcileSummary", "SourceUnavailable", "reconcile"]

"""Talking to the sources during one request: one connection per source, timeouts, typed outages.

A SourceSession opens its connection on first use and serialises the statements of one
request on it (a connection runs one statement at a time); different sources run concurrently.
Any failure to reach a source becomes SourceUnavailable, which the GraphQL layer turns into a
partial result with a SOURCE_UNAVAILABLE error instead of a failed request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.bindings import Binding, Relation, one_of_parameter
from hub.breaker import CircuitBreaker
from hub.records import Record

log = logging.getLogger("hub.federation")

# Keys per IN list; pages are capped at 100, so a request rarely needs more than one chunk.
IN_CHUNK = 2000


class SourceUnavailable(Exception):
    """A source did not answer (down, refused, or slower than its timeout)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"the {source} source is unavailable ({reason})")
        self.source = source
        self.reason = reason


# Result types the PostgreSQL driver already returns as SQLAlchemy would (no result processor).
_PLAIN_RESULTS = (sa.String, sa.Integer, sa.Date, sa.DateTime, sa.Boolean)


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for the PostgreSQL driver, to run on it directly."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order of $1, $2, ...
    compiled: sa.engine.Compiled
    processors: dict[str, Callable]

    def arguments(self, parameters: dict | None) -> list:
        values = self.compiled.construct_params(parameters)
        out = []
        for name in self.names:
            value = values[name]
            process = self.processors.get(name)
            out.append(process(value) if process is not None and value is not None else value)
        return out


_PREPARED: OrderedDict[int, tuple[sa.Executable, Prepared | None]] = OrderedDict()
PREPARED_KEPT = 512


def prepared(statement: sa.Executable, dialect: sa.Dialect) -> Prepared | None:
    """The statement ready for the driver, or None when SQLAlchemy must run it (expanding
    parameters, or a result column SQLAlchemy would convert). Only for statements built once
    and reused (the relation statements): the cache holds them by identity."""
    known = _PREPARED.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    compiled = statement.compile(dialect=dialect)
    plain = all(
        isinstance(column[3], _PLAIN_RESULTS) or (isinstance(column[3], sa.Numeric) and column[3].asdecimal
                                                   and not isinstance(column[3], sa.Float))
        for column in compiled._result_columns
    )
    ready = None
    if plain and compiled.positiontup is not None and not compiled.literal_execute_params \
            and not compiled.post_compile_params:
        ready = Prepared(compiled.string, tuple(compiled.positiontup), compiled, dict(compiled._bind_processors))
    _PREPARED[id(statement)] = (statement, ready)
    if len(_PREPARED) > PREPARED_KEPT:
        _PREPARED.popitem(last=False)
    return ready


def _lost_connection(exc: BaseException) -> bool:
    """Whether a statement failed because its pooled connection was closed by the database."""
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated
    # The server closed it (terminated, shut down), or the driver found it closed or in a broken
    # state left by a message the closing server sent ("another operation is in progress").
    return isinstance(exc, asyncpg.exceptions.PostgresConnectionError | asyncpg.exceptions.OperatorInterventionError
                      | asyncpg.InterfaceError | asyncpg.InternalClientError | ConnectionError | OSError)


def _driver_failure(exc: BaseException) -> bool:
    """Whether an exception raised by the PostgreSQL driver itself means the source failed."""
    return isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | asyncpg.InternalClientError)


class SourceSession:
    def __init__(self, name: str, engine: AsyncEngine, timeout: float, breaker: CircuitBreaker | None = None,
                 observe=None) -> None:
        self.name = name
        self.engine = engine
        self.timeout = timeout
        self.breaker = breaker
        self.observe = observe  # called with (source, seconds, ok) per statement (metrics)
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._failed: SourceUnavailable | None = None
        self._used = False  # whether the current connection has answered a statement yet
        self._driver = None  # the PostgreSQL driver's connection under self._connection
        self._autocommit = False  # whether self._connection runs SQLAlchemy's statements without a transaction
        self.statements = 0

    async def rows(self, statement: sa.Executable, parameters: dict | None = None, *,
                   reused: bool = False) -> Sequence[sa.Row]:
        """The statement's rows. A statement built once and run again and again (reused) is, on
        PostgreSQL, compiled once and run on the driver directly: its rows are the driver's
        records, indexed by position like SQLAlchemy's rows."""
        # Once a source has failed in this request, the rest of the request does not wait on it again.
        if self._failed is not None:
            raise self._failed
        if self.breaker is not None and not self.breaker.allow():
            self._failed = SourceUnavailable(self.name, "circuit open")
            raise self._failed
        async with self._lock:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout):
                    try:
                        rows = await self._execute(statement, parameters, reused)
                    except Exception as exc:
                        if self._used or not _lost_connection(exc):
                            raise
                        # A pooled connection the source closed meanwhile (a restart): reads are
                        # safe to repeat, so once more on a fresh connection.
                        await self._discard()
                        rows = await self._execute(statement, parameters, reused)
                self._record(started, ok=True)
                return rows
            except TimeoutError:
                self._failed = SourceUnavailable(self.name, "timeout")
            except Exception as exc:
                if not isinstance(exc, sa.exc.DBAPIError | sa.exc.InterfaceError | OSError | ConnectionError) \
                        and not _driver_failure(exc):
                    raise
                # Log the kind of failure only: driver messages may carry hosts or values.
                log.warning("source %s failed: %s", self.name, type(exc).__name__)
                self._failed = SourceUnavailable(self.name, "connection failed")
            self._record(started, ok=False)
            await self._discard()
            raise self._failed

    async def _execute(self, statement: sa.Executable, parameters: dict | None, reused: bool) -> Sequence[sa.Row]:
        if self._connection is None:
            self._used = False
            self._driver = None
            self._autocommit = False
            self._connection = await self.engine.connect()
            if self.engine.dialect.name == "postgresql":
                self._driver = (await self._connection.get_raw_connection()).driver_connection
        self.statements += 1
        ready = prepared(statement, self.engine.dialect) if reused and self._driver is not None else None
        if ready is not None:
            # The driver runs it outside any transaction: one round trip, its own snapshot.
            rows = await self._driver.fetch(ready.sql, *ready.arguments(parameters))
        else:
            if self._driver is not None and not self._autocommit:
                # Each statement is its own snapshot under READ COMMITTED anyway; without a
                # transaction a read costs one round trip instead of BEGIN, SELECT and ROLLBACK.
                # Set only when SQLAlchemy runs a statement: setting and resetting it costs more
                # than the driver's own reads.
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
                self._autocommit = True
            rows = (await self._connection.execute(statement, parameters)).all()
        self._used = True
        return rows

    def _record(self, started: float, *, ok: bool) -> None:
        if self.breaker is not None:
            self.breaker.success() if ok else self.breaker.failure()
        if self.observe is not None:
            self.observe(self.name, time.perf_counter() - started, ok)

    async def _discard(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass

    async def close(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not fail the response
                log.warning("closing the %s connection failed", self.name)


class RequestSources:
    """The per-request sessions, one per source, created lazily and closed when the request ends."""

    def __init__(self, engines: dict[str, AsyncEngine], timeout: float,
                 breakers: dict[str, CircuitBreaker] | None = None, observe=None) -> None:
        self._engines = engines
        self._timeout = timeout
        self._breakers = breakers or {}
        self._observe = observe
        self._sessions: dict[str, SourceSession] = {}

    def __getitem__(self, name: str) -> SourceSession:
        session = self._sessions.get(name)
        if session is None:
            session = self._sessions[name] = SourceSession(
                name, self._engines[name], self._timeout, self._breakers.get(name), self._observe
            )
        return session

    @property
    def statement_counts(self) -> dict[str, int]:
        return {name: s.statements for name, s in self._sessions.items()}

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._sessions.values()))


def _chunks(keys: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


# Statements of relations, built once per relation and districts claim: the keys are an expanding
# parameter, so a statement's SQL and SQLAlchemy's cache key for it are computed once.
_RELATION_STATEMENTS: OrderedDict[tuple, sa.Select] = OrderedDict()
RELATION_STATEMENTS_KEPT = 512


def relation_statement(relation: Relation, districts: frozenset[str] | None, dialect: str,
                       single: bool = False) -> sa.Select:
    """The relation's rows for the keys given as parameter `keys` (single: the one key given as `keys`)."""
    key = (id(relation), districts, dialect, single)
    statement = _RELATION_STATEMENTS.get(key)
    if statement is None:
        binding = relation.target
        statement = binding.select(relation.by.label("_by")).where(
            one_of_parameter(relation.by, "keys", dialect, single=single))
        statement = binding.restrict(statement, districts)
        if relation.order_by:
            statement = statement.order_by(*relation.order_by, binding.key)
        _RELATION_STATEMENTS[key] = statement
        if len(_RELATION_STATEMENTS) > RELATION_STATEMENTS_KEPT:
            _RELATION_STATEMENTS.popitem(last=False)
    return statement


async def load_related(
    session: SourceSession,
    relation: Relation,
    keys: Sequence,
    districts: frozenset[str] | None,
) -> dict[object, list[Record]]:
    """Records of relation.target for each key, in one statement per chunk of keys."""
    unique = sorted({k for k in keys if k is not None}, key=str)
    grouped: dict[object, list[Record]] = defaultdict(list)
    binding = relation.target
    dialect = session.engine.dialect.name
    by = len(binding.columns())  # the _by column follows the binding's own
    for chunk in _chunks(unique):
        single = len(chunk) == 1
        statement = relation_statement(relation, districts, dialect, single)
        for row in await session.rows(statement, {"keys": chunk[0] if single else chunk}, reused=True):
            grouped[row[by]].append(binding.to_record(row))
    return grouped


# Statements reading several relations of one source at once (each with the relation followed
# from it, if any), by the relations, the followed ones, districts claim, dialect and single key
# (None: they cannot share one).
_TOGETHER: dict[tuple, sa.CompoundSelect | None] = {}
TOGETHER_KEPT = 256

Follows = tuple["Relation | None", ...]  # for each relation read together, the one followed from it


def relations_statement(relations: tuple[Relation, ...], districts: frozenset[str] | None,
                        dialect: str, single: bool = False, follows: Follows = ()) -> sa.CompoundSelect | None:
    """One statement for several relations of one source keyed alike (a person's elderly and
    disability registrations): each relation's rows padded with NULLs to the widest binding's
    columns, then the key they were found by and the relation's position. None when their rows
    cannot line up (a column of another type at the same position) or a relation is ordered by
    more than its binding's key (rows are put in key order after reading).

    With follows, each relation's rows are outer-joined to the rows of the relation followed
    from them (follows[i], or none), whose columns come last: a registration is read once per
    payment, or once with NULLs. None also when a followed relation cannot be joined so: keyed
    by a parent field that is normalised or is not a column, on another source, restricted by
    districts itself, ordered by a column it does not read, or reading other columns than the
    others followed.
    """
    cache_key = (tuple(id(r) for r in relations), districts, dialect, single, tuple(map(id, follows)))
    if cache_key in _TOGETHER:
        return _TOGETHER[cache_key]
    widest = max((r.target.columns() for r in relations), key=len)
    children = [f.target.columns() for f in follows if f is not None]
    parts = []
    for position, relation in enumerate(relations):
        binding = relation.target
        columns = binding.columns()
        lined_up = all(own.type._type_affinity is other.type._type_affinity for own, other in zip(columns, widest))
        if not lined_up or relation.order_by not in ((), (binding.key,)):
            parts = None
            break
        # A bare NULL typed for SQLAlchemy (MariaDB's CAST knows no VARCHAR): the database takes
        # the column's type from the other relations' rows.
        padding = [sa.type_coerce(sa.null(), column.type).label(f"_pad{i}")
                   for i, column in enumerate(widest[len(columns):])]
        part = binding.select(*padding, relation.by.label("_by"),
                              sa.literal_column(str(position), sa.Integer).label("_relation"))
        if children:
            follow = follows[position] if position < len(follows) else None
            part = _joined(part, binding, follow, children[0], districts)
            if part is None:
                parts = None
                break
        parts.append(binding.restrict(part.where(one_of_parameter(relation.by, "keys", dialect, single=single)),
                                      districts))
    statement = sa.union_all(*parts) if parts else None
    if len(_TOGETHER) >= TOGETHER_KEPT:
        _TOGETHER.clear()
    _TOGETHER[cache_key] = statement
    return statement


def _joined(part: sa.Select, binding: Binding, follow: Relation | None, child_columns: list,
            districts: frozenset[str] | None) -> sa.Select | None:
    """The part with the followed relation's columns added (outer-joined), or NULLs of their
    types when nothing is followed from this relation; None when it cannot be joined."""
    if follow is None:
        return part.add_columns(*(sa.type_coerce(sa.null(), c.type).label(f"_child{i}")
                                  for i, c in enumerate(child_columns)))
    child = follow.target
    field = binding.fields.get(follow.parent_field)
    columns = child.columns()
    if (field is None or field.normalise is not None or child.source != binding.source
            or (districts is not None and child.district_filter is not None)
            or len(columns) != len(child_columns)
            or any(own.type._type_affinity is not other.type._type_affinity
                   for own, other in zip(columns, child_columns))
            or any(c.key not in {own.key for own in columns} for c in follow.order_by)):
        return None
    on = follow.by == field.column
    if child.where is not None:
        on = sa.and_(on, child.where)
    return part.add_columns(*(c.label(f"_child{i}") for i, c in enumerate(columns))).select_from(
        binding.table.outerjoin(child.table, on))


async def load_together(
    session: SourceSession,
    relations: tuple[Relation, ...],
    keys: Sequence,
    districts: frozenset[str] | None,
    follows: Follows = (),
) -> tuple[list[dict[object, list[Record]]], list[dict[object, list[Record]] | None]]:
    """For each relation, what load_related gives; in one statement per chunk of keys when the
    relations' rows can share one (see relations_statement), else one per relation.

    Second, for each relation followed (follows[i]), what load_related would give for the keys
    of the records found, when it could be read in the same statement; else None (the caller
    reads it on its own if it needs it)."""
    dialect = session.engine.dialect.name
    nothing: list = [None] * len(follows)
    if relations_statement(relations, districts, dialect) is None:
        return [await load_related(session, relation, keys, districts) for relation in relations], nothing
    if any(f is not None for f in follows) and relations_statement(relations, districts, dialect,
                                                                   follows=follows) is not None:
        return await _read_together(session, relations, keys, districts, follows)
    grouped, _ = await _read_together(session, relations, keys, districts, ())
    return grouped, nothing


async def _read_together(session: SourceSession, relations: tuple[Relation, ...], keys: Sequence,
                         districts: frozenset[str] | None, follows: Follows):
    dialect = session.engine.dialect.name
    unique = sorted({k for k in keys if k is not None}, key=str)
    grouped: list[dict[object, list[Record]]] = [defaultdict(list) for _ in relations]
    followed: list[dict[object, list[Record]] | None] = [
        None if f is None else defaultdict(list) for f in follows]
    by = max(len(r.target.columns()) for r in relations)  # the key found by, then the relation's position
    child = by + 2  # where a followed relation's columns start
    orders = [None if f is None else _order_positions(f) for f in follows]
    nulls_first = dialect != "postgresql"
    for chunk in _chunks(unique):
        single = len(chunk) == 1
        statement = relations_statement(relations, districts, dialect, single, follows)
        rows = await session.rows(statement, {"keys": chunk[0] if single else chunk}, reused=True)
        if not follows:
            for row in sorted(rows, key=lambda r: (r[by + 1], r[0])):  # by relation, then its binding's key
                position = row[by + 1]
                grouped[position][row[by]].append(relations[position].target.to_record(row))
            continue
        parents: dict[tuple, Record] = {}
        children: dict[tuple, list] = defaultdict(list)
        for row in rows:
            position = row[by + 1]
            parent = (position, row[by], row[0])
            if parent not in parents:
                parents[parent] = relations[position].target.to_record(row)
            if follows[position] is not None and row[child] is not None:  # the child's key: NULL when none
                children[parent].append(tuple(row[child:]))
        for parent in sorted(parents, key=lambda p: (p[0], p[2])):  # by relation, then its binding's key
            position, found_by, _ = parent
            record = parents[parent]
            grouped[position][found_by].append(record)
            follow = follows[position]
            if follow is None:
                continue
            rows_of = sorted(children.get(parent, ()), key=lambda r, o=orders[position]: _sort_key(r, o, nulls_first))
            followed[position][getattr(record, follow.parent_field)] = [follow.target.to_record(r) for r in rows_of]
    return grouped, followed


def _order_positions(relation: Relation) -> list[int]:
    """Where the relation's order (its order_by, then its binding's key) sits in its binding's columns."""
    position = {c.key: i for i, c in enumerate(relation.target.columns())}
    return [position[c.key] for c in (*relation.order_by, relation.target.key)]


def _sort_key(row: tuple, positions: list[int], nulls_first: bool) -> tuple:
    # Ascending, NULLs where the database puts them in the relation's own statement: last on
    # PostgreSQL, first on SQLite and MariaDB. (The followed relations order by non-null columns
    # of digits, which every collation orders as Python does.)
    return tuple(((row[i] is None) != nulls_first, row[i]) for i in positions)


async def load_where(
    session: SourceSession,
    binding: Binding,
    *conditions: sa.ColumnElement,
    districts: frozenset[str] | None,
    order_by: Sequence[sa.ColumnElement] = (),
    limit: int | None = None,
) -> list[Record]:
    statement = binding.restrict(binding.select().where(*conditions), districts)
    if order_by:
        statement = statement.order_by(*order_by)
    if limit is not None:
        statement = statement.limit(limit)
    return [binding.to_record(row) for row in await session.rows(statement)]

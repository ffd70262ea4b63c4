"""Declarative bindings: where each unified field comes from (source, table, column, normaliser).

A Binding maps one source table to one unified record type; a Relation says how records of
one binding find records of another (possibly in another source). The loaders read these
to build one SELECT per relation per batch, and the data-quality checks read them to know
which columns hold citizen IDs and districts. Adding a field means adding one line here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hub.normalise import NormalisationError, stripped
from hub.records import Provenance, Record, RecordIssue


@dataclass(frozen=True)
class Col:
    """One unified field read from one source column, through an optional normaliser."""

    column: sa.ColumnElement
    normalise: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Binding:
    name: str
    source: str
    record: type[Record]
    table: sa.Table
    key: sa.ColumnElement
    fields: Mapping[str, Col]
    updated_at: sa.ColumnElement | None = None
    updated_at_normalise: Callable[[Any], Any] | None = None
    constants: Mapping[str, Any] = field(default_factory=dict)
    # Fields computed from already-normalised ones, e.g. a district from a subdistrict.
    derived: Mapping[str, Callable[[dict], Any]] = field(default_factory=dict)
    # The rows a districts claim lets through: a SQL condition for a set of DOPA district codes.
    district_filter: Callable[[frozenset[str]], sa.ColumnElement] | None = None
    where: sa.ColumnElement | None = None

    def columns(self) -> list[sa.ColumnElement]:
        """The columns select() reads: the key and the change time first, then the fields' (so
        bindings of one shape with extra fields at the end read rows that line up; see
        federation.relations_statement)."""
        return list(self._columns)

    @functools.cached_property
    def _columns(self) -> tuple[sa.ColumnElement, ...]:
        seen: dict[str, sa.ColumnElement] = {}
        leading = [self.key] if self.updated_at is None else [self.key, self.updated_at]
        for col in [*leading, *(c.column for c in self.fields.values())]:
            seen.setdefault(col.key, col)
        return tuple(seen.values())

    def select(self, *extra: sa.ColumnElement) -> sa.Select:
        statement = sa.select(*self.columns(), *extra)
        if self.where is not None:
            statement = statement.where(self.where)
        return statement

    def restrict(self, statement: sa.Select, districts: frozenset[str] | None) -> sa.Select:
        """Apply a token's districts claim.

        A binding without a district of its own (cards, grants, payments, assessments) is only
        ever reached through a parent that was restricted (a person, an allowance, a household),
        so its rows follow the parent's district.
        """
        if districts is None or self.district_filter is None:
            return statement
        return statement.where(self.district_filter(districts))

    @functools.cached_property
    def _layout(self) -> tuple[list[tuple[str, int, Callable | None]], int, int | None]:
        """Where each field, the key and the change time sit in a row of select()."""
        position = {col.key: i for i, col in enumerate(self.columns())}
        fields = [(name, position[col.column.key], col.normalise) for name, col in self.fields.items()]
        updated = position[self.updated_at.key] if self.updated_at is not None else None
        return fields, position[self.key.key], updated

    @functools.cached_property
    def _reader(self) -> Callable[[Any], Record]:
        """to_record specialised for this binding: straight-line code, one local per field.

        Thousands of rows go through here per large response; a generic loop over the fields
        with a dict of values costs about twice as much. The generated code does exactly what
        the loop would: normalise each field, turn a NormalisationError into None plus a
        RecordIssue, compute the derived fields, and attach the provenance. The record is built
        with keyword arguments (no dict of values) unless derived fields need one; stripping,
        the commonest normaliser, is written out in place.
        """
        fields, key_index, updated_index = self._layout
        env: dict[str, Any] = {
            "Provenance": Provenance, "RecordIssue": RecordIssue, "NormalisationError": NormalisationError,
            "record": self.record, "source": self.source,
            "prefix": f"{self.table.name}:", "updated_normalise": self.updated_at_normalise,
        }
        lines = ["def read(row):", "    issues = []"]
        for n, (name, index, normalise) in enumerate(fields):
            if normalise is None:
                lines.append(f"    v{n} = row[{index}]")
                continue
            if normalise is stripped:
                lines.append(f"    v{n} = row[{index}]")
                lines.append(f"    if isinstance(v{n}, str): v{n} = v{n}.strip()")
                continue
            env[f"f{n}"] = normalise
            lines += [
                "    try:",
                f"        v{n} = f{n}(row[{index}])",
                "    except NormalisationError as exc:",
                f"        v{n} = None",
                f"        issues.append(RecordIssue({name!r}, exc.problem))",
            ]
        for n, (name, value) in enumerate(self.constants.items()):
            env[f"c{n}"] = value
        lines.append(f"    updated = row[{updated_index}]" if updated_index is not None else "    updated = None")
        if self.updated_at_normalise is not None:
            lines.append("    updated = updated_normalise(updated)")
        lines.append(f"    provenance = Provenance(source, f'{{prefix}}{{row[{key_index}]}}', updated)")
        constants = [f"{name!r}: c{n}" for n, name in enumerate(self.constants)]
        if self.derived:
            values = ", ".join([*constants, *(f"{name!r}: v{n}" for n, (name, _, _) in enumerate(fields))])
            lines.append(f"    values = {{{values}}}")
            for name, compute in self.derived.items():
                env[f"d_{name}"] = compute
                lines.append(f"    values[{name!r}] = d_{name}(values)")
            lines.append("    return record(provenance=provenance, issues=issues, **values)")
        else:
            # A field of the same name as a constant wins, as in a dict of the constants updated with the fields.
            names = {name for name, _, _ in fields}
            arguments = [*(f"{name}=c{n}" for n, name in enumerate(self.constants) if name not in names),
                         *(f"{name}=v{n}" for n, (name, _, _) in enumerate(fields))]
            lines.append(f"    return record(provenance=provenance, issues=issues, {', '.join(arguments)})")
        exec("\n".join(lines), env)  # noqa: S102 - code built above from this binding's own declaration
        return env["read"]

    def to_record(self, row: sa.Row) -> Record:
        """A row of select() (extra columns after the binding's own are ignored) as a unified record."""
        return self._reader(row)


@dataclass(frozen=True)
class Relation:
    """Records of `target` whose `by` column equals the parent's `parent_field` value."""

    name: str
    target: Binding
    by: sa.ColumnElement
    parent_field: str
    many: bool = True
    order_by: tuple[sa.ColumnElement, ...] = ()


def one_of(column: sa.ColumnElement, values, dialect: str) -> sa.ColumnElement:
    """column IN (values): on PostgreSQL as = ANY(one array parameter), so the statement's text and
    its server-side prepared plan do not change with the number of values."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


def one_of_parameter(column: sa.ColumnElement, name: str, dialect: str, *, single: bool = False) -> sa.ColumnElement:
    """column IN (the list given as parameter `name` at execution), in each dialect's cheapest form;
    single: column = the one value given as `name`. On PostgreSQL `= ANY(array)` of one value
    costs the database about twice what `=` does (its generic plan is a bitmap scan), and a
    request for one person looks up one key at every level."""
    if single:
        return column == sa.bindparam(name, type_=column.type)
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def code_bounds(code: str) -> tuple[str, str]:
    """Codes starting with a numeric code sort in [low, high)."""
    return code, str(int(code) + 1).zfill(len(code))


def code_prefix(column: sa.ColumnElement, code: str) -> sa.ColumnElement:
    """Rows whose code column starts with a numeric code, as a range: unlike LIKE 'code%', a range
    uses a btree index under any collation (PostgreSQL's non-C locales do not index LIKE prefixes)."""
    low, high = code_bounds(code)
    return sa.and_(column >= low, column < high)


def prefix_filter(column: sa.ColumnElement, width: int = 4):
    """Rows whose code column starts with one of the district codes (uses the column's index)."""

    def district_filter(districts: frozenset[str]) -> sa.ColumnElement:
        return sa.or_(*(code_prefix(column, code) for code in sorted(districts))) if districts else sa.false()

    return district_filter


def dist_id_filter(column: sa.ColumnElement):
    """Rows whose city district number is one of the (Bangkok) district codes."""

    def district_filter(districts: frozenset[str]) -> sa.ColumnElement:
        ids = sorted(int(code) - 1000 for code in districts if code.startswith("10") and 1 <= int(code[2:]) <= 50)
        return column.in_(ids) if ids else sa.false()

    return district_filter

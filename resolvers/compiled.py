"""The compiled execution path: queries over persons without resolving field by field.

graphql-core resolves one field at a time: an awaitable per field per row and a DataLoader
future per relation per row. For the operations the working group runs most (`person`,
`persons` and what hangs off them) the hub compiles each document once per set of scopes into
a plan that says, for every field, which attribute, resolver, mask and serialiser gives its
value and which relation it follows. Executing a plan loads each relation once per level for
all rows together (one statement per chunk of keys, through the same bindings the reference
resolvers use), the sources concurrently, and builds the response as plain dicts that the
HTTP layer serialises with orjson.

A plan covers the success path only. Whatever it does not model (other root fields,
directives, unions, arguments below the root, any error, a source outage, a null in a non-null
field) raises Fallback, and the operation runs on the reference resolvers from a clean
context, so the two paths answer every operation alike (tests/test_compiled.py compares them).
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
    parse,
    print_ast,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Undefined
from strawberry.permission import PermissionExtension
from strawberry.types import ExecutionResult

from hub.auth.scopes import Scope
from hub.bindings import Relation
from hub.context import Context
from hub.federation import SourceUnavailable, load_related, load_together
from hub.person_listing import PersonFilter
from resolvers.connections import PERSON_CURSOR, connection_row, person_lister
from resolvers.loaders import relation_key
from resolvers.persons import CITY_IDENTITY, MINISTRY_PERSON, PersonView, listing_filter
from schema.connections import decode_cursor, page_size
from schema.guards import HasScope, Masked, PurposeStated
from schema.limits import MAX_TOKENS, OperationBudget

PLAN_CACHE_SIZE = 1024
VALIDATION_RULES = (*specified_rules, OperationBudget)

ATTRIBUTE, RESOLVER, RELATION, TYPENAME = range(4)
# Built-in scalars whose serialiser returns a value of exactly this type unchanged (graphql-core's
# serialize_string and serialize_id). Int and Float are not listed: their serialisers also check
# the range and finiteness.
PASSTHROUGH = {"String": str, "ID": str}
ROOT_FIELDS = {"person": "Person", "persons": "PersonConnection"}


class Fallback(Exception):
    """The compiled path does not model this operation or this outcome."""


@dataclass(eq=False)
class FieldPlan:
    key: str  # the response key (alias or name)
    kind: int
    attribute: str = ""
    call: Callable[..., Any] | None = None  # a synchronous resolver of the parent alone
    pass_root: bool = True
    relation_for: Callable[[Any], Relation | None] | None = None  # the relation a parent's value follows
    relation: Relation | None = None  # that relation, when it is the same for every parent
    many: bool = False
    ministry_only: bool = False
    mask: Callable[[Any], Any] | None = None
    non_null: bool = False
    is_list: bool = False
    item_non_null: bool = False
    serialize: Callable[[Any], Any] | None = None  # leaf fields
    passthrough: type | None = None  # values of exactly this type serialise to themselves
    child: ObjectPlan | None = None  # object fields
    typename: str = ""
    city_identity: bool = False  # needs the parent person's city registrations


@dataclass(eq=False)
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan]

    @functools.cached_property
    def city_identity(self) -> bool:
        return any(f.city_identity for f in self.fields)


@dataclass(eq=False)
class RootPlan:
    key: str
    name: str  # person or persons
    node: FieldNode
    child: ObjectPlan


@dataclass(eq=False)
class OperationPlan:
    operation: OperationDefinitionNode
    roots: list[RootPlan]
    follows: dict[int, Relation] = field(default_factory=dict)  # see _Run


def _follows(roots: list[RootPlan]) -> dict[int, Relation]:
    """What the plan follows from a person's city registrations, by the registrations' relation:
    the relation a field of the registrations follows, when the registrations' binding alone
    (its constants, such as the kind of benefit) says which relation that is."""
    follows: dict[int, Relation] = {}
    seen: set[int] = set()

    def visit(plan: ObjectPlan) -> None:
        if id(plan) in seen:
            return
        seen.add(id(plan))
        for f in plan.fields:
            if f.child is None:
                continue
            if f.kind == RELATION and any(f.relation is r for r in CITY_IDENTITY):
                for g in f.child.fields:
                    if g.kind != RELATION or id(f.relation) in follows:
                        continue
                    try:
                        followed = g.relation_for(SimpleNamespace(**f.relation.target.constants))
                    except AttributeError:  # it depends on more than the binding
                        followed = None
                    if followed is not None:
                        follows[id(f.relation)] = followed
            visit(f.child)

    for root in roots:
        visit(root.child)
    return follows


def _response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


class _Compiler:
    """Turns one validated operation into plans, for one set of scopes."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], scopes: frozenset) -> None:
        self.schema = schema
        self.fragments = fragments
        self.scopes = scopes
        # Identical selections share one plan, so aliased root fields can be completed together.
        self.plans: dict[tuple[str, str], ObjectPlan] = {}

    def collect(self, selection_sets: Sequence[SelectionSetNode], type_name: str) -> OrderedDict[str, list[FieldNode]]:
        grouped: OrderedDict[str, list[FieldNode]] = OrderedDict()
        for selection_set in selection_sets:
            self._collect(selection_set, type_name, grouped, set())
        return grouped

    def _collect(self, selection_set: SelectionSetNode, type_name: str, grouped: dict, seen: set[str]) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise Fallback("directives")
            if isinstance(selection, FieldNode):
                grouped.setdefault(_response_key(selection), []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is not None and selection.type_condition.name.value != type_name:
                    raise Fallback("type condition")
                self._collect(selection.selection_set, type_name, grouped, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if getattr(selection, "arguments", None):
                    raise Fallback("fragment arguments")
                if name in seen:
                    continue
                seen.add(name)
                fragment = self.fragments[name]
                if fragment.type_condition.name.value != type_name:
                    raise Fallback("type condition")
                self._collect(fragment.selection_set, type_name, grouped, seen)
            else:
                raise Fallback("selection")

    def object_plan(self, object_type: GraphQLObjectType, nodes: Sequence[FieldNode]) -> ObjectPlan:
        selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
        signature = (object_type.name, "\n".join(print_ast(s) for s in selection_sets))
        known = self.plans.get(signature)
        if known is not None:
            return known
        plan = ObjectPlan(object_type.name, [])
        for key, field_nodes in self.collect(selection_sets, object_type.name).items():
            plan.fields.append(self.field_plan(object_type, key, field_nodes))
        self.plans[signature] = plan
        return plan

    def field_plan(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key, TYPENAME, typename=parent.name)
        graphql_field = parent.fields.get(name)
        definition = graphql_field.extensions.get("strawberry-definition") if graphql_field else None
        if definition is None or any(n.arguments for n in nodes):
            raise Fallback("field")
        plan = FieldPlan(key, ATTRIBUTE, attribute=definition.python_name)
        for permission in definition.permission_classes:
            if not (issubclass(permission, HasScope) and permission.scope in self.scopes):
                raise Fallback("permission")
        for extension in definition.extensions:
            if isinstance(extension, Masked):
                if Scope.PII_READ not in self.scopes:
                    plan.mask = extension._apply
            elif not isinstance(extension, PermissionExtension):
                raise Fallback("field extension")
        resolver = definition.base_resolver
        if resolver is not None:
            function = resolver.wrapped_func
            relation_for = getattr(function, "relation_for", None)
            if getattr(function, "city_identity", False):
                # Read once the parents' city registrations are complete (see _Run.complete_city).
                plan.kind, plan.call, plan.city_identity = RESOLVER, function.value, True
            elif relation_for is not None:
                plan.kind, plan.relation_for = RELATION, relation_for
                plan.relation = getattr(function, "relation", None)
                plan.many, plan.ministry_only = function.many, function.ministry_only
            elif (not resolver.is_async and not resolver.arguments and resolver.info_parameter is None
                  and resolver.self_parameter is None):
                plan.kind, plan.call, plan.pass_root = RESOLVER, function, resolver.root_parameter is not None
            else:
                raise Fallback("resolver")
        graphql_type = graphql_field.type
        if isinstance(graphql_type, GraphQLNonNull):
            plan.non_null, graphql_type = True, graphql_type.of_type
        if isinstance(graphql_type, GraphQLList):
            plan.is_list, graphql_type = True, graphql_type.of_type
            if isinstance(graphql_type, GraphQLNonNull):
                plan.item_non_null, graphql_type = True, graphql_type.of_type
        if isinstance(graphql_type, GraphQLObjectType):
            plan.child = self.object_plan(graphql_type, nodes)
        elif is_leaf_type(graphql_type):
            plan.serialize = graphql_type.serialize
            plan.passthrough = PASSTHROUGH.get(graphql_type.name)
        else:
            raise Fallback("type")
        return plan


def compile_operation(schema: GraphQLSchema, query: str, operation_name: str | None,
                      scopes: frozenset) -> OperationPlan | None:
    """The plan of a document's operation for these scopes, or None when the reference path must run it."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    if validate(schema, document, rules=VALIDATION_RULES):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY or operations[0].directives:
        return None
    operation = operations[0]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    compiler = _Compiler(schema, fragments, scopes)
    query_type = schema.query_type
    try:
        roots = []
        for key, nodes in compiler.collect([operation.selection_set], query_type.name).items():
            name = nodes[0].name.value
            if name not in ROOT_FIELDS:
                return None
            definition = query_type.fields[name].extensions["strawberry-definition"]
            if list(definition.permission_classes) != [PurposeStated]:
                return None
            child_type = schema.get_type(ROOT_FIELDS[name])
            roots.append(RootPlan(key, name, nodes[0], compiler.object_plan(child_type, nodes)))
    except Fallback:
        return None
    return OperationPlan(operation, roots, _follows(roots))


class PlanCache:
    """Compiled plans by document, operation name and scopes (a plan depends on masking and permissions)."""

    def __init__(self, schema: GraphQLSchema, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.size = size
        self._plans: OrderedDict[tuple, OperationPlan | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None, scopes: frozenset) -> OperationPlan | None:
        key = (query, operation_name, scopes)
        if key in self._plans:  # None is a cached answer too: the reference path runs it
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = compile_operation(self.schema, query, operation_name, scopes)
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan


@dataclass
class _Run:
    """One execution of a plan: the context and the relations loaded so far, by relation and key.

    follows: the relation the plan follows from a person's city registrations (their payments),
    by the registrations' relation; read in the same statement as the registrations, and kept
    in `read_ahead` until the plan asks for them (only then do they count as read)."""

    context: Context
    follows: dict[int, Relation] = field(default_factory=dict)
    loaded: dict[tuple, dict] = field(default_factory=dict)
    read_ahead: dict[tuple, dict] = field(default_factory=dict)

    async def load(self, relation: Relation, keys: Sequence) -> dict:
        key = relation_key(relation)
        known = self.loaded.setdefault(key, {})
        missing = [k for k in dict.fromkeys(keys) if k not in known]
        ahead = self.read_ahead.get(key)
        if missing and ahead is not None and all(k in ahead for k in missing):
            for k in missing:
                records = known[k] = ahead[k]
                self.context.saw(records)
            return known
        if missing:
            session = self.context.sources[relation.target.source]
            try:
                grouped = await load_related(session, relation, missing, self.context.subject.districts)
            except SourceUnavailable:
                raise Fallback("source unavailable") from None
            for records in grouped.values():
                self.context.saw(records)
            for key in missing:
                known[key] = grouped.get(key, [])
        return known

    async def load_together(self, relations: tuple[Relation, ...], keys: Sequence) -> list[dict]:
        """As load for each relation (of one source), read together where their rows can share a statement."""
        knowns = [self.loaded.setdefault(relation_key(r), {}) for r in relations]
        missing = [k for k in dict.fromkeys(keys) if any(k not in known for known in knowns)]
        if missing:
            session = self.context.sources[relations[0].target.source]
            follows = tuple(self.follows.get(id(r)) for r in relations)
            try:
                found, followed = await load_together(session, relations, missing, self.context.subject.districts,
                                                      follows if any(follows) else ())
            except SourceUnavailable:
                raise Fallback("source unavailable") from None
            for known, grouped in zip(knowns, found, strict=True):
                for records in grouped.values():
                    self.context.saw(records)
                for key in missing:
                    known[key] = grouped.get(key, [])
            for follow, grouped in zip(follows, followed):
                if grouped is not None:
                    self.read_ahead.setdefault(relation_key(follow), {}).update(grouped)
        return knowns

    async def related(self, plan: FieldPlan, parents: list) -> list:
        """The field's value for every parent: each relation it follows loaded once for all parents."""
        wanted: list[tuple[Relation, object] | None] = []
        for parent in parents:
            if plan.ministry_only and parent.ministry is None:
                if "ministry" in parent.unavailable:
                    raise Fallback("source unavailable")
                wanted.append(None)
                continue
            relation = plan.relation_for(parent)
            key = getattr(parent, relation.parent_field) if relation is not None else None
            wanted.append(None if key is None else (relation, key))
        by_relation: dict[int, tuple[Relation, list]] = {}  # relations are told apart by identity
        for item in wanted:
            if item is not None:
                by_relation.setdefault(id(item[0]), (item[0], []))[1].append(item[1])
        results = await _gather([self.load(r, keys) for r, keys in by_relation.values()])
        loaded = dict(zip(by_relation, results, strict=True))
        out = []
        for item in wanted:
            if item is None:
                out.append([] if plan.many else None)
            else:
                records = loaded[id(item[0])][item[1]]
                out.append(records if plan.many else (records[0] if records else None))
        return out

    async def complete_city(self, views: list[PersonView]) -> None:
        """Complete the city registrations of persons listed from the ministry's side, all at once."""
        wanted = [v for v in views if not v.city_complete]
        if not wanted:
            return
        if Scope.CITY_READ in self.context.subject.scopes:
            ids = [v.citizen_id for v in wanted]
            loaded = await self.load_together(CITY_IDENTITY, ids)
            for view in wanted:
                view.city = [record for found in loaded for record in found.get(view.citizen_id, [])]
        for view in wanted:
            view.city_complete = True

    async def complete(self, parents: list, plan: ObjectPlan) -> list[dict]:
        if plan.city_identity:
            await self.complete_city(parents)
        columns: list[list | None] = [None] * len(plan.fields)
        relations = [(i, f) for i, f in enumerate(plan.fields) if f.kind == RELATION]
        if relations:
            loaded = await _gather([self.related(f, parents) for _, f in relations])
            for (i, _), values in zip(relations, loaded, strict=True):
                columns[i] = values
        nested = []
        for i, f in enumerate(plan.fields):
            if f.kind == TYPENAME:
                columns[i] = [f.typename] * len(parents)
                continue
            if f.kind == ATTRIBUTE:
                columns[i] = _attributes(parents, f.attribute)
            elif f.kind == RESOLVER:
                columns[i] = _calls(parents, f)
            if f.mask is not None:
                columns[i] = [f.mask(v) if v is not None else None for v in columns[i]]
            if f.child is None:
                columns[i] = _leaves(columns[i], f)
            else:
                nested.append(i)
        if nested:
            completed = await _gather([self.complete_objects(columns[i], plan.fields[i]) for i in nested])
            for i, values in zip(nested, completed, strict=True):
                columns[i] = values
        keys = [f.key for f in plan.fields]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)] if keys else [{} for _ in parents]

    async def complete_objects(self, values: list, plan: FieldPlan) -> list:
        """Object (or list of objects) values of one field for every parent, completed together."""
        children: list = []
        for value in values:
            if value is None:
                if plan.non_null:
                    raise Fallback("null in a non-null field")
            elif plan.is_list:
                for item in value:
                    if item is None and plan.item_non_null:
                        raise Fallback("null in a non-null list item")
                    children.append(item)
            else:
                children.append(value)
        present = [c for c in children if c is not None]
        done = iter(await self.complete(present, plan.child)) if present else iter(())
        out = []
        for value in values:
            if value is None:
                out.append(None)
            elif plan.is_list:
                out.append([None if item is None else next(done) for item in value])
            else:
                out.append(next(done))
        return out


async def _gather(awaitables: list) -> list:
    """What asyncio.gather gives, with the last coroutine run in the caller's task: a plan's levels
    often have one branch, and a task per branch costs more than many a branch's own work.

    As with gather, a failure leaves the other branches running to their end (their outcome is
    collected, never reported), and cancelling the caller cancels them."""
    if len(awaitables) <= 1:
        return [await a for a in awaitables]
    tasks = [asyncio.ensure_future(a) for a in awaitables[:-1]]
    try:
        last = await awaitables[-1]
        return [*[await task for task in tasks], last]
    except BaseException as exc:
        for task in tasks:
            if isinstance(exc, asyncio.CancelledError):
                task.cancel()
            task.add_done_callback(_collected)  # a branch's own error is retrieved, never left unread
        raise


def _collected(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the caller already failed with its own error


def _attributes(parents: list, name: str) -> list:
    try:
        return [getattr(p, name) for p in parents]
    except Exception:  # noqa: BLE001 - e.g. a ministry-only field while the ministry is down: the reference reports it
        raise Fallback("attribute") from None


def _calls(parents: list, plan: FieldPlan) -> list:
    try:
        if plan.pass_root:
            return [plan.call(p) for p in parents]
        return [plan.call() for _ in parents]
    except Exception:  # noqa: BLE001 - the reference path reports the error
        raise Fallback("resolver") from None


def _serialise(value, plan: FieldPlan):
    if value is None:
        if plan.non_null:
            raise Fallback("null in a non-null field")
        return None
    try:
        serialised = plan.serialize(value)
    except Exception:  # noqa: BLE001 - the reference path reports the error
        raise Fallback("serialise") from None
    if serialised is None or serialised is Undefined:
        raise Fallback("serialise")
    return serialised


def _leaves(values: list, plan: FieldPlan) -> list:
    if not plan.is_list:
        same = plan.passthrough
        if same is not None:
            return [v if v.__class__ is same else _serialise(v, plan) for v in values]
        return [_serialise(v, plan) for v in values]
    item = FieldPlan(plan.key, ATTRIBUTE, non_null=plan.item_non_null, serialize=plan.serialize)
    out = []
    for value in values:
        if value is None:
            if plan.non_null:
                raise Fallback("null in a non-null field")
            out.append(None)
        else:
            out.append([_serialise(v, item) for v in value])
    return out


async def _persons_roots(run: _Run, arguments: list[dict]) -> list:
    context = run.context
    lister = person_lister(context)
    requests = []
    for args in arguments:
        given = args.get("filter")
        person_filter = PersonFilter()
        if given is not None:
            kind = given.get("benefitKind")
            person_filter = listing_filter(context.subject.scopes, given.get("districtCode"), given.get("ageMin"),
                                           given.get("ageMax"), kind.value if kind is not None else None)
        size = page_size(args.get("first"))
        after = decode_cursor(context.cursor_key, PERSON_CURSOR, args.get("after"))
        requests.append((person_filter, size, after))
    pages = await lister.pages(requests)  # all the listings' rounds together
    if any(page.unavailable for page in pages):
        raise Fallback("source unavailable")
    return [connection_row(context, lister, f, page) for (f, _, _), page in zip(requests, pages, strict=True)]


async def _person_roots(run: _Run, arguments: list[dict]) -> list:
    scopes = run.context.subject.scopes
    ids = [args["citizenId"] for args in arguments]

    async def ministry():
        return await run.load(MINISTRY_PERSON, ids) if Scope.MINISTRY_READ in scopes else {}

    async def city():
        return await run.load_together(CITY_IDENTITY, ids) if Scope.CITY_READ in scopes else []

    if not ({Scope.MINISTRY_READ, Scope.CITY_READ} & scopes):
        raise Fallback("no source scope")
    ministry_records, city_records = await _gather([ministry(), city()])
    views = []
    for citizen_id in ids:
        records = ministry_records.get(citizen_id) or []
        view = PersonView(citizen_id=citizen_id, ministry=records[0] if records else None,
                          city=[r for loaded in city_records for r in loaded.get(citizen_id, [])])
        views.append(view if view.ministry is not None or view.city else None)
    return views


async def execute_plan(plan: OperationPlan, schema: GraphQLSchema, context: Context,
                       variables: dict | None) -> ExecutionResult:
    """Run a compiled plan; Fallback when the outcome is not the plain success the plan models."""
    coerced = get_variable_values(schema, plan.operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise Fallback("variables")
    purpose = context.stated_purpose
    context.reads_personal_data = True  # both root fields read personal data (PurposeStated)
    if not (purpose and purpose.strip()):
        raise Fallback("purpose")
    run = _Run(context, plan.follows)
    arguments = []
    try:
        for root in plan.roots:
            arguments.append(get_argument_values(schema.query_type.fields[root.name], root.node, coerced))
        persons = [i for i, root in enumerate(plan.roots) if root.name == "persons"]
        person = [i for i, root in enumerate(plan.roots) if root.name == "person"]
        values: list = [None] * len(plan.roots)
        if persons:
            rows = await _persons_roots(run, [arguments[i] for i in persons])
            for i, row in zip(persons, rows, strict=True):
                values[i] = row
        if person:
            views = await _person_roots(run, [arguments[i] for i in person])
            for i, view in zip(person, views, strict=True):
                values[i] = view
    except GraphQLError:
        raise Fallback("argument") from None
    # Roots with the same selection are completed together: one statement per relation for all of them.
    data: dict[str, Any] = {}
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(plan.roots):
        groups.setdefault(id(root.child), []).append(i)
    completed: dict[int, Any] = {}

    async def complete_group(members: list[int]) -> None:
        present = [i for i in members if values[i] is not None]
        if present:
            dicts = await run.complete([values[i] for i in present], plan.roots[members[0]].child)
            completed.update(zip(present, dicts, strict=True))

    await _gather([complete_group(members) for members in groups.values()])
    for i, root in enumerate(plan.roots):
        data[root.key] = completed.get(i)
    return ExecutionResult(data=data, errors=None)

"""Limits every operation must pass before any resolver runs (so before any database work).

Tokens are limited while parsing (strawberry's MaxTokensLimiter); depth, aliases, fields, root
fields, directives and a static cost estimate are counted here, in one validation rule over the
document with fragments expanded. One static rule keeps validation results cacheable.
"""

from __future__ import annotations

import functools

from graphql import (
    FieldNode,
    GraphQLSchema,
    KnownDirectivesRule,
    NoFragmentCyclesRule,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    parse,
    validate,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache

# Levels of fields, the root field being level 1: seven pass, eight are refused.
MAX_DEPTH = 7
MAX_ALIASES = 100
MAX_TOKENS = 2_000
MAX_FIELDS = 300
MAX_ROOT_FIELDS = 10
MAX_DIRECTIVES = 5
MAX_COST = 50_000
# How many items a list is assumed to hold when the query does not say (connections default to 20).
DEFAULT_LIST_FACTOR = 10
CONNECTION_DEFAULT_PAGE = 20

TOO_COMPLEX = {"code": "QUERY_TOO_COMPLEX"}


def _first_argument(field: FieldNode, variables: dict) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        if isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
        if isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
            return value if isinstance(value, int) else None
    return None


class OperationBudget(ValidationRule):
    """Counts fields, root fields and directives, and estimates cost; refuses what is over budget."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition") and hasattr(f, "name")}
        self.fields = 0
        self.aliases = 0
        self.depth = 0
        self.directives = len(node.directives or ())
        self.cost = 0
        root_fields = self._walk(node.selection_set, fragments, 1, frozenset(), count_roots=True)
        problems = []
        if self.depth > MAX_DEPTH:
            problems.append(f"{self.depth} levels of fields (at most {MAX_DEPTH})")
        if self.aliases > MAX_ALIASES:
            problems.append(f"{self.aliases} aliases (at most {MAX_ALIASES})")
        if root_fields > MAX_ROOT_FIELDS:
            problems.append(f"{root_fields} root fields (at most {MAX_ROOT_FIELDS})")
        if self.fields > MAX_FIELDS:
            problems.append(f"{self.fields} fields (at most {MAX_FIELDS})")
        if self.directives > MAX_DIRECTIVES:
            problems.append(f"{self.directives} directives (at most {MAX_DIRECTIVES})")
        if self.cost > MAX_COST:
            problems.append(f"an estimated cost of {self.cost} (at most {MAX_COST})")
        for problem in problems:
            self.report_error(GraphQLError(f"the operation is too complex: {problem}", node, extensions=TOO_COMPLEX))

    def _walk(self, selection_set: SelectionSetNode | None, fragments, multiplier: int, seen: frozenset,
              count_roots=False, level: int = 1) -> int:
        if selection_set is None:
            return 0
        roots = 0
        for selection in selection_set.selections:
            self.directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                roots += 1
                self.fields += 1
                self.aliases += selection.alias is not None
                self.depth = max(self.depth, level)
                self.cost += multiplier
                child = multiplier
                first = _first_argument(selection, self.context.variable_values if hasattr(self.context, "variable_values") else {})
                if first is not None:
                    child = multiplier * max(first, 1)
                elif selection.name.value in ("edges",):
                    child = multiplier
                elif selection.selection_set is not None and selection.name.value.endswith("s"):
                    child = multiplier * DEFAULT_LIST_FACTOR
                self._walk(selection.selection_set, fragments, min(child, MAX_COST + 1), seen, level=level + 1)
            elif isinstance(selection, InlineFragmentNode):
                roots += self._walk(selection.selection_set, fragments, multiplier, seen, count_roots, level)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:
                    continue  # cycles and unknown fragments are reported by graphql's own rules
                roots += self._walk(fragments[name].selection_set, fragments, multiplier, seen | {name}, count_roots, level)
        return roots


def limit_extensions() -> list:
    # Factories: strawberry builds fresh extension instances for each request. The parse and
    # validation caches make a repeated document cost a dictionary lookup (the rules are static,
    # so a cached validation result is the same answer).
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules([OperationBudget]),
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
    ]


PRECHECK_RULES = (OperationBudget, NoFragmentCyclesRule, KnownDirectivesRule)


@functools.lru_cache(maxsize=1024)
def precheck(schema: GraphQLSchema, query: str) -> tuple[GraphQLError, ...]:
    """The limits, checked before anything else (authentication included), so an abusive document
    costs no database work at all. Parse errors are left to the GraphQL layer to report."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        if "tokens" in error.message:
            return (GraphQLError(error.message, extensions=TOO_COMPLEX),)
        return ()
    return tuple(validate(schema, document, rules=PRECHECK_RULES))

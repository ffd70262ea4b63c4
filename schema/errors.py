"""How errors leave the hub: typed codes, no echoed input values, no internals.

graphql-core quotes the offending value in variable-coercion messages ("found: '1-2345-...'");
for a citizen ID that is personal data, so those parts are cut. Errors that the hub did not
raise on purpose (no extensions.code) are unexpected: they are replaced by a generic message
and logged by type only.
"""

from __future__ import annotations

import logging
import re

import strawberry
from graphql import GraphQLError

log = logging.getLogger("hub.graphql")

_ECHOED_VALUE = [
    re.compile(r"; found: .*$", re.DOTALL),
    re.compile(r" got invalid value .*?;", re.DOTALL),
]
_COERCION = re.compile(r"^Variable '\$\w+'|^Expected value of type|^Argument '")
_LIMITS = re.compile(r"exceeds maximum operation depth|aliases found|more than \d+ tokens", re.IGNORECASE)


def sanitise(error: GraphQLError) -> GraphQLError:
    message = error.message
    for pattern in _ECHOED_VALUE:
        message = pattern.sub(";" if pattern.pattern.startswith(" got") else "", message)
    extensions = dict(error.extensions or {})
    if "code" not in extensions:
        if error.original_error is None and (error.path is None):
            # Parse, validation and variable-coercion errors: the request was at fault.
            if _LIMITS.search(error.message):
                extensions["code"] = "QUERY_TOO_COMPLEX"
            elif _COERCION.search(error.message):
                extensions["code"] = "BAD_USER_INPUT"
            else:
                extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
        elif error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            log.error("unexpected %s at %s", type(error.original_error).__name__, error.path)
            message = "internal error"
            extensions["code"] = "INTERNAL_SERVER_ERROR"
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=None, extensions=extensions)


class HubSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Logged by code and path only: messages may hold values from the request.
        for error in errors:
            log.info("graphql error %s at %s", (error.extensions or {}).get("code"), error.path)

    def _sanitise_result(self, result):
        if result.errors:
            result.errors = [sanitise(e) for e in result.errors]
        return result

    async def execute(self, *args, **kwargs):
        result = await super().execute(*args, **kwargs)
        context = kwargs.get("context_value")
        extra = getattr(context, "partial_errors", None)
        if extra:
            result.errors = [*(result.errors or []), *extra]
        return self._sanitise_result(result)

    def execute_sync(self, *args, **kwargs):
        return self._sanitise_result(super().execute_sync(*args, **kwargs))

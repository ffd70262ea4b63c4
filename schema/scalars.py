"""Scalars of the unified view."""

from __future__ import annotations

from typing import NewType

import strawberry

from hub.thai import InvalidCitizenId, parse_citizen_id


def _parse_citizen_id(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a CitizenId is a string of 13 digits")
    try:
        return parse_citizen_id(value)
    except InvalidCitizenId as exc:
        raise ValueError(f"invalid CitizenId: {exc.reason}") from None


CitizenId = NewType("CitizenId", str)

CITIZEN_ID_SCALAR = strawberry.scalar(
    name="CitizenId",
    description=(
        "A Thai citizen ID: 13 digits with a valid check digit. Input may carry dashes or spaces. "
        "Output is 13 digits to tokens with pii:read, and masked (1-1020-xxxxx-xx-6) otherwise."
    ),
    serialize=str,
    parse_value=_parse_citizen_id,
)


SCALAR_MAP = {CitizenId: CITIZEN_ID_SCALAR}


def parse_citizen_id_argument(value: str) -> str:
    """A citizen ID given inside an input object: the same rule as the scalar, as a typed error."""
    from graphql import GraphQLError

    try:
        return parse_citizen_id(value)
    except InvalidCitizenId as exc:
        raise GraphQLError(f"invalid citizen ID: {exc.reason}", extensions={"code": "BAD_USER_INPUT"}) from None

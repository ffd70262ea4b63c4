"""Relay connections, cursors and page-size limits shared by every list of the unified view."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Generic, TypeVar

import strawberry
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from graphql import GraphQLError

from schema.common import PageInfo

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise GraphQLError(
            f"first must lie between 0 and {MAX_PAGE_SIZE}", extensions={"code": "BAD_USER_INPUT", "argument": "first"}
        )
    return first


def encode_cursor(key: bytes, kind: str, value: str) -> str:
    """A cursor sealed with the hub's cursor key: opaque, so a person list's cursor reveals no citizen ID."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, f"{kind}:{value}".encode(), kind.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decode_cursor(key: bytes, kind: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        prefix, _, value = AESGCM(key).decrypt(raw[:12], raw[12:], kind.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidTag):
        prefix, value = "", ""
    if prefix != kind or not value:
        raise GraphQLError("after is not a cursor of this list", extensions={"code": "BAD_USER_INPUT", "argument": "after"})
    return value


@strawberry.type(description="An item of a list, with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")


def page_info(edges: list, has_next: bool, end_cursor: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=end_cursor,
    )

"""Audit trail types."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.common import PageInfo
from schema.guards import masked


@strawberry.type(description="One audited request: who read or changed whose data, when, why, and the outcome.")
class AuditEntry:
    id: int = strawberry.field(description="Position in the hash chain (1 is the first entry).")
    occurred_at: dt.datetime = strawberry.field(description="When (UTC, whole seconds).")
    request_id: str = strawberry.field(description="The request's id (also sent as X-Request-Id).")
    kind: str = strawberry.field(description="read or write.")
    client_id: str = strawberry.field(description="The OAuth client.")
    subject: str = strawberry.field(description="The token's subject.")
    scopes: list[str] = strawberry.field(description="The token's scopes.")
    purpose: str | None = strawberry.field(description="The purpose stated for the request.")
    operation_name: str | None = strawberry.field(description="The GraphQL operation name, if given.")
    document_hash: str | None = strawberry.field(description="SHA-256 of the GraphQL document.")
    citizen_ids: list[str] = strawberry.field(description="Whose records were read or changed (masked without pii:read).", extensions=masked("citizen_id_list"))
    outcome: str = strawberry.field(description="ok, partial, error or refused.")
    prev_hash: str = strawberry.field(description="Hash of the entry before.")
    entry_hash: str = strawberry.field(description="This entry's hash (covers its fields and prev_hash).")


@strawberry.input(description="Which audit entries to list.")
class AuditFilter:
    client_id: str | None = strawberry.field(default=None, description="Only this client's requests.")
    citizen_id: str | None = strawberry.field(default=None, description="Only requests that touched this person.")
    kind: str | None = strawberry.field(default=None, description="read or write.")
    since: dt.datetime | None = strawberry.field(default=None, description="At or after this time.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before this time.")


@strawberry.type(description="An audit entry in a list, with its cursor.")
class AuditEdge:
    node: AuditEntry = strawberry.field(description="The entry.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")


async def _audit_total(root) -> int:
    return await root.total_count()


@strawberry.type(description="A page of the audit trail, oldest first.")
class AuditConnection:
    edges: list[AuditEdge] = strawberry.field(description="The entries on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(resolver=_audit_total, description="How many entries match.")

"""Sync mutations: inputs in the unified conventions, one typed result per item."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.common import PageInfo
from schema.guards import masked


@strawberry.enum(description="How a batch treats items that fail.")
class SyncMode(Enum):
    PARTIAL = "PARTIAL"
    ALL_OR_NOTHING = "ALL_OR_NOTHING"


@strawberry.type(description="A field of an item that was refused, and why.")
class FieldProblem:
    field: str = strawberry.field(description="The input field.")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="The item was written.")
class Applied:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The record's key in its source (nullable only so every result type agrees).")
    version: int = strawberry.field(description="The record's version after the write.")
    operation: str = strawberry.field(description="create or update.")


@strawberry.type(description="The item was refused because of its content; nothing of it was written.")
class ValidationError:
    index: int = strawberry.field(description="Position of the item in the batch.")
    problems: list[FieldProblem] = strawberry.field(description="Every problem found.")


@strawberry.type(description="The record changed since the version the item was based on (or exists already); nothing was written.")
class VersionConflict:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The record's key.")
    current_version: int | None = strawberry.field(description="The record's current version.")
    reason: str = strawberry.field(description="What conflicted.")


@strawberry.type(description="The record to update does not exist; nothing was written.")
class NotFound:
    index: int = strawberry.field(description="Position of the item in the batch.")
    key: str | None = strawberry.field(description="The key asked for.")


@strawberry.type(description="The client may not write this record (e.g. outside its districts); nothing was written.")
class Forbidden:
    index: int = strawberry.field(description="Position of the item in the batch.")
    reason: str = strawberry.field(description="Why.")


@strawberry.type(description="The item was valid but not written, because another item of an all-or-nothing batch failed.")
class NotApplied:
    index: int = strawberry.field(description="Position of the item in the batch.")
    reason: str = strawberry.field(description="Why.")


ItemResult = Annotated[
    Applied | ValidationError | VersionConflict | NotFound | Forbidden | NotApplied,
    strawberry.union("ItemResult", description="What happened to one item of a batch."),
]


@strawberry.type(description="The outcome of a sync batch.")
class SyncResult:
    idempotency_key: str = strawberry.field(description="The key the batch was sent with.")
    replayed: bool = strawberry.field(description="True when this is the stored result of an earlier identical request.")
    applied: int = strawberry.field(description="How many items were written.")
    failed: int = strawberry.field(description="How many were not.")
    items: list[ItemResult] = strawberry.field(description="One result per item, in order.")


@strawberry.input(description="A person in the ministry's register. Omit expectedVersion to create; give it to update.")
class PersonInput:
    citizen_id: str = strawberry.field(description="13-digit citizen ID (dashes or spaces allowed).")
    nationality: str = strawberry.field(description="ISO 3166 alpha-2, e.g. TH.")
    title: str = strawberry.field(description="Title in Thai.")
    first_name: str = strawberry.field(description="First name in Thai.")
    last_name: str = strawberry.field(description="Last name in Thai.")
    sex: str = strawberry.field(description="MALE or FEMALE.")
    birth_date: str = strawberry.field(description="ISO 8601 date in the common era (not the Buddhist Era).")
    subdistrict_code: str = strawberry.field(description="6-digit DOPA subdistrict code.")
    death_date: str | None = strawberry.field(default=None, description="ISO 8601 date of death, if deceased.")
    household_id: int | None = strawberry.field(default=None, description="The ministry's household number.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="A welfare case (ministry). Omit expectedVersion to create; give it to update.")
class CaseInput:
    case_id: int = strawberry.field(description="The ministry's case number.")
    category: str = strawberry.field(description="HOMELESS, BEGGAR, CHILD, YOUTH, ELDERLY, DISABILITY, WOMEN, FAMILY, VULNERABLE or HOUSING.")
    channel: str = strawberry.field(description="HOTLINE_1300, ONE_HOME, TAMBON_CENTRE, REFERRAL or OUTREACH.")
    status: str = strawberry.field(description="OPEN, IN_PROGRESS, REFERRED or CLOSED.")
    subdistrict_code: str = strawberry.field(description="6-digit DOPA subdistrict code.")
    opened_at: str = strawberry.field(description="ISO 8601 date-time with offset.")
    summary: str = strawberry.field(description="Case summary (special-category data).")
    citizen_id: str | None = strawberry.field(default=None, description="The person concerned, if identified.")
    household_id: int | None = strawberry.field(default=None, description="The household concerned.")
    centre_code: str | None = strawberry.field(default=None, description="The tambon social assistance centre.")
    closed_at: str | None = strawberry.field(default=None, description="ISO 8601 date-time with offset, when closed.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="An allowance registration (city). Omit registrationId to register; give it and expectedVersion to update.")
class AllowanceInput:
    citizen_id: str = strawberry.field(description="13-digit citizen ID; the city stores it in its dashed form.")
    title: str = strawberry.field(description="Title in Thai.")
    first_name: str = strawberry.field(description="First name in Thai.")
    last_name: str = strawberry.field(description="Last name in Thai.")
    birth_date: str = strawberry.field(description="ISO 8601 date in the common era; the city stores it in the Buddhist Era.")
    district_code: str = strawberry.field(description="Bangkok DOPA district code (1001-1050); the city stores its own number.")
    address: str = strawberry.field(description="Address in Thai.")
    fiscal_year: int = strawberry.field(description="Thai fiscal year of registration, Buddhist Era (e.g. 2569).")
    monthly_amount: str = strawberry.field(description="Monthly amount in baht, a decimal string (e.g. \"700.00\").")
    status: str = strawberry.field(description="ACTIVE, SUSPENDED, DECEASED or MOVED.")
    bank_account: str | None = strawberry.field(default=None, description="Account for transfers (special-category data).")
    card_no: str | None = strawberry.field(default=None, description="Disability card number (disability allowance only).")
    registration_id: int | None = strawberry.field(default=None, description="The city's registration number, to update.")
    expected_version: int | None = strawberry.field(default=None, description="The version this update is based on.")


@strawberry.input(description="A monthly allowance payment (city).")
class PaymentInput:
    kind: str = strawberry.field(description="ELDERLY_ALLOWANCE or DISABILITY_ALLOWANCE.")
    registration_id: int = strawberry.field(description="The registration paid.")
    month: str = strawberry.field(description="YYYY-MM in the common era; the city stores a Buddhist-Era YYYYMM.")
    amount: str = strawberry.field(description="Amount in baht, a decimal string.")
    channel: str = strawberry.field(description="CASH or TRANSFER.")
    paid_at: str | None = strawberry.field(default=None, description="ISO 8601 date-time with offset, if paid.")


@strawberry.type(description="One applied change, as the change feed reports it (fetch the record itself to see its data).")
class Change:
    seq: int = strawberry.field(description="Position in the feed.")
    source: str = strawberry.field(description="ministry or city.")
    entity: str = strawberry.field(description="What kind of record changed, e.g. person, elderly_allowance.")
    source_key: str = strawberry.field(description="The source table and key of the record (citizen IDs masked without pii:read).",
                                       extensions=masked("source_key"))
    citizen_id: str | None = strawberry.field(description="The person concerned, if any (masked without pii:read).",
                                              extensions=masked("citizen_id"))
    district_code: str | None = strawberry.field(description="The record's district (DOPA code).")
    operation: str = strawberry.field(description="create or update.")
    version: int = strawberry.field(description="The record's version after the change.")
    changed_fields: list[str] = strawberry.field(description="The source columns written.")
    occurred_at: datetime.datetime = strawberry.field(description="When the change was applied (UTC).")


@strawberry.type(description="A change in the feed, with its cursor.")
class ChangeEdge:
    node: Change = strawberry.field(description="The change.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this change.")


@strawberry.type(description="A page of the change feed, oldest first. Keep endCursor: it is where the next poll starts.")
class ChangeConnection:
    edges: list[ChangeEdge] = strawberry.field(description="The changes on this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

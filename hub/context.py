"""The typed per-request context every resolver reads through strawberry.Info[Context]."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.auth.tokens import Subject
from hub.config import Settings
from hub.databases import Databases
from hub.federation import RequestSources


@dataclass
class Context:
    settings: Settings
    databases: Databases
    subject: Subject
    # The X-Purpose header, if sent; the token's purpose claim is used when it is absent.
    purpose: str | None = None
    # The key that seals list cursors (shared by every hub process through the store).
    cursor_key: bytes = b""
    # This process's circuit breakers, by source name.
    breakers: dict = field(default_factory=dict)
    # One session per source for this request (closed when the response is sent).
    sources: RequestSources | None = None
    # Loaders built for this request only, keyed by what they load.
    loaders: dict = field(default_factory=dict)
    # Errors about data left out (a source down) that do not null any field; added to the response.
    partial_errors: list = field(default_factory=list)
    # Sources found unavailable during this request (each reported once per field path).
    request_outages: list = field(default_factory=list)
    reported_outages: set = field(default_factory=set)
    # For the audit trail: whether personal data was asked for, and whose records were read.
    request_id: str = ""
    reads_personal_data: bool = False
    accessed_citizen_ids: set = field(default_factory=set)
    query: str | None = None
    operation_name: str | None = None
    # Whether the compiled path has had its try (it is not tried twice).
    compiled_tried: bool = False

    def saw(self, records) -> None:
        """Note the citizen IDs of records read for this request (the audit trail lists them)."""
        for record in records:
            citizen_id = getattr(record, "citizen_id", None)
            if citizen_id:
                self.accessed_citizen_ids.add(citizen_id)

    @property
    def stated_purpose(self) -> str | None:
        return self.purpose or self.subject.purpose

"""The typed per-request context every resolver reads through strawberry.Info[Context]."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.auth.tokens import Subject
from hub.config import Settings
from hub.databases import Databases


@dataclass
class Context:
    settings: Settings
    databases: Databases
    subject: Subject
    # The X-Purpose header, if sent; the token's purpose claim is used when it is absent.
    purpose: str | None = None
    # Values kept for the length of one request only (loaders, sessions) live here.
    request_state: dict = field(default_factory=dict)

    @property
    def stated_purpose(self) -> str | None:
        return self.purpose or self.subject.purpose

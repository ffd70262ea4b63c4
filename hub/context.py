"""The typed per-request context every resolver reads through strawberry.Info[Context]."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.config import Settings
from hub.databases import Databases


@dataclass
class Context:
    settings: Settings
    databases: Databases
    # Values kept for the length of one request only (loaders, sessions) live here.
    request_state: dict = field(default_factory=dict)

"""The hub's scopes as one enumeration, the rules on combining them, and the demo personas."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    MINISTRY_READ = "ministry:read"
    CITY_READ = "city:read"
    PII_READ = "pii:read"
    SENSITIVE_READ = "sensitive:read"
    AUDIT_READ = "audit:read"
    MINISTRY_WRITE = "ministry:write"
    CITY_WRITE = "city:write"


WRITE_SCOPES = frozenset({Scope.MINISTRY_WRITE, Scope.CITY_WRITE})
READ_SCOPES = frozenset(Scope) - WRITE_SCOPES


class ScopeError(ValueError):
    """A requested set of scopes that the hub never grants."""


def parse_scopes(text: str | None) -> frozenset[Scope]:
    """A space-separated scope string as a set of Scope; unknown scopes raise ScopeError."""
    scopes = set()
    for item in (text or "").split():
        try:
            scopes.add(Scope(item))
        except ValueError:
            raise ScopeError(f"unknown scope {item!r}") from None
    return frozenset(scopes)


def check_grantable(scopes: frozenset[Scope]) -> None:
    """Auditors are read-only by construction: audit:read never travels with a write scope."""
    if Scope.AUDIT_READ in scopes and scopes & WRITE_SCOPES:
        raise ScopeError("audit:read cannot be combined with a write scope")
    if not scopes:
        raise ScopeError("at least one scope is required")


def format_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(scopes))


# Demo personas for `hub token --persona` on the embedded default.
PERSONAS: dict[str, dict] = {
    "frontend": {
        "scope": frozenset({Scope.MINISTRY_READ, Scope.CITY_READ, Scope.PII_READ}),
        "purpose": "committee dashboard",
    },
    "auditor": {
        "scope": frozenset(
            {Scope.MINISTRY_READ, Scope.CITY_READ, Scope.PII_READ, Scope.SENSITIVE_READ, Scope.AUDIT_READ}
        ),
        "purpose": "audit",
    },
    "ministry-integrator": {
        "scope": frozenset({Scope.MINISTRY_READ, Scope.MINISTRY_WRITE, Scope.PII_READ}),
        "purpose": "ministry sync",
    },
    "city-integrator": {
        "scope": frozenset({Scope.CITY_READ, Scope.CITY_WRITE, Scope.PII_READ}),
        "purpose": "city sync",
    },
}

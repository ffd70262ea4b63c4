"""Access rules declared on the schema: scopes, masking of identity fields, special-category fields, purpose.

Resolvers never test scopes themselves; fields carry these permission classes and extensions.
"""

from __future__ import annotations

import re
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from hub.auth.scopes import Scope
from hub.thai import mask_citizen_id


class HasScope(BasePermission):
    """The token must hold one scope; the error names it."""

    scope: Scope = Scope.MINISTRY_READ
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self) -> None:
        self.message = f"this field requires the scope {self.scope.value}"
        self.error_extensions = {"code": "FORBIDDEN", "scope": self.scope.value}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return self.scope in info.context.subject.scopes


def requires(scope: Scope) -> type[HasScope]:
    return type(f"Requires_{scope.name}", (HasScope,), {"scope": scope})


MinistryRead = requires(Scope.MINISTRY_READ)
CityRead = requires(Scope.CITY_READ)
SensitiveRead = requires(Scope.SENSITIVE_READ)
AuditRead = requires(Scope.AUDIT_READ)
MinistryWrite = requires(Scope.MINISTRY_WRITE)
CityWrite = requires(Scope.CITY_WRITE)


class PurposeStated(BasePermission):
    """Reads of personal data must state why (a purpose claim or an X-Purpose header)."""

    message = "reading personal data requires a purpose: send an X-Purpose header or use a token with a purpose claim"
    error_extensions = {"code": "FORBIDDEN", "reason": "PURPOSE_REQUIRED"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        # Every field behind this permission reads personal data: the request is audited.
        info.context.reads_personal_data = True
        purpose = info.context.stated_purpose
        return bool(purpose and purpose.strip())


_THIRTEEN_DIGITS = re.compile(r"(?<!\d)\d{13}(?!\d)")


def _initial(name: str) -> str:
    return f"{name.strip()[0]}." if name and name.strip() else name


_MASKS = {
    "citizen_id": lambda v: mask_citizen_id(v) if isinstance(v, str) and len(v) == 13 else None,
    "name": _initial,
    "hidden": lambda v: None,
    "citizen_id_list": lambda v: [mask_citizen_id(c) for c in v],
    # A source key may be a citizen ID (the ministry's person table is keyed by it).
    "source_key": lambda v: _THIRTEEN_DIGITS.sub(lambda m: mask_citizen_id(m.group(0)), v),
    "source_key_list": lambda v: [_THIRTEEN_DIGITS.sub(lambda m: mask_citizen_id(m.group(0)), x) for x in v],
}


class Masked(FieldExtension):
    """Without pii:read the value is masked: citizen IDs keep type, office and check digit; names
    become an initial; exact dates and addresses become null (years and districts stay visible)."""

    def __init__(self, kind: str) -> None:
        self.mask = _MASKS[kind]

    def resolve(self, next_, source, info, **kwargs):
        value = next_(source, info, **kwargs)
        return value if Scope.PII_READ in info.context.subject.scopes else self._apply(value)

    async def resolve_async(self, next_, source, info, **kwargs):
        value = await next_(source, info, **kwargs)
        return value if Scope.PII_READ in info.context.subject.scopes else self._apply(value)

    def _apply(self, value):
        if value is None:
            return None
        return self.mask(value)


def masked(kind: str) -> list[FieldExtension]:
    return [Masked(kind)]

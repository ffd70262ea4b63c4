"""Helpers for tests that need real signed tokens from the hub's own key."""

from __future__ import annotations

import asyncio

from hub.auth.keys import current_signing_key
from hub.auth.scopes import Scope, parse_scopes
from hub.auth.tokens import issue_access_token
from hub.config import Settings
from hub.db import create_engine


def mint(settings: Settings, scope: str, *, districts=None, purpose="test", ttl=600, **overrides) -> str:
    """A token signed with the store's current key, as `hub token` would print it."""

    async def run() -> str:
        engine = create_engine(settings.database_url("store"))
        try:
            key = await current_signing_key(engine)
        finally:
            await engine.dispose()
        token, _ = issue_access_token(
            key,
            issuer=overrides.get("issuer", settings.issuer),
            audience=overrides.get("audience", settings.audience),
            client_id=overrides.get("client_id", "test-client"),
            scopes=parse_scopes(scope),
            districts=frozenset(districts) if districts else None,
            purpose=purpose,
            ttl=ttl,
        )
        return token

    return asyncio.run(run())


ALL_READ = " ".join(s.value for s in (Scope.MINISTRY_READ, Scope.CITY_READ, Scope.PII_READ, Scope.SENSITIVE_READ))

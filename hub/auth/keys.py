"""Signing keys in the store: one signs, older ones stay published until their last token expires."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import sqlalchemy as sa
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.store.tables import signing_key

ALGORITHM = "ES256"
# Algorithms a token's header may name; anything else (none, HS*) is refused before any key is used.
ACCEPTED_ALGORITHMS = ("ES256", "RS256")
MAX_TOKEN_TTL = 600
LEEWAY = 60


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite and MariaDB hand back naive datetimes; the store writes UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


async def create_key(store: AsyncEngine) -> str:
    kid = _now().strftime("%Y%m%d") + "-" + secrets.token_hex(6)
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True)
    async with writing(store).begin() as connection:
        await connection.execute(
            sa.insert(signing_key).values(
                kid=kid,
                alg=ALGORITHM,
                private_jwk=json.dumps(key.as_dict(private=True)),
                public_jwk=json.dumps(key.as_dict(private=False)),
                created_at=_now(),
            )
        )
    return kid


async def rotate(store: AsyncEngine) -> str:
    """A new key signs from now on; the old ones stay in the JWKS for one token lifetime plus leeway."""
    now = _now()
    async with writing(store).begin() as connection:
        await connection.execute(
            sa.update(signing_key)
            .where(signing_key.c.retired_at.is_(None))
            .values(retired_at=now, publish_until=now + dt.timedelta(seconds=MAX_TOKEN_TTL + LEEWAY))
        )
    return await create_key(store)


async def current_signing_key(store: AsyncEngine) -> ECKey:
    """The newest unretired key, created on first use."""
    for _ in range(2):
        async with store.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(signing_key.c.private_jwk)
                    .where(signing_key.c.retired_at.is_(None))
                    .order_by(signing_key.c.created_at.desc(), signing_key.c.kid.desc())
                    .limit(1)
                )
            ).first()
        if row is not None:
            return ECKey.import_key(json.loads(row.private_jwk))
        await create_key(store)
    raise RuntimeError("no signing key could be created")


async def published_jwks(store: AsyncEngine) -> dict:
    now = _now()
    async with store.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(signing_key.c.public_jwk, signing_key.c.publish_until).order_by(
                    signing_key.c.created_at.desc()
                )
            )
        ).all()
    keys = [
        json.loads(row.public_jwk)
        for row in rows
        if row.publish_until is None or _aware(row.publish_until) > now
    ]
    return {"keys": keys}


class PublishedKeys:
    """A short-lived per-process copy of the published keys; reloaded when a token names an unknown kid."""

    def __init__(self, store: AsyncEngine, *, max_age: float = 30.0) -> None:
        self.store = store
        self.max_age = max_age
        self._keyset: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._loaded = 0.0

    async def keyset(self, kid: str | None) -> KeySet:
        stale = time.monotonic() - self._loaded > self.max_age
        # An unknown kid triggers a reload at most once a second, so forged kids cannot flood the store.
        unknown = kid is not None and kid not in self._kids and time.monotonic() - self._loaded > 1.0
        if self._keyset is None or stale or unknown:
            jwks = await published_jwks(self.store)
            self._keyset = KeySet.import_key_set(jwks)
            self._kids = frozenset(k.get("kid") for k in jwks["keys"])
            self._loaded = time.monotonic()
        return self._keyset

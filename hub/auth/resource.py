"""The resource-server side: who is presenting which token, checked on every request."""

from __future__ import annotations

import functools
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.keys import LEEWAY, PublishedKeys
from hub.auth.revocation import is_revoked
from hub.auth.tokens import Subject, TokenRejected, check_access_token
from hub.config import Settings


class ExternalKeys:
    """The JWKS of an outside identity provider, fetched over HTTPS and kept for a few minutes."""

    def __init__(self, jwks_url: str, *, max_age: float = 300.0) -> None:
        self.jwks_url = jwks_url
        self.max_age = max_age
        self._keyset: KeySet | None = None
        self._loaded = 0.0

    async def keyset(self, kid: str | None) -> KeySet:
        if self._keyset is None or time.monotonic() - self._loaded > self.max_age:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                self._keyset = KeySet.import_key_set(response.json())
            self._loaded = time.monotonic()
        return self._keyset


def _peek(token: str) -> tuple[str | None, str | None]:
    """The kid and iss of an unverified token, only to choose which keys to verify it with."""
    try:
        compact = jws.extract_compact(token.encode())
    except Exception:  # noqa: BLE001 - any malformed token is simply rejected later
        raise TokenRejected("malformed token") from None
    try:
        claims = json.loads(compact.payload)
    except ValueError:
        raise TokenRejected("malformed token") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return compact.headers().get("kid"), issuer if isinstance(issuer, str) else None


# Tokens whose signature and claims were verified, kept so that a client's next requests skip the
# signature check (an ECDSA verification is the costliest step of authenticating a request).
VERIFIED_TOKENS_KEPT = 4096


class Authenticator:
    def __init__(self, settings: Settings, store: AsyncEngine) -> None:
        self.settings = settings
        # token -> (the key set it was verified with, its subject, its key id); see _verified_subject.
        self._verified: OrderedDict[str, tuple[KeySet, Subject, str | None]] = OrderedDict()
        self.own_keys = PublishedKeys(store)
        # How a token id is checked against the revoked ones; the running app sets the batched
        # lookup of its RequestLedger, which gives the same answers.
        self.revocation_lookup: Callable[[str], Awaitable[bool]] = functools.partial(is_revoked, store)
        self.external_keys = (
            ExternalKeys(settings.external_jwks_url)
            if settings.external_issuer and settings.external_jwks_url
            else None
        )

    async def authenticate(self, authorization: str | None, *, check_revocation: bool = True) -> Subject:
        """The subject of a valid bearer token. Without check_revocation the caller checks the
        token id against the revoked ones itself (the GraphQL endpoint does it with its rate count)."""
        if not authorization:
            raise TokenRejected("missing")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("not a bearer token")
        token = token.strip()
        known = self._verified.get(token)
        # A token verified before: its key id and issuer are known without decoding it again.
        kid, issuer = (known[2], known[1].issuer) if known is not None else _peek(token)
        if self.external_keys is not None and issuer == self.settings.external_issuer:
            try:
                keyset = await self.external_keys.keyset(kid)
            except (httpx.HTTPError, ValueError, JoseError):
                raise TokenRejected("identity provider keys unavailable") from None
            expected_issuer = self.settings.external_issuer
        else:
            try:
                keyset = await self.own_keys.keyset(kid)
            except JoseError:
                raise TokenRejected("no signing keys published yet") from None
            expected_issuer = self.settings.issuer
        subject = self._verified_subject(token, keyset)
        if subject is None:
            subject = check_access_token(token, keyset, issuer=expected_issuer, audience=self.settings.audience)
            self._verified[token] = (keyset, subject, kid)
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        if check_revocation and await self.revocation_lookup(subject.jti):
            raise TokenRejected("revoked")
        return subject

    def _verified_subject(self, token: str, keyset: KeySet) -> Subject | None:
        """The subject of a token verified before, if nothing since can change the verdict.

        The token's bytes are the cache key, so the signature and every claim are what was
        checked; the key set must be the very one it was checked with (a reloaded set, after a
        key was withdrawn, checks the token again); and the expiry is checked anew. Issuer,
        audience, type and lifetime do not change with time. Revocation is never cached: the
        caller checks it on every request.
        """
        known = self._verified.get(token)
        if known is None:
            return None
        verified_with, subject, _ = known
        if verified_with is not keyset or int(time.time()) >= subject.expires_at + LEEWAY:
            del self._verified[token]
            return None
        return subject

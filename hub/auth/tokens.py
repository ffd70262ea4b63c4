"""JWT access tokens (RFC 9068): issuing them, and checking the ones presented to the hub."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from hub.auth.keys import ACCEPTED_ALGORITHMS, ALGORITHM, LEEWAY, MAX_TOKEN_TTL
from hub.auth.scopes import Scope, format_scopes, parse_scopes, ScopeError

ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")


class TokenRejected(Exception):
    """A presented token the hub does not accept; the reason is for logs and metrics, not for clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Subject:
    """Who is asking: the checked claims of an access token."""

    issuer: str
    subject: str
    client_id: str
    scopes: frozenset[Scope]
    districts: frozenset[str] | None
    purpose: str | None
    jti: str
    expires_at: int

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


def issue_access_token(
    key: ECKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    scopes: frozenset[Scope],
    districts: frozenset[str] | None = None,
    purpose: str | None = None,
    ttl: int = MAX_TOKEN_TTL,
    subject: str | None = None,
) -> tuple[str, dict]:
    if not 0 < ttl <= MAX_TOKEN_TTL:
        raise ValueError(f"a token lives between 1 and {MAX_TOKEN_TTL} seconds")
    now = int(time.time())
    claims: dict = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or client_id,
        "client_id": client_id,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(18),
        "scope": format_scopes(scopes),
    }
    if districts:
        claims["districts"] = sorted(districts)
    if purpose:
        claims["purpose"] = purpose
    header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM]), claims


def _districts_claim(value) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.isdigit() and len(v) == 4 for v in value):
        raise TokenRejected("malformed districts claim")
    return frozenset(value)


def check_access_token(
    token: str, keyset: KeySet, *, issuer: str, audience: str, now: int | None = None
) -> Subject:
    """Verify signature, type and claims; raises TokenRejected. Revocation is checked by the caller."""
    try:
        decoded = jwt.decode(token, keyset, algorithms=list(ACCEPTED_ALGORITHMS))
    except JoseError as exc:
        raise TokenRejected(f"signature or format: {exc.error}") from None
    except (ValueError, TypeError, KeyError):
        raise TokenRejected("malformed token") from None
    if str(decoded.header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise TokenRejected("not an access token (typ must be at+jwt)")
    claims = decoded.claims
    current = int(time.time()) if now is None else now
    registry = jwt.JWTClaimsRegistry(
        now=current,
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
        client_id={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise TokenRejected(f"claims: {exc.error} {getattr(exc, 'claim', '')}".strip()) from None
    iat = claims["iat"]
    if not isinstance(iat, int) or iat > current + LEEWAY:
        raise TokenRejected("issued in the future")
    if not isinstance(claims["exp"], int) or claims["exp"] - iat > MAX_TOKEN_TTL + LEEWAY:
        raise TokenRejected("lifetime longer than the hub allows")
    try:
        scopes = parse_scopes(claims.get("scope") if isinstance(claims.get("scope"), str) else None)
    except ScopeError:
        raise TokenRejected("unknown scope") from None
    purpose = claims.get("purpose")
    if purpose is not None and not isinstance(purpose, str):
        raise TokenRejected("malformed purpose claim")
    return Subject(
        issuer=claims["iss"],
        subject=str(claims["sub"]),
        client_id=str(claims["client_id"]),
        scopes=scopes,
        districts=_districts_claim(claims.get("districts")),
        purpose=purpose,
        jti=str(claims["jti"]),
        expires_at=int(claims["exp"]),
    )

"""OAuth clients kept in the store: created with a one-time secret, listed, revoked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import writing

from hub.auth.scopes import Scope, check_grantable, format_scopes, parse_scopes
from hub.auth.secrets import hash_secret, new_client_id, new_secret, verify_secret
from hub import geography
from hub.store.tables import oauth_client


class ClientError(ValueError):
    """A client that cannot be created as asked."""


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    scopes: frozenset[Scope]
    districts: frozenset[str] | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    secret_hash: str

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def check_secret(self, secret: str) -> bool:
        return verify_secret(secret, self.secret_hash)


def parse_districts(text: str | None) -> frozenset[str] | None:
    """'1001,1002' as a set of DOPA district codes; each must be a known district."""
    if not text:
        return None
    codes = frozenset(part.strip() for part in text.replace(" ", ",").split(",") if part.strip())
    unknown = sorted(code for code in codes if geography.district(code) is None)
    if unknown:
        raise ClientError(f"unknown district codes: {', '.join(unknown)}")
    return codes


def _row_to_client(row) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        scopes=parse_scopes(row.scope),
        districts=frozenset(row.districts.split(",")) if row.districts else None,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        secret_hash=row.secret_hash,
    )


async def create_client(
    store: AsyncEngine, *, name: str, scope: str, districts: str | None = None
) -> tuple[Client, str]:
    """Returns the client and its secret; the secret is shown once and only its hash is kept."""
    scopes = parse_scopes(scope)
    check_grantable(scopes)
    district_codes = parse_districts(districts)
    if not name.strip():
        raise ClientError("a client needs a name")
    secret = new_secret()
    values = dict(
        client_id=new_client_id(),
        name=name.strip(),
        secret_hash=hash_secret(secret),
        scope=format_scopes(scopes),
        districts=",".join(sorted(district_codes)) if district_codes else None,
        created_at=dt.datetime.now(dt.UTC),
        revoked_at=None,
    )
    async with writing(store).begin() as connection:
        await connection.execute(sa.insert(oauth_client).values(**values))
    return _row_to_client(SimpleNamespace(**values)), secret


async def get_client(store: AsyncEngine, client_id: str) -> Client | None:
    async with store.connect() as connection:
        row = (await connection.execute(sa.select(oauth_client).where(oauth_client.c.client_id == client_id))).first()
    return _row_to_client(row) if row else None


async def list_clients(store: AsyncEngine) -> list[Client]:
    async with store.connect() as connection:
        rows = (await connection.execute(sa.select(oauth_client).order_by(oauth_client.c.created_at))).all()
    return [_row_to_client(row) for row in rows]


async def revoke_client(store: AsyncEngine, client_id: str) -> bool:
    async with writing(store).begin() as connection:
        result = await connection.execute(
            sa.update(oauth_client)
            .where(oauth_client.c.client_id == client_id, oauth_client.c.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    return result.rowcount == 1

"""The authorization server and the resource-server check, with real signed tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.testclient import TestClient

from hub.app import create_app
from hub.auth.clients import create_client
from hub.auth.keys import current_signing_key, rotate
from hub.auth.scopes import ScopeError
from hub.db import create_engine
from tests.conftest import settings_for

DISTRICTS_QUERY = {"query": '{ districts(provinceCode: "10") { code } }'}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def run(coro):
    return asyncio.run(coro)


async def _with_store(settings, work):
    engine = create_engine(settings.database_url("store"))
    try:
        return await work(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def settings(migrated_databases):
    return settings_for(migrated_databases.urls)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def registered(settings):
    """An integrator client with its one-time secret."""
    return run(
        _with_store(
            settings,
            lambda store: create_client(store, name="district system", scope="city:read city:write pii:read"),
        )
    )


def signing_key(settings) -> ECKey:
    return run(_with_store(settings, current_signing_key))


def good_claims(settings, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": "test",
        "client_id": "test",
        "iat": now,
        "exp": now + 300,
        "jti": f"jti-{now}-{id(changes)}",
        "scope": "ministry:read",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign(key: ECKey, claims: dict, **header) -> str:
    head = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    head.update(header)
    head = {k: v for k, v in head.items() if v is not None}
    return jwt.encode(head, claims, key, algorithms=["ES256"])


def graphql(client, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/graphql", json=DISTRICTS_QUERY, headers=headers)


def assert_refused(response):
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


def test_a_good_token_is_accepted(client, settings):
    response = graphql(client, sign(signing_key(settings), good_claims(settings)))
    assert response.status_code == 200
    assert len(response.json()["data"]["districts"]) == 50


def test_no_token_gives_401_without_error_code(client):
    response = graphql(client, None)
    assert_refused(response)
    assert response.headers["www-authenticate"] == 'Bearer realm="hub"'


def test_alg_none_is_refused(client, settings):
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": signing_key(settings).kid}).encode())
    payload = b64(json.dumps(good_claims(settings)).encode())
    assert_refused(graphql(client, f"{header}.{payload}."))


def test_hs256_signed_with_the_public_key_is_refused(client, settings):
    key = signing_key(settings)
    public = json.dumps(key.as_dict(private=False)).encode()
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}).encode())
    payload = b64(json.dumps(good_claims(settings)).encode())
    signature = b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    response = graphql(client, f"{header}.{payload}.{signature}")
    assert_refused(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_unknown_kid_is_refused(client, settings):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "not-ours", "alg": "ES256"}, private=True)
    assert_refused(graphql(client, sign(stranger, good_claims(settings))))


def test_own_kid_with_a_strangers_signature_is_refused(client, settings):
    stranger = ECKey.generate_key("P-256", parameters={"kid": signing_key(settings).kid}, private=True)
    assert_refused(graphql(client, sign(stranger, good_claims(settings))))


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://elsewhere.example"},
        {"aud": "another-api"},
        {"exp": int(time.time()) - 120, "iat": int(time.time()) - 400},
        {"iat": int(time.time()) + 600, "exp": int(time.time()) + 900},
        {"exp": None},
        {"jti": None},
        {"client_id": None},
        {"scope": "ministry:read root:all"},
        {"exp": int(time.time()) + 86400},
    ],
    ids=["wrong-iss", "wrong-aud", "expired", "iat-in-future", "no-exp", "no-jti", "no-client-id", "unknown-scope", "too-long-lived"],
)
def test_bad_claims_are_refused(client, settings, changes):
    assert_refused(graphql(client, sign(signing_key(settings), good_claims(settings, **changes))))


def test_clock_skew_within_leeway_is_accepted(client, settings):
    now = int(time.time())
    claims = good_claims(settings, iat=now + 30, exp=now + 330)
    assert graphql(client, sign(signing_key(settings), claims)).status_code == 200


def test_missing_typ_is_refused(client, settings):
    assert_refused(graphql(client, sign(signing_key(settings), good_claims(settings), typ=None)))


def test_an_id_token_is_refused(client, settings):
    claims = good_claims(settings, nonce="n-0S6", auth_time=int(time.time()), aud=settings.audience)
    assert_refused(graphql(client, sign(signing_key(settings), claims, typ="JWT")))


def test_a_tampered_payload_is_refused(client, settings):
    token = sign(signing_key(settings), good_claims(settings))
    header, _, signature = token.split(".")
    forged = b64(json.dumps(good_claims(settings, scope="ministry:read pii:read sensitive:read")).encode())
    assert_refused(graphql(client, f"{header}.{forged}.{signature}"))


def test_garbage_is_refused(client):
    for junk in ("x", "a.b.c", "Basic abc", "Bearer"):
        response = client.post("/graphql", json=DISTRICTS_QUERY, headers={"Authorization": junk})
        assert response.status_code == 401


def _token(client, registered, *, how="basic", **form):
    client_record, secret = registered
    data = {"grant_type": "client_credentials", **form}
    if how == "basic":
        return client.post("/oauth/token", data=data, auth=(client_record.client_id, secret))
    data.update(client_id=client_record.client_id, client_secret=secret)
    return client.post("/oauth/token", data=data)


@pytest.mark.parametrize("how", ["basic", "post"])
def test_client_credentials_grant(client, registered, settings, how):
    response = _token(client, registered, how=how, scope="city:read")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "city:read"
    assert 0 < body["expires_in"] <= 600
    decoded = jwt.decode(body["access_token"], signing_key(settings), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    claims = decoded.claims
    assert claims["iss"] == settings.issuer and claims["aud"] == settings.audience
    assert claims["client_id"] == claims["sub"] == registered[0].client_id
    assert claims["exp"] - claims["iat"] <= 600 and claims["jti"]
    assert graphql(client, body["access_token"]).status_code == 200


def test_token_without_scope_gets_the_clients_scopes(client, registered):
    body = _token(client, registered).json()
    assert set(body["scope"].split()) == {"city:read", "city:write", "pii:read"}


def test_scopes_beyond_the_clients_are_not_granted(client, registered):
    response = _token(client, registered, scope="ministry:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_wrong_secret_is_refused(client, registered):
    client_record, _ = registered
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_record.client_id, "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unsupported_grant(client, registered):
    response = _token(client, registered, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_secrets_are_stored_only_as_hashes(settings, registered):
    client_record, secret = registered
    assert secret not in client_record.secret_hash
    assert client_record.secret_hash.startswith("scrypt$")
    assert client_record.check_secret(secret) and not client_record.check_secret(secret + "x")


def test_auditor_clients_cannot_hold_write_scopes(settings):
    with pytest.raises(ScopeError):
        run(_with_store(settings, lambda store: create_client(store, name="a", scope="audit:read city:write")))


def test_revoked_token_is_refused(client, registered):
    token = _token(client, registered).json()["access_token"]
    assert graphql(client, token).status_code == 200
    client_record, secret = registered
    response = client.post("/oauth/revoke", data={"token": token}, auth=(client_record.client_id, secret))
    assert response.status_code == 200
    assert_refused(graphql(client, token))


def test_a_client_cannot_revoke_another_clients_token(client, registered, settings):
    other, other_secret = run(_with_store(settings, lambda s: create_client(s, name="other", scope="city:read")))
    token = _token(client, registered).json()["access_token"]
    client.post("/oauth/revoke", data={"token": token}, auth=(other.client_id, other_secret))
    assert graphql(client, token).status_code == 200


def test_introspection(client, registered):
    token = _token(client, registered, scope="city:read").json()["access_token"]
    client_record, secret = registered
    active = client.post("/oauth/introspect", data={"token": token}, auth=(client_record.client_id, secret)).json()
    assert active["active"] is True and active["scope"] == "city:read"
    assert active["client_id"] == client_record.client_id
    inactive = client.post("/oauth/introspect", data={"token": "nonsense"}, auth=(client_record.client_id, secret))
    assert inactive.json() == {"active": False}
    unauthenticated = client.post("/oauth/introspect", data={"token": token})
    assert unauthenticated.status_code == 401


def test_metadata_and_jwks(client, settings):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == settings.issuer
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    jwks = client.get("/.well-known/jwks.json").json()
    kids = {k["kid"] for k in jwks["keys"]}
    assert signing_key(settings).kid in kids
    assert all("d" not in k for k in jwks["keys"])  # no private parts


def test_key_rotation_keeps_old_tokens_valid(client, settings):
    old_key = signing_key(settings)
    old_token = sign(old_key, good_claims(settings))
    new_kid = run(_with_store(settings, rotate))
    assert signing_key(settings).kid == new_kid
    new_token = sign(signing_key(settings), good_claims(settings))
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {old_key.kid, new_kid} <= kids
    assert graphql(client, old_token).status_code == 200
    assert graphql(client, new_token).status_code == 200


def test_a_revoked_client_gets_no_token(client, settings):
    from hub.auth.clients import revoke_client

    record, secret = run(_with_store(settings, lambda s: create_client(s, name="old", scope="city:read")))
    run(_with_store(settings, lambda s: revoke_client(s, record.client_id)))
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(record.client_id, secret))
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "unauthorized_client")


def test_district_limited_client_gets_a_district_claim(client, settings):
    record, secret = run(
        _with_store(settings, lambda s: create_client(s, name="khet", scope="city:read", districts="1001,1002"))
    )
    body = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "purpose": "case work"}, auth=(record.client_id, secret)
    ).json()
    claims = jwt.decode(body["access_token"], signing_key(settings), algorithms=["ES256"]).claims
    assert claims["districts"] == ["1001", "1002"]
    assert claims["purpose"] == "case work"


def test_repeated_form_parameters_are_refused(client, registered):
    record, secret = registered
    response = client.post(
        "/oauth/token",
        content="grant_type=client_credentials&scope=city:read&scope=city:write",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(record.client_id, secret),
    )
    assert response.status_code == 400


def _authenticator_run(settings, work):
    """work(authenticator, store) with an Authenticator on its own store engine."""
    from hub.auth.resource import Authenticator

    return run(_with_store(settings, lambda store: work(Authenticator(settings, store), store)))


def test_a_verified_token_is_checked_again_once_it_expires(settings, monkeypatch):
    from hub.auth import resource
    from hub.auth.keys import LEEWAY
    from hub.auth.tokens import TokenRejected

    now = int(time.time())
    token = sign(signing_key(settings), good_claims(settings, iat=now, exp=now + 30))

    async def work(authenticator, _store):
        first = await authenticator.authenticate(f"Bearer {token}", check_revocation=False)
        again = await authenticator.authenticate(f"Bearer {token}", check_revocation=False)
        assert again == first
        later = now + 30 + LEEWAY
        monkeypatch.setattr(resource.time, "time", lambda: later)
        with pytest.raises(TokenRejected, match="exp"):
            await authenticator.authenticate(f"Bearer {token}", check_revocation=False)

    _authenticator_run(settings, work)


def test_a_verified_token_is_refused_once_its_key_is_withdrawn(settings):
    import datetime as dt

    import sqlalchemy as sa

    from hub.auth.tokens import TokenRejected
    from hub.db import writing
    from hub.store.tables import signing_key as signing_key_table

    old_key = signing_key(settings)
    token = sign(old_key, good_claims(settings))

    async def work(authenticator, store):
        await authenticator.authenticate(f"Bearer {token}", check_revocation=False)
        await rotate(store)
        async with writing(store).begin() as connection:  # withdrawn at once, as after a key compromise
            await connection.execute(
                sa.update(signing_key_table).where(signing_key_table.c.kid == old_key.kid)
                .values(publish_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        authenticator.own_keys._loaded = 0.0  # the published keys are read again (normally after max_age)
        with pytest.raises(TokenRejected):
            await authenticator.authenticate(f"Bearer {token}", check_revocation=False)

    _authenticator_run(settings, work)

"""Tokens from an outside identity provider (issuer + JWKS URL), checked as strictly as the hub's own."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.testclient import TestClient

from hub.app import create_app
from tests.conftest import settings_for

ISSUER = "https://idp.example/realms/welfare"
QUERY = {"query": '{ districts(provinceCode: "10") { code } }'}


@pytest.fixture(scope="module")
def idp():
    key = RSAKey.generate_key(2048, parameters={"kid": "idp-1", "alg": "RS256", "use": "sig"}, private=True)
    jwks = json.dumps({"keys": [key.as_dict(private=False)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200 if self.path == "/jwks" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(jwks if self.path == "/jwks" else b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()


@pytest.fixture
def client(migrated_databases, idp):
    _, jwks_url = idp
    settings = settings_for(migrated_databases.urls, external_issuer=ISSUER, external_jwks_url=jwks_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client, settings


def idp_token(key, settings, typ="at+jwt", **changes):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": settings.audience, "sub": "officer-17", "client_id": "district-portal",
              "iat": now, "exp": now + 300, "jti": f"idp-{now}-{len(changes)}-{typ}", "scope": "ministry:read"}
    claims.update(changes)
    return jwt.encode({"alg": "RS256", "typ": typ, "kid": key.kid}, claims, key, algorithms=["RS256"])


def test_a_token_from_the_identity_provider_is_accepted(client, idp):
    test_client, settings = client
    key, _ = idp
    response = test_client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {idp_token(key, settings)}"})
    assert response.status_code == 200 and len(response.json()["data"]["districts"]) == 50


@pytest.mark.parametrize("typ, changes", [
    ("JWT", {}),                                 # a plain JWT (e.g. an ID token), not an access token
    ("at+jwt", {"aud": "account"}),              # meant for another audience
    ("at+jwt", {"iss": "https://idp.example/realms/other"}),  # another realm: the hub's own keys are tried and fail
    ("at+jwt", {"exp": int(time.time()) - 100}),
])
def test_bad_identity_provider_tokens_are_refused(client, idp, typ, changes):
    test_client, settings = client
    key, _ = idp
    response = test_client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {idp_token(key, settings, typ, **changes)}"})
    assert response.status_code == 401


def test_the_identity_providers_issuer_with_another_key_is_refused(client):
    test_client, settings = client
    impostor = RSAKey.generate_key(2048, parameters={"kid": "idp-1"}, private=True)
    response = test_client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {idp_token(impostor, settings)}"})
    assert response.status_code == 401

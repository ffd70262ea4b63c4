"""The hub command line: tokens, clients, migrations, audit verification."""

from __future__ import annotations

import pytest
from joserfc import jwt

from hub.cli import main


@pytest.fixture
def env(migrated_databases, monkeypatch):
    for name, url in migrated_databases.urls.items():
        monkeypatch.setenv(f"HUB_{name.upper()}_URL", url)
    monkeypatch.delenv("HUB_ENV", raising=False)
    return migrated_databases


def _claims(token: str) -> dict:
    import base64
    import json

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_for_a_persona(env, capsys):
    assert main(["token", "--persona", "auditor"]) == 0
    claims = _claims(capsys.readouterr().out.strip())
    assert "audit:read" in claims["scope"] and "write" not in claims["scope"]
    assert claims["exp"] - claims["iat"] == 600


def test_token_with_scopes_districts_purpose_and_ttl(env, capsys):
    assert main(["token", "--scope", "city:read pii:read", "--districts", "1001,1002", "--purpose", "case work", "--ttl", "120"]) == 0
    claims = _claims(capsys.readouterr().out.strip())
    assert claims["scope"] == "city:read pii:read" and claims["districts"] == ["1001", "1002"]
    assert claims["purpose"] == "case work" and claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize("args", [
    ["token", "--scope", "audit:read city:write"],
    ["token", "--scope", "ministry:read root:everything"],
    ["token", "--scope", "city:read", "--districts", "9999"],
    ["token", "--scope", "city:read", "--ttl", "3600"],
    ["clients", "create", "--name", "auditor-and-writer", "--scope", "audit:read ministry:write"],
])
def test_what_is_never_granted(env, args, capsys):
    assert main(args) == 2
    assert capsys.readouterr().out == ""


def test_no_local_tokens_in_production(env, monkeypatch, capsys):
    monkeypatch.setenv("HUB_ENV", "production")
    assert main(["token", "--persona", "frontend"]) == 2


def test_clients_create_list_revoke(env, capsys):
    assert main(["clients", "create", "--name", "Bang Rak district system", "--scope", "city:read city:write", "--districts", "1004"]) == 0
    out = capsys.readouterr().out
    client_id = out.split("client_id:")[1].split()[0]
    secret = out.split("client_secret:")[1].split()[0]
    assert main(["clients", "list"]) == 0
    listing = capsys.readouterr().out
    assert client_id in listing and "districts=1004" in listing and secret not in listing
    assert main(["clients", "revoke", client_id]) == 0
    assert main(["clients", "revoke", client_id]) == 1


def test_migrate_reports_revisions(env, capsys):
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert "ministry: at revision m0002" in out and "city: at revision c0002" in out and "store: at revision" in out


def test_an_auditor_token_cannot_change_anything(env, capsys):
    from starlette.testclient import TestClient

    from hub.app import create_app
    from tests.conftest import settings_for

    main(["token", "--persona", "auditor"])
    token = capsys.readouterr().out.strip()
    with TestClient(create_app(settings_for(env.urls))) as client:
        response = client.post("/graphql", json={"query": "mutation { syncPersons(items: []) { __typename } }"},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.json().get("data") is None and response.json()["errors"]

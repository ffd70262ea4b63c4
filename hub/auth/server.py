"""The authorization server's HTTP side: token (client credentials), revocation, introspection, metadata, JWKS.

The token endpoint runs authlib's client-credentials grant. authlib's flow is synchronous, so
the client record and the signing key are fetched from the store first and the flow then runs
in a worker thread (scrypt secret checks take tens of milliseconds of CPU).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from urllib.parse import parse_qsl, unquote

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InsecureTransportError, InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list
from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.clients import Client, get_client
from hub.auth.keys import MAX_TOKEN_TTL, current_signing_key, published_jwks
from hub.auth.revocation import revoke
from hub.auth.scopes import Scope, ScopeError, check_grantable
from hub.auth.tokens import TokenRejected, issue_access_token
from hub.config import Environment, Settings

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _ClientModel(ClientMixin):
    """The store's client as authlib's ClientMixin sees it."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self):
        return self.client.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = {s.value for s in self.client.scopes}
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(sorted(s for s in scope_to_list(scope) if s in allowed))

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return self.client.active and self.client.check_secret(client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in AUTH_METHODS

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials" and self.client.active


class _ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _TokenServer(AuthorizationServer):
    """One per token request: it holds that request's client and signing key, nothing shared."""

    def __init__(self, settings: Settings, client: Client | None, key: ECKey, purpose: str | None) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.settings = settings
        self._client = _ClientModel(client) if client else None
        self._key = key
        self._purpose = purpose
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id):
        if self._client is not None and self._client.get_client_id() == client_id:
            return self._client
        return None

    def save_token(self, token, request):
        # Access tokens are self-contained JWTs; revocation keeps only their ids.
        return None

    def create_oauth2_request(self, request):
        return request

    def send_signal(self, name, *args, **kwargs):
        # authlib's hooks (after_authenticate_client, ...) carry nothing the hub acts on.
        return None

    def handle_response(self, status, body, headers):
        headers = dict(headers)
        headers.update(NO_STORE)
        return JSONResponse(body, status_code=status, headers=headers)

    def _generate(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        # authlib hands over the scope as requested; the client's registration bounds it here.
        allowed = set(scope_to_list(client.get_allowed_scope(None)))
        requested = set(scope_to_list(scope or "")) or allowed
        if not requested <= allowed:
            raise InvalidScopeError("the client is not registered for all of the requested scopes")
        scopes = frozenset(Scope(s) for s in requested)
        try:
            check_grantable(scopes)
        except ScopeError as exc:
            raise InvalidScopeError(str(exc)) from None
        token, claims = issue_access_token(
            self._key,
            issuer=self.settings.issuer,
            audience=self.settings.audience,
            client_id=client.get_client_id(),
            scopes=scopes,
            districts=client.client.districts,
            purpose=self._purpose,
            ttl=MAX_TOKEN_TTL,
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": claims["exp"] - claims["iat"],
            "scope": claims["scope"],
        }


class _FormRequest(OAuth2Request):
    """A token request whose url-encoded body has already been read."""

    def __init__(self, uri: str, form: dict[str, str], headers) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self):
        return self._form

    @property
    def args(self):
        return {}


def _client_id_from(request_headers, form: dict) -> str | None:
    authorization = request_headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, _ = decoded.partition(":")
        return unquote(client_id)
    return form.get("client_id")


MAX_FORM_BYTES = 16 * 1024


async def _form(request: Request) -> dict[str, str] | None:
    """The url-encoded body; None if it is not one, is too large, or repeats a parameter (RFC 6749 3.1)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    if len(form) != len(pairs):
        return None
    return form


def _oauth_error(error: str, status: int = 400, description: str | None = None) -> JSONResponse:
    body = {"error": error}
    if description:
        body["error_description"] = description
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="hub"'
    return JSONResponse(body, status_code=status, headers=headers)


async def token_endpoint(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _oauth_error("invalid_request", description="use application/x-www-form-urlencoded")
    state = request.app.state
    client_id = _client_id_from(request.headers, form)
    client = await get_client(state.databases["store"], client_id) if client_id else None
    key = await current_signing_key(state.databases["store"])
    uri = str(request.url)
    if state.settings.env is Environment.DEMO and request.url.scheme == "http":
        # The demo serves plain HTTP on loopback; in production TLS (or a proxy's
        # X-Forwarded-Proto, which uvicorn honours) must make the request https.
        uri = "https" + uri[len("http") :]
    try:
        oauth_request = _FormRequest(uri, form, request.headers)
    except InsecureTransportError:
        return _oauth_error("invalid_request", description="the token endpoint requires https")
    server = _TokenServer(state.settings, client, key, form.get("purpose") or None)
    response = await asyncio.to_thread(server.create_token_response, oauth_request)
    if response.status_code == 200:
        state.metrics.tokens.labels("issued", "client_credentials").inc()
    else:
        state.metrics.tokens.labels("refused", json.loads(response.body).get("error", "unknown")).inc()
    return response


async def _authenticate_client(request: Request, form: dict) -> Client | None:
    """client_secret_basic or client_secret_post, for the revocation and introspection endpoints."""
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, secret = unquote(client_id), unquote(secret)
    else:
        client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not secret:
        return None
    client = await get_client(request.app.state.databases["store"], client_id)
    if client is None or not client.active:
        return None
    if not await asyncio.to_thread(client.check_secret, secret):
        return None
    return client


async def revocation_endpoint(request: Request) -> Response:
    """RFC 7009: the client revokes one of its own tokens; the answer is 200 whether or not it was valid."""
    form = await _form(request)
    if form is None or "token" not in form:
        return _oauth_error("invalid_request")
    client = await _authenticate_client(request, form)
    if client is None:
        return _oauth_error("invalid_client", 401)
    state = request.app.state
    try:
        subject = await state.authenticator.authenticate("Bearer " + form["token"])
    except TokenRejected:
        return Response(status_code=200, headers=NO_STORE)
    if subject.client_id == client.client_id:
        await revoke(state.databases["store"], subject.jti, subject.expires_at)
    return Response(status_code=200, headers=NO_STORE)


async def introspection_endpoint(request: Request) -> Response:
    """RFC 7662: active and its claims for a client's own tokens (any token for audit:read clients)."""
    form = await _form(request)
    if form is None or "token" not in form:
        return _oauth_error("invalid_request")
    client = await _authenticate_client(request, form)
    if client is None:
        return _oauth_error("invalid_client", 401)
    try:
        subject = await request.app.state.authenticator.authenticate("Bearer " + form["token"])
    except TokenRejected:
        return JSONResponse({"active": False}, headers=NO_STORE)
    if subject.client_id != client.client_id and Scope.AUDIT_READ not in client.scopes:
        return JSONResponse({"active": False}, headers=NO_STORE)
    body = {
        "active": True,
        "scope": " ".join(sorted(subject.scopes)),
        "client_id": subject.client_id,
        "sub": subject.subject,
        "iss": subject.issuer,
        "aud": request.app.state.settings.audience,
        "exp": subject.expires_at,
        "jti": subject.jti,
        "token_type": "Bearer",
    }
    if subject.districts:
        body["districts"] = sorted(subject.districts)
    if subject.purpose:
        body["purpose"] = subject.purpose
    return JSONResponse(body, headers=NO_STORE)


async def jwks_endpoint(request: Request) -> Response:
    jwks = await published_jwks(request.app.state.databases["store"])
    return JSONResponse(jwks, headers={"Cache-Control": "public, max-age=60"})


async def metadata_endpoint(request: Request) -> Response:
    issuer = request.app.state.settings.issuer.rstrip("/")
    return JSONResponse(
        {
            "issuer": request.app.state.settings.issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
            "scopes_supported": [s.value for s in Scope],
            "response_types_supported": [],
        }
    )

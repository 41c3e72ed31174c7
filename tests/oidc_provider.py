"""A small, real OpenID Connect provider for the tests, on loopback.

It speaks the parts of the protocol the forum uses, over real HTTP (Werkzeug's
server in a thread): discovery, a JWKS with an RSA key, an authorization
endpoint that approves whoever the test put in `provider.user` (no login page),
a token endpoint (client authentication, single-use codes bound to their
redirect URI, PKCE S256 checked with Authlib's own function) issuing RS256 ID
tokens signed with joserfc, and userinfo. A GitHub-shaped side (/login/oauth/...,
/user, /user/emails) lets the GitHub preset run against it too.

Tests make it misbehave on purpose through `provider.id_token_changes`: claims
to overwrite in the next ID tokens (another audience, an expiry in the past, a
nonce of its own) as a broken or hostile provider would.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.datastructures import Authorization
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "forum-test-client"
CLIENT_SECRET = "forum test client secret"


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256", "use": "sig"})


_KEY = new_key()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Provider:
    """The provider's state, which tests read and change between requests."""

    def __init__(self) -> None:
        self.issuer = ""  # set once the server listens
        self.user: dict = {
            "sub": "subject-1",
            "email": "reader@provider.example",
            "email_verified": True,
            "name": "Provider Reader",
            "preferred_username": "provreader",
        }
        self.github_user: dict = {"id": 4242, "login": "octoreader", "name": "Octo Reader"}
        self.github_emails: list = [
            {"email": "octo@provider.example", "primary": True, "verified": True}
        ]
        self.id_token_changes: dict = {}
        self.id_token_omits: set[str] = set()  # user claims left to userinfo
        self.signing_key = _KEY  # another key: a forged signature (the JWKS keeps _KEY)
        self.redirect_uris: set[str] = set()  # registered; empty: any on loopback
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.token_requests = 0
        self.lock = threading.Lock()

    # -- WSGI -------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/login/oauth/authorize": self.authorize,
            "/login/oauth/access_token": self.token,
            "/user": self.github_user_endpoint,
            "/user/emails": self.github_emails_endpoint,
        }
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def discovery(self, request):
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    def jwks(self, request):
        return _json(KeySet([_KEY]).as_dict(private=False))

    def authorize(self, request):
        args = request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != CLIENT_ID or not self._redirect_allowed(redirect_uri):
            return Response("unknown client or redirect_uri", 400)
        if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
            return Response("code flow with PKCE S256 only", 400)
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "redirect_uri": redirect_uri,
                "challenge": args.get("code_challenge"),
                "nonce": args.get("nonce"),
                "user": dict(self.user),
            }
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{redirect_uri}?{query}"})

    def token(self, request):
        with self.lock:
            self.token_requests += 1
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = Authorization.from_header(request.headers.get("Authorization"))
        if auth is not None and auth.type == "basic":
            client_id, secret = auth.username, auth.password
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return _json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier") or ""
        if create_s256_code_challenge(verifier) != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access] = grant["user"]
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": 600}
        if request.path == "/token":
            answer["id_token"] = self.id_token(grant["user"], grant["nonce"])
        return _json(answer)

    def id_token(self, user: dict, nonce) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **{k: v for k, v in user.items() if k not in self.id_token_omits},
        }
        claims.update(self.id_token_changes)
        key = self.signing_key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def _bearer(self, request) -> dict | None:
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header.removeprefix("Bearer ").strip())

    def userinfo(self, request):
        user = self._bearer(request)
        return _json(user) if user is not None else _json({"error": "invalid_token"}, 401)

    def github_user_endpoint(self, request):
        if self._bearer(request) is None:
            return _json({"message": "Bad credentials"}, 401)
        return _json(self.github_user)

    def github_emails_endpoint(self, request):
        if self._bearer(request) is None:
            return _json({"message": "Bad credentials"}, 401)
        if self.github_emails is None:  # as for a token without the user:email scope
            return _json({"message": "Resource not accessible by integration"}, 403)
        return _json(self.github_emails)

    def _redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        return uri.startswith(("http://localhost", "http://127.0.0.1"))


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json")


@contextmanager
def running_provider():
    """A Provider served on http://127.0.0.1:<free port> for the block."""
    provider = Provider()
    server = make_server("127.0.0.1", 0, provider, threaded=True, request_handler=_Quiet)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def provider_config(provider: Provider, name: str = "oidc", label: str = "Test ID") -> dict:
    """FORUM_SIGN_IN_PROVIDERS for an app that signs in with this provider."""
    return {
        name: {
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "label": label,
        }
    }

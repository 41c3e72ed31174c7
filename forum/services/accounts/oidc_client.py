"""The protocol half of signing in with an account elsewhere: OpenID Connect
(discovery, authorization code with PKCE S256, state, nonce, ID-token checks)
and GitHub's OAuth 2, with Authlib's client and joserfc (Authlib's JOSE).

begin() makes the address to send the reader to and what the session must
remember; finish() takes the provider's answer back to our callback and
returns who the provider says the reader is, or raises ExternalSignInFailed.
Nothing here touches the database (forum.services.accounts.external does).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask_babel import gettext
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from forum.errors import ExternalSignInFailed
from forum.providers import GITHUB, OTHER_ISSUER_NAMES, Provider

HTTP_TIMEOUT = 10  # seconds for each call to a provider
PENDING_MAX_AGE = 600  # seconds a reader may spend at the provider
LEEWAY = 60  # seconds of clock difference tolerated in ID tokens
METADATA_TTL = 3600  # seconds discovery documents and keys are kept
# Asymmetric signatures only: "none" and HS256 (keyed by the client secret,
# which we hold) would let a forged token pass as the provider's.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class Claims:
    """Who the provider says the reader is. Everything but provider and subject
    is the provider's untrusted text, to be checked before it is kept."""

    provider: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    preferred_username: str | None = None
    name: str | None = None


# -- discovery -------------------------------------------------------------------------

_metadata: dict[str, tuple[float, dict, KeySet | None]] = {}
_metadata_lock = threading.Lock()


def _get_json(url: str, **kwargs) -> dict | list:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, **kwargs)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        raise ExternalSignInFailed(
            gettext(
                "The sign-in provider could not be reached or gave an answer we cannot read. "
                "Try again in a moment."
            )
        ) from error


def metadata(provider: Provider, fresh_keys: bool = False) -> tuple[dict, KeySet]:
    """The issuer's discovery document and signing keys, kept for an hour (keys
    fetched again when a token names one we do not have)."""
    now = time.monotonic()
    with _metadata_lock:
        cached = _metadata.get(provider.issuer)
    if cached and now - cached[0] < METADATA_TTL and not fresh_keys:
        return cached[1], cached[2]
    if cached and now - cached[0] < METADATA_TTL:
        document = cached[1]
    else:
        document = _get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if not isinstance(document, dict) or document.get("issuer") != provider.issuer:
            # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer
            # we asked, exactly, or someone else's keys could vouch for tokens.
            raise ExternalSignInFailed(
                gettext("The sign-in provider's configuration names another issuer.")
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise ExternalSignInFailed(
                    gettext("The sign-in provider's configuration lacks %(key)s.", key=key)
                )
    try:
        keys = KeySet.import_key_set(_get_json(document["jwks_uri"]))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ExternalSignInFailed(
            gettext("The sign-in provider's keys cannot be read.")
        ) from error
    with _metadata_lock:
        _metadata[provider.issuer] = (now, document, keys)
    return document, keys


# -- the two legs ------------------------------------------------------------------------


def _session(provider: Provider, redirect_uri: str, token_auth: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=token_auth,
    )


def begin(provider: Provider, redirect_uri: str) -> tuple[str, dict]:
    """(the provider's address to send the reader to, what to keep in the
    reader's session until they come back). Raises ExternalSignInFailed."""
    pending = {
        "provider": provider.name,
        "state": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),
        "redirect_uri": redirect_uri,
        "started": int(time.time()),
    }
    extra = {}
    if provider.kind == GITHUB:
        endpoint = GITHUB_AUTHORIZE
    else:
        endpoint = metadata(provider)[0]["authorization_endpoint"]
        pending["nonce"] = extra["nonce"] = secrets.token_urlsafe(32)
    client = _session(provider, redirect_uri, "client_secret_post")
    url, _ = client.create_authorization_url(
        endpoint, state=pending["state"], code_verifier=pending["verifier"], **extra
    )
    return url, pending


def finish(provider: Provider, pending, args) -> Claims:
    """Who the reader is, from the provider's answer (`args`: the callback's query)
    and what begin() kept. Raises ExternalSignInFailed for anything that does not
    prove it: no or another sign-in under way, a state that differs, an error from
    the provider, a code the token endpoint refuses, an ID token that fails a check."""
    if not isinstance(pending, dict) or pending.get("provider") != provider.name:
        raise ExternalSignInFailed(
            gettext("This sign-in was not started here, or has ended. Start again.")
        )
    if time.time() - pending.get("started", 0) > PENDING_MAX_AGE:
        raise ExternalSignInFailed(gettext("This sign-in took too long. Start again."))
    state = args.get("state")
    if not isinstance(state, str) or not hmac.compare_digest(
        state.encode(), str(pending.get("state")).encode()
    ):
        raise ExternalSignInFailed(
            gettext("This sign-in was not started here, or has ended. Start again.")
        )
    if args.get("error"):
        raise ExternalSignInFailed(
            gettext(
                "%(provider)s did not sign you in. Try again if you like.", provider=provider.label
            )
        )
    code = args.get("code")
    if not isinstance(code, str) or not code or len(code) > 2048:
        raise ExternalSignInFailed(
            gettext("%(provider)s sent no sign-in code.", provider=provider.label)
        )
    if provider.kind == GITHUB:
        token = _token(provider, pending, GITHUB_TOKEN, code, "client_secret_post")
        return _github_claims(provider, token)
    document, _ = metadata(provider)
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    token_auth = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    token = _token(provider, pending, document["token_endpoint"], code, token_auth)
    claims = verify_id_token(provider, token.get("id_token"), pending.get("nonce"))
    return _oidc_claims(provider, document, token, claims)


def _token(provider: Provider, pending: dict, endpoint: str, code: str, token_auth: str) -> dict:
    client = _session(provider, pending["redirect_uri"], token_auth)
    try:
        token = client.fetch_token(
            endpoint, code=code, code_verifier=pending["verifier"], timeout=HTTP_TIMEOUT
        )
    except (AuthlibBaseError, requests.RequestException, ValueError) as error:
        raise ExternalSignInFailed(
            gettext(
                "%(provider)s refused the sign-in code (used already, or expired). Start again.",
                provider=provider.label,
            )
        ) from error
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
        raise ExternalSignInFailed(
            gettext("%(provider)s did not sign you in. Start again.", provider=provider.label)
        )
    return token


def verify_id_token(provider: Provider, raw, nonce) -> dict:
    """The ID token's claims once its signature (the issuer's published keys, an
    asymmetric algorithm), iss, aud (and azp), exp, iat and nonce are right.
    Raises ExternalSignInFailed."""
    if not isinstance(raw, str) or not raw or len(raw) > 65536:
        raise ExternalSignInFailed(
            gettext("%(provider)s sent no ID token.", provider=provider.label)
        )
    document, keys = metadata(provider)
    try:
        try:
            token = jwt.decode(raw, keys, algorithms=ALGORITHMS)
        except JoseError:
            # A key rotated since we fetched the set: fetch it once more.
            document, keys = metadata(provider, fresh_keys=True)
            token = jwt.decode(raw, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={
                "essential": True,
                "values": [document["issuer"], *OTHER_ISSUER_NAMES.get(provider.issuer, ())],
            },
            sub={"essential": True},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError) as error:
        raise ExternalSignInFailed(
            gettext(
                "%(provider)s's answer did not pass our checks. Start again.",
                provider=provider.label,
            )
        ) from error
    claims = token.claims
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != provider.client_id:
        raise ExternalSignInFailed(
            gettext("%(provider)s's answer was meant for another site.", provider=provider.label)
        )
    if not isinstance(nonce, str) or not isinstance(claims["sub"], str):
        raise ExternalSignInFailed(
            gettext("%(provider)s's answer did not pass our checks.", provider=provider.label)
        )
    return claims


def _oidc_claims(provider: Provider, document: dict, token: dict, claims: dict) -> Claims:
    info = dict(claims)
    userinfo_endpoint = document.get("userinfo_endpoint")
    if "email" not in info and isinstance(userinfo_endpoint, str):
        extra = _get_json(
            userinfo_endpoint, headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        # OIDC Core §5.3.2: userinfo for another subject must not be used.
        if isinstance(extra, dict) and extra.get("sub") == claims["sub"]:
            info = {**extra, **claims}
    return Claims(
        provider=provider.name,
        subject=claims["sub"],
        email=_text(info.get("email")),
        email_verified=info.get("email_verified") is True,
        preferred_username=_text(info.get("preferred_username") or info.get("nickname")),
        name=_text(info.get("name")),
    )


def _github_claims(provider: Provider, token: dict) -> Claims:
    headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "Accept": "application/vnd.github+json",
    }
    user = _get_json(f"{GITHUB_API}/user", headers=headers)
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise ExternalSignInFailed(gettext("GitHub did not say who you are. Start again."))
    try:
        emails = _get_json(f"{GITHUB_API}/user/emails", headers=headers)
    except ExternalSignInFailed:
        emails = []  # the address is a nicety: sign in without one
    primary = next(
        (
            entry
            for entry in (emails if isinstance(emails, list) else [])
            if isinstance(entry, dict) and entry.get("primary") is True
        ),
        {},
    )
    return Claims(
        provider=provider.name,
        # The numeric id: a GitHub login can be renamed and then taken by someone else.
        subject=str(user["id"]),
        email=_text(primary.get("email")),
        email_verified=primary.get("verified") is True,
        preferred_username=_text(user.get("login")),
        name=_text(user.get("name")),
    )


def _text(value) -> str | None:
    return value[:500] if isinstance(value, str) and value else None

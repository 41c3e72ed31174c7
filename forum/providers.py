"""The accounts elsewhere that readers may sign in with, read from the
configuration (forum.config calls load() at startup).

Three shapes, each needing a client id and secret registered with the provider:

- an OpenID Connect issuer of the operator's choosing, found by discovery
  (``FORUM_OIDC_ISSUER`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET`` / ``_NAME``);
- Google, which is such an issuer with a known address (``FORUM_GOOGLE_*``);
- GitHub, which speaks OAuth 2 without OpenID Connect (``FORUM_GITHUB_*``).

instance/config.py may list several in ``FORUM_SIGN_IN_PROVIDERS``, a dict of
name -> {"issuer", "client_id", "client_secret", "label"} (GitHub's and Google's
entries need no issuer: their name picks the preset; another name may say
``"preset": "github"``).  A provider configured by half is a startup error,
never a button that fails when a reader presses it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

OIDC = "oidc"
GITHUB = "github"
GOOGLE_ISSUER = "https://accounts.google.com"
# Google's ID tokens may name their issuer without the scheme (its OpenID Connect
# documentation says to accept both); no other provider gets this leniency.
OTHER_ISSUER_NAMES = {GOOGLE_ISSUER: ("accounts.google.com",)}
NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
LABEL_MAX = 40


@dataclass(frozen=True)
class Provider:
    """One way in: `name` is its key in URLs and in external_identities.provider."""

    name: str
    label: str
    kind: str  # OIDC or GITHUB
    client_id: str
    client_secret: str
    issuer: str | None = None  # OIDC only

    @property
    def scope(self) -> str:
        return "read:user user:email" if self.kind == GITHUB else "openid email profile"


# Environment variables -> (provider name, field).
ENVIRONMENT = {
    "FORUM_OIDC_ISSUER": ("oidc", "issuer"),
    "FORUM_OIDC_CLIENT_ID": ("oidc", "client_id"),
    "FORUM_OIDC_CLIENT_SECRET": ("oidc", "client_secret"),
    "FORUM_OIDC_NAME": ("oidc", "label"),
    "FORUM_GITHUB_CLIENT_ID": ("github", "client_id"),
    "FORUM_GITHUB_CLIENT_SECRET": ("github", "client_secret"),
    "FORUM_GOOGLE_CLIENT_ID": ("google", "client_id"),
    "FORUM_GOOGLE_CLIENT_SECRET": ("google", "client_secret"),
}
PRESETS = {
    "github": {"preset": GITHUB, "label": "GitHub"},
    "google": {"preset": OIDC, "issuer": GOOGLE_ISSUER, "label": "Google"},
}
FIELDS = ("preset", "issuer", "client_id", "client_secret", "label")


def load(config) -> dict[str, Provider]:
    """The configured providers by name, from FORUM_SIGN_IN_PROVIDERS and the
    FORUM_OIDC_* / FORUM_GITHUB_* / FORUM_GOOGLE_* keys (which win); raises
    ValueError naming what is missing or wrong."""
    listed = config.get("FORUM_SIGN_IN_PROVIDERS") or {}
    if not isinstance(listed, dict):
        raise ValueError("FORUM_SIGN_IN_PROVIDERS must be a dict of name -> settings")
    entries: dict[str, dict] = {}
    for name, settings in listed.items():
        if not isinstance(settings, dict):
            raise ValueError(f"FORUM_SIGN_IN_PROVIDERS[{name!r}] must be a dict")
        unknown = set(settings) - set(FIELDS)
        if unknown:
            raise ValueError(
                f"FORUM_SIGN_IN_PROVIDERS[{name!r}] has unknown keys: {', '.join(sorted(unknown))}"
            )
        entries[str(name)] = dict(settings)
    for key, (name, field) in ENVIRONMENT.items():
        value = config.get(key)
        if value not in (None, ""):
            entries.setdefault(name, {})[field] = value
    return {name: _provider(name, settings) for name, settings in entries.items()}


def _provider(name: str, settings: dict) -> Provider:
    if not NAME.fullmatch(name):
        raise ValueError(
            f"sign-in provider name {name!r}: use up to 40 lower-case letters, digits and -"
        )
    merged = {**PRESETS.get(name, {"preset": OIDC}), **settings}
    kind = merged.get("preset")
    if kind not in (OIDC, GITHUB):
        raise ValueError(f"sign-in provider {name!r}: preset must be {OIDC} or {GITHUB}")
    where = _where(name)
    missing = [
        field
        for field in ("client_id", "client_secret") + (("issuer",) if kind == OIDC else ())
        if not isinstance(merged.get(field), str) or not merged[field].strip()
    ]
    if missing:
        needed = ", ".join(where[field] for field in missing)
        raise ValueError(f"sign-in provider {name!r} is half configured: set {needed}")
    label = " ".join(str(merged.get("label") or name.capitalize()).split())[:LABEL_MAX]
    return Provider(
        name=name,
        label=label,
        kind=kind,
        client_id=merged["client_id"].strip(),
        client_secret=merged["client_secret"].strip(),
        issuer=check_issuer(merged["issuer"], where["issuer"]) if kind == OIDC else None,
    )


def _where(name: str) -> dict[str, str]:
    """Where an operator sets each field of this provider (for error messages)."""
    prefix = {"oidc": "FORUM_OIDC_", "github": "FORUM_GITHUB_", "google": "FORUM_GOOGLE_"}.get(name)
    if prefix is None:
        return {f: f"FORUM_SIGN_IN_PROVIDERS[{name!r}][{f!r}]" for f in FIELDS}
    return {f: prefix + f.upper() for f in FIELDS}


def check_issuer(value: str, where: str) -> str:
    """An issuer URL as discovery uses it: https (plain http only on this machine's
    loopback, for tests and development), no query or fragment.  A trailing slash
    is kept: some issuers have one, and the ID token's `iss` must match exactly."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"{where} is not an address: {value!r}") from error
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{where} must be a plain https:// address, not {value!r}")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise ValueError(f"{where} must start with https:// (http only on loopback): {value!r}")
    return text


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

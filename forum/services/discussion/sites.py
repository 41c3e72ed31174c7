"""Publishers' sites: which origins may embed threads, and their sign-on secrets
(stored sealed, see forum.secretbox; read them with sso_secret_of()).

FORUM_EMBED_ORIGINS gives the default list; an admin's decision about an origin
(an EmbedSite row) overrides it, both ways: an origin can be added in the admin
UI, or one from the variable switched off, without restarting anything.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from forum import secretbox
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.models import EmbedSite, utcnow
from forum.services.audit import audit

ORIGIN_MAX = 200


def normalize_origin(raw) -> str | None:
    """`scheme://host[:port]` in lower case, or None if `raw` is not an http(s)
    origin (a path, query, credentials or anything else makes it None)."""
    if not isinstance(raw, str) or not raw or len(raw) > ORIGIN_MAX:
        return None
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    host = parts.hostname.lower()
    if not all(ch.isalnum() or ch in ".-:[]" for ch in host):
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_of(url) -> str | None:
    """The origin a page address belongs to, or None."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return normalize_origin(f"{parts.scheme}://{parts.netloc}") if parts.netloc else None


def page_address(url, origin: str) -> str | None:
    """`url` if it is a page of `origin` fit to store and to redirect to, else
    None: no whitespace or control characters (URL parsers skip some of them,
    headers refuse them, PostgreSQL refuses NUL), at most 2,000 characters."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    if not url.isprintable() or " " in url:
        return None
    return url if origin_of(url) == origin else None


def configured_origins() -> list[str]:
    """The origins FORUM_EMBED_ORIGINS names (malformed entries ignored)."""
    raw = current_app.config.get("FORUM_EMBED_ORIGINS") or ""
    found = []
    for word in str(raw).split():
        origin = normalize_origin(word)
        if origin and origin not in found:
            found.append(origin)
    return found


def is_allowed(origin: str | None) -> bool:
    origin = normalize_origin(origin)
    if origin is None:
        return False
    site = site_for(origin)
    if site is not None:
        return site.allowed
    return origin in configured_origins()


def site_for(origin: str | None) -> EmbedSite | None:
    origin = normalize_origin(origin)
    if origin is None:
        return None
    return db.session.scalar(select(EmbedSite).where(EmbedSite.origin == origin))


def overview() -> list[dict]:
    """For the admin page: each known origin, whether it may embed, where that
    comes from, and whether it has a sign-on secret."""
    sites = {site.origin: site for site in db.session.scalars(select(EmbedSite))}
    configured = configured_origins()
    rows = []
    for origin in sorted(set(configured) | set(sites)):
        site = sites.get(origin)
        rows.append(
            {
                "origin": origin,
                "allowed": site.allowed if site else True,
                "from_environment": origin in configured,
                "sso": bool(site and site.sso_secret),
                "sso_secret_set_at": site.sso_secret_set_at if site else None,
            }
        )
    return rows


def _site(origin, create: bool = False) -> EmbedSite:
    normalized = normalize_origin(origin)
    if normalized is None:
        raise ValidationError(
            fields={"origin": "Give an origin like https://news.example (no path)."}
        )
    site = site_for(normalized)
    if site is None:
        if not create:
            raise NotFound("That origin is not on the list.")
        site = EmbedSite(origin=normalized, allowed=normalized in configured_origins())
        db.session.add(site)
        db.session.flush()
    return site


def set_allowed(actor, origin, allowed: bool) -> EmbedSite:
    """Allow or refuse an origin; raises ValidationError for a malformed one."""
    site = _site(origin, create=True)
    before = site.allowed
    site.allowed = bool(allowed)
    audit(
        actor,
        "embed_origin_allowed" if site.allowed else "embed_origin_refused",
        site,
        before={"origin": site.origin, "allowed": before},
        after={"origin": site.origin, "allowed": site.allowed},
    )
    return site


def new_sso_secret(actor, origin) -> str:
    """Generate (or replace) the origin's sign-on secret and return it; tokens
    signed with the old one stop working at once."""
    site = _site(origin, create=True)
    secret = secrets.token_urlsafe(32)
    site.sso_secret = secretbox.seal(secret)
    site.sso_secret_set_at = utcnow()
    audit(actor, "sso_secret_generated", site, after={"origin": site.origin})
    return secret


def sso_secret_of(site: EmbedSite) -> str | None:
    """The site's sign-on secret in the clear (None: sign-on is off). Raises
    secretbox.SecretUnreadable when SECRET_KEY changed since it was set."""
    return secretbox.unseal(site.sso_secret) if site.sso_secret else None


def remove_sso_secret(actor, origin) -> None:
    site = _site(origin)
    site.sso_secret = None
    site.sso_secret_set_at = None
    audit(actor, "sso_secret_removed", site, before={"origin": site.origin})

"""Publishers' sites: which origins may embed threads, and their sign-on secrets
(stored sealed, see forum.secretbox; read them with sso_secret_of()).

FORUM_EMBED_ORIGINS gives the default list; an admin's decision about an origin
(an EmbedSite row) overrides it, both ways: an origin can be added in the admin
UI, or one from the variable switched off, without restarting anything.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from forum import secretbox
from forum.addresses import normalize_origin
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.models import EmbedSite, utcnow
from forum.services.audit import audit


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
                "sso_roles": bool(site and site.sso_roles),
                "guests": site.allow_guests if site else True,
            }
        )
    return rows


def _site(origin, create: bool = False) -> EmbedSite:
    normalized = normalize_origin(origin)
    if normalized is None:
        raise ValidationError(
            fields={"origin": gettext("Give an origin like https://news.example (no path).")}
        )
    site = site_for(normalized)
    if site is None:
        if not create:
            raise NotFound(gettext("That origin is not on the list."))
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


def set_guests(actor, origin, welcome: bool) -> EmbedSite:
    """Take or turn away guests on this site's threads (with FORUM_GUESTS=on)."""
    site = _site(origin, create=True)
    before = site.allow_guests
    site.allow_guests = bool(welcome)
    if before != site.allow_guests:
        audit(
            actor,
            "embed_guests_on" if site.allow_guests else "embed_guests_off",
            site,
            before={"origin": site.origin, "guests": before},
            after={"origin": site.origin, "guests": site.allow_guests},
        )
    return site


def set_sso_roles(actor, origin, honoured: bool) -> tuple[EmbedSite, int]:
    """Honour (or stop honouring) the `role` and `badges` claims of the site's
    sign-on tokens. Turning it off takes back, at once, every role the site gave
    and its readers' badges. Returns the site and how many accounts that changed."""
    from forum.services.accounts import sso  # sso reads sites: imported here, not above

    site = _site(origin)
    before = site.sso_roles
    site.sso_roles = bool(honoured)
    changed = 0
    if before and not site.sso_roles:
        changed = sso.withdraw_site_claims(site)
    if before != site.sso_roles:
        audit(
            actor,
            "sso_roles_on" if site.sso_roles else "sso_roles_off",
            site,
            before={"origin": site.origin, "sso_roles": before},
            after={"origin": site.origin, "sso_roles": site.sso_roles, "accounts_changed": changed},
        )
    return site, changed

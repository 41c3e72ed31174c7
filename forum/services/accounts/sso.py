"""Single sign-on: a publisher's server vouches for one of its readers.

The publisher signs a short-lived HS256 JWT with the secret an admin generated
for its origin (forum.services.discussion.sites.new_sso_secret); the embedded thread sends
it to POST /api/v1/tokens {"sso": ..., "site": ...}, and exchange() turns it into
one of our accounts, created on first sight and linked by (site, sub) after that.

Every refusal is a ValidationError (422 validation_error) whose fields name the
part at fault: "sso" for the token itself (malformed, forged, expired, replayed,
signed for another site), "site" when we cannot tell which site it is for.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta

import jwt
from flask_babel import gettext, ngettext
from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.exc import IntegrityError

from forum import addresses
from forum.errors import ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import EmbedSite, Role, SsoIdentity, SsoTokenUse, User, utcnow
from forum.secretbox import SecretUnreadable
from forum.services.accounts import accounts
from forum.services.accounts.accounts import UNUSABLE_PASSWORD
from forum.services.audit import audit
from forum.services.discussion import sites, thread_pages

ALGORITHM = "HS256"
# Clocks on the publisher's server and ours may disagree by this much.
LEEWAY = timedelta(seconds=30)
# "Short-lived": a token that would stay valid longer than this is refused, so a
# token leaked from a page (logs, caches, screenshots) is worth little.
MAX_LIFETIME = timedelta(hours=1)
TOKEN_MAX = 8192
CLAIM_MAX = 255  # SsoIdentity.subject and SsoTokenUse.jti
USERNAME_BASE_MAX = 24  # room for a "-NNNNNN" suffix within 30 characters


def exchange(token, site_origin) -> User:
    """The account a publisher's sign-on token stands for, created or linked.

    `site_origin` is the origin the embed says it is on (None: use the token's
    `kid`, or the only site set up for single sign-on). Call it before any other
    write of the request: a replayed token rolls the transaction back.

    Raises ValidationError (fields "sso" or "site") for every refusal.
    """
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX or not token.isascii():
        raise _refused(gettext("Send the token your site signed, as a string."))
    site = _site(token, site_origin)
    claims = _verified_claims(token, site)
    # Checked before the token is spent, so a site can fix its claims and retry.
    granted = _site_claims(site, claims)
    # Kept as long as the token would still be accepted.
    expires_at = datetime.fromtimestamp(claims["exp"], UTC) + LEEWAY
    _record_use(site, claims["jti"], expires_at)
    identity = _account(site, claims)
    if granted is not None:
        _apply_site_claims(site, identity, *granted)
    return identity.user


# -- which site, and is the token really its -------------------------------------------------


def _site(token: str, site_origin) -> EmbedSite:
    if site_origin is not None:
        origin = addresses.normalize_origin(site_origin)
        if origin is None:
            raise ValidationError(
                gettext("Single sign-on needs the origin of the page."),
                fields={"site": gettext("Give the page's origin, like https://news.example.")},
            )
    else:
        origin = _origin_from_header(token) or _only_sso_origin()
    site = sites.site_for(origin)
    if not sites.is_allowed(origin):
        raise _refused(
            gettext("%(origin)s is not allowed to embed this forum's discussions.", origin=origin)
        )
    if site is None or not site.sso_secret:
        raise _refused(
            gettext(
                "Single sign-on is not set up for %(origin)s; an admin can set it up.",
                origin=origin,
            )
        )
    return site


def _origin_from_header(token: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        return None  # said when the token is checked, once we know it has a site
    return addresses.normalize_origin(kid) if isinstance(kid, str) else None


def _only_sso_origin() -> str:
    """With no site named, the one allowed site that has a secret, if there is one."""
    candidates = db.session.scalars(
        select(EmbedSite.origin).where(EmbedSite.sso_secret.is_not(None))
    ).all()
    candidates = [origin for origin in candidates if sites.is_allowed(origin)]
    if not candidates:
        raise _refused(gettext("Single sign-on is not set up on this forum."))
    if len(candidates) > 1:
        raise ValidationError(
            gettext("Say which site signed this token."),
            fields={
                "site": gettext('Send "site": the origin of the page, like https://news.example.')
            },
        )
    return candidates[0]


def _verified_claims(token: str, site: EmbedSite) -> dict:
    try:
        secret = sites.sso_secret_of(site)
    except SecretUnreadable:
        # Sealed under another SECRET_KEY (changed, or a backup restored elsewhere).
        raise _refused(
            gettext(
                "%(origin)s's sign-on secret must be set again (this forum's secret key "
                "changed since it was made): an admin can replace it under Moderation → "
                "Embedding.",
                origin=site.origin,
            )
        ) from None
    try:
        claims = jwt.decode(
            token,
            secret,
            # Pinned: never "none", never an algorithm the header picks (RS256 with
            # our secret as the "public key", and the like).
            algorithms=[ALGORITHM],
            leeway=LEEWAY,
            # aud is checked below, against the normalized origin.
            options={"require": ["exp", "sub", "jti"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise _refused(
            gettext("This sign-on token has expired; your site must sign a fresh one.")
        ) from None
    except jwt.ImmatureSignatureError:
        raise _refused(
            gettext(
                "This sign-on token is not valid yet (nbf or iat is in the future); "
                "check the clock of your site's server."
            )
        ) from None
    except jwt.InvalidAlgorithmError:
        raise _refused(
            gettext("Sign-on tokens must be signed with %(algorithm)s.", algorithm=ALGORITHM)
        ) from None
    except jwt.InvalidSignatureError:
        raise _refused(
            gettext(
                "This sign-on token was not signed with %(origin)s's current secret "
                "(forged, meant for another site, or signed with a replaced secret).",
                origin=site.origin,
            )
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise _refused(
            gettext("This sign-on token lacks the '%(claim)s' claim.", claim=error.claim)
        ) from None
    except jwt.InvalidTokenError:
        raise _refused(gettext("This is not a sign-on token (a JWT signed with HS256).")) from None

    exp = claims["exp"]
    # PyJWT accepts anything int() takes ("123", 1e300); we want a plain number.
    if not isinstance(exp, int | float) or isinstance(exp, bool) or not math.isfinite(exp):
        raise _refused(gettext("The 'exp' claim must be a number of seconds since 1970."))
    if exp > utcnow().timestamp() + (MAX_LIFETIME + LEEWAY).total_seconds():
        raise _refused(gettext("This sign-on token lives too long: sign it for an hour at most."))
    for claim in ("sub", "jti"):
        value = claims[claim]
        if not isinstance(value, str) or not 1 <= len(value) <= CLAIM_MAX:
            raise _refused(
                gettext(
                    "The '%(claim)s' claim must be a string of 1 to %(max)s characters.",
                    claim=claim,
                    max=CLAIM_MAX,
                )
            )
        if not value.isprintable():  # no controls, no lone surrogates
            raise _refused(
                gettext("The '%(claim)s' claim has characters that cannot be stored.", claim=claim)
            )
    if "aud" in claims and not _audience_matches(claims["aud"], site.origin):
        raise _refused(
            gettext(
                "This sign-on token is meant for another audience than %(origin)s.",
                origin=site.origin,
            )
        )
    return claims


def _audience_matches(aud, origin: str) -> bool:
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and addresses.normalize_origin(v) == origin for v in values)


def _record_use(site: EmbedSite, jti: str, expires_at: datetime) -> None:
    """Each token is exchanged once. The unique (site, jti) decides, so of two
    exchanges racing with one token exactly one wins."""
    db.session.add(SsoTokenUse(site_id=site.id, jti=jti, expires_at=expires_at))
    try:
        db.session.flush()
    except IntegrityError:
        # The first write of the request (see exchange), so rolling back loses
        # nothing else; PostgreSQL needs it before any further statement.
        db.session.rollback()
        raise _refused(
            gettext(
                "This sign-on token was already used; your site must sign a new one "
                "for every page view."
            )
        ) from None
    # Opportunistic cleanup: rows past their token's expiry guard nothing.
    db.session.execute(delete(SsoTokenUse).where(SsoTokenUse.expires_at < utcnow()))


# -- what a site may say about its readers: `role` and `badges` -------------------------------
#
# Only from a site an admin allowed to (EmbedSite.sso_roles); from any other site
# both claims are ignored. `role` may raise an account to moderator, never to
# admin; what a site raised, the site takes back when a later token of the same
# reader no longer claims it (or when an admin turns the switch off), but a role
# one of our admins gave is never lowered by a site. `badges` replace the
# account's badges at every exchange (none sent: none kept).

BADGES_MAX = 3
BADGE_MAX = 20
_BADGE = re.compile(r"(?:[^\W_]|[ -])+")
SITE_ROLES = {"moderator": Role.MODERATOR, "reader": None}
# The forum's own marks beside a name (staff roles, guests): a site's badge
# must not pass for one of them.
RESERVED_BADGES = {"admin", "administrator", "moderator", "mod", "staff", "guest"}


def _site_claims(site: EmbedSite, claims: dict) -> tuple[Role | None, list[str]] | None:
    """(role to grant or None, badges) from a site allowed to send them; None
    from any other. Raises ValidationError (field "sso") for malformed claims."""
    if not site.sso_roles:
        return None
    return _role_claim(claims.get("role")), badges_from(claims.get("badges"))


def _role_claim(claim) -> Role | None:
    if claim is None:
        return None
    if claim == "admin":
        raise _refused(
            gettext(
                "The 'role' claim cannot make an admin: a site may make a reader a "
                "moderator, nothing more."
            )
        )
    if not isinstance(claim, str) or claim not in SITE_ROLES:
        raise _refused(
            gettext('The \'role\' claim must be "moderator" or "reader" (or be left out).')
        )
    return SITE_ROLES[claim]


def badges_from(claim) -> list[str]:
    """The `badges` claim as stored: at most BADGES_MAX labels of 1 to BADGE_MAX
    letters, digits, spaces and hyphens, spaces collapsed, repeats (in any case)
    dropped. Raises ValidationError (field "sso") for anything else."""
    if claim is None:
        return []
    if not isinstance(claim, list) or len(claim) > BADGES_MAX:
        raise _refused(
            ngettext(
                "The 'badges' claim must be a list of at most %(num)s label.",
                "The 'badges' claim must be a list of at most %(num)s labels.",
                BADGES_MAX,
            )
        )
    badges: list[str] = []
    for item in claim:
        label = (
            " ".join(unicodedata.normalize("NFKC", item[: BADGE_MAX * 4]).split())
            if isinstance(item, str)
            else ""
        )
        if not 1 <= len(label) <= BADGE_MAX or not _BADGE.fullmatch(label):
            raise _refused(
                gettext(
                    "Each badge must be 1 to %(max)s letters, digits, spaces or hyphens.",
                    max=BADGE_MAX,
                )
            )
        if label.casefold() in RESERVED_BADGES:
            raise _refused(
                gettext(
                    "'%(label)s' is a mark of the forum's own; choose another badge.", label=label
                )
            )
        if label.casefold() not in (b.casefold() for b in badges):
            badges.append(label)
    return badges


def _apply_site_claims(
    site: EmbedSite, identity: SsoIdentity, role: Role | None, badges: list[str]
) -> None:
    user = identity.user
    if user.badges != badges:
        user.badges = badges
        thread_pages.touch_threads_of(user)  # their comments show the badges
    if role is Role.MODERATOR:
        if user.role == Role.READER:
            user.role = Role.MODERATOR
            identity.granted_role = Role.MODERATOR.value
            audit(
                None,
                "sso_role_granted",
                user,
                reason=f"The 'role' claim of {site.origin}'s sign-on",
                before={"role": Role.READER.value},
                after={"role": Role.MODERATOR.value, "site": site.origin},
            )
        # A moderator or admin already (our admins' doing): nothing to give.
    elif identity.granted_role is not None:
        _withdraw(site, identity, "sso_role_withdrawn")


def _withdraw(site: EmbedSite, identity: SsoIdentity, action: str) -> None:
    """Take back the role the site gave, if the account still has just that."""
    user = identity.user
    if user.role == identity.granted_role:
        user.role = Role.READER
        audit(
            None,
            action,
            user,
            reason=f"{site.origin}'s sign-on no longer gives this role",
            before={"role": identity.granted_role, "site": site.origin},
            after={"role": Role.READER.value},
        )
    identity.granted_role = None


def forget_granted_role(user: User) -> None:
    """An admin of ours just set this account's role by hand: from now on it is
    ours, and no site takes it back (call it wherever admins change roles)."""
    for identity in db.session.scalars(
        select(SsoIdentity).where(
            SsoIdentity.user_id == user.id, SsoIdentity.granted_role.is_not(None)
        )
    ):
        identity.granted_role = None


def withdraw_site_claims(site: EmbedSite) -> int:
    """When an admin stops honouring a site's claims: every role the site gave is
    taken back and its readers' badges go, at once. Returns the accounts changed."""
    changed = 0
    identities = db.session.scalars(
        select(SsoIdentity)
        .join(SsoIdentity.user)
        .where(
            SsoIdentity.site_id == site.id,
            or_(
                SsoIdentity.granted_role.is_not(None),
                cast(User.badges, Text).not_in(["[]", "null"]),
            ),
        )
    ).all()
    for identity in identities:
        user = identity.user
        if identity.granted_role is None and not user.badges:
            continue
        changed += 1
        if user.badges:
            user.badges = []
            thread_pages.touch_threads_of(user)
        if identity.granted_role is not None:
            _withdraw(site, identity, "sso_role_withdrawn")
    return changed


# -- the account -----------------------------------------------------------------------------


def _account(site: EmbedSite, claims: dict) -> SsoIdentity:
    subject = claims["sub"]
    for _attempt in range(3):
        identity = _identity(site, subject)
        if identity is not None:
            _update(identity.user, claims)
            return identity
        try:
            # A savepoint: if another exchange for the same reader (or a name or
            # address just taken) wins a race, only this part is undone.
            with db.session.begin_nested():
                user = _new_user(claims)
                identity = SsoIdentity(site_id=site.id, subject=subject, user=user)
                db.session.add(identity)
            return identity
        except IntegrityError:
            continue
    raise ValidationError(
        gettext("Signing in took several tries; try again."),
        fields={"sso": gettext("Try again with a new token.")},
    )


def _identity(site: EmbedSite, subject: str) -> SsoIdentity | None:
    return db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.site_id == site.id, SsoIdentity.subject == subject)
    )


def _new_user(claims: dict) -> User:
    username = _free_username(_username_base(claims.get("username")))
    email = _usable_email(claims.get("email"), None)
    user = User(
        username=username,
        username_key=username.lower(),
        email=email,
        email_key=email.lower() if email else None,
        display_name=_display_name(claims, username),
        password_hash=UNUSABLE_PASSWORD,
        locale=accounts.signup_locale(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _update(user: User, claims: dict) -> None:
    """The publisher owns this account's name and address: follow its changes."""
    display_name = _display_name(claims, user.username)
    email = _usable_email(claims.get("email"), user)
    if (display_name, email) == (user.display_name, user.email):
        return
    if display_name != user.display_name:
        thread_pages.touch_threads_of(user)  # their comments show the name
    try:
        with db.session.begin_nested():
            user.display_name = display_name
            user.email, user.email_key = email, email.lower() if email else None
    except IntegrityError:
        # The address was taken a moment ago: keep the name change only.
        db.session.refresh(user)
        user.display_name = display_name


def _username_base(claim) -> str:
    """The publisher's username made into one of ours: letters, digits, _ and -."""
    if isinstance(claim, str) and accounts.check_username(claim) is None:
        return claim
    text = claim if isinstance(claim, str) else ""
    ascii_text = unicodedata.normalize("NFKD", text[:200]).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:USERNAME_BASE_MAX]
    return base if len(base) >= 3 else "reader"


def _free_username(base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free first (one query)."""
    stem = base[:USERNAME_BASE_MAX]
    candidates = [base] + [f"{stem}-{n}" for n in range(2, 21)]
    taken = set(
        db.session.scalars(
            select(User.username_key).where(
                User.username_key.in_([name.lower() for name in candidates])
            )
        )
    )
    for name in candidates:
        if name.lower() not in taken:
            return name
    return f"{stem}-{secrets.token_hex(3)}"


def _display_name(claims: dict, username: str) -> str:
    name = claims.get("name")
    if isinstance(name, str):
        # One line: normalize() keeps newlines, which a name has no use for.
        name = " ".join(normalize(name[:500]).split())[:50].strip()
        if name:
            return name
    return username


def _usable_email(claim, owner: User | None) -> str | None:
    """The claimed address if it is valid and no other account has it, else None.

    Never link to (or take over) an existing account that has the same address:
    the publisher's say-so about an email is not proof that this reader owns the
    forum account registered with it, and a publisher (or anyone holding its
    secret) could otherwise sign in as any of our readers, moderators or admins.
    """
    if claim is None:
        return None
    address, problem = accounts.normalize_email(claim)
    if problem:
        return None
    holder = db.session.scalar(select(User.id).where(User.email_key == address.lower()))
    if holder is not None and (owner is None or holder != owner.id):
        return None
    return address


def _refused(why: str) -> ValidationError:
    """A refusal of the token: `why` (already in the reader's language) is the field's."""
    return ValidationError(
        gettext("Single sign-on was refused: %(why)s", why=why), fields={"sso": why}
    )

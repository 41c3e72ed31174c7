"""Accounts elsewhere, on our side: which of our accounts an external identity
signs in to, the account a first sign-in creates, linking and unlinking.

An identity is found by (provider, subject) alone. It never attaches itself to
an existing account because the addresses match: the provider's word about an
email is not proof that this person owns the forum account registered with it,
and an identity at a provider that does not check addresses could otherwise
take over any reader, moderator or admin. A signed-in reader links a provider
explicitly instead (link()).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, replace

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum.errors import Conflict, ExternalSignInFailed, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import ExternalIdentity, User, utcnow
from forum.services.accounts import accounts
from forum.services.accounts.accounts import UNUSABLE_PASSWORD
from forum.services.accounts.oidc_client import Claims

NAME_MAX = 50  # User.display_name
USERNAME_BASE_MAX = 24  # room for a "-NN" suffix within 30 characters


def claims_to_session(claims: Claims) -> dict:
    """What a first sign-in keeps in the session cookie while the reader picks
    a name: the provider's text already cleaned, and short (a cookie over 4 KB
    is dropped by browsers)."""
    return asdict(
        replace(
            claims,
            email=clean_email(claims.email),
            name=clean_name(claims.name),
            preferred_username=(claims.preferred_username or "")[: USERNAME_BASE_MAX * 4] or None,
        )
    )


def claims_from_session(data) -> Claims | None:
    try:
        return Claims(**data) if isinstance(data, dict) else None
    except TypeError:
        return None


def find(provider: str, subject: str) -> ExternalIdentity | None:
    return db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider == provider, ExternalIdentity.subject == subject
        )
    )


def can_sign_in(user: User) -> bool:
    """Deleted accounts and imported names never sign in, by any way."""
    return user.deleted_at is None and not user.is_guest


def account_for(claims: Claims) -> User | None:
    """The account this identity signs in to (its address on record refreshed),
    None when it has none yet. Raises ExternalSignInFailed for a closed account."""
    identity = find(claims.provider, claims.subject)
    if identity is None:
        return None
    if not can_sign_in(identity.user):
        raise ExternalSignInFailed(gettext("The account linked to that sign-in is closed."))
    identity.email = clean_email(claims.email)
    return identity.user


def create_account(claims: Claims, username) -> User:
    """A new account for a first sign-in, under the username the reader chose,
    with the identity linked. Raises ValidationError (fields: username) or
    Conflict (the name is taken, or the identity was linked meanwhile)."""
    if reason := accounts.check_username(username):
        raise ValidationError(fields={"username": reason})
    if accounts.find_user(username) is not None:
        raise ValidationError(fields={"username": gettext("That username is taken; try another.")})
    email = clean_email(claims.email)
    try:
        with db.session.begin_nested():
            user = User(
                username=username,
                username_key=username.lower(),
                email=email,
                email_key=email.lower() if email else None,
                # The provider vouches for the address only when it says so.
                email_verified_at=utcnow() if email and claims.email_verified else None,
                display_name=clean_name(claims.name) or username,
                password_hash=UNUSABLE_PASSWORD,
                locale=accounts.signup_locale(),
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(_identity(user, claims))
            db.session.flush()
    except IntegrityError as error:
        # A race: the same name taken, or the same identity linked, a moment ago.
        raise Conflict(
            gettext("That username or that sign-in was just taken; try again.")
        ) from error
    return user


def link(user: User, claims: Claims) -> ExternalIdentity:
    """Link an identity to the signed-in reader's account. Raises Conflict when
    it already signs in to another account."""
    identity = find(claims.provider, claims.subject)
    if identity is not None:
        if identity.user_id != user.id:
            raise Conflict(
                gettext("That account elsewhere already signs in to another account here.")
            )
        identity.email = clean_email(claims.email)
        return identity
    try:
        with db.session.begin_nested():
            identity = _identity(user, claims)
            db.session.add(identity)
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(
            gettext("That account elsewhere was just linked to another account.")
        ) from error
    return identity


def identities_of(user: User) -> list[ExternalIdentity]:
    return list(
        db.session.scalars(
            select(ExternalIdentity)
            .where(ExternalIdentity.user_id == user.id)
            .order_by(ExternalIdentity.id)
        )
    )


def has_password(user: User) -> bool:
    return user.password_hash != UNUSABLE_PASSWORD


def other_ways_in(user: User, identity: ExternalIdentity) -> bool:
    """Whether the reader can still sign in once this identity is unlinked: a
    password, another identity, or an emailed link to a confirmed address."""
    if has_password(user):
        return True
    if any(other.id != identity.id for other in identities_of(user)):
        return True
    return bool(current_app.config["FORUM_EMAIL_SIGN_IN"] and user.email and user.email_verified_at)


def unlink(user: User, identity_id) -> ExternalIdentity:
    """Remove one of the reader's own identities. Raises ValidationError when
    it is theirs no more (or never was), or when it is their only way in."""
    identity = (
        db.session.get(ExternalIdentity, identity_id) if isinstance(identity_id, int) else None
    )
    if identity is None or identity.user_id != user.id:
        raise ValidationError(gettext("That sign-in is not linked to your account."))
    if not other_ways_in(user, identity):
        raise ValidationError(
            gettext(
                "This is your only way to sign in: set a password or link another account first."
            )
        )
    db.session.delete(identity)
    db.session.flush()
    return identity


def _identity(user: User, claims: Claims) -> ExternalIdentity:
    return ExternalIdentity(
        provider=claims.provider,
        subject=claims.subject,
        user_id=user.id,
        email=clean_email(claims.email),
    )


# -- the provider's text, checked ------------------------------------------------------


def clean_email(value) -> str | None:
    """The provider's address if it is one (normalized), else None."""
    if value is None:
        return None
    address, problem = accounts.normalize_email(value)
    return None if problem else address


def clean_name(value) -> str | None:
    """A display name from the provider's text: one line, normalized, at most 50
    characters; None when nothing is left."""
    if not isinstance(value, str):
        return None
    name = " ".join(normalize(value[:500]).split())[:NAME_MAX].strip()
    return name or None


def suggested_username(claims: Claims) -> str:
    """A free username made of the provider's preferred name (else the name, else
    the address's local part): letters, digits, _ and - only."""
    for source in (
        claims.preferred_username,
        claims.name,
        (claims.email or "").partition("@")[0],
    ):
        base = _username_base(source)
        if base:
            return _free_username(base)
    return _free_username("reader")


def _username_base(text) -> str | None:
    if not isinstance(text, str):
        return None
    ascii_text = unicodedata.normalize("NFKD", text[:200]).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:USERNAME_BASE_MAX]
    return base if len(base) >= 3 else None


def _free_username(base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free first (one query)."""
    candidates = [base] + [f"{base}-{n}" for n in range(2, 100)]
    taken = set(
        db.session.scalars(
            select(User.username_key).where(
                User.username_key.in_([name.lower() for name in candidates])
            )
        )
    )
    return next((name for name in candidates if name.lower() not in taken), base)

"""Accounts: registration, passwords, sign-in and bearer tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_request_context
from flask_babel import gettext, ngettext
from sqlalchemy import select, update

from forum import i18n
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import ApiToken, Role, User, UserSession, utcnow
from forum.services.accounts import throttle

USERNAME = re.compile(r"[A-Za-z0-9_-]{3,30}")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # argon2 copes with more; nobody needs more
TOKEN_PREFIX = "fpt_"
SESSION_KEY = "sid"
# Not an Argon2 hash: no password ever verifies against it. Accounts that sign in
# another way (single sign-on, a provider, an emailed link) and guests hold it.
UNUSABLE_PASSWORD = "!"  # the session cookie's field holding the session record's key


@cache
def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """An Argon2id hasher, and a hash to verify against when the username is
    unknown, so that a miss costs as long as a hit."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash("not a password anyone has")


def _hasher() -> tuple[PasswordHasher, str]:
    # Production keeps the RFC 9106 low-memory profile (3 passes over 64 MiB);
    # the test suite turns it down, since it tests behaviour, not cost.
    config = current_app.config
    return _hasher_for(config["FORUM_ARGON2_TIME_COST"], config["FORUM_ARGON2_MEMORY_KIB"])


def check_username(username) -> str | None:
    """The reason a username is unacceptable, or None."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        return gettext("Use 3 to 30 letters, digits, _ or -.")
    return None


def check_password(password) -> str | None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        return ngettext(
            "Use at least %(num)s character.", "Use at least %(num)s characters.", PASSWORD_MIN
        )
    if len(password) > PASSWORD_MAX:
        return ngettext(
            "Use at most %(num)s character.", "Use at most %(num)s characters.", PASSWORD_MAX
        )
    if not _is_utf8(password):
        return gettext("Use characters that can be typed; this one has a broken character.")
    return None


def _is_utf8(text: str) -> bool:
    # JSON may carry lone surrogates, which no hash function can encode.
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def normalize_email(email) -> tuple[str | None, str | None]:
    """(normalized address, None) or (None, reason)."""
    if not isinstance(email, str) or len(email) > 254 or not _is_utf8(email):
        return None, gettext("Enter a valid email address.")
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None, gettext("Enter a valid email address.")
    return info.normalized, None


def register(
    username, email, password, role: Role = Role.READER, display_name: str | None = None
) -> User:
    """Create an account.

    Raises ValidationError (fields: username, email, password) or Conflict when
    the username is taken (usernames are public: every profile shows one).
    """
    fields: dict[str, str] = {}
    if reason := check_username(username):
        fields["username"] = reason
    address, reason = normalize_email(email)
    if reason:
        fields["email"] = reason
    if reason := check_password(password):
        fields["password"] = reason
    if fields:
        raise ValidationError(fields=fields)

    # A conflict carries no "fields" (the contract keeps those for validation).
    if find_user(username) is not None:
        raise Conflict(gettext("That username is taken."))
    # An address already in use is not refused: saying so would tell anyone
    # which addresses have accounts here (see User.email_key).

    user = User(
        username=username,
        username_key=username.lower(),
        email=address,
        email_key=address.lower(),
        display_name=normalize(display_name or username)[:50] or username,
        password_hash=hash_password(password),
        role=role,
        # Signed up on a page or through the API: the language it was in is theirs.
        locale=signup_locale(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def signup_locale() -> str | None:
    """The language a new account gets: the one its request is served in. None
    (follow the browser) outside a request (the command line), and while the
    forum ships one language only: a choice nobody made would otherwise outrank
    the browser's wishes once more languages ship."""
    if not has_request_context() or len(i18n.shipped()) < 2:
        return None
    return i18n.current()


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def find_user(username) -> User | None:
    if check_username(username):
        return None  # never send a string we have not validated to the database
    return db.session.scalar(select(User).where(User.username_key == username.lower()))


def authenticate(username, password) -> User | None:
    """The user with these credentials, or None; always spends one Argon2 verify."""
    user = find_user(username)
    if not isinstance(password, str) or len(password) > PASSWORD_MAX or not _is_utf8(password):
        password = ""  # still verified, so a bad request costs what a good one does
    hasher, dummy = _hasher()
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.deleted_at is not None:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def sign_in(username, password, address: str | None) -> User | None:
    """authenticate(), behind the growing wait after failures (forum.services.
    throttle) for this name and this client address; raises RateLimited."""
    throttle.check(username, address)
    user = authenticate(username, password)
    if user is None:
        throttle.failed(username, address)
    else:
        throttle.succeeded(username, address)
    return user


def issue_token(
    user: User,
    ttl_hours: int,
    now: datetime | None = None,
    signed_in_at: datetime | None | object = ...,
) -> tuple[str, ApiToken]:
    """A new bearer token: (the secret to hand out once, its stored record).

    signed_in_at: when its holder proved who they are, for the steps that ask
    for a recent sign-in (forum.services.accounts.reauth). A token handed to the
    embed from a browser session carries that session's sign-in, not its own
    making (None: unknown, never recent); one made from a password or a sign-on
    token, now (the default)."""
    now = now or utcnow()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        token_hash=_digest(raw),
        created_at=now,
        expires_at=now + timedelta(hours=ttl_hours),
        signed_in_at=now if signed_in_at is ... else signed_in_at,
    )
    db.session.add(token)
    db.session.flush()
    return raw, token


def token_for(raw: str, now: datetime | None = None) -> ApiToken | None:
    """The live token record for this secret, or None (unknown, expired, revoked)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    now = now or utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.user.deleted_at is not None:
        return None
    return token


def revoke_token(token: ApiToken, now: datetime | None = None) -> None:
    token.revoked_at = now or utcnow()


def _digest(raw: str) -> str:
    # The token has 256 random bits, so a fast hash is enough (no brute force).
    return hashlib.sha256(raw.encode()).hexdigest()


# -- browser sessions -------------------------------------------------------------
# The session cookie is signed but lives on the client: without a record here, a
# copied cookie would outlive signing out. Each sign-in gets a random key whose
# hash is stored; the cookie carries the key.


def start_session(user: User, now: datetime | None = None) -> str:
    """A new session record for this user; returns the key for the cookie."""
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_digest(raw), created_at=now or utcnow()))
    db.session.flush()
    return raw


def session_user(user_id, raw) -> User | None:
    """The user of a live session (one statement), or None."""
    if not isinstance(user_id, str) or not user_id.isdigit() or len(user_id) > 10:
        return None
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    return db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            UserSession.key_hash == _digest(raw),
            UserSession.revoked_at.is_(None),
            User.deleted_at.is_(None),
        )
    )


def session_started_at(raw) -> datetime | None:
    """When the browser holding this session key signed in (None: no live session)."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    return db.session.scalar(
        select(UserSession.created_at).where(
            UserSession.key_hash == _digest(raw), UserSession.revoked_at.is_(None)
        )
    )


def end_session(raw, now: datetime | None = None) -> None:
    """Sign this browser out for good (its cookie stops working, even copied)."""
    if isinstance(raw, str) and len(raw) <= 100:
        db.session.execute(
            update(UserSession)
            .where(UserSession.key_hash == _digest(raw), UserSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )


def end_other_sessions(user: User, keep=None, now: datetime | None = None) -> None:
    """Sign the user out everywhere but the browser holding `keep` (None: all),
    and revoke every bearer token (apps, embedded threads)."""
    now = now or utcnow()
    sessions = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if isinstance(keep, str):
        sessions = sessions.where(UserSession.key_hash != _digest(keep))
    db.session.execute(sessions.values(revoked_at=now))
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )

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
from flask import current_app
from sqlalchemy import select

from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import ApiToken, Role, User, utcnow

USERNAME = re.compile(r"[A-Za-z0-9_-]{3,30}")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # argon2 copes with more; nobody needs more
TOKEN_PREFIX = "fpt_"


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
        return "Use 3 to 30 letters, digits, _ or -."
    return None


def check_password(password) -> str | None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if not _is_utf8(password):
        return "Use characters that can be typed; this one has a broken character."
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
        return None, "Enter a valid email address."
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None, "Enter a valid email address."
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
        raise Conflict("That username is taken.")
    # An address already in use is not refused: saying so would tell anyone
    # which addresses have accounts here (see User.email_key).

    user = User(
        username=username,
        username_key=username.lower(),
        email=address,
        email_key=address.lower(),
        display_name=normalize(display_name or username)[:50] or username,
        password_hash=_hasher()[0].hash(password),
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


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
    if user is None:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def issue_token(user: User, ttl_hours: int, now: datetime | None = None) -> tuple[str, ApiToken]:
    """A new bearer token: (the secret to hand out once, its stored record)."""
    now = now or utcnow()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        token_hash=_digest(raw),
        created_at=now,
        expires_at=now + timedelta(hours=ttl_hours),
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
    return token


def revoke_token(token: ApiToken, now: datetime | None = None) -> None:
    token.revoked_at = now or utcnow()


def _digest(raw: str) -> str:
    # The token has 256 random bits, so a fast hash is enough (no brute force).
    return hashlib.sha256(raw.encode()).hexdigest()

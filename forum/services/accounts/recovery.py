"""Getting into and proving an account: password reset, email confirmation,
changing the password.

Links carry signed tokens (itsdangerous, keyed by the site's secret). A reset
token names the account and a fingerprint of its current password hash, so it
works once: the new password changes the fingerprint. It lives an hour.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import parse as parse_limit
from sqlalchemy import select

from forum import i18n, links
from forum.errors import ValidationError
from forum.extensions import counters, db
from forum.models import User, is_id, utcnow
from forum.services.accounts import accounts
from forum.services.notify import outbox

RESET_SALT = "forum.password-reset"
RESET_MAX_AGE = 3600  # seconds
VERIFY_SALT = "forum.email-verify"
VERIFY_MAX_AGE = 3 * 24 * 3600
REQUIRED = "required"


def _signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def _signed_user(salt: str, token, max_age: int) -> tuple[User, object] | None:
    """(the account, the rest of the payload) from a genuine, fresh link token
    [user id, value]; None for anything else."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        payload = _signer(salt).loads(token, max_age=max_age)
    except (BadData, UnicodeError, ValueError, TypeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and is_id(payload[0])):
        return None
    user = db.session.get(User, payload[0])
    return (user, payload[1]) if user is not None else None


# -- password reset ---------------------------------------------------------------


# Reset emails to one address, whoever asks. Past it nothing more is sent (the
# answer stays the same), and nothing is refused: the links already sent live an
# hour, as long as this window, so the owner always has a working one.
RESET_MAILS = parse_limit("3 per hour")


def _mail_allowed(address: str) -> bool:
    return counters.hit(RESET_MAILS, "reset-mail", address.lower())


def request_reset(address) -> int:
    """Queue a reset link to every account using this address; returns how many.

    The caller answers the same whatever this returns: nobody learns from the
    page whether an address has accounts here.
    """
    normalized, problem = accounts.normalize_email(address)
    users = []
    if not problem and not _mail_allowed(normalized):
        return 0
    if not problem:
        users = db.session.scalars(
            select(User).where(User.email_key == normalized.lower(), User.is_guest.is_(False))
        ).all()
    for user in users:
        token = _signer(RESET_SALT).dumps([user.id, _fingerprint(user)])
        link = links.external("auth.reset_password", token=token)
        with i18n.recipient_language(user):
            outbox.enqueue_account_email(
                user,
                user.email,
                gettext("Reset your password"),
                gettext(
                    "Someone (we hope you) asked to reset the password of the account "
                    "@%(username)s on this forum.\n\n"
                    "Choose a new password here within an hour:\n%(link)s\n\n"
                    "The link works once. If you did not ask for it, ignore this email: "
                    "your password stays as it is.",
                    username=user.username,
                    link=link,
                ),
            )
    return len(users)


def user_for_reset(token) -> User | None:
    """The account a reset link is for, if the link is genuine, under an hour
    old and not used yet; else None."""
    found = _signed_user(RESET_SALT, token, RESET_MAX_AGE)
    if found is None:
        return None
    user, fingerprint = found
    if user.is_guest or fingerprint != _fingerprint(user):
        return None
    return user


def set_password(user: User, password, keep_session=None) -> None:
    """Give the account a new password and sign it out everywhere else (every
    other browser and every bearer token). Raises ValidationError."""
    if problem := accounts.check_password(password):
        raise ValidationError(fields={"password": problem})
    user.password_hash = accounts.hash_password(password)
    accounts.end_other_sessions(user, keep=keep_session)


def change_password(user: User, current, new, keep_session) -> None:
    """The signed-in owner changes their password. Raises ValidationError."""
    if accounts.authenticate(user.username, current) is None:
        raise ValidationError(
            fields={"current_password": gettext("That is not your current password.")}
        )
    set_password(user, new, keep_session)


# -- email confirmation ----------------------------------------------------------------


def verification_required() -> bool:
    return current_app.config["FORUM_EMAIL_VERIFICATION"] == REQUIRED


def send_verification(user: User) -> bool:
    """Queue a link that confirms the account's address; False if there is
    nothing to confirm (no address, or confirmed already)."""
    if not user.email or user.email_verified_at is not None:
        return False
    token = _signer(VERIFY_SALT).dumps([user.id, user.email_key])
    link = links.external("auth.verify_email", token=token)
    with i18n.recipient_language(user):
        outbox.enqueue_account_email(
            user,
            user.email,
            gettext("Confirm your email address"),
            gettext(
                "Welcome, %(name)s!\n\nConfirm that this address is yours by opening:\n"
                "%(link)s\n\nThe link works for three days. If you did not sign up, "
                "ignore this email.",
                name=user.display_name,
                link=link,
            ),
        )
    return True


def verify_email(token) -> User | None:
    """Mark the address confirmed; the user, or None for a bad or stale link
    (or one for an address the account no longer uses)."""
    found = _signed_user(VERIFY_SALT, token, VERIFY_MAX_AGE)
    if found is None:
        return None
    user, email_key = found
    if user.email_key is None or user.email_key != email_key:
        return None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user

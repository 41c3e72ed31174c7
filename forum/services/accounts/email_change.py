"""Changing an account's email address: the new address proves itself first.

The owner asks (with their password, or a recent sign-in for an account without
one); a signed link goes to the new address; only when it is opened does the
account's address change, and then the old address gets a notice, so someone
who took over a signed-in browser cannot quietly redirect the account's mail.

The link names the account, the new address and the address the account had
when it was asked for: once the address changes (this link or another), every
other link for the old state stops working. It lives three days.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import parse as parse_limit

from forum import i18n, links
from forum.errors import RateLimited, ValidationError
from forum.extensions import counters, db
from forum.models import User, is_id, utcnow
from forum.services.accounts import accounts, reauth
from forum.services.notify import outbox

SALT = "forum.email-change"
MAX_AGE = 3 * 24 * 3600
# Links asked for per account: each is an email to an address of the asker's choosing.
MAILS = parse_limit("5 per hour")


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def request_change(user: User, new_email, password, signed_in_at=None) -> str:
    """Queue the confirmation link to the new address; returns it normalized.
    Raises ValidationError (password, email) or RateLimited."""
    reauth.require_owner(user, password, signed_in_at)
    address, problem = accounts.normalize_email(new_email)
    if problem:
        raise ValidationError(fields={"email": problem})
    if user.email_key is not None and address.lower() == user.email_key:
        raise ValidationError(
            fields={"email": gettext("That is the address your account has already.")}
        )
    if not counters.hit(MAILS, "email-change", str(user.id)):
        raise RateLimited(gettext("You asked for several links already; try again in an hour."))
    token = _signer().dumps([user.id, [address, user.email_key or ""]])
    link = links.external("own_data.confirm_email_change_page", token=token)
    with i18n.recipient_language(user):
        outbox.enqueue_account_email(
            user,
            address,
            gettext("Confirm your new email address"),
            gettext(
                "Someone (we hope you) asked to use this address for the account "
                "@%(username)s on this forum.\n\nConfirm it by opening:\n%(link)s\n\n"
                "The link works for three days. Until it is opened, the account keeps its "
                "old address. If you did not ask for this, ignore this email.",
                username=user.username,
                link=link,
            ),
        )
    return address


def confirm_change(token) -> User | None:
    """Switch the account to the address the link names; the account, or None for a
    bad, stale or already used link. The old address is told."""
    if not isinstance(token, str) or len(token) > 800:
        return None
    try:
        payload = _signer().loads(token, max_age=MAX_AGE)
    except (BadData, UnicodeError, ValueError, TypeError):
        return None
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and is_id(payload[0])
        and isinstance(payload[1], list)
        and len(payload[1]) == 2
        and all(isinstance(part, str) for part in payload[1])
    ):
        return None
    user = db.session.get(User, payload[0])
    address, was = payload[1]
    if user is None or user.deleted_at is not None or (user.email_key or "") != was:
        return None
    old = user.email
    user.email = address
    user.email_key = address.lower()
    user.email_verified_at = utcnow()  # the link reached that inbox
    if old and old.lower() != address.lower():
        with i18n.recipient_language(user):
            outbox.enqueue_account_email(
                user,
                old,
                gettext("Your email address was changed"),
                gettext(
                    "The account @%(username)s on this forum now uses another email "
                    "address; this one will get no more mail from it.\n\n"
                    "If you did not make this change, reset your password at once and "
                    "write to the forum's operators.",
                    username=user.username,
                ),
            )
    db.session.flush()
    return user

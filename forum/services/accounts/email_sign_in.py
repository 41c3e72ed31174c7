"""Signing in by a link we email: no password needed, the inbox is the proof.

A link carries a signed token (itsdangerous, keyed by the site's secret) naming
the account, a random id and the address it was sent to. It works for 15
minutes and once: using it records its id in spent_tokens. The request answers
the same whether or not the address has accounts, as the password reset does
(forum.services.accounts.recovery); one address with several accounts gets one
email with a link for each.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext, lazy_gettext, ngettext
from limits import parse as parse_limit
from sqlalchemy import select

from forum import i18n, links
from forum.extensions import counters, db
from forum.models import User, utcnow
from forum.services import single_use
from forum.services.accounts import accounts
from forum.services.accounts.external import can_sign_in
from forum.services.accounts.recovery import _signed_user, _signer
from forum.services.notify import outbox

SALT = "forum.email-sign-in"
MAX_AGE = 15 * 60  # seconds
PURPOSE = "sign-in"
SUBJECT = lazy_gettext("Your sign-in link")
# Emails to one address, whoever asks: past it nothing more is sent, and the
# answer stays the same (the links already sent still work).
MAILS = parse_limit("5 per hour")


def request_link(address) -> int:
    """Queue one email with a sign-in link for each account using this address;
    returns how many accounts. The caller answers the same whatever it returns."""
    normalized, problem = accounts.normalize_email(address)
    if problem or not counters.hit(MAILS, "sign-in-mail", normalized.lower()):
        return 0
    users = [
        user
        for user in db.session.scalars(
            select(User).where(User.email_key == normalized.lower()).order_by(User.id)
        )
        if can_sign_in(user)
    ]
    if not users:
        return 0
    # Each account's name and link, a blank line between them.
    links_text = "\n\n".join(
        f"@{user.username}:\n{links.external('sign_in.email_link', token=_token(user))}"
        for user in users
    )
    # One email, in the language of the address's first account.
    with i18n.recipient_language(users[0]):
        if len(users) == 1:
            accounts_line = gettext("Open this link within 15 minutes to sign in:")
        else:
            accounts_line = ngettext(
                "This address belongs to %(num)s account here. Open the link of the one "
                "you want within 15 minutes:",
                "This address belongs to %(num)s accounts here. Open the link of the one "
                "you want within 15 minutes:",
                len(users),
            )
        body = "\n\n".join(
            [
                gettext("Someone (we hope you) asked to sign in to this forum without a password."),
                accounts_line,
                links_text,
                gettext(
                    "Each link works once. If you did not ask for it, ignore this email: "
                    "nobody can sign in without opening it."
                ),
            ]
        )
        outbox.enqueue_account_email(users[0], users[0].email, str(SUBJECT), body)
    return len(users)


def _token(user: User) -> str:
    return _signer(SALT).dumps([user.id, [secrets.token_urlsafe(16), user.email_key]])


def user_for_link(token) -> User | None:
    """The account a link signs in to, if it is genuine, under 15 minutes old,
    unused, for the address the account still has, and the account may sign in."""
    found = _parsed(token)
    return found[0] if found else None


def spend(token) -> User | None:
    """Use a link: the account it signs in to (its address now confirmed), or None
    when user_for_link() would say None or the link was used a moment ago."""
    found = _parsed(token)
    if found is None:
        return None
    user, jti = found
    now = utcnow()
    single_use.forget_expired(now)
    if not single_use.spend(PURPOSE, jti, now + timedelta(seconds=MAX_AGE)):
        return None  # spent by another request in between
    if user.email_verified_at is None:
        user.email_verified_at = now  # the link reached their inbox
    return user


def _parsed(token) -> tuple[User, str] | None:
    found = _signed_user(SALT, token, MAX_AGE)
    if found is None:
        return None
    user, rest = found
    if not (isinstance(rest, list) and len(rest) == 2 and all(isinstance(v, str) for v in rest)):
        return None
    jti, email_key = rest
    if len(jti) > 64 or user.email_key != email_key or not can_sign_in(user):
        return None
    return None if single_use.is_spent(PURPOSE, jti) else (user, jti)

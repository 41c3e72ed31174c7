"""Proving it is really the owner before an irreversible step (deleting the
account, changing its address): the password, or for an account without one
(single sign-on: password_hash "!") a sign-in within the last few minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext, ngettext

from forum.errors import ValidationError
from forum.models import User, utcnow
from forum.services.accounts import accounts
from forum.services.accounts.accounts import UNUSABLE_PASSWORD

RECENT = timedelta(minutes=10)


def has_password(user: User) -> bool:
    return bool(user.password_hash) and user.password_hash != UNUSABLE_PASSWORD


def require_owner(
    user: User, password, signed_in_at: datetime | None, now: datetime | None = None
) -> None:
    """Raises ValidationError (field password) unless the password is right or, for
    an account without one, the sign-in is under RECENT old."""
    if has_password(user):
        if accounts.authenticate(user.username, password) is None:
            raise ValidationError(fields={"password": gettext("That is not your password.")})
        return
    now = now or utcnow()
    if signed_in_at is None or now - signed_in_at > RECENT:
        minutes = int(RECENT.total_seconds() // 60)
        raise ValidationError(
            fields={
                "password": ngettext(
                    "Your account has no password: sign out and in again, then "
                    "do this within %(num)s minute.",
                    "Your account has no password: sign out and in again, then "
                    "do this within %(num)s minutes.",
                    minutes,
                )
            }
        )

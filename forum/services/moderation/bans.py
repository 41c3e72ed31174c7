"""Moderators' verbs about people: bans, lifting them, private notes, and
finding an account by name."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from forum import permissions
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import (
    PERMANENT,
    User,
    UserNote,
    utcnow,
)
from forum.services.accounts.accounts import find_user
from forum.services.audit import audit
from forum.services.moderation.decisions import short_text

# -- people ---------------------------------------------------------------------------


def ban(actor: User, user: User, reason, until: datetime | None = None) -> User:
    """Ban until a time (None: for good). Raises Forbidden or ValidationError."""
    permissions.require(permissions.can_ban(actor, user), gettext("You cannot ban this account."))
    reason = short_text(reason, "reason")
    if not reason:
        raise ValidationError(fields={"reason": gettext("Say why; the reader will see it.")})
    if until is not None and until <= utcnow():
        raise ValidationError(fields={"until": gettext("Choose a time in the future.")})
    before = _ban_state(user)
    user.banned_until = until or PERMANENT
    user.ban_reason = reason
    audit(actor, "ban", user, reason, before, _ban_state(user))
    db.session.flush()
    return user


def unban(actor: User, user: User, reason=None) -> User:
    permissions.require(permissions.can_ban(actor, user), gettext("You cannot unban this account."))
    if not permissions.is_banned(user):
        raise Conflict(gettext("This account is not banned."))
    before = _ban_state(user)
    user.banned_until = None
    user.ban_reason = None
    audit(actor, "unban", user, short_text(reason, "reason"), before, _ban_state(user))
    db.session.flush()
    return user


def _ban_state(user: User) -> dict:
    until = user.banned_until
    return {
        "banned_until": None if until is None else until.isoformat(),
        "reason": user.ban_reason,
    }


def add_note(actor: User, user: User, body) -> UserNote:
    permissions.require(permissions.can_moderate(actor))
    if not isinstance(body, str) or not normalize(body):
        raise ValidationError(fields={"body": gettext("Write the note first.")})
    body = normalize(body)
    if len(body) > 2000:
        raise ValidationError(fields={"body": gettext("Keep notes under 2,000 characters.")})
    note = UserNote(user_id=user.id, author_id=actor.id, body=body, created_at=utcnow())
    db.session.add(note)
    audit(actor, "note", user, body[:200])
    db.session.flush()
    return note


def user_by_name(username) -> User:
    """Raises NotFound."""
    user = find_user(username)
    if user is None:
        raise NotFound(gettext("There is no account with that name."))
    return user

"""Readers' flags: a report on a comment, and the hold it triggers in
post-moderation once enough readers agree."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import permissions
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.models import (
    Comment,
    CommentStatus,
    Flag,
    FlagReason,
    ModerationMode,
    User,
)
from forum.services import settings
from forum.services.audit import audit
from forum.services.discussion.comments import change_status
from forum.services.discussion.threads import moderation_mode
from forum.services.moderation.decisions import conflict_if_changed, short_text
from forum.services.notify import alerts

# -- reader flags ---------------------------------------------------------------------


def flag(user: User, comment: Comment, reason, note=None) -> Flag:
    """A reader reports a comment; enough new flags hide it in post-moderation.

    Raises Unauthorized, Banned, Forbidden, ValidationError or Conflict.
    """
    permissions.require_signed_in(user)
    permissions.require_not_banned(user)
    if permissions.is_author(user, comment):
        raise permissions.Forbidden(gettext("You cannot report your own comment."))
    permissions.require(
        permissions.can_flag(user, comment), gettext("This comment cannot be reported.")
    )
    if not isinstance(reason, str) or reason not in {r.value for r in FlagReason}:
        raise ValidationError(
            fields={"reason": gettext("Use one of: %(values)s.", values=", ".join(FlagReason))}
        )
    note = short_text(note, "note")
    existing = db.session.scalar(
        select(Flag.id).where(Flag.comment_id == comment.id, Flag.user_id == user.id)
    )
    if existing is not None:
        raise Conflict(gettext("You have already reported this comment."))
    threshold = settings.current()["flag_threshold"]
    hide = moderation_mode(comment.thread) == ModerationMode.POST
    changed = gettext("This comment changed just now; try again.")
    with conflict_if_changed(changed), db.session.no_autoflush:
        report = Flag(comment=comment, user=user, reason=FlagReason(reason), note=note)
        db.session.add(report)
        flags = comment.open_flags + 1
        comment.open_flags = flags
        if hide and flags >= threshold and comment.status == CommentStatus.APPROVED:
            detail = f"Hidden after {flags} reader reports"
            reason = {"rule": "flags", "detail": detail, "args": {"num": flags}}
            comment.hold_reasons = [*comment.hold_reasons, reason]
            change_status(comment, CommentStatus.PENDING)
            # No moderator did this, but it changed what readers see: on the record.
            audit(None, "auto_hide", comment, detail, {"status": "approved"}, {"status": "pending"})
            alerts.comment_held(comment, hidden_by_reports=True)
        try:
            db.session.flush()
        except IntegrityError:  # the same reader, twice at once
            db.session.rollback()
            raise Conflict(gettext("You have already reported this comment.")) from None
    return report

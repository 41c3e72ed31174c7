"""Thread and site controls: close or reopen a thread, its moderation mode and
spoiler date, and the site-wide settings moderators may change."""

from __future__ import annotations

from flask_babel import gettext

from forum import permissions
from forum.errors import ValidationError
from forum.extensions import db
from forum.models import (
    ModerationMode,
    Thread,
    ThreadStatus,
    User,
)
from forum.services import settings
from forum.services.audit import audit

# -- threads --------------------------------------------------------------------------


UNCHANGED = object()


def update_thread(
    actor: User,
    thread: Thread,
    status=None,
    moderation=None,
    spoiler_until=UNCHANGED,
    guests=None,
) -> Thread:
    """Close or reopen, set the moderation mode, set or end the article's
    spoiler window (an aware datetime, or None), and take or turn away guests
    (True or False; they post only with FORUM_GUESTS=on). Raises Forbidden or
    ValidationError."""
    permissions.require(permissions.can_moderate(actor))
    fields = {}
    if status is not None and (
        not isinstance(status, str) or status not in {s.value for s in ThreadStatus}
    ):
        fields["status"] = gettext(
            "Use %(open)s or %(closed)s.",
            open=ThreadStatus.OPEN.value,
            closed=ThreadStatus.CLOSED.value,
        )
    modes = [m.value for m in ModerationMode]
    if moderation is not None and (
        not isinstance(moderation, str) or moderation not in [*modes, "default"]
    ):
        fields["moderation"] = gettext(
            "Use %(values)s, or %(default)s for the site's setting.",
            values=", ".join(modes),
            default="default",
        )
    if spoiler_until is not UNCHANGED and thread.article is None:
        fields["spoiler_until"] = gettext(
            "Only a thread under one of this site's articles has one."
        )
    if guests is not None and not isinstance(guests, bool):
        fields["guests"] = gettext("Use true or false.")
    if fields:
        raise ValidationError(fields=fields)
    before = _thread_state(thread)
    if status is not None:
        thread.status = ThreadStatus(status)
    if moderation is not None:
        thread.moderation = None if moderation == "default" else ModerationMode(moderation)
    if spoiler_until is not UNCHANGED:
        thread.article.spoiler_until = spoiler_until
    if guests is not None:
        thread.allow_guests = guests
    after = _thread_state(thread)
    if after != before:
        audit(actor, "thread", thread, None, before, after)
        thread.version = Thread.version + 1
    db.session.flush()
    return thread


def _thread_state(thread: Thread) -> dict:
    # The stored mode, not the effective one: "default" follows the site setting.
    until = thread.article.spoiler_until if thread.article else None
    return {
        "status": thread.status.value,
        "moderation": thread.moderation.value if thread.moderation else "default",
        "spoiler_until": until.isoformat() if until else None,
        "guests": thread.allow_guests,
    }


def change_settings(actor: User, form: dict) -> dict:
    """Save the moderation settings form; raises Forbidden or ValidationError."""
    permissions.require(permissions.can_administer(actor))
    changed = settings.save(settings.parse(form))
    if changed:
        hidden = {f.key for f in settings.FIELDS if f.kind == "secret"}
        audit(
            actor,
            "settings",
            None,
            None,
            {k: ("…" if k in hidden else v[0]) for k, v in changed.items()},
            {k: ("…" if k in hidden else v[1]) for k, v in changed.items()},
        )
    db.session.flush()
    return changed

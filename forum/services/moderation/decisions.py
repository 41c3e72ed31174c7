"""Moderators' decisions on comments: approve, reject, mark as spam, restore,
feature, mark spoilers and settle theories.  Every decision is written to the
audit log in the same transaction as the change it records."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy.orm.exc import StaleDataError

from forum import permissions, vocabulary
from forum.addresses import is_web_address
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import (
    Comment,
    CommentStatus,
    ModerationAction,
    TheoryStatus,
    Thread,
    User,
    utcnow,
)
from forum.services.audit import audit
from forum.services.discussion.comments import change_status
from forum.services.notify import notifications

ACTIONS = tuple(ModerationAction)
# The actions that decide whether a comment is shown.
_DECIDING = (
    ModerationAction.APPROVE,
    ModerationAction.REJECT,
    ModerationAction.SPAM,
    ModerationAction.RESTORE,
)
REASON_MAX = 500


def _state(comment: Comment) -> dict:
    return {
        "status": comment.status.value,
        "featured": comment.featured,
        "spoiler": comment.spoiler,
        "theory_status": comment.theory_status.value if comment.theory_status else None,
        "open_flags": comment.open_flags,
    }


# -- decisions on comments ------------------------------------------------------------


def act(
    actor: User,
    comment: Comment,
    action,
    reason=None,
    note=None,
    link=None,
    seen_status: str | None = None,
    seen_revision=None,
    now: datetime | None = None,
) -> Comment:
    """Apply one moderation action.

    seen_status and seen_revision describe the comment as the moderator saw it;
    if it has moved on since (another moderator acted, or its author edited it),
    Conflict says so rather than deciding on words nobody reviewed.
    Raises Forbidden, ValidationError or Conflict.
    """
    permissions.require(permissions.can_moderate(actor))
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationError(
            fields={"action": gettext("Use one of: %(values)s.", values=", ".join(ACTIONS))}
        )
    action = ModerationAction(action)
    reason = short_text(reason, "reason")
    note = short_text(note, "note")
    link = _link(link)
    if seen_status is not None and seen_status != comment.status.value:
        raise Conflict(_already(comment))
    if seen_revision is not None and str(seen_revision) != str(comment.revision):
        raise Conflict(
            gettext("This comment changed since you opened it (edited or decided); reload it.")
        )
    now = now or utcnow()
    before = _state(comment)
    # Held when posted and never shown: approving it is its first publication.
    first_publication = comment.status in (CommentStatus.PENDING, CommentStatus.SPAM) and not any(
        reason.get("rule") == "flags" for reason in comment.hold_reasons
    )
    with (
        conflict_if_changed(gettext("Another moderator changed this comment just now; reload it.")),
        db.session.no_autoflush,  # one UPDATE of the comment, at the flush below
    ):
        _APPLY[action](comment, reason=reason, note=note, link=link)
        if action in _DECIDING:
            comment.moderated_at = now
            comment.moderated_by_id = actor.id
            comment.moderation_reason = reason if action == ModerationAction.REJECT else None
        elif action.endswith("_theory"):
            comment.theory_settled_at = now  # for "recently confirmed"
        audit(actor, action.value, comment, reason or note, before, _state(comment))
        db.session.flush()
    _announce(comment, action, first_publication)
    return comment


def _announce(comment: Comment, action: ModerationAction, first_publication: bool) -> None:
    """Tell the author the outcome, and the thread about words shown for the first time."""
    if action in (ModerationAction.APPROVE, ModerationAction.RESTORE) and first_publication:
        notifications.comment_decided(comment, approved=True)
        notifications.comment_published(comment)
    elif action in (ModerationAction.REJECT, ModerationAction.SPAM):
        notifications.withdraw(comment)  # nobody hears about words no longer shown
        if action == ModerationAction.REJECT:
            notifications.comment_decided(comment, approved=False)
    elif action in (ModerationAction.CONFIRM_THEORY, ModerationAction.DEBUNK_THEORY):
        notifications.theory_settled(comment, confirmed=action == ModerationAction.CONFIRM_THEORY)


@contextmanager
def conflict_if_changed(message: str):
    """Turn a lost optimistic-lock race (another writer bumped the comment's
    revision first, caught at any flush, autoflush included) into Conflict."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict(message) from None


def _already(comment: Comment) -> str:
    status = vocabulary.label(comment.status)
    if comment.moderated_by is None:
        return gettext("Already handled: someone marked it %(status)s.", status=status)
    return gettext(
        "Already handled: %(name)s marked it %(status)s.",
        name=comment.moderated_by.username,
        status=status,
    )


def _approve(comment: Comment, **_) -> None:
    if comment.status == CommentStatus.APPROVED and comment.open_flags == 0:
        raise Conflict(_already(comment))
    if comment.status == CommentStatus.DELETED:
        raise Conflict(gettext("Its author deleted it; there is nothing to approve."))
    comment.open_flags = 0  # the flags so far are answered; new ones count afresh
    change_status(comment, CommentStatus.APPROVED)


def _remove_as(status: CommentStatus):
    def remove(comment: Comment, **_) -> None:
        if comment.status == status:
            raise Conflict(_already(comment))
        if comment.status == CommentStatus.DELETED:
            raise Conflict(gettext("Its author deleted it already."))
        comment.open_flags = 0
        change_status(comment, status)

    return remove


def _restore(comment: Comment, **_) -> None:
    if comment.status not in (CommentStatus.REJECTED, CommentStatus.SPAM):
        raise Conflict(gettext("Only rejected or spam comments can be restored."))
    change_status(comment, CommentStatus.APPROVED)


# What a moderator is told when the comment already is as they ask.
_ALREADY = {
    ("featured", True): lazy_gettext("It is already featured."),
    ("featured", False): lazy_gettext("It is not featured."),
    ("spoiler", True): lazy_gettext("It is already spoiler."),
    ("spoiler", False): lazy_gettext("It is not spoiler."),
}


def _toggle(attribute: str, value: bool, needs_approved: bool = False):
    def toggle(comment: Comment, **_) -> None:
        if getattr(comment, attribute) == value:
            raise Conflict(_ALREADY[attribute, value])
        if needs_approved and comment.status != CommentStatus.APPROVED:
            raise Conflict(gettext("Only an approved comment can be featured."))
        setattr(comment, attribute, value)
        comment.thread.version = Thread.version + 1

    return toggle


_THEORY_ALREADY = {
    TheoryStatus.OPEN: lazy_gettext("This theory is already open."),
    TheoryStatus.CONFIRMED: lazy_gettext("This theory is already confirmed."),
    TheoryStatus.DEBUNKED: lazy_gettext("This theory is already debunked."),
}


def _theory(status: TheoryStatus):
    def settle(comment: Comment, note=None, link=None, **_) -> None:
        if not comment.is_theory:
            raise Conflict(gettext("This comment is not a theory."))
        if comment.status != CommentStatus.APPROVED:
            raise Conflict(gettext("Only a published theory can be settled."))
        if comment.theory_status == status:
            raise Conflict(_THEORY_ALREADY[status])
        comment.theory_status = status
        comment.theory_note = note if status != TheoryStatus.OPEN else None
        comment.theory_link = link if status != TheoryStatus.OPEN else None
        comment.thread.version = Thread.version + 1

    return settle


# One entry per ModerationAction (tests/views/test_api_schemas.py checks none is missing).
_APPLY = {
    ModerationAction.APPROVE: _approve,
    ModerationAction.REJECT: _remove_as(CommentStatus.REJECTED),
    ModerationAction.SPAM: _remove_as(CommentStatus.SPAM),
    ModerationAction.RESTORE: _restore,
    ModerationAction.FEATURE: _toggle("featured", True, needs_approved=True),
    ModerationAction.UNFEATURE: _toggle("featured", False),
    ModerationAction.MARK_SPOILER: _toggle("spoiler", True),
    ModerationAction.UNMARK_SPOILER: _toggle("spoiler", False),
    ModerationAction.CONFIRM_THEORY: _theory(TheoryStatus.CONFIRMED),
    ModerationAction.DEBUNK_THEORY: _theory(TheoryStatus.DEBUNKED),
    ModerationAction.REOPEN_THEORY: _theory(TheoryStatus.OPEN),
}


def short_text(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(fields={name: gettext("Write it as text.")})
    value = normalize(value)
    if len(value) > REASON_MAX:
        raise ValidationError(
            fields={
                name: ngettext(
                    "Keep it under %(num)s character.",
                    "Keep it under %(num)s characters.",
                    REASON_MAX,
                )
            }
        )
    return value or None


def _link(value) -> str | None:
    if value is None or value == "":
        return None
    if not is_web_address(value):
        raise ValidationError(fields={"link": gettext("Give a full http:// or https:// address.")})
    return value

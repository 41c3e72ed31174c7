"""Comments: posting, editing and deleting them, and finding one by its id.

Reading a thread is forum.services.discussion.trees; who sees what is
forum.services.discussion.visibility."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from forum import permissions
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.markup import normalize, render_comment
from forum.models import (
    Comment,
    CommentStatus,
    TheoryStatus,
    Thread,
    User,
    is_id,
    utcnow,
)
from forum.services import settings
from forum.services.audit import audit
from forum.services.discussion import revisions, visibility
from forum.services.discussion.threads import moderation_mode
from forum.services.moderation import rules
from forum.services.notify import alerts, notifications

BODY_MAX = 10_000
THEORY_TITLE = (3, 120)
# Replies nest to this depth, far past any real conversation; the bound keeps
# every reader of a tree (JSON encoder, templates) clear of recursion limits.
DEPTH_MAX = 100


# -- writing -----------------------------------------------------------------


def check_body(body) -> str:
    """The normalized body; raises ValidationError."""
    if not isinstance(body, str):
        raise ValidationError(fields={"body": gettext("Write your comment as text.")})
    body = normalize(body)
    if not body:
        raise ValidationError(fields={"body": gettext("Write something first.")})
    if len(body) > BODY_MAX:
        raise ValidationError(
            fields={
                "body": gettext(
                    "Keep it to %(max)s characters at most (this is %(length)s).",
                    max=f"{BODY_MAX:,}",
                    length=f"{len(body):,}",
                )
            }
        )
    return body


def post_comment(
    author: User,
    thread: Thread,
    body,
    parent: Comment | None = None,
    theory_title=None,
    spoiler=False,
    guest=None,
) -> Comment:
    """Add a comment or reply (`guest`: a guest author's guests.Signals).

    Raises Unauthorized, ThreadClosed, or ValidationError (body, parent_id,
    theory_title, spoiler).
    """
    permissions.require_can_post(author, thread)
    body = check_body(body)
    fields = {}
    if parent is not None:
        if parent.thread_id != thread.id:
            fields["parent_id"] = gettext("That comment belongs to another discussion.")
        elif parent.status == CommentStatus.DELETED:
            fields["parent_id"] = gettext("That comment was deleted; reply to another one.")
        elif parent.depth >= DEPTH_MAX:
            fields["parent_id"] = gettext(
                "This reply chain is as deep as it goes; reply further up."
            )
        elif not permissions.can_reply(author, parent):
            fields["parent_id"] = gettext("That comment cannot be replied to yet.")
    if theory_title is not None:
        if not isinstance(theory_title, str):
            fields["theory_title"] = gettext("Give the theory a title as text.")
        else:
            theory_title = normalize(theory_title)
            low, high = THEORY_TITLE
            if parent is not None:
                fields["theory_title"] = gettext("Only a top-level comment can be a theory.")
            elif not low <= len(theory_title) <= high:
                fields["theory_title"] = gettext(
                    "Use %(low)s to %(high)s characters.", low=low, high=high
                )
    if not isinstance(spoiler, bool):
        fields["spoiler"] = gettext("Use true or false.")
    if fields:
        raise ValidationError(fields=fields)

    verdict = rules.review(_submission(author, thread, body, guest=guest))
    comment = add_comment(
        thread,
        author,
        parent,
        body,
        verdict.status,
        theory_title=theory_title,
        spoiler=spoiler,
        hold_reasons=verdict.reasons,
        html=verdict.html,  # rendered once, for the rules
    )
    if comment.status == CommentStatus.APPROVED:
        notifications.comment_published(comment)
    else:
        notifications.follow(author, thread)  # to hear about the thread once published
        alerts.comment_held(comment)
    return comment


def _submission(
    author: User, thread: Thread, body: str, comment=None, guest=None
) -> rules.Submission:
    return rules.Submission(
        author=author,
        thread=thread,
        body=body,
        html=render_comment(body),
        mode=moderation_mode(thread),
        settings=settings.current(),
        now=utcnow(),
        comment=comment,
        guest=guest,
    )


def add_comment(
    thread: Thread,
    author: User | None,
    parent: Comment | None,
    body: str,
    status: CommentStatus,
    theory_title: str | None = None,
    spoiler: bool = False,
    created_at: datetime | None = None,
    hold_reasons: list[dict] | None = None,
    html: str | None = None,
) -> Comment:
    """Store an already validated comment and keep the thread's count and version.

    post_comment() is the checked way in; imports and the demo call this directly.
    html is render_comment(body) when the caller has it already.
    """
    comment = Comment(
        thread=thread,
        parent=parent,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author=author,
        body=body,
        html=render_comment(body) if html is None else html,
        status=status,
        theory_title=theory_title,
        theory_status=TheoryStatus.OPEN if theory_title else None,
        spoiler=spoiler,
        created_at=created_at or utcnow(),
        hold_reasons=hold_reasons or [],
    )
    db.session.add(comment)
    _touch(thread, +1 if status == CommentStatus.APPROVED else 0)
    db.session.flush()
    return comment


def edit_comment(user: User, comment: Comment, body, now: datetime | None = None) -> Comment:
    """Replace the body inside the edit window; raises Forbidden or ValidationError."""
    now = now or utcnow()
    require_editable(user, comment, now)
    body = check_body(body)
    held_again = False
    if body != comment.body:
        verdict = rules.review(_submission(user, comment.thread, body, comment))
        revisions.record(comment, user, now)  # the words this edit replaces, for moderators
        comment.body = body
        comment.html = verdict.html
        comment.edited_at = now
        if verdict.status != CommentStatus.APPROVED:
            comment.hold_reasons = [*comment.hold_reasons, *verdict.reasons]
            if rules.SEVERITY[verdict.status] > rules.SEVERITY.get(comment.status, 0):
                before = {"status": comment.status.value}
                change_status(comment, verdict.status)
                after = {"status": verdict.status.value}
                audit(None, "auto_hold", comment, "Held again after an edit", before, after)
                held_again = True
        _touch(comment.thread, 0)
    _flush_or_conflict()
    if held_again:
        alerts.comment_held(comment)
    return comment


def require_editable(user, comment: Comment, now: datetime | None = None) -> None:
    """Raises Unauthorized or Forbidden unless user may edit comment now."""
    window = current_app.config["FORUM_EDIT_WINDOW_MINUTES"]
    permissions.require_signed_in(user)
    permissions.require(
        permissions.can_edit(user, comment, now or utcnow(), window),
        ngettext(
            "Comments can be edited by their author for %(num)s minute after posting.",
            "Comments can be edited by their author for %(num)s minutes after posting.",
            window,
        ),
    )


def delete_comment(user: User, comment: Comment, now: datetime | None = None) -> None:
    """Delete; the row stays as a tombstone so replies keep their place.

    An author's own deletion removes the words for good.  A moderator's keeps
    them for the record (readers see the same tombstone) and is audited.
    Raises Unauthorized or Forbidden.
    """
    permissions.require_signed_in(user)
    permissions.require(permissions.can_delete(user, comment))
    by_author = permissions.is_author(user, comment)
    if not by_author:
        audit(
            user, "delete", comment, None, {"status": comment.status.value}, {"status": "deleted"}
        )
    change_status(comment, CommentStatus.DELETED)
    notifications.withdraw(comment)
    comment.deleted_at = now or utcnow()
    if by_author:
        comment.body = ""
        comment.html = ""
        revisions.forget(comment)
    _flush_or_conflict()


def _flush_or_conflict() -> None:
    """Flush; if someone changed the comment since we read it, raise Conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(
            gettext("This comment changed a moment ago; reload and try again.")
        ) from None


def change_status(comment: Comment, status: CommentStatus) -> None:
    """Set the status, keeping the thread's approved count and version right."""
    delta = int(status == CommentStatus.APPROVED) - int(comment.status == CommentStatus.APPROVED)
    comment.status = status
    _touch(comment.thread, delta)


def _touch(thread: Thread, count_delta: int) -> None:
    # SQL-side arithmetic: concurrent writers cannot lose each other's update.
    thread.version = Thread.version + 1
    if count_delta:
        thread.comment_count = Thread.comment_count + count_delta


# -- finding one -------------------------------------------------------------


def comment_by_id_or_none(comment_id) -> Comment | None:
    if is_id(comment_id):
        return db.session.get(Comment, comment_id)
    return None


def comment_by_id(comment_id) -> Comment:
    """Raises NotFound."""
    comment = comment_by_id_or_none(comment_id)
    if comment is None:
        raise NotFound(gettext("There is no comment with that id."))
    return comment


def visible_comment(viewer, comment_id) -> Comment:
    """The comment if this viewer may see it; raises NotFound otherwise."""
    comment = comment_by_id(comment_id)
    if not visibility.can_view(viewer, comment):
        raise NotFound(gettext("There is no comment with that id."))
    return comment


def featured(thread: Thread) -> list[Comment]:
    """The thread's Editors' picks: featured approved comments, oldest first."""
    return db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(
            Comment.thread_id == thread.id,
            Comment.featured.is_(True),
            Comment.status == CommentStatus.APPROVED,
        )
        .order_by(Comment.created_at, Comment.id)
        .limit(10)
    ).all()


def recent_by_author(author: User, limit: int = 50) -> list[Comment]:
    """An author's latest comments in any status (for moderators), newest first."""
    return db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.thread))
        .where(Comment.author_id == author.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()

"""Every permission decision, as plain predicates over explicit objects.

Services call require(can_...(...)) so the pages and the API share one check;
templates get the same predicates as globals, so a page offers exactly what the
server would allow.  Nothing here reads the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext

from forum import i18n
from forum.errors import Banned, EmailUnverified, Forbidden, ThreadClosed, Unauthorized
from forum.models import Comment, CommentStatus, Role, Thread, User, utcnow


def is_signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_moderator(user) -> bool:
    return is_signed_in(user) and user.role in (Role.MODERATOR, Role.ADMIN)


def is_admin(user) -> bool:
    return is_signed_in(user) and user.role == Role.ADMIN


def can_see_email(viewer, user: User) -> bool:
    """An address is shown to its owner and to admins, never to other readers."""
    return is_signed_in(viewer) and (viewer.id == user.id or is_admin(viewer))


def is_author(user, comment: Comment) -> bool:
    return is_signed_in(user) and comment.author_id is not None and comment.author_id == user.id


def is_banned(user, now: datetime | None = None) -> bool:
    return is_signed_in(user) and user.is_banned(now or utcnow())


def must_confirm_email(user) -> bool:
    """Under FORUM_EMAIL_VERIFICATION=required (the one setting read here), a
    reader whose address is not confirmed yet waits before posting. Moderators
    are made by admins; accounts without an address (single sign-on) have
    nothing to confirm; a guest's address is for replies only."""
    return (
        is_signed_in(user)
        and not user.is_guest
        and not is_moderator(user)
        and bool(user.email)
        and user.email_verified_at is None
        and current_app.config.get("FORUM_EMAIL_VERIFICATION") == "required"
    )


def can_post(user, thread: Thread) -> bool:
    return (
        is_signed_in(user)
        and not is_banned(user)
        and not must_confirm_email(user)
        and (thread.is_open or is_moderator(user))
    )


def can_reply(user, comment: Comment) -> bool:
    return can_post(user, comment.thread) and comment.status == CommentStatus.APPROVED


# Who may see which comment (opening it by id, or in its thread) is
# forum.services.discussion.visibility: one rule in one place, in each of the
# forms (Python, SQL, row) its readers need.


def can_edit(user, comment: Comment, now: datetime, window_minutes: int) -> bool:
    return (
        is_author(user, comment)
        and not is_banned(user)
        and comment.status in (CommentStatus.APPROVED, CommentStatus.PENDING)
        and now - comment.created_at <= timedelta(minutes=window_minutes)
    )


def can_delete(user, comment: Comment) -> bool:
    """Authors delete their own published or waiting comments; a removed one stays
    on the record. Moderators may delete any comment."""
    if comment.status == CommentStatus.DELETED:
        return False
    if can_moderate(user):
        return True
    return is_author(user, comment) and comment.status in (
        CommentStatus.APPROVED,
        CommentStatus.PENDING,
    )


def can_flag(user, comment: Comment) -> bool:
    """Any signed-in reader but its author may report an approved comment."""
    return (
        is_signed_in(user)
        and not is_banned(user)
        and not is_author(user, comment)
        and comment.status == CommentStatus.APPROVED
    )


def can_vote(user, comment: Comment) -> bool:
    """Signed-in readers vote on approved comments, never their own."""
    return (
        is_signed_in(user)
        and not is_banned(user)
        and not is_author(user, comment)
        and comment.status == CommentStatus.APPROVED
    )


def can_moderate(user) -> bool:
    """Queues, decisions on comments, bans, notes, thread settings."""
    return is_moderator(user) and not is_banned(user)


def can_see_edit_history(user) -> bool:
    """A comment's earlier words (forum.services.discussion.revisions): moderators
    only, never readers, its author included."""
    return can_moderate(user)


def can_administer(user) -> bool:
    """Moderation settings and the audit log."""
    return is_admin(user)


def can_manage_embedding(user) -> bool:
    """Publishers' sites (which origins may embed, their sign-on secrets) and the
    threads their embeds created (rename, merge)."""
    return is_admin(user) and not is_banned(user)


def can_ban(actor, target: User) -> bool:
    """Moderators ban readers; admins also ban moderators; nobody bans an admin or
    themselves."""
    if not can_moderate(actor) or actor.id == target.id or target.role == Role.ADMIN:
        return False
    return target.role == Role.READER or is_admin(actor)


def require_signed_in(user) -> User:
    """Raises Unauthorized for an anonymous visitor."""
    if not is_signed_in(user):
        raise Unauthorized()
    return user


def require_can_post(user, thread: Thread) -> None:
    """Raises Unauthorized, Banned, or ThreadClosed for a reader on a closed thread."""
    require_signed_in(user)
    require_not_banned(user)
    if must_confirm_email(user):
        raise EmailUnverified()
    if not can_post(user, thread):
        raise ThreadClosed()


def ban_message(user) -> str:
    """The banned reader's sentence: until when, and why (the moderator's words)."""
    reason = user.ban_reason
    if user.ban_is_permanent:
        if reason:
            return gettext(
                "Your account is banned from posting for good. Reason: %(reason)s", reason=reason
            )
        return gettext("Your account is banned from posting for good.")
    when = i18n.format_moment(user.banned_until, zone=False)
    if reason:
        return gettext(
            "Your account is banned from posting until %(when)s UTC. Reason: %(reason)s",
            when=when,
            reason=reason,
        )
    return gettext("Your account is banned from posting until %(when)s UTC.", when=when)


def require_not_banned(user) -> None:
    """Raises Banned, with when and why, for a banned account."""
    if is_banned(user):
        raise Banned(ban_message(user))


def require(allowed: bool, message: str | None = None) -> None:
    """Raises Forbidden unless allowed."""
    if not allowed:
        raise Forbidden(message)


# Exposed to every template (see create_app).
TEMPLATE_GLOBALS = {
    "can_post": can_post,
    "must_confirm_email": must_confirm_email,
    "can_reply": can_reply,
    "can_edit": can_edit,
    "can_delete": can_delete,
    "is_moderator": is_moderator,
    "is_signed_in": is_signed_in,
    "is_banned": is_banned,
    "ban_message": ban_message,
    "can_flag": can_flag,
    "can_vote": can_vote,
    "can_moderate": can_moderate,
    "can_see_edit_history": can_see_edit_history,
    "can_administer": can_administer,
    "can_manage_embedding": can_manage_embedding,
    "can_ban": can_ban,
    "is_author": is_author,
}

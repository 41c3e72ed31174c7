"""Every permission decision, as plain predicates over explicit objects.

Services call require(can_...(...)) so the pages and the API share one check;
templates get the same predicates as globals, so a page offers exactly what the
server would allow.  Nothing here reads the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from forum.errors import Forbidden, ThreadClosed, Unauthorized
from forum.models import Comment, CommentStatus, Role, Thread, User


def is_signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_moderator(user) -> bool:
    return is_signed_in(user) and user.is_moderator


def is_admin(user) -> bool:
    return is_signed_in(user) and user.role == Role.ADMIN


def can_see_email(viewer, user: User) -> bool:
    """An address is shown to its owner and to admins, never to other readers."""
    return is_signed_in(viewer) and (viewer.id == user.id or is_admin(viewer))


def is_author(user, comment: Comment) -> bool:
    return is_signed_in(user) and comment.author_id is not None and comment.author_id == user.id


def can_post(user, thread: Thread) -> bool:
    return is_signed_in(user) and (thread.is_open or is_moderator(user))


def can_reply(user, comment: Comment) -> bool:
    return can_post(user, comment.thread) and comment.status == CommentStatus.APPROVED


def can_view(user, comment: Comment) -> bool:
    """Readers see approved comments and their own pending ones."""
    if comment.status == CommentStatus.APPROVED or is_moderator(user):
        return True
    return comment.status == CommentStatus.PENDING and is_author(user, comment)


def can_edit(user, comment: Comment, now: datetime, window_minutes: int) -> bool:
    return (
        is_author(user, comment)
        and comment.status in (CommentStatus.APPROVED, CommentStatus.PENDING)
        and now - comment.created_at <= timedelta(minutes=window_minutes)
    )


def can_delete(user, comment: Comment) -> bool:
    if comment.status == CommentStatus.DELETED:
        return False
    return is_author(user, comment) or is_moderator(user)


def require_signed_in(user) -> User:
    """Raises Unauthorized for an anonymous visitor."""
    if not is_signed_in(user):
        raise Unauthorized()
    return user


def require_can_post(user, thread: Thread) -> None:
    """Raises Unauthorized, or ThreadClosed for a reader on a closed thread."""
    require_signed_in(user)
    if not can_post(user, thread):
        raise ThreadClosed()


def require(allowed: bool, message: str | None = None) -> None:
    """Raises Forbidden unless allowed."""
    if not allowed:
        raise Forbidden(message)


# Exposed to every template (see create_app).
TEMPLATE_GLOBALS = {
    "can_post": can_post,
    "can_reply": can_reply,
    "can_edit": can_edit,
    "can_delete": can_delete,
    "is_moderator": is_moderator,
    "is_author": is_author,
}

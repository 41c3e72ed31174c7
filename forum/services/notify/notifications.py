"""In-app notifications (and emails for the kinds a reader opted into), and
following threads.  Called by the services whose changes they announce, in the
same transaction."""

from __future__ import annotations

import re

from flask_babel import gettext, lazy_gettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum import i18n, permissions
from forum.extensions import db
from forum.markup import spoiler_free_text
from forum.models import (
    Comment,
    Follow,
    Mute,
    Notification,
    NotificationKind,
    OutboxMessage,
    Thread,
    User,
    utcnow,
)
from forum.services.discussion import spoilers
from forum.services.notify import outbox

# Readers one comment can notify by naming them (the composer's hint says so).
MENTIONS_NOTIFIED = 10
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_-]{3,30})\b")
# The one-line sentence of each kind; %(actor)s and %(thread)s are filled in.
SUBJECTS = {
    NotificationKind.REPLY: lazy_gettext("%(actor)s replied to your comment"),
    NotificationKind.THREAD_REPLY: lazy_gettext("New comment on “%(thread)s”"),
    NotificationKind.APPROVED: lazy_gettext("Your comment on “%(thread)s” is published"),
    NotificationKind.REJECTED: lazy_gettext("Your comment on “%(thread)s” was removed"),
    NotificationKind.THEORY_CONFIRMED: lazy_gettext("You called it: your theory was confirmed"),
    NotificationKind.THEORY_DEBUNKED: lazy_gettext("Your theory was debunked"),
    NotificationKind.MENTION: lazy_gettext("%(actor)s mentioned you"),
}


def describe(note: Notification) -> str:
    """The one-line sentence shown in the list and used as the email subject, in
    the current language."""
    comment = note.comment
    return str(SUBJECTS[note.kind]) % {
        # Who did it, when they are gone: said as a name would be.
        "actor": note.actor.display_name if note.actor else gettext("Someone"),
        "thread": comment.thread.title if comment is not None else gettext("a discussion"),
    }


# -- announcing ------------------------------------------------------------------------


def comment_published(comment: Comment) -> None:
    """A comment became visible: tell the parent's author, followers and anyone
    mentioned (each reader once, and never the author themselves)."""
    author = comment.author
    told: set[int] = {author.id} if author else set()
    muted_by = _muted_by(author)
    if comment.parent is not None and comment.parent.author_id:
        _notify(comment.parent.author_id, NotificationKind.REPLY, comment, told, muted_by)
    for user_id in _mentioned(comment.body):
        _notify(user_id, NotificationKind.MENTION, comment, told, muted_by)
    following = _notify_followers(comment, told, muted_by)
    if author is not None and author.id not in following:
        follow(author, comment.thread)


def _notify_followers(comment: Comment, told: set[int], muted_by: set[int]) -> set[int]:
    """THREAD_REPLY for every follower not yet told, in three statements however
    many follow (a finale's thread may have thousands); the few who chose email
    for it go through _notify() for their message. Returns every follower's id."""
    kind = NotificationKind.THREAD_REPLY
    followers = db.session.execute(
        select(User.id, User.email_kinds)
        .join(Follow, Follow.user_id == User.id)
        .where(Follow.thread_id == comment.thread_id)
    ).all()
    quiet = []
    for user_id, email_kinds in followers:
        if user_id in told or user_id in muted_by:
            continue
        if kind.value in (email_kinds or []):
            _notify(user_id, kind, comment, told, muted_by)
        else:
            told.add(user_id)
            quiet.append(user_id)
    if quiet:
        _notify_quietly(comment, kind, quiet)
    return {user_id for user_id, _ in followers}


def _notify_quietly(comment: Comment, kind: NotificationKind, user_ids: list[int]) -> None:
    """In-app notifications for these readers: one insert, one counter update."""
    now = utcnow()
    # The table, not the model: a plain executemany, without the ORM's bookkeeping.
    db.session.execute(
        Notification.__table__.insert(),
        [
            {
                "user_id": user_id,
                "kind": kind,
                "comment_id": comment.id,
                "actor_id": comment.author_id,
                "detail": "",
                "created_at": now,
            }
            for user_id in user_ids
        ],
    )
    # Ascending ids: concurrent posts lock the same rows in the same order.
    db.session.execute(
        update(User).where(User.id.in_(sorted(user_ids))).values(unread_count=User.unread_count + 1)
    )


def comment_decided(comment: Comment, approved: bool) -> None:
    """A held comment was approved or rejected: its author hears the outcome."""
    if comment.author_id is None:
        return
    kind = NotificationKind.APPROVED if approved else NotificationKind.REJECTED
    _notify(comment.author_id, kind, comment, set(), set(), detail=comment.moderation_reason or "")


def theory_settled(comment: Comment, confirmed: bool) -> None:
    if comment.author_id is None:
        return
    kind = NotificationKind.THEORY_CONFIRMED if confirmed else NotificationKind.THEORY_DEBUNKED
    _notify(comment.author_id, kind, comment, set(), set(), detail=comment.theory_note or "")


def _notify(user_id, kind, comment, told: set[int], muted_by: set[int], detail: str = "") -> None:
    if user_id in told or user_id in muted_by:
        return
    told.add(user_id)
    note = Notification(
        user_id=user_id,
        kind=kind,
        comment=comment,
        actor_id=comment.author_id
        if kind in (NotificationKind.REPLY, NotificationKind.THREAD_REPLY, NotificationKind.MENTION)
        else None,
        detail=detail[:500],
        created_at=utcnow(),
    )
    db.session.add(note)
    db.session.execute(
        update(User).where(User.id == user_id).values(unread_count=User.unread_count + 1)
    )
    recipient = db.session.get(User, user_id)
    if recipient is not None and kind.value in (recipient.email_kinds or []):
        db.session.flush()  # the notification's relationships, for the text
        with i18n.recipient_language(recipient):
            outbox.enqueue(
                recipient, kind, describe(note), _email_body(note), comment_id=comment.id
            )


def _email_body(note: Notification) -> str:
    comment = note.comment
    lines = [describe(note) + "."]
    if note.detail:
        lines.append(note.detail)
    if comment is not None and comment.body:
        lines.append("")
        lines.append(_excerpt(comment))
    return "\n".join(lines)


def _excerpt(comment: Comment) -> str:
    """The comment's words for an email: never a spoiler, whole or inline."""
    if spoilers.withheld(comment):
        return gettext("(Covered because of spoilers: read it on the site.)")
    return spoiler_free_text(comment.html, 500, placeholder=gettext("[spoiler]"))


def withdraw(comment: Comment) -> None:
    """The comment is no longer shown: drop the notifications and unsent emails
    about it, keeping each reader's unread count true."""
    unread = db.session.execute(
        select(Notification.user_id, func.count(Notification.id))
        .where(Notification.comment_id == comment.id, Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    ).all()
    for user_id, count in unread:
        db.session.execute(
            update(User).where(User.id == user_id).values(unread_count=User.unread_count - count)
        )
    db.session.execute(delete(Notification).where(Notification.comment_id == comment.id))
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.comment_id == comment.id, OutboxMessage.sent_at.is_(None)
        )
    )


def _mentioned(body: str) -> list[int]:
    """The first MENTIONS_NOTIFIED readers the body mentions, in its order: one
    comment naming a thousand accounts must not notify them all."""
    names = list(dict.fromkeys(name.lower() for name in MENTION.findall(body)))
    if not names:
        return []
    found = dict(
        db.session.execute(
            select(User.username_key, User.id).where(User.username_key.in_(names))
        ).all()
    )
    return [found[name] for name in names if name in found][:MENTIONS_NOTIFIED]


def _muted_by(author: User | None) -> set[int]:
    if author is None:
        return set()
    return set(db.session.scalars(select(Mute.user_id).where(Mute.muted_id == author.id)))


# -- reading ------------------------------------------------------------------------------


def inbox(user: User, limit: int = 30, before_id: int | None = None) -> list[Notification]:
    """Newest first; raises Unauthorized for visitors."""
    permissions.require_signed_in(user)
    query = (
        select(Notification)
        .options(
            joinedload(Notification.actor),
            joinedload(Notification.comment).joinedload(Comment.thread),
        )
        .where(Notification.user_id == user.id)
    )
    if before_id:
        query = query.where(Notification.id < before_id)
    return db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark these (or all) as read; returns how many stay unread."""
    permissions.require_signed_in(user)
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    db.session.execute(query.values(read_at=utcnow()))
    # One statement, so a notification arriving meanwhile is counted, not lost.
    still_unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(update(User).where(User.id == user.id).values(unread_count=still_unread))
    db.session.refresh(user, ["unread_count"])
    return user.unread_count


# -- following -------------------------------------------------------------------------------


def is_following(user, thread: Thread) -> bool:
    if not permissions.is_signed_in(user):
        return False
    return (
        db.session.scalar(
            select(Follow.id).where(Follow.user_id == user.id, Follow.thread_id == thread.id)
        )
        is not None
    )


def follow(user: User, thread: Thread) -> None:
    permissions.require_signed_in(user)
    if is_following(user, thread):
        return
    try:
        with db.session.begin_nested():
            db.session.add(Follow(user_id=user.id, thread_id=thread.id, created_at=utcnow()))
    except IntegrityError:  # the same reader, twice at once
        pass


def unfollow(user: User, thread: Thread) -> None:
    permissions.require_signed_in(user)
    db.session.execute(
        Follow.__table__.delete().where(Follow.user_id == user.id, Follow.thread_id == thread.id)
    )

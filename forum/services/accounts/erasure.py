"""Deleting an account: by its owner, by an admin on the owner's behalf, or by
the operator's CLI (`flask users delete`).

The row stays (comments, flags and the audit log point at it) but holds nothing
of the person: the username becomes "deleted.<id>" (a name nobody can register
or sign in as, and find_user() never finds), the display name "deleted", and
the email, bio, badges and password are gone. What goes with it:

- every comment's words: body, html, theory title and settlement note, hold
  reasons (they quote banned words), the moderators' reason shown to the author,
  and the words their edits replaced (the moderators' edit history).
  The rows stay as tombstones (status deleted), so replies keep their place.
- the person's votes (each voted comment's counters recounted from the votes
  left), follows, mutes (both ways), notifications to them and about their
  words, unsent emails, sessions, bearer tokens, single-sign-on and external
  identities, idempotency keys, the import record naming them as a guest
  author, and moderators' notes about them.
- flags they filed stay, as the moderators' record that a comment was reported
  and why (the reason), without the note they wrote.
- the audit log keeps who did what and when; the entries about their comments
  or about them lose the free text ("reason"), which may quote what they wrote,
  and entries naming them get the new name.

Everything is set-based SQL, a fixed number of statements whatever the number
of comments (the rank of the comments they voted on is the one per-row update,
sent as one executemany). The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from forum import permissions
from forum.errors import Forbidden, ValidationError
from forum.extensions import db
from forum.models import (
    ApiToken,
    AuditEntry,
    Comment,
    CommentRevision,
    CommentStatus,
    ExternalIdentity,
    Flag,
    Follow,
    IdempotencyKey,
    ImportRecord,
    Mute,
    Notification,
    OutboxMessage,
    Role,
    SsoIdentity,
    Thread,
    User,
    UserNote,
    UserSession,
    Vote,
    utcnow,
)
from forum.services.accounts.accounts import UNUSABLE_PASSWORD
from forum.services.audit import audit
from forum.services.discussion.votes import wilson_rank
from forum.services.moderation.decisions import short_text

DELETED_NAME = "deleted"


def deleted_username(user_id: int) -> str:
    # A dot is outside accounts.USERNAME: nobody registers it, find_user() never finds it.
    return f"deleted.{user_id}"


def is_deleted(user) -> bool:
    return user is not None and getattr(user, "deleted_at", None) is not None


def other_admins(user: User) -> int:
    """How many live admins there are besides this user (guests, whom nobody
    signs in as, never count)."""
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN,
            User.deleted_at.is_(None),
            User.is_guest.is_(False),
            User.id != user.id,
        )
    )


def require_not_last_admin(user: User, what: str) -> None:
    """Raises Forbidden if user is the only admin left; `what` is the step refused,
    "role" (changing their role) or "delete" (deleting the account)."""
    if user.role == Role.ADMIN and other_admins(user) == 0:
        if what == "role":
            raise Forbidden(
                gettext(
                    "%(name)s is the only admin: make another admin before changing this role.",
                    name=user.username,
                )
            )
        raise Forbidden(
            gettext(
                "%(name)s is the only admin: make another admin before deleting this account.",
                name=user.username,
            )
        )


def delete_account(
    user: User,
    actor: User | None = None,
    reason=None,
    now: datetime | None = None,
    on_behalf: bool = False,
) -> None:
    """Erase the account (see the module's docstring); the caller commits.

    actor is who did it: the person themself (who proved it: reauth), an admin
    (on their behalf, with a reason: on_behalf), or None for the operator's CLI.
    Raises Forbidden (not an admin, the last admin, already deleted, an admin's
    own account through the admin tools) or ValidationError (an admin without a
    reason).
    """
    now = now or utcnow()
    if on_behalf and actor is not None and actor.id == user.id:
        # The admin tools ask no password: one's own account goes from its own page.
        raise Forbidden(
            gettext("Delete your own account from your account's page, with your password.")
        )
    by_owner = actor is not None and actor.id == user.id
    if actor is not None and not by_owner:
        permissions.require(permissions.can_administer(actor), gettext("Admins only."))
    reason = short_text(reason, "reason")
    if actor is not None and not by_owner and not reason:
        raise ValidationError(fields={"reason": gettext("Say why, for the record.")})
    if is_deleted(user):
        raise Forbidden(gettext("This account is deleted already."))
    require_not_last_admin(user, "delete")

    uid = user.id
    db.session.flush()  # what the session holds reaches the database before the bulk SQL
    mine = select(Comment.id).where(Comment.author_id == uid).scalar_subquery()

    _erase_comments(uid, now)
    db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id.in_(mine)))
    _drop_votes(uid)
    _drop_notifications(uid, mine)
    for model, column in (
        (Follow, Follow.user_id),
        (UserSession, UserSession.user_id),
        (ApiToken, ApiToken.user_id),
        (SsoIdentity, SsoIdentity.user_id),
        (ExternalIdentity, ExternalIdentity.user_id),
        (IdempotencyKey, IdempotencyKey.user_id),
        (UserNote, UserNote.user_id),
    ):
        db.session.execute(delete(model).where(column == uid))
    db.session.execute(delete(Mute).where(or_(Mute.user_id == uid, Mute.muted_id == uid)))
    db.session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.user_id == uid, OutboxMessage.comment_id.in_(mine))
        )
    )
    db.session.execute(
        delete(ImportRecord).where(ImportRecord.kind == "author", ImportRecord.local_id == uid)
    )
    db.session.execute(update(Flag).where(Flag.user_id == uid).values(note=None))

    db.session.expire_all()  # the bulk statements changed rows the session may hold
    name = deleted_username(uid)
    # The record keeps who did what and when; free text about them or their words goes.
    db.session.execute(
        update(AuditEntry)
        .where(
            or_(
                and_(AuditEntry.target_type == "comment", AuditEntry.target_id.in_(mine)),
                and_(AuditEntry.target_type == "user", AuditEntry.target_id == uid),
            )
        )
        .values(reason=None)
    )
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.target_type == "user", AuditEntry.target_id == uid)
        .values(target_label=name)
    )

    who = "owner" if by_owner else ("admin" if actor is not None else "operator")
    user.username = name
    user.username_key = name
    user.email = None
    user.email_key = None
    user.email_verified_at = None
    user.display_name = DELETED_NAME
    user.bio = ""
    user.badges = []
    user.email_kinds = []
    user.unread_count = 0
    user.password_hash = UNUSABLE_PASSWORD
    user.role = Role.READER
    user.deleted_at = now
    # Written last, after the reason-clearing above: this entry keeps the admin's reason.
    audit(actor, "delete_account", user, reason or None, {}, {"by": who})
    db.session.flush()


def _erase_comments(uid: int, now: datetime) -> None:
    """Every comment of theirs becomes a tombstone; threads keep their counts and
    every thread they wrote or voted in changes version (pages, caches, ETags)."""
    approved = (
        select(func.count(Comment.id))
        .where(
            Comment.thread_id == Thread.id,
            Comment.author_id == uid,
            Comment.status == CommentStatus.APPROVED,
        )
        .scalar_subquery()
    )
    voted = select(Comment.thread_id).join(Vote, Vote.comment_id == Comment.id)
    db.session.execute(
        update(Thread)
        .where(
            or_(
                Thread.id.in_(select(Comment.thread_id).where(Comment.author_id == uid)),
                Thread.id.in_(voted.where(Vote.user_id == uid)),
            )
        )
        .values(version=Thread.version + 1, comment_count=Thread.comment_count - approved)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Comment)
        .where(Comment.author_id == uid)
        .values(
            body="",
            html="",
            search_text="",  # out of the full-text index too
            status=CommentStatus.DELETED,
            deleted_at=func.coalesce(Comment.deleted_at, now),
            theory_title=None,
            theory_status=None,
            theory_note=None,
            theory_link=None,
            theory_settled_at=None,
            moderation_reason=None,
            hold_reasons=[],
            spoiler=False,
            featured=False,
            open_flags=0,
            edited_at=None,
            # Moderators holding the old revision are refused instead of acting on it.
            revision=Comment.revision + 1,
        )
        .execution_options(synchronize_session=False)
    )


def _drop_votes(uid: int) -> None:
    """Remove their votes and recount each comment they voted on."""
    affected = list(db.session.scalars(select(Vote.comment_id).where(Vote.user_id == uid)))
    db.session.execute(delete(Vote).where(Vote.user_id == uid))
    if not affected:
        return

    def count(value: int):
        return (
            select(func.count(Vote.id))
            .where(Vote.comment_id == Comment.id, Vote.value == value)
            .scalar_subquery()
        )

    for start in range(0, len(affected), 1000):
        ids = affected[start : start + 1000]
        db.session.execute(
            update(Comment)
            .where(Comment.id.in_(ids))
            .values(upvotes=count(1), downvotes=count(-1), score=count(1) - count(-1))
            .execution_options(synchronize_session=False)
        )
        rows = db.session.execute(
            select(Comment.id, Comment.upvotes, Comment.downvotes).where(Comment.id.in_(ids))
        ).all()
        db.session.execute(
            update(Comment.__table__)
            .where(Comment.__table__.c.id == bindparam("cid"))
            .values(rank=bindparam("new_rank")),
            [{"cid": cid, "new_rank": wilson_rank(up, down)} for cid, up, down in rows],
        )


def _drop_notifications(uid: int, mine) -> None:
    """Their inbox, and others' notifications about their words or naming them
    as the actor, keeping each reader's unread count true."""
    about = or_(Notification.comment_id.in_(mine), Notification.actor_id == uid)
    db.session.execute(delete(Notification).where(Notification.user_id == uid))
    unread_about = and_(about, Notification.read_at.is_(None))
    going = (
        select(func.count(Notification.id))
        .where(Notification.user_id == User.id, unread_about)
        .scalar_subquery()
    )
    db.session.execute(
        update(User)
        .where(User.id.in_(select(Notification.user_id).where(unread_about)))
        .values(unread_count=User.unread_count - going)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(Notification).where(about))

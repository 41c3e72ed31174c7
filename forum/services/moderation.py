"""Moderators' verbs: decisions on comments, flags, bans, notes, thread settings,
the queues and the audit log.  Every action is written to the audit log in the
same transaction as the change it records."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from forum import permissions
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import (
    PERMANENT,
    AuditEntry,
    Comment,
    CommentStatus,
    Flag,
    FlagReason,
    ModerationMode,
    TheoryStatus,
    Thread,
    ThreadStatus,
    User,
    UserNote,
    utcnow,
)
from forum.services import notifications, settings
from forum.services.accounts import find_user
from forum.services.audit import audit
from forum.services.comments import change_status, decode_cursor, encode_cursor
from forum.services.threads import moderation_mode

QUEUES = ("pending", "reported", "spam", "rejected")
ACTIONS = (
    "approve", "reject", "spam", "restore", "feature", "unfeature", "mark_spoiler",
    "unmark_spoiler", "confirm_theory", "debunk_theory", "reopen_theory",
)  # fmt: skip
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
        raise ValidationError(fields={"action": f"Use one of: {', '.join(ACTIONS)}."})
    reason = _short_text(reason, "reason")
    note = _short_text(note, "note")
    link = _link(link)
    if seen_status is not None and seen_status != comment.status.value:
        raise Conflict(_already(comment))
    if seen_revision is not None and str(seen_revision) != str(comment.revision):
        raise Conflict("This comment changed since you opened it (edited or decided); reload it.")
    now = now or utcnow()
    before = _state(comment)
    # Held when posted and never shown: approving it is its first publication.
    first_publication = comment.status in (CommentStatus.PENDING, CommentStatus.SPAM) and not any(
        reason.get("rule") == "flags" for reason in comment.hold_reasons
    )
    with (
        _conflict_if_changed("Another moderator changed this comment just now; reload it."),
        db.session.no_autoflush,  # one UPDATE of the comment, at the flush below
    ):
        _APPLY[action](comment, reason=reason, note=note, link=link)
        if action in ("approve", "reject", "spam", "restore"):
            comment.moderated_at = now
            comment.moderated_by_id = actor.id
            comment.moderation_reason = reason if action == "reject" else None
        elif action.endswith("_theory"):
            comment.theory_settled_at = now  # for "recently confirmed"
        audit(actor, action, comment, reason or note, before, _state(comment))
        db.session.flush()
    _announce(comment, action, first_publication)
    return comment


def _announce(comment: Comment, action: str, first_publication: bool) -> None:
    """Tell the author the outcome, and the thread about words shown for the first time."""
    if action in ("approve", "restore") and first_publication:
        notifications.comment_decided(comment, approved=True)
        notifications.comment_published(comment)
    elif action in ("reject", "spam"):
        notifications.withdraw(comment)  # nobody hears about words no longer shown
        if action == "reject":
            notifications.comment_decided(comment, approved=False)
    elif action in ("confirm_theory", "debunk_theory"):
        notifications.theory_settled(comment, confirmed=action == "confirm_theory")


@contextmanager
def _conflict_if_changed(message: str):
    """Turn a lost optimistic-lock race (another writer bumped the comment's
    revision first, caught at any flush, autoflush included) into Conflict."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict(message) from None


def _already(comment: Comment) -> str:
    who = comment.moderated_by.username if comment.moderated_by else "someone"
    return f"Already handled: {who} marked it {comment.status.value}."


def _approve(comment: Comment, **_) -> None:
    if comment.status == CommentStatus.APPROVED and comment.open_flags == 0:
        raise Conflict(_already(comment))
    if comment.status == CommentStatus.DELETED:
        raise Conflict("Its author deleted it; there is nothing to approve.")
    comment.open_flags = 0  # the flags so far are answered; new ones count afresh
    change_status(comment, CommentStatus.APPROVED)


def _remove_as(status: CommentStatus):
    def remove(comment: Comment, **_) -> None:
        if comment.status == status:
            raise Conflict(_already(comment))
        if comment.status == CommentStatus.DELETED:
            raise Conflict("Its author deleted it already.")
        comment.open_flags = 0
        change_status(comment, status)

    return remove


def _restore(comment: Comment, **_) -> None:
    if comment.status not in (CommentStatus.REJECTED, CommentStatus.SPAM):
        raise Conflict("Only rejected or spam comments can be restored.")
    change_status(comment, CommentStatus.APPROVED)


def _toggle(attribute: str, value: bool, needs_approved: bool = False):
    def toggle(comment: Comment, **_) -> None:
        if getattr(comment, attribute) == value:
            raise Conflict(f"It is {'already' if value else 'not'} {attribute.replace('_', ' ')}.")
        if needs_approved and comment.status != CommentStatus.APPROVED:
            raise Conflict("Only an approved comment can be featured.")
        setattr(comment, attribute, value)
        comment.thread.version = Thread.version + 1

    return toggle


def _theory(status: TheoryStatus):
    def settle(comment: Comment, note=None, link=None, **_) -> None:
        if not comment.is_theory:
            raise Conflict("This comment is not a theory.")
        if comment.status != CommentStatus.APPROVED:
            raise Conflict("Only a published theory can be settled.")
        if comment.theory_status == status:
            raise Conflict(f"This theory is already {status.value}.")
        comment.theory_status = status
        comment.theory_note = note if status != TheoryStatus.OPEN else None
        comment.theory_link = link if status != TheoryStatus.OPEN else None
        comment.thread.version = Thread.version + 1

    return settle


_APPLY = {
    "approve": _approve,
    "reject": _remove_as(CommentStatus.REJECTED),
    "spam": _remove_as(CommentStatus.SPAM),
    "restore": _restore,
    "feature": _toggle("featured", True, needs_approved=True),
    "unfeature": _toggle("featured", False),
    "mark_spoiler": _toggle("spoiler", True),
    "unmark_spoiler": _toggle("spoiler", False),
    "confirm_theory": _theory(TheoryStatus.CONFIRMED),
    "debunk_theory": _theory(TheoryStatus.DEBUNKED),
    "reopen_theory": _theory(TheoryStatus.OPEN),
}


def _short_text(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(fields={name: "Write it as text."})
    value = normalize(value)
    if len(value) > REASON_MAX:
        raise ValidationError(fields={name: f"Keep it under {REASON_MAX} characters."})
    return value or None


def _link(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValidationError(fields={"link": "Use an http:// or https:// address."})
    if len(value) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValidationError(fields={"link": "That address is not valid."})
    return value


# -- reader flags ---------------------------------------------------------------------


def flag(user: User, comment: Comment, reason, note=None) -> Flag:
    """A reader reports a comment; enough new flags hide it in post-moderation.

    Raises Unauthorized, Banned, Forbidden, ValidationError or Conflict.
    """
    permissions.require_signed_in(user)
    permissions.require_not_banned(user)
    if permissions.is_author(user, comment):
        raise permissions.Forbidden("You cannot report your own comment.")
    permissions.require(permissions.can_flag(user, comment), "This comment cannot be reported.")
    if not isinstance(reason, str) or reason not in {r.value for r in FlagReason}:
        raise ValidationError(fields={"reason": "Use spam, abuse, off_topic, spoiler or other."})
    note = _short_text(note, "note")
    existing = db.session.scalar(
        select(Flag.id).where(Flag.comment_id == comment.id, Flag.user_id == user.id)
    )
    if existing is not None:
        raise Conflict("You have already reported this comment.")
    threshold = settings.current()["flag_threshold"]
    hide = moderation_mode(comment.thread) == ModerationMode.POST
    with _conflict_if_changed("This comment changed just now; try again."), db.session.no_autoflush:
        report = Flag(comment=comment, user=user, reason=FlagReason(reason), note=note)
        db.session.add(report)
        flags = comment.open_flags + 1
        comment.open_flags = flags
        if hide and flags >= threshold and comment.status == CommentStatus.APPROVED:
            detail = f"Hidden after {flags} reader reports"
            comment.hold_reasons = [*comment.hold_reasons, {"rule": "flags", "detail": detail}]
            change_status(comment, CommentStatus.PENDING)
            # No moderator did this, but it changed what readers see: on the record.
            audit(None, "auto_hide", comment, detail, {"status": "approved"}, {"status": "pending"})
        try:
            db.session.flush()
        except IntegrityError:  # the same reader, twice at once
            db.session.rollback()
            raise Conflict("You have already reported this comment.") from None
    return report


# -- people ---------------------------------------------------------------------------


def ban(actor: User, user: User, reason, until: datetime | None = None) -> User:
    """Ban until a time (None: for good). Raises Forbidden or ValidationError."""
    permissions.require(permissions.can_ban(actor, user), "You cannot ban this account.")
    reason = _short_text(reason, "reason")
    if not reason:
        raise ValidationError(fields={"reason": "Say why; the reader will see it."})
    if until is not None and until <= utcnow():
        raise ValidationError(fields={"until": "Choose a time in the future."})
    before = _ban_state(user)
    user.banned_until = until or PERMANENT
    user.ban_reason = reason
    audit(actor, "ban", user, reason, before, _ban_state(user))
    db.session.flush()
    return user


def unban(actor: User, user: User, reason=None) -> User:
    permissions.require(permissions.can_ban(actor, user), "You cannot unban this account.")
    if not permissions.is_banned(user):
        raise Conflict("This account is not banned.")
    before = _ban_state(user)
    user.banned_until = None
    user.ban_reason = None
    audit(actor, "unban", user, _short_text(reason, "reason"), before, _ban_state(user))
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
        raise ValidationError(fields={"body": "Write the note first."})
    body = normalize(body)
    if len(body) > 2000:
        raise ValidationError(fields={"body": "Keep notes under 2,000 characters."})
    note = UserNote(user_id=user.id, author_id=actor.id, body=body, created_at=utcnow())
    db.session.add(note)
    audit(actor, "note", user, body[:200])
    db.session.flush()
    return note


def user_by_name(username) -> User:
    """Raises NotFound."""
    user = find_user(username)
    if user is None:
        raise NotFound("There is no account with that name.")
    return user


# -- threads --------------------------------------------------------------------------


UNCHANGED = object()


def update_thread(
    actor: User, thread: Thread, status=None, moderation=None, spoiler_until=UNCHANGED
) -> Thread:
    """Close or reopen, set the moderation mode, and set or end the article's
    spoiler window (an aware datetime, or None). Raises Forbidden or ValidationError."""
    permissions.require(permissions.can_moderate(actor))
    fields = {}
    if status is not None and (
        not isinstance(status, str) or status not in {s.value for s in ThreadStatus}
    ):
        fields["status"] = "Use open or closed."
    modes = {m.value for m in ModerationMode} | {"default"}
    if moderation is not None and (not isinstance(moderation, str) or moderation not in modes):
        fields["moderation"] = "Use pre, post, trusted, or default for the site's setting."
    if spoiler_until is not UNCHANGED and thread.article is None:
        fields["spoiler_until"] = "Only a thread under one of this site's articles has one."
    if fields:
        raise ValidationError(fields=fields)
    before = _thread_state(thread)
    if status is not None:
        thread.status = ThreadStatus(status)
    if moderation is not None:
        thread.moderation = None if moderation == "default" else ModerationMode(moderation)
    if spoiler_until is not UNCHANGED:
        thread.article.spoiler_until = spoiler_until
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
    }


def change_settings(actor: User, form: dict) -> dict:
    """Save the moderation settings form; raises Forbidden or ValidationError."""
    permissions.require(permissions.can_administer(actor))
    changed = settings.save(settings.parse(form))
    if changed:
        hidden = {"hook_secret"}
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


# -- the queues -----------------------------------------------------------------------


@dataclass
class AuthorRecord:
    approved: int = 0
    pending: int = 0
    rejected: int = 0
    spam: int = 0
    notes: list[UserNote] = field(default_factory=list)


@dataclass
class QueueItem:
    comment: Comment
    parent: Comment | None
    flags: list[Flag]
    record: AuthorRecord


@dataclass
class QueuePage:
    name: str
    items: list[QueueItem]
    next_cursor: str | None


def _queue_query(name: str):
    query = select(Comment)
    if name == "reported":
        return query.where(
            Comment.open_flags > 0,
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.PENDING]),
        ), False
    status = {"pending": CommentStatus.PENDING, "spam": CommentStatus.SPAM,
              "rejected": CommentStatus.REJECTED}[name]  # fmt: skip
    # Pending is first come, first served; spam and rejected show the newest first.
    return query.where(Comment.status == status), name != "pending"


def queue(viewer, name: str, limit: int = 50, cursor=None, author: User | None = None) -> QueuePage:
    """One page of a queue, each item with its context, in a constant number of
    statements.  Raises Forbidden, NotFound or ValidationError."""
    permissions.require(permissions.can_moderate(viewer))
    if name not in QUEUES:
        raise NotFound("There is no such queue.")
    query, newest_first = _queue_query(name)
    if author is not None:
        query = query.where(Comment.author_id == author.id)
    position = None
    if cursor:
        position = decode_cursor(cursor, name)
        if position is None:
            raise ValidationError(fields={"cursor": "This cursor is not valid for this queue."})
    if position is not None:
        _, created_at, comment_id = position
        if newest_first:
            query = query.where(
                (Comment.created_at < created_at)
                | ((Comment.created_at == created_at) & (Comment.id < comment_id))
            )
        else:
            query = query.where(
                (Comment.created_at > created_at)
                | ((Comment.created_at == created_at) & (Comment.id > comment_id))
            )
    order = (
        (Comment.created_at.desc(), Comment.id.desc())
        if newest_first
        else (Comment.created_at, Comment.id)
    )
    # No joins in the paging query itself, so it stays a walk down the status
    # index that stops at the limit; authors and threads follow by primary key.
    rows = db.session.scalars(
        query.options(selectinload(Comment.author), selectinload(Comment.thread))
        .order_by(*order)
        .limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(name, 0, rows[-1].created_at, rows[-1].id)
    return QueuePage(name, with_context(rows), next_cursor)


def with_context(comments: list[Comment]) -> list[QueueItem]:
    """Parents, open flags and author records for these comments: three statements."""
    parent_ids = {c.parent_id for c in comments if c.parent_id}
    parents = {}
    if parent_ids:
        parents = {
            p.id: p
            for p in db.session.scalars(
                select(Comment)
                .options(joinedload(Comment.author))
                .where(Comment.id.in_(parent_ids))
            )
        }
    flagged = [c.id for c in comments if c.open_flags]
    flags: dict[int, list[Flag]] = {}
    if flagged:
        for report in db.session.scalars(
            select(Flag)
            .options(joinedload(Flag.user))
            .where(Flag.comment_id.in_(flagged))
            .order_by(Flag.created_at.desc())
        ):
            flags.setdefault(report.comment_id, []).append(report)
    records = author_records({c.author_id for c in comments if c.author_id})
    return [
        QueueItem(
            comment=c,
            parent=parents.get(c.parent_id),
            # Only the flags since the last review are open; show those.
            flags=flags.get(c.id, [])[: c.open_flags],
            record=records.get(c.author_id, AuthorRecord()),
        )
        for c in comments
    ]


def author_records(user_ids: set[int]) -> dict[int, AuthorRecord]:
    """Comment counts by status and moderator notes for these authors."""
    if not user_ids:
        return {}
    records = {uid: AuthorRecord() for uid in user_ids}
    rows = db.session.execute(
        select(Comment.author_id, Comment.status, func.count(Comment.id))
        .where(Comment.author_id.in_(user_ids))
        .group_by(Comment.author_id, Comment.status)
    )
    for uid, status, count in rows:
        if status.value in ("approved", "pending", "rejected", "spam"):
            setattr(records[uid], status.value, count)
    for note in db.session.scalars(
        select(UserNote)
        .options(joinedload(UserNote.author))
        .where(UserNote.user_id.in_(user_ids))
        .order_by(UserNote.created_at.desc())
    ):
        records[note.user_id].notes.append(note)
    return records


def queue_counts() -> dict[str, int]:
    """How many wait in each queue: two statements."""
    counts = dict.fromkeys(QUEUES, 0)
    rows = db.session.execute(
        select(Comment.status, func.count(Comment.id))
        .where(
            Comment.status.in_([CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED])
        )
        .group_by(Comment.status)
    )
    for status, count in rows:
        counts[status.value] = count
    counts["reported"] = db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.open_flags > 0,
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.PENDING]),
        )
    )
    return counts


def audit_page(viewer, limit=50, cursor=None, action=None, actor=None, target_type=None):
    """The audit log, newest first, filtered; raises Forbidden or ValidationError."""
    permissions.require(permissions.can_administer(viewer))
    query = select(AuditEntry).options(joinedload(AuditEntry.actor))
    if action:
        query = query.where(AuditEntry.action == action)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if actor is not None:
        query = query.where(AuditEntry.actor_id == actor.id)
    return _newest_first_page(query, AuditEntry, "log", limit, cursor)


def history_page(viewer, limit=50, cursor=None):
    """Approvals and restorations, newest first (the queues' "History")."""
    permissions.require(permissions.can_moderate(viewer))
    query = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(AuditEntry.action.in_(["approve", "restore"]))
    )
    return _newest_first_page(query, AuditEntry, "history", limit, cursor)


def _newest_first_page(query, model, kind, limit, cursor):
    if cursor:
        position = decode_cursor(cursor, kind)
        if position is None:
            raise ValidationError(fields={"cursor": "This cursor is not valid here."})
        _, created_at, ident = position
        same_time = (model.created_at == created_at) & (model.id < ident)
        query = query.where((model.created_at < created_at) | same_time)
    rows = db.session.scalars(
        query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(kind, 0, rows[-1].created_at, rows[-1].id)
    return rows, next_cursor

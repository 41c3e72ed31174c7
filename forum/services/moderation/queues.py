"""The moderation queues (pending, reported, spam, rejected), each item with its
context, searched and filtered (words, author, article, reason), the counts on
the tabs, the history of approvals and the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from forum import permissions
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Flag,
    FlagReason,
    Thread,
    User,
    UserNote,
)
from forum.services.accounts.accounts import find_user
from forum.services.discussion import search
from forum.services.discussion.cursors import decode_cursor, encode_cursor
from forum.services.discussion.threads import is_valid_key

QUEUES = ("pending", "reported", "spam", "rejected")
# The automatic rules that hold comments (Comment.hold_reasons' "rule"), as the
# queues' reason filter offers them; templates/moderation/_words.html names them.
HOLD_RULES = (
    "banned_word", "suspect_word", "email_domain", "rejection_rate", "links", "duplicate",
    "new_account", "not_yet_trusted", "pre_moderation", "guest", "guest_trap",
    "guest_unproven", "guest_fast", "hook", "flags", "import",
)  # fmt: skip
# The reason filter's values: "rule:<rule>" or "report:<flag reason>".
REASONS = (
    *(f"rule:{rule}" for rule in HOLD_RULES),
    *(f"report:{reason.value}" for reason in FlagReason),
)
# The article filter offers the discussions of this many of a queue's newest items.
ARTICLE_CHOICES_FROM = 1000


# -- searching and filtering ------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What a moderator narrows a queue to; every part optional."""

    query: search.Query | None = None
    author: User | None = None
    thread: Thread | None = None
    reason: str | None = None  # one of REASONS

    @property
    def active(self) -> bool:
        return any((self.query, self.author, self.thread, self.reason))

    def args(self) -> dict[str, str]:
        """The filters as the query string carries them (for links to more pages)."""
        found = {
            "q": self.query.text if self.query else None,
            "author": self.author.username if self.author else None,
            "article": self.thread.key if self.thread else None,
            "reason": self.reason,
        }
        return {name: value for name, value in found.items() if value}


def parse_filters(q=None, author=None, article=None, reason=None) -> QueueFilters:
    """The filters from a queue page's query string; empty values filter nothing.
    Raises ValidationError naming each field that needs another look."""
    fields, found = {}, {}
    try:
        found["query"] = search.parse(q)
    except ValidationError as error:
        fields.update(error.fields)
    if author:
        name = author.strip().lstrip("@") if isinstance(author, str) else None
        found["author"] = find_user(name) if name else None
        if found["author"] is None:
            fields["author"] = gettext("No account has that username.")
    if article:
        thread = None
        if is_valid_key(article):
            thread = db.session.scalar(select(Thread).where(Thread.key == article))
        if thread is None:
            fields["article"] = gettext("There is no discussion with that key.")
        found["thread"] = thread
    if reason:
        if reason not in REASONS:
            fields["reason"] = gettext("Choose a reason from the list.")
        found["reason"] = reason
    if fields:
        raise ValidationError(fields=fields)
    return QueueFilters(**found)


def _filtered(query, filters: QueueFilters):
    if filters.query is not None:
        query = query.where(search.matching(filters.query))
    if filters.author is not None:
        query = query.where(Comment.author_id == filters.author.id)
    if filters.thread is not None:
        query = query.where(Comment.thread_id == filters.thread.id)
    if filters.reason:
        kind, _, code = filters.reason.partition(":")
        query = query.where(_held_by(code) if kind == "rule" else _reported_as(code))
    return query


def _held_by(rule: str):
    """SQL over Comment: one of its hold reasons is this rule (hold_reasons is a
    JSON list of objects; each database reads JSON its own way)."""
    if db.session.get_bind().dialect.name == "postgresql":
        reason = func.json_array_elements(Comment.hold_reasons).table_valued("value")
        return exists(select(1).select_from(reason).where(reason.c.value.op("->>")("rule") == rule))
    reason = func.json_each(Comment.hold_reasons).table_valued("value")
    return exists(
        select(1).select_from(reason).where(func.json_extract(reason.c.value, "$.rule") == rule)
    )


def _reported_as(reason: str):
    """SQL over Comment: a reader reported it for this reason since a moderator
    last decided on it (the open reports the queue shows)."""
    return exists(
        select(1).where(
            Flag.comment_id == Comment.id,
            Flag.reason == FlagReason(reason),
            (Comment.moderated_at.is_(None)) | (Flag.created_at > Comment.moderated_at),
        )
    )


def article_choices(name: str) -> list[tuple[Thread, int]]:
    """The discussions a queue's newest items (ARTICLE_CHOICES_FROM of them) are
    in, with how many of those each holds, most first: one statement."""
    if name not in QUEUES:
        return []
    query, _ = _queue_query(name)
    newest = (
        query.with_only_columns(Comment.thread_id)
        .order_by(Comment.created_at.desc())
        .limit(ARTICLE_CHOICES_FROM)
        .subquery()
    )
    counted = (
        select(newest.c.thread_id, func.count().label("waiting"))
        .group_by(newest.c.thread_id)
        .subquery()
    )
    return [
        (thread, waiting)
        for thread, waiting in db.session.execute(
            select(Thread, counted.c.waiting)
            .join(counted, counted.c.thread_id == Thread.id)
            .order_by(counted.c.waiting.desc(), Thread.title)
        )
    ]


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


def queue(
    viewer,
    name: str,
    limit: int = 50,
    cursor=None,
    author: User | None = None,
    filters: QueueFilters | None = None,
) -> QueuePage:
    """One page of a queue, each item with its context, in a constant number of
    statements; narrowed by filters (the same pages follow one another with them).
    Raises Forbidden, NotFound or ValidationError."""
    permissions.require(permissions.can_moderate(viewer))
    if name not in QUEUES:
        raise NotFound(gettext("There is no such queue."))
    query, newest_first = _queue_query(name)
    if author is not None:
        query = query.where(Comment.author_id == author.id)
    if filters is not None:
        query = _filtered(query, filters)
    position = None
    if cursor:
        position = decode_cursor(cursor, name)
        if position is None:
            raise ValidationError(
                fields={"cursor": gettext("This cursor is not valid for this queue.")}
            )
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


def waiting_count() -> int:
    """How many comments wait for a moderator's decision, for the badge on the
    header's Moderation link: those in Pending, and the approved ones readers
    reported (a pending one with reports counts once).  Spam is left out: it is
    reviewed at leisure, and junk left in it would keep the badge up for good.

    One statement, two index-only counts (ix_comments_status_flags), whose cost
    grows with what waits, never with the site."""
    pending = select(func.count(Comment.id)).where(Comment.status == CommentStatus.PENDING)
    reported = select(func.count(Comment.id)).where(
        Comment.status == CommentStatus.APPROVED, Comment.open_flags > 0
    )
    return db.session.scalar(select(pending.scalar_subquery() + reported.scalar_subquery())) or 0


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


def comments_of(entries: list[AuditEntry]) -> dict[int, Comment]:
    """The comments these audit entries are about, with their authors and
    threads, by id (so History shows the text and who wrote it): one statement."""
    ids = {e.target_id for e in entries if e.target_type == "comment" and e.target_id}
    if not ids:
        return {}
    return {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author), joinedload(Comment.thread))
            .where(Comment.id.in_(ids))
        )
    }


def _newest_first_page(query, model, kind, limit, cursor):
    if cursor:
        position = decode_cursor(cursor, kind)
        if position is None:
            raise ValidationError(fields={"cursor": gettext("This cursor is not valid here.")})
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

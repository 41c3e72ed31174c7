"""Tables and enums.  Models hold data and tiny derived properties, never queries."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db

# The largest value of an INTEGER column (ids, counters) on PostgreSQL: any number
# from a request is checked against it before it reaches a query.
MAX_INT = 2**31 - 1


def is_id(value) -> bool:
    """A plausible row id: a positive int (not a bool) that fits an INTEGER column."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INT


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on every backend (SQLite hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: forum stores only aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_item(type_, obj, autogen_context):
    """Alembic hook: write UTCDateTime into migrations as plain sa.DateTime, so
    migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# "Banned until" for a permanent ban: a real date keeps the column simple to query.
PERMANENT = datetime(9999, 1, 1, tzinfo=UTC)


class Role(enum.StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    ADMIN = "admin"


class CommentStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class ModerationMode(enum.StrEnum):
    PRE = "pre"
    POST = "post"
    TRUSTED = "trusted"


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    SPOILER = "spoiler"
    OTHER = "other"


class ModerationAction(enum.StrEnum):
    """What a moderator can do to a comment (services.moderation.decisions)."""

    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    RESTORE = "restore"
    FEATURE = "feature"
    UNFEATURE = "unfeature"
    MARK_SPOILER = "mark_spoiler"
    UNMARK_SPOILER = "unmark_spoiler"
    CONFIRM_THEORY = "confirm_theory"
    DEBUNK_THEORY = "debunk_theory"
    REOPEN_THEORY = "reopen_theory"


class NotificationKind(enum.StrEnum):
    REPLY = "reply"  # someone replied to your comment
    THREAD_REPLY = "thread_reply"  # a new comment in a thread you follow
    APPROVED = "approved"  # your held comment was approved
    REJECTED = "rejected"  # ... or rejected, with the reason
    THEORY_CONFIRMED = "theory_confirmed"
    THEORY_DEBUNKED = "theory_debunked"
    MENTION = "mention"  # @username in a comment


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TheoryStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DEBUNKED = "debunked"


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as the value strings ("approved"), not names, in a plain VARCHAR.
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda k: [m.value for m in k],
        validate_strings=True,
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased username: the unique key, so "Ada" and "ada" cannot both exist.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    # No email: an author imported from another system (a guest name) or a
    # single-sign-on account whose address already belongs to another account.
    email: Mapped[str | None] = mapped_column(String(254))
    # Not unique: registration must not reveal which addresses have accounts, so
    # one address may hold several (a password reset lists them all).
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.READER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A ban in force until this time (PERMANENT for good); its history is in the audit log.
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    # A few words about oneself, shown escaped on the profile.
    bio: Mapped[str] = mapped_column(String(300), default="")
    # The notification kinds this reader asked to receive by email (opt-in).
    email_kinds: Mapped[list] = mapped_column(JSON, default=list)
    # Unread notifications, kept with them, so the header needs no query of its own.
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    # A name that came with imported comments: nobody can sign in as it.
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the owner proved the address is theirs (a link we emailed); None: not yet.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_banned(self, now: datetime) -> bool:
        return self.banned_until is not None and self.banned_until > now

    @property
    def ban_is_permanent(self) -> bool:
        return self.banned_until is not None and self.banned_until >= PERMANENT

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(db.Model):
    """One signed-in browser. The session cookie carries its key; signing out,
    or changing the password (for the others), revokes it here, so a copied
    cookie stops working too."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the random key in the cookie (a database leak is no sign-in).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(db.Model):
    """A client's key for one submission (a form's hidden field or the
    Idempotency-Key header): the same key again gets the first answer, not a
    second comment."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    # What the first request made (a comment), to answer repeats with it.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Article(db.Model):
    """A page of the publisher's own site; its thread's key is its slug."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    byline: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Until then, replies and theories show collapsed for readers who have not opted in.
    spoiler_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[Thread | None] = relationship(back_populates="article", uselist=False)

    @property
    def safe_html(self) -> Markup:
        # Rendered and cleaned by forum.markup when the article was saved.
        return Markup(self.body_html)


class Thread(db.Model):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[ThreadStatus] = mapped_column(_enum(ThreadStatus), default=ThreadStatus.OPEN)
    # None: the site default (FORUM_MODERATION) applies.
    moderation: Mapped[ModerationMode | None] = mapped_column(_enum(ModerationMode))
    # Approved comments, kept by the services in the transaction that changes them.
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped with every change to the thread's comments (ETags, caches).
    version: Mapped[int] = mapped_column(Integer, default=0)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The publisher's origin whose embed created it (None: an article of our own).
    origin: Mapped[str | None] = mapped_column(String(200))
    # Merged by an admin into another thread: its key (still on publishers' pages)
    # now shows that thread, and it holds no comments of its own.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )

    article: Mapped[Article | None] = relationship(back_populates="thread")

    __table_args__ = (Index("ix_threads_origin_time", "origin", "created_at", "id"),)

    @property
    def is_open(self) -> bool:
        return self.status == ThreadStatus.OPEN


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # Top-level comments of a thread in each sort order (keyset paging).
        Index("ix_comments_thread_roots_time", "thread_id", "parent_id", "created_at", "id"),
        Index(
            "ix_comments_thread_roots_rank", "thread_id", "parent_id", "rank", "created_at", "id"
        ),
        # A conversation's replies in reading order: whole trees, and the first few
        # plus "N more" on the pages, without sorting a long conversation.
        Index("ix_comments_root_time", "root_id", "created_at", "id"),
        Index("ix_comments_author_time", "author_id", "created_at"),
        # An author's record beside each queue item: counts by status, index-only.
        Index("ix_comments_author_status", "author_id", "status"),
        Index("ix_comments_status_time", "status", "created_at", "id"),
        Index("ix_comments_flagged", "open_flags", "created_at", "id"),
        # How many wait in the Reported queue: each status's flagged few, index-only.
        Index("ix_comments_status_flags", "status", "open_flags"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # The top-level comment this one hangs under (None for a top-level comment):
    # one indexed lookup fetches a whole reply tree, in order (ix_comments_root_time).
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    # The sanitized rendering of body, made once by forum.markup at write time.
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(_enum(CommentStatus))
    # Votes, kept by forum.services.discussion.votes with SQL arithmetic (no lost updates):
    # score = upvotes - downvotes; rank = the Wilson lower bound of the share of
    # upvotes, in millionths, which "top" sorts by (see the README's design notes).
    score: Mapped[int] = mapped_column(Integer, default=0)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    downvotes: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    theory_title: Mapped[str | None] = mapped_column(String(120))
    theory_status: Mapped[TheoryStatus | None] = mapped_column(_enum(TheoryStatus))
    spoiler: Mapped[bool] = mapped_column(Boolean, default=False)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the automatic rules held it: [{"rule": ..., "detail": ...}], shown to moderators.
    hold_reasons: Mapped[list] = mapped_column(JSON, default=list)
    # Reader flags since a moderator last reviewed it (the Reported queue).
    open_flags: Mapped[int] = mapped_column(Integer, default=0)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Shown to the author of a rejected comment.
    moderation_reason: Mapped[str | None] = mapped_column(String(500))
    theory_note: Mapped[str | None] = mapped_column(String(500))
    theory_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    theory_link: Mapped[str | None] = mapped_column(String(2000))
    # Optimistic locking: two moderators (or an edit and a decision) racing on
    # one comment cannot both win; the loser gets StaleDataError.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": revision}

    thread: Mapped[Thread] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def is_theory(self) -> bool:
        return self.theory_title is not None

    @property
    def safe_html(self) -> Markup:
        # The one place user content becomes markup: it was cleaned at write time.
        return Markup(self.html)


class Flag(db.Model):
    """A reader's report of a comment; one per reader per comment."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[FlagReason] = mapped_column(_enum(FlagReason))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    comment: Mapped[Comment] = relationship()


class UserNote(db.Model):
    """A moderator's note on a reader, visible to moderators only."""

    __tablename__ = "user_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class AuditEntry(db.Model):
    """One moderation action or settings change: who, what, on what, when, why."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_time", "created_at", "id"),
        Index("ix_audit_log_action_time", "action", "created_at", "id"),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str | None] = mapped_column(String(500))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class Setting(db.Model):
    """A moderation setting an admin changed in the UI (absent: the default)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


class Vote(db.Model):
    """One reader's vote on one comment: +1 or -1 (retracting deletes the row)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(db.Model):
    """A reader follows a thread: new comments in it become notifications."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mute(db.Model):
    """A reader mutes another: the muted one's comments collapse for them."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("user_id", "muted_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    muted_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """Something a reader should hear about, shown in-app (and by email if chosen)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment: Mapped[Comment | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class OutboxMessage(db.Model):
    """An email waiting to be sent; written in the transaction that caused it,
    delivered afterwards with retries, so sending never blocks or fails a request."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The comment it tells about: if that is removed before sending, so is the email.
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class EmbedSite(db.Model):
    """A publisher's origin as an admin set it: allowed to embed threads or not
    (overriding FORUM_EMBED_ORIGINS), with its single-sign-on secret if any."""

    __tablename__ = "embed_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(200), unique=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    # HS256 key shared with the publisher's server. HMAC needs it in the clear, so
    # it is stored sealed (forum.secretbox; ~150 characters for the 43 we make).
    sso_secret: Mapped[str | None] = mapped_column(String(255))
    sso_secret_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoIdentity(db.Model):
    """A publisher's account (their `sub`) linked to one of ours."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("site_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class SsoTokenUse(db.Model):
    """A single-sign-on token already exchanged (its `jti`), kept until it expires
    so that the same token cannot be exchanged twice."""

    __tablename__ = "sso_token_uses"
    __table_args__ = (UniqueConstraint("site_id", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ImportRecord(db.Model):
    """What an import created for one item of a foreign archive, so that running
    the same import again finds it instead of duplicating it."""

    __tablename__ = "import_records"
    __table_args__ = (UniqueConstraint("source", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # "disqus", "isso"
    kind: Mapped[str] = mapped_column(String(20))  # "thread", "comment", "author"
    external_id: Mapped[str] = mapped_column(String(255))
    local_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateCounter(db.Model):
    """One rate-limit window's count (forum.limit_storage), where every worker
    and host sees it when there is no Redis.  The expiry is in epoch seconds,
    as the limits library speaks it, not a datetime."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[float] = mapped_column(Double, nullable=False, index=True)

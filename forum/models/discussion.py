"""Articles, threads, comments, votes, follows, and the sites allowed to embed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from forum.extensions import db
from forum.markup.words import indexed_text
from forum.models.columns import UTCDateTime, _enum, utcnow
from forum.models.enums import (
    CommentStatus,
    ModerationMode,
    TheoryStatus,
    ThreadStatus,
)

if TYPE_CHECKING:  # for the annotations; SQLAlchemy finds the classes by name
    from forum.models.accounts import User


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
    # With FORUM_GUESTS=on (and its site allowing them): may guests post here?
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=True)

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
    # The words search finds it by: its theory title and text made plain and folded
    # (forum.markup.words), set below whenever either changes; the full-text index
    # over it is forum.models.search_index.  Deferred: only searches read it.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)

    __mapper_args__ = {"version_id_col": revision}

    thread: Mapped[Thread] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @validates("html", "theory_title")
    def _keep_search_text(self, key: str, value):
        # Every way a comment's words change (posting, editing, imports, rerender)
        # sets one of these two; bulk UPDATEs that blank them set search_text too.
        html = value if key == "html" else self.html
        title = value if key == "theory_title" else self.theory_title
        self.search_text = indexed_text(html or "", title)
        return value

    @property
    def is_theory(self) -> bool:
        return self.theory_title is not None

    @property
    def safe_html(self) -> Markup:
        # The one place user content becomes markup: it was cleaned at write time.
        return Markup(self.html)


class CommentRevision(db.Model):
    """The words a comment had before one of its edits, for the moderators'
    edit history (never shown to readers, never in the API): revision `number`
    N holds the text edit N replaced; the text after the last edit is the
    comment's own.  Its author's deletion (or erasure) removes these too."""

    __tablename__ = "comment_revisions"
    __table_args__ = (UniqueConstraint("comment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # The sanitized rendering those words had (made by forum.markup back then).
    html: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Declared so that a flush writes the comment's edit (and meets its optimistic
    # lock) before this row: two edits racing cannot both keep a revision.
    comment: Mapped[Comment] = relationship()
    editor: Mapped[User | None] = relationship()


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
    # With FORUM_GUESTS=on: may visitors without an account post on this site's threads?
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=True)
    # May the site's sign-on tokens carry a `role` (moderator) and `badges` we honour?
    sso_roles: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

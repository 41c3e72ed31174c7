"""The queries behind the Atom feeds: a thread's, or one reader's, newest
approved comments.

Two statements per feed whatever its size: the article (with its thread) or the
user, then the comments with their authors, threads and articles joined in.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.errors import NotFound
from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Thread, User
from forum.services.accounts import accounts
from forum.services.discussion import threads

FEED_SIZE = 50


def thread_feed(slug) -> tuple[Article, list[Comment]]:
    """The article at slug and its thread's newest approved comments, newest
    first; raises NotFound."""
    article = threads.article_by_slug(slug)
    return article, _newest(Comment.thread_id == article.thread.id)


def user_feed(username) -> tuple[User, list[Comment]]:
    """The reader and their newest approved comments in any thread, newest first;
    raises NotFound."""
    user = accounts.find_user(username)
    if user is None:
        raise NotFound(gettext("There is no reader with that name."))
    return user, _newest(Comment.author_id == user.id)


def _newest(where) -> list[Comment]:
    # Only approved comments, ever: held, rejected, spam and deleted ones are not
    # public, whoever asks (a feed is the same document for everyone).
    return list(
        db.session.scalars(
            select(Comment)
            .options(
                joinedload(Comment.author),
                joinedload(Comment.thread).joinedload(Thread.article),
            )
            .where(where, Comment.status == CommentStatus.APPROVED)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(FEED_SIZE)
        )
    )


def withheld(comment: Comment, now: datetime) -> bool:
    """Whether a feed should leave out what this comment says: it is marked as a
    spoiler, or it is a reply or a theory while its article's spoiler window is
    open.  On the site such comments are collapsed until a reader chooses to see
    them; a feed reader cannot offer that choice, so the entry links there instead.
    """
    if comment.spoiler:
        return True
    article = comment.thread.article
    in_window = article is not None and article.spoiler_until is not None
    in_window = in_window and article.spoiler_until > now
    return in_window and (comment.parent_id is not None or comment.is_theory)

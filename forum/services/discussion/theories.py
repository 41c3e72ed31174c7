"""Theories: listing them, and each reader's record of calling it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Comment, CommentStatus, TheoryStatus, Thread, User, utcnow


@dataclass
class Record:
    confirmed: int = 0
    debunked: int = 0
    open: int = 0


def _theories():
    return (
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.thread).joinedload(Thread.article))
        .where(Comment.theory_title.is_not(None), Comment.status == CommentStatus.APPROVED)
    )


def for_thread(thread: Thread, sort: str = "top", limit: int = 100) -> list[Comment]:
    query = _theories().where(Comment.thread_id == thread.id)
    if sort == "newest":
        query = query.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        query = query.order_by(Comment.rank.desc(), Comment.created_at, Comment.id)
    return db.session.scalars(query.limit(limit)).all()


def reply_counts(theories: list[Comment]) -> dict[int, int]:
    """Approved replies under each theory, in one statement."""
    ids = [t.id for t in theories]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Comment.root_id, func.count(Comment.id))
        .where(Comment.root_id.in_(ids), Comment.status == CommentStatus.APPROVED)
        .group_by(Comment.root_id)
    )
    return {root: count for root, count in rows}


def top_open_this_week(limit: int = 20) -> list[Comment]:
    since = utcnow() - timedelta(days=7)
    return db.session.scalars(
        _theories()
        .where(Comment.theory_status == TheoryStatus.OPEN, Comment.created_at >= since)
        .order_by(Comment.rank.desc(), Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()


def recently_confirmed(limit: int = 20) -> list[Comment]:
    return db.session.scalars(
        _theories()
        .where(Comment.theory_status == TheoryStatus.CONFIRMED)
        .order_by(Comment.theory_settled_at.desc().nulls_last(), Comment.id.desc())
        .limit(limit)
    ).all()


def by_author(user: User, limit: int = 50) -> list[Comment]:
    return db.session.scalars(
        _theories()
        .where(Comment.author_id == user.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()


def record(user: User) -> Record:
    """How this reader's published theories turned out."""
    rows = db.session.execute(
        select(Comment.theory_status, func.count(Comment.id))
        .where(
            Comment.author_id == user.id,
            Comment.theory_title.is_not(None),
            Comment.status == CommentStatus.APPROVED,
        )
        .group_by(Comment.theory_status)
    )
    result = Record()
    for status, count in rows:
        setattr(result, status.value, count)
    return result


def published_by(user: User, limit: int = 50) -> list[Comment]:
    """A reader's approved comments, newest first (their public profile)."""
    return db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.thread).joinedload(Thread.article))
        .where(Comment.author_id == user.id, Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()

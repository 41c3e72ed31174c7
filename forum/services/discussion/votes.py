"""Up and down votes, kept exact under concurrent voting.

The comment's counters change by SQL arithmetic (upvotes = upvotes + 1) in the
voter's transaction, so two readers voting at once cannot overwrite each other;
the rank is then computed from the counters as they stand after that update,
which the update's row lock makes current on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from forum import permissions
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.models import Comment, Thread, User, Vote, utcnow

Z = 1.96  # 95% confidence


@dataclass(frozen=True)
class Tally:
    score: int
    my_vote: int


def wilson_rank(up: int, down: int) -> int:
    """Lower bound of the 95% Wilson interval of the upvote share, in millionths.

    A comment nobody has voted on ranks 0, level with one voted down, so new
    comments are never buried beneath disliked ones, and one early upvote does
    not outrank forty upvotes out of fifty.
    """
    n = up + down
    if n == 0:
        return 0
    p = up / n
    centre = p + Z * Z / (2 * n)
    margin = Z * math.sqrt((p * (1 - p) + Z * Z / (4 * n)) / n)
    return max(0, round((centre - margin) / (1 + Z * Z / n) * 1_000_000))


def vote(user: User, comment: Comment, value) -> Tally:
    """Set this reader's vote (1, -1, or 0 to retract).

    Raises Unauthorized, Banned, Forbidden, ValidationError or Conflict.
    """
    permissions.require_signed_in(user)
    permissions.require_not_banned(user)
    if permissions.is_author(user, comment):
        raise permissions.Forbidden(gettext("You cannot vote on your own comment."))
    permissions.require(
        permissions.can_vote(user, comment), gettext("This comment cannot be voted on.")
    )
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, -1, 0):
        raise ValidationError(fields={"value": gettext("Use 1, -1, or 0 to take your vote back.")})

    previous = db.session.scalar(
        select(Vote.value).where(Vote.comment_id == comment.id, Vote.user_id == user.id)
    )
    previous = previous or 0
    if previous == value:
        return Tally(score=comment.score, my_vote=value)
    # The thread's row first, then the comment's, in the order every other
    # writer (posting, editing, moderating) takes them: no deadlock on PostgreSQL.
    db.session.execute(
        update(Thread).where(Thread.id == comment.thread_id).values(version=Thread.version + 1)
    )
    try:
        if value == 0:
            db.session.execute(
                delete(Vote).where(Vote.comment_id == comment.id, Vote.user_id == user.id)
            )
        elif previous == 0:
            db.session.execute(
                insert(Vote).values(
                    comment_id=comment.id, user_id=user.id, value=value, created_at=utcnow()
                )
            )
        else:
            db.session.execute(
                update(Vote)
                .where(Vote.comment_id == comment.id, Vote.user_id == user.id)
                .values(value=value)
            )
    except IntegrityError:  # the same reader's other request got there first
        db.session.rollback()
        raise Conflict(
            gettext("Your vote changed in another window; reload and try again.")
        ) from None

    up = int(value == 1) - int(previous == 1)
    down = int(value == -1) - int(previous == -1)
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(
            upvotes=Comment.upvotes + up,
            downvotes=Comment.downvotes + down,
            score=Comment.score + (up - down),
        )
        .execution_options(synchronize_session=False)
    )
    ups, downs, score = db.session.execute(
        select(Comment.upvotes, Comment.downvotes, Comment.score).where(Comment.id == comment.id)
    ).one()
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(rank=wilson_rank(ups, downs))
        .execution_options(synchronize_session=False)
    )
    db.session.expire(comment)  # the counters moved underneath the loaded object
    return Tally(score=score, my_vote=value)


def my_votes(user, comment_ids: list[int]) -> dict[int, int]:
    """This reader's votes on these comments: {comment_id: 1 or -1}."""
    if not permissions.is_signed_in(user) or not comment_ids:
        return {}
    rows = db.session.execute(
        select(Vote.comment_id, Vote.value).where(
            Vote.user_id == user.id, Vote.comment_id.in_(comment_ids)
        )
    )
    return {comment_id: value for comment_id, value in rows}

"""Idempotency keys: the same submission sent twice makes one comment.

A client names each submission with a key: the API's Idempotency-Key header, or
the hidden field of a comment form (a fresh uuid4 per rendered form).  The first
request with a key stores it beside the comment it made, in the same
transaction; a repeat from the same account gets that comment back instead of
making another.  Keys belong to an account, so two readers cannot collide, and
are kept for at least a day (expired ones are deleted now and then).

Races are settled by the unique (user_id, key) index, not by the look-up: two
requests with one key at once both find nothing and both post, one commits, and
the other's flush of its key fails.  That one rolls back, its comment with it,
and answers with the winner's comment.  (On PostgreSQL the loser waits at that
insert until the winner's transaction ends; on SQLite writers take turns.)  A
request that fails stores nothing, so its key can simply be sent again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.models import Comment, IdempotencyKey, User, utcnow

KEY = re.compile(r"[\x20-\x7e]{1,100}")  # printable ASCII, as in an HTTP header
KEEP = timedelta(hours=24)
FORGET_EVERY = 50  # every 50th key stored also deletes the expired ones


def check_key(raw, field: str | None = None) -> str | None:
    """The key, or None when none was sent; raises ValidationError for a bad
    one (naming field, if given)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not KEY.fullmatch(raw) or not raw.strip():
        message = gettext("Use 1 to 100 printable ASCII characters as the idempotency key.")
        if field:
            raise ValidationError(fields={field: message})
        raise ValidationError(message)
    return raw


def earlier_comment(user_id: int, key: str) -> Comment | None:
    """The comment this account already made with this key, if any."""
    # The usual answer is "none": ask for the id alone, load the comment only if found.
    comment_id = db.session.scalar(
        select(IdempotencyKey.comment_id).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    )
    return db.session.get(Comment, comment_id) if comment_id is not None else None


def post_once(author: User, key: str | None, post: Callable[[], Comment]) -> tuple[Comment, bool]:
    """post() the comment, unless this author already posted one with this key.

    Returns (comment, created): created is False when the comment is the one an
    earlier request with the same key made (the session was then rolled back if
    this request had posted too).  Raises whatever post() raises, or Conflict
    when the key is taken by a record without a comment.
    """
    if key is None:
        return post(), True
    author_id = author.id  # read now: a rollback below expires the author
    earlier = earlier_comment(author_id, key)
    if earlier is not None:
        return earlier, False
    comment = post()
    record = IdempotencyKey(user_id=author_id, key=key, comment_id=comment.id)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # a request with the same key committed first
        db.session.rollback()
        earlier = earlier_comment(author_id, key)
        if earlier is None:
            raise Conflict(
                gettext("A request with this idempotency key is still being handled.")
            ) from None
        return earlier, False
    if record.id % FORGET_EVERY == 0:
        forget_old()
    return comment, True


def forget_old(now: datetime | None = None) -> int:
    """Delete keys older than KEEP; returns how many went."""
    cutoff = (now or utcnow()) - KEEP
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0

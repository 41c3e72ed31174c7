"""Cursors: where a page of comments or a chunk of replies starts, as an opaque
token, and the checks on a page request's sort, size and cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from flask_babel import gettext
from sqlalchemy import and_, or_

from forum.errors import ValidationError
from forum.models import MAX_INT, Comment, is_id

SORTS = ("oldest", "newest", "top")
LIMIT_MAX = 1000
REPLY_CURSOR = "replies"  # the kind named in reply cursors (see encode_cursor)


def parse_page_args(sort, limit, cursor, default_limit: int) -> tuple[str, int, tuple | None]:
    """Validate the query string of a page request; raises ValidationError."""
    fields = {}
    sort = sort or "oldest"
    if sort not in SORTS:
        fields["sort"] = gettext("Use oldest, newest or top.")
    if limit in (None, ""):
        limit = default_limit
    else:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= LIMIT_MAX:
            fields["limit"] = gettext("Use a whole number from 1 to %(max)s.", max=LIMIT_MAX)
    position = None
    if cursor:
        position = decode_cursor(cursor, sort)
        if position is None:
            fields["cursor"] = gettext(
                "This cursor is not valid for this list; start again without it."
            )
    if fields:
        raise ValidationError(fields=fields)
    return sort, limit, position


def parse_replies_cursor(cursor) -> tuple | None:
    """Where a chunk of replies starts: None for the first reply, else the
    position the cursor names; raises ValidationError."""
    if cursor in (None, ""):
        return None
    position = decode_cursor(cursor, REPLY_CURSOR)
    if position is None:
        raise ValidationError(
            fields={
                "after": gettext(
                    "This cursor is not valid for these replies; start again without it."
                )
            }
        )
    return position


def after(sort: str, position: tuple):
    """SQL over Comment: what comes after position in this sort."""
    # The cursor's first number is the sort key beyond time: the rank, for "top".
    rank, created_at, comment_id = position
    if sort == "newest":
        return or_(
            Comment.created_at < created_at,
            and_(Comment.created_at == created_at, Comment.id < comment_id),
        )
    later = or_(
        Comment.created_at > created_at,
        and_(Comment.created_at == created_at, Comment.id > comment_id),
    )
    if sort == "top":
        return or_(Comment.rank < rank, and_(Comment.rank == rank, later))
    return later


def encode_cursor(sort: str, score: int, created_at: datetime, comment_id: int) -> str:
    raw = json.dumps([sort, score, created_at.isoformat(), comment_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor, sort: str) -> tuple | None:
    """(score, created_at, id) from a cursor made for this sort, or None."""
    if not isinstance(cursor, str) or len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, score, created_at, comment_id = json.loads(raw)
        created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            return None
        created_at = created_at.astimezone(UTC)  # year 1 at +05:00 overflows here, not later
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if (
        kind != sort
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in (score, comment_id))
        or not (-MAX_INT <= score <= MAX_INT and is_id(comment_id))
    ):
        return None
    return score, created_at, comment_id

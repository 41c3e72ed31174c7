"""Reading a thread page fast: row tuples instead of ORM objects, one pass to
build the trees, and the serialized page cached under the thread's version.

The JSON API reads threads through here. Two statements fetch a page whatever
its size (the page's top-level ids, then every comment under them with its
author's two names), and the cache key holds the thread's version, which every
change to what the page shows bumps in the same transaction (see
forum.services.discussion.comments._touch): a cached page can never be stale, in any
process or on any host sharing the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext
from sqlalchemy import String, bindparam, or_, select, type_coerce, update
from sqlalchemy.orm import aliased

from forum import permissions
from forum.errors import NotFound
from forum.extensions import cache, db
from forum.models import Comment, ModerationMode, Thread, ThreadStatus, User
from forum.services.discussion import threads, trees, visibility

log = logging.getLogger(__name__)

try:  # Redis is optional: without it the cache lives in the process.
    from redis.exceptions import RedisError as _CacheDown
except ImportError:  # pragma: no cover - redis is installed with the redis extra
    _CacheDown = OSError

# The columns a page shows, in the order RowNode.row holds them.
COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.depth,
    Comment.author_id,
    # Enums as their stored strings: the page prints them, so converting each
    # row's value to a member and back would be wasted.
    type_coerce(Comment.status, String),
    Comment.html,
    Comment.body,
    Comment.created_at,
    Comment.edited_at,
    Comment.score,
    Comment.theory_title,
    type_coerce(Comment.theory_status, String),
    Comment.spoiler,
    Comment.featured,
    Comment.moderation_reason,
    User.username,
    User.display_name,
    User.is_guest,
    type_coerce(User.role, String),
    User.badges,
    User.deleted_at,
)


# Built once and reused with new values: building a statement costs more than
# running it on a thread of a hundred comments.
_TREE = (
    select(*COLUMNS)
    .outerjoin(User, User.id == Comment.author_id)
    .where(
        or_(
            Comment.id.in_(bindparam("roots", expanding=True)),
            Comment.root_id.in_(bindparam("under", expanding=True)),
        )
    )
    .order_by(Comment.created_at, Comment.id)
)


class ThreadHead(NamedTuple):
    """The Thread attributes a page reads, from one row (see thread_head())."""

    id: int
    key: str
    title: str
    url: str | None
    status: ThreadStatus
    moderation: ModerationMode | None
    comment_count: int
    version: int
    article_id: int | None
    created_at: datetime


_SHOWN = aliased(Thread)
_HEAD_COLUMNS = ("id", "key", "title", "url", "status", "moderation", "comment_count")
_HEAD_COLUMNS += ("version", "article_id", "created_at")
# A key and the thread it shows (itself, or the one an admin merged it into).
_HEAD = (
    select(
        *(getattr(Thread, name) for name in _HEAD_COLUMNS),
        *(getattr(_SHOWN, name).label(f"shown_{name}") for name in _HEAD_COLUMNS),
    )
    .outerjoin(_SHOWN, _SHOWN.id == Thread.merged_into_id)
    .where(Thread.key == bindparam("key"))
)


def thread_head(key) -> ThreadHead:
    """What a page needs of the thread readers see under this key, in one cheap
    statement. Raises NotFound, as threads.thread_shown_by_key() does."""
    row = None
    if threads.is_valid_key(key):
        row = db.session.connection().execute(_HEAD, {"key": key}).first()
    if row is None:
        raise NotFound(gettext("There is no discussion with that key."))
    if row.shown_id is not None:
        return ThreadHead(*row[len(_HEAD_COLUMNS) :])
    return ThreadHead(*row[: len(_HEAD_COLUMNS)])


class RowNode:
    """A comment row placed in its tree (the row-tuple twin of trees.Node);
    statuses are their strings ("approved"), times aware UTC datetimes."""

    __slots__ = ("row", "tombstone", "replies")

    def __init__(self, row):
        self.row = row
        self.tombstone = False
        self.replies: list[RowNode] = []


@dataclass
class RowPage:
    roots: list[RowNode]
    next_cursor: str | None


def load_page(thread: Thread, viewer, sort: str, limit: int, position: tuple | None) -> RowPage:
    """One page of top-level comments, each with its whole reply tree, pruned to
    what this viewer may see exactly as trees.load_trees() prunes it."""
    root_ids, next_cursor = trees.page_root_ids(thread, viewer, sort, limit, position)
    if not root_ids:
        return RowPage([], next_cursor)
    # Through the connection: plain rows, without the ORM's per-row bookkeeping.
    rows = db.session.connection().execute(_TREE, {"roots": root_ids, "under": root_ids}).all()
    shown = visibility.shown_row_test(viewer)
    roots = trees.assemble(
        {row[0]: RowNode(row) for row in rows},
        lambda node: node.row[1],
        lambda node: shown(node.row[4], node.row[3]),
        root_ids,
    )
    return RowPage(roots, next_cursor)


# -- the cache ---------------------------------------------------------------


def thread_stamp(thread: Thread | ThreadHead) -> str:
    """The thread's identity and version. The creation time rides along so a
    database rebuilt from scratch, whose ids start again, never matches what a
    shared cache or a browser kept from the old one."""
    made = int(thread.created_at.timestamp() * 1_000_000)
    return f"{thread.id}.{made:x}.{thread.version}"


def viewer_tag(viewer) -> str:
    """What, besides the thread's version, decides a page's bytes for this viewer."""
    if not permissions.is_signed_in(viewer):
        return "a"
    return f"u{viewer.id}m{int(permissions.is_moderator(viewer))}"


def cached(
    key: str,
    build: Callable[[], object],
    keep: Callable[[object], bool] | None = None,
    seconds: int | None = None,
):
    """What is cached under key, or build() it and cache it (if keep(it) says so)
    for `seconds` (default FORUM_CACHE_SECONDS).

    A cache that does not answer costs at most its timeout: the page is built.
    """
    try:
        hit = cache.get(key)
    except _CacheDown as error:
        log.warning("page cache unavailable (%s); building the page", type(error).__name__)
        return build()
    if hit is not None:
        return hit
    value = build()
    if keep is not None and not keep(value):
        return value
    try:
        cache.set(key, value, timeout=seconds)
    except _CacheDown as error:
        log.warning("page cache unavailable (%s); page not kept", type(error).__name__)
    return value


def page_key(thread: Thread | ThreadHead, *parts) -> str:
    """A cache key for a page of this thread at its current version."""
    mode = current_app.config["FORUM_MODERATION"]  # the default the page names
    return ":".join(("tp", thread_stamp(thread), mode, *map(str, parts)))


def touch_threads_of(user: User) -> None:
    """Bump the version of every thread this user wrote in: their name shows there."""
    db.session.execute(
        update(Thread)
        .where(Thread.id.in_(select(Comment.thread_id).where(Comment.author_id == user.id)))
        .values(version=Thread.version + 1)
        .execution_options(synchronize_session=False)
    )

"""Admins' work on the threads publishers' embeds created: list, rename, merge."""

from __future__ import annotations

from flask_babel import gettext, ngettext
from sqlalchemy import and_, delete, func, or_, select, update

from forum import permissions
from forum.addresses import is_web_address
from forum.errors import ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import Comment, CommentStatus, Follow, Thread
from forum.services.audit import audit
from forum.services.discussion.cursors import decode_cursor, encode_cursor

TITLE_MAX = 300
URL_MAX = 2000
PAGE_SIZE = 50
_CURSOR_KIND = "embedded"
# Bulk statements; the objects they touch are expired right after.
_BULK = {"synchronize_session": False}


def embedded_threads(
    viewer, origin: str | None = None, limit: int = PAGE_SIZE, cursor=None
) -> tuple[list[Thread], str | None]:
    """Threads created by embeds, newest first, optionally of one origin, a page
    at a time (keyset on created_at, id: ix_threads_origin_time).

    Raises Forbidden, or ValidationError for a cursor that is not one of ours.
    """
    permissions.require(permissions.can_manage_embedding(viewer), gettext("Admins only."))
    query = select(Thread).where(Thread.origin.is_not(None))
    if origin is not None:
        query = query.where(Thread.origin == origin)
    if cursor:
        position = decode_cursor(cursor, _CURSOR_KIND)
        if position is None:
            raise ValidationError(fields={"cursor": gettext("This cursor is not valid here.")})
        _, created_at, ident = position
        query = query.where(
            or_(
                Thread.created_at < created_at,
                and_(Thread.created_at == created_at, Thread.id < ident),
            )
        )
    rows = db.session.scalars(
        query.order_by(Thread.created_at.desc(), Thread.id.desc()).limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(_CURSOR_KIND, 0, rows[-1].created_at, rows[-1].id)
    return rows, next_cursor


def keys_by_id(ids) -> dict[int, str]:
    """Thread keys for these ids, in one statement (what merged threads point to)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Thread.id, Thread.key).where(Thread.id.in_(ids))).all())


def rename_thread(actor, thread: Thread, title, url) -> Thread:
    """Set the thread's title and page address (empty: none); audited.

    Raises Forbidden, or ValidationError (fields: title, url).
    """
    permissions.require(permissions.can_manage_embedding(actor), gettext("Admins only."))
    fields = {}
    title = normalize(title) if isinstance(title, str) else ""
    title = " ".join(title.split())  # one line
    if not 1 <= len(title) <= TITLE_MAX:
        fields["title"] = ngettext(
            "Give the thread a title of at most %(num)s character.",
            "Give the thread a title of at most %(num)s characters.",
            TITLE_MAX,
        )
    url = "" if url is None else url
    url = url.strip() if isinstance(url, str) else None
    if url is None or (url and not is_web_address(url, URL_MAX)):
        fields["url"] = gettext("Give a full http:// or https:// address, or leave it empty.")
    if fields:
        raise ValidationError(fields=fields)
    before = {"title": thread.title, "url": thread.url}
    after = {"title": title, "url": url or None}
    if after != before:
        thread.title, thread.url = title, url or None
        thread.version = Thread.version + 1  # pages and embeds show the title
        audit(actor, "thread_renamed", thread, before=before, after=after)
    db.session.flush()
    return thread


def merge_threads(actor, source: Thread, target: Thread) -> int:
    """Move every comment of `source` into `target`, and make `source`'s key show
    `target` from now on; returns how many comments moved. Audited.

    Raises Forbidden, or ValidationError (field "into") when the merge would
    make no sense: into itself, from or into a thread already merged (no
    chains), or away from an article's own thread.
    """
    permissions.require(permissions.can_manage_embedding(actor), gettext("Admins only."))
    if source.id == target.id:
        raise _refused(gettext("A thread cannot be merged into itself."))
    # Lock both rows (in id order, so two merges cannot deadlock) and re-read
    # them: a merge that ran meanwhile must be seen before deciding.
    db.session.execute(
        select(Thread.id)
        .where(Thread.id.in_([source.id, target.id]))
        .order_by(Thread.id)
        .with_for_update()
    )
    db.session.refresh(source)
    db.session.refresh(target)
    if source.merged_into_id is not None:
        into = keys_by_id([source.merged_into_id]).get(source.merged_into_id)
        if into is None:
            raise _refused(
                gettext("%(key)s was already merged into another thread.", key=source.key)
            )
        raise _refused(
            gettext("%(key)s was already merged into %(into)s.", key=source.key, into=into)
        )
    if target.merged_into_id is not None:
        into = keys_by_id([target.merged_into_id]).get(target.merged_into_id)
        if into is None:
            raise _refused(
                gettext(
                    "%(key)s was itself merged into another thread: merge into another "
                    "thread instead (merges do not chain).",
                    key=target.key,
                )
            )
        raise _refused(
            gettext(
                "%(key)s was itself merged into %(into)s: merge into %(into)s instead "
                "(merges do not chain).",
                key=target.key,
                into=into,
            )
        )
    if source.article_id is not None:
        raise _refused(
            gettext(
                "%(key)s is the discussion of one of this site's articles; "
                "merge the other thread into it instead.",
                key=source.key,
            )
        )

    count_before = source.comment_count
    # Whole reply trees move together, so parent and root links stay inside one
    # thread; notifications point at comments, which keep their ids.
    moved = db.session.execute(
        update(Comment.__table__)
        .where(Comment.__table__.c.thread_id == source.id)
        .values(thread_id=target.id)
    ).rowcount
    # Followers of the old thread follow the new one (once).
    following_target = select(Follow.user_id).where(Follow.thread_id == target.id)
    db.session.execute(
        delete(Follow).where(Follow.thread_id == source.id, Follow.user_id.in_(following_target)),
        execution_options=_BULK,
    )
    db.session.execute(
        update(Follow).where(Follow.thread_id == source.id).values(thread_id=target.id),
        execution_options=_BULK,
    )
    # Threads merged into the source earlier now point straight at the target:
    # every merged key is one step from the thread it shows.
    db.session.execute(
        update(Thread).where(Thread.merged_into_id == source.id).values(merged_into_id=target.id),
        execution_options=_BULK,
    )
    db.session.expire_all()  # the bulk statements bypassed the objects in the session

    target.comment_count = (
        select(func.count(Comment.id))
        .where(Comment.thread_id == target.id, Comment.status == CommentStatus.APPROVED)
        .scalar_subquery()
    )
    target.version = Thread.version + 1
    source.comment_count = 0
    source.version = Thread.version + 1
    source.merged_into_id = target.id
    audit(
        actor,
        "thread_merged",
        source,
        before={"merged_into": None, "comment_count": count_before},
        after={"merged_into": target.key, "moved_comments": moved},
    )
    db.session.flush()
    return moved


def _refused(message: str) -> ValidationError:
    return ValidationError(message, fields={"into": message})

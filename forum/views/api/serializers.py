"""Model objects -> the JSON shapes of CONTRACT.md section 3, described in
forum.views.api.schemas."""

from __future__ import annotations

import orjson

from forum import links, permissions
from forum.models import Comment, CommentStatus, Role, Thread, User
from forum.services.discussion.thread_pages import RowNode
from forum.services.discussion.threads import moderation_mode
from forum.views.api import schemas
from forum.views.formatting import iso


def user_json(user: User, viewer=None) -> schemas.User:
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "created_at": iso(user.created_at),
    }
    if permissions.can_see_email(viewer, user):
        data["email"] = user.email
    return data


STAFF = {Role.MODERATOR.value, Role.ADMIN.value}


def author_json(username, display_name, is_guest, role, badges, deleted_at):
    """A comment's author as readers see them: None for a deleted account; a
    guest says so; staff carry their role and readers their publisher's badges."""
    if username is None or deleted_at is not None:
        return None
    data = {"username": username, "display_name": display_name}
    if is_guest:
        data["guest"] = True
    elif role in STAFF:
        data["role"] = role
    if badges and not is_guest:
        data["badges"] = list(badges)
    return data


def _author_of(user: User | None):
    if user is None:
        return None
    return author_json(
        user.username,
        user.display_name,
        user.is_guest,
        user.role.value,
        user.badges,
        user.deleted_at,
    )


def thread_json(thread: Thread) -> schemas.Thread:
    url = thread.url
    if url is None and thread.article_id is not None:
        url = links.external("pages.article", slug=thread.key)
    return {
        "key": thread.key,
        "title": thread.title,
        "url": url,
        "status": thread.status.value,
        "moderation": moderation_mode(thread).value,
        "comment_count": thread.comment_count,
    }


def comment_json(
    comment: Comment, thread_key: str, viewer, tombstone: bool = False, replies=()
) -> schemas.Comment:
    hidden = tombstone or comment.status == CommentStatus.DELETED
    author = comment.author
    data = {
        "id": comment.id,
        "thread_key": thread_key,
        "parent_id": comment.parent_id,
        "author": None if hidden else _author_of(author),
        "html": "" if hidden else comment.html,
        "created_at": iso(comment.created_at),
        "edited_at": None if hidden else iso(comment.edited_at),
        "status": _status_for(comment, viewer),
        "score": 0 if hidden else comment.score,
        # A tombstone keeps only its place: nothing about what it said.
        "is_theory": not hidden and comment.is_theory,
        "theory_title": None if hidden else comment.theory_title,
        "theory_status": None
        if hidden or comment.theory_status is None
        else comment.theory_status.value,
        "spoiler": not hidden and comment.spoiler,
        "featured": not hidden and comment.featured,
        "replies": list(replies),
    }
    if not hidden and permissions.is_author(viewer, comment):
        data["body"] = comment.body
    if comment.moderation_reason and (
        permissions.is_author(viewer, comment) or permissions.can_moderate(viewer)
    ):
        data["moderation_reason"] = comment.moderation_reason
    return data


def acting_json(comment: Comment, viewer) -> schemas.Comment:
    """comment_json() for the answers a moderator acts from (the queue, one
    comment, a decision): with the revision to send back when acting, so a
    decision on a comment that changed since it was read is refused (409).
    Pages of a thread leave it out, and agree with comment_json() exactly."""
    data = comment_json(comment, comment.thread.key, viewer)
    if permissions.can_moderate(viewer):
        data["revision"] = comment.revision
    return data


def _status_for(comment: Comment, viewer) -> str:
    # Spam is not announced to its author: to them it is waiting like any held comment.
    if comment.status == CommentStatus.SPAM and not permissions.can_moderate(viewer):
        return "pending"
    return comment.status.value


def row_nodes_json(nodes: list[RowNode], thread_key: str, viewer) -> list[schemas.Comment]:
    """comment_json() for a page read as rows (forum.services.discussion.thread_pages): the
    same shape and the same rules, without an ORM object per comment.

    Times stay datetimes: dump the result with page_bytes(), which writes them
    as iso() does, in C.
    """
    me = viewer.id if permissions.is_signed_in(viewer) else None
    moderates = permissions.can_moderate(viewer)
    deleted, spam = CommentStatus.DELETED.value, CommentStatus.SPAM.value

    def shape(node: RowNode) -> dict:
        (
            comment_id,
            parent_id,
            _depth,
            author_id,
            status,
            html,
            body,
            created_at,
            edited_at,
            score,
            theory_title,
            theory_status,
            spoiler,
            featured,
            moderation_reason,
            username,
            display_name,
            is_guest,
            role,
            badges,
            deleted_at,
        ) = node.row
        hidden = node.tombstone or status == deleted
        mine = me is not None and author_id == me
        data = {
            "id": comment_id,
            "thread_key": thread_key,
            "parent_id": parent_id,
            "author": None
            if hidden
            else author_json(username, display_name, is_guest, role, badges, deleted_at),
            "html": "" if hidden else html,
            "created_at": created_at,
            "edited_at": None if hidden else edited_at,
            "status": "pending" if status == spam and not moderates else status,
            "score": 0 if hidden else score,
            "is_theory": not hidden and theory_title is not None,
            "theory_title": None if hidden else theory_title,
            "theory_status": None if hidden else theory_status,
            "spoiler": not hidden and spoiler,
            "featured": not hidden and featured,
            "replies": [shape(reply) for reply in node.replies],
        }
        if mine and not hidden:
            data["body"] = body
        if moderation_reason and (mine or moderates):
            data["moderation_reason"] = moderation_reason
        return data

    return [shape(node) for node in nodes]


def page_bytes(payload: dict) -> bytes:
    """JSON bytes of a page; datetimes (aware UTC) come out as iso() writes them."""
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS)

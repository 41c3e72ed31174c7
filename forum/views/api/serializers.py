"""Model objects -> the JSON shapes of CONTRACT.md section 3."""

from __future__ import annotations

from flask import url_for

from forum import permissions
from forum.models import Comment, CommentStatus, Thread, User
from forum.services.comments import Node
from forum.services.threads import moderation_mode
from forum.views.formatting import iso


def user_json(user: User, viewer=None) -> dict:
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "created_at": iso(user.created_at),
    }
    if permissions.can_see_email(viewer, user):
        data["email"] = user.email
    return data


def thread_json(thread: Thread) -> dict:
    url = thread.url
    if url is None and thread.article_id is not None:
        url = url_for("pages.article", slug=thread.key, _external=True)
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
) -> dict:
    hidden = tombstone or comment.status == CommentStatus.DELETED
    author = comment.author
    data = {
        "id": comment.id,
        "thread_key": thread_key,
        "parent_id": comment.parent_id,
        "author": None
        if hidden or author is None
        else {"username": author.username, "display_name": author.display_name},
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


def _status_for(comment: Comment, viewer) -> str:
    # Spam is not announced to its author: to them it is waiting like any held comment.
    if comment.status == CommentStatus.SPAM and not permissions.can_moderate(viewer):
        return "pending"
    return comment.status.value


def node_json(node: Node, thread_key: str, viewer) -> dict:
    return comment_json(
        node.comment,
        thread_key,
        viewer,
        tombstone=node.tombstone,
        replies=[node_json(reply, thread_key, viewer) for reply in node.replies],
    )

"""A comment's edit history, for moderators: every edit keeps the words it
replaced (CommentRevision), and the history shows each edit as a word diff.

Readers never see it, and the API never serves it: the author's own words
before an edit are on the record for the moderators only (a reader who posts
a slur and edits it away is still answerable for it).  An author's own
deletion, or the erasure of their account, takes the history with the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from forum import permissions, textdiff
from forum.extensions import db
from forum.models import Comment, CommentRevision, User


@dataclass
class Edit:
    """One edit: the words before and after it, who made it and when."""

    number: int
    edited_at: datetime
    editor: User | None
    before: str
    after: str

    @property
    def diff(self) -> Markup:
        return word_diff(self.before, self.after)


def record(comment: Comment, editor: User, now: datetime) -> CommentRevision:
    """Keep the comment's words as they are before an edit replaces them; the
    caller changes the comment next and flushes both together."""
    last = db.session.scalar(
        select(func.coalesce(func.max(CommentRevision.number), 0)).where(
            CommentRevision.comment_id == comment.id
        )
    )
    revision = CommentRevision(
        comment=comment,
        number=last + 1,
        body=comment.body,
        html=comment.html,
        edited_at=now,
        editor_id=editor.id,
    )
    db.session.add(revision)
    return revision


def forget(comment: Comment) -> None:
    """Drop a comment's history (its author deleted it: the words go for good)."""
    db.session.execute(delete(CommentRevision).where(CommentRevision.comment_id == comment.id))


def history(viewer, comment: Comment) -> list[Edit]:
    """The comment's edits, newest first; raises Forbidden for anyone but moderators."""
    permissions.require(
        permissions.can_see_edit_history(viewer),
        gettext("Only moderators see a comment's earlier words."),
    )
    revisions = db.session.scalars(
        select(CommentRevision)
        .options(joinedload(CommentRevision.editor))
        .where(CommentRevision.comment_id == comment.id)
        .order_by(CommentRevision.number)
    ).all()
    if not revisions:
        return []
    afters = [revision.body for revision in revisions[1:]] + [comment.body]
    edits = [
        Edit(revision.number, revision.edited_at, revision.editor, revision.body, after)
        for revision, after in zip(revisions, afters, strict=True)
    ]
    return edits[::-1]


def word_diff(before: str, after: str) -> Markup:
    """before -> after as escaped HTML: removed words in <del>, added ones in
    <ins>, each said to screen readers too (forum.textdiff)."""
    return textdiff.word_diff(before, after, gettext("[removed:] "), gettext("[added:] "))

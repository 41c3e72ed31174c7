"""Who sees which comment: each rule stated once, with every form its readers need.

Two rules, deliberately different:

- Opening a comment by its id (permalink, the API's GET, a reply's parent,
  edit and delete), can_view(): readers see approved comments, authors also
  their own held or removed ones (OWN_HELD), and moderators every comment,
  deleted ones included, for the record.
- Being shown in its thread, is_shown(): readers see approved comments, authors
  also their own held or removed ones, moderators also the ones waiting in the
  queue (pending).  Anything else a thread holds stands as a tombstone when a
  shown reply hangs under it, and is left out otherwise (prune()).

The thread rule has three forms, side by side below: a predicate over a
Comment, an SQL clause over the Comment model or an alias of it, and a test
over a page's row (status as its stored string, author id).
tests/services/discussion/test_visibility.py runs them all over every status and kind of viewer
against a real database and requires them to agree.  A ban changes nothing
here: banned readers still read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import and_, bindparam, exists, or_
from sqlalchemy.orm import aliased

from forum import permissions
from forum.models import Comment, CommentStatus

# What an author still sees of their own comment that readers do not: held ones
# (spam looks like pending to its author) and removed ones, with the reason.
OWN_HELD = (CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED)
_OWN_HELD_VALUES = frozenset(status.value for status in OWN_HELD)


# -- opening a comment by its id ---------------------------------------------


def can_view(viewer, comment: Comment) -> bool:
    """Readers see approved comments; authors also their own held or removed
    ones; moderators every comment."""
    if comment.status == CommentStatus.APPROVED or permissions.is_moderator(viewer):
        return True
    return comment.status in OWN_HELD and permissions.is_author(viewer, comment)


# -- being shown in its thread -----------------------------------------------


def _kind(viewer) -> tuple[bool, int | None]:
    """What the thread rule asks of a viewer: moderator or not, and their id (None
    when not signed in)."""
    me = viewer.id if permissions.is_signed_in(viewer) else None
    return permissions.is_moderator(viewer), me


def is_shown(viewer, comment: Comment) -> bool:
    """Whether this viewer sees the comment in its thread (not as a tombstone)."""
    return _shown(comment.status.value, comment.author_id, *_kind(viewer))


def shown_row_test(viewer) -> Callable[[str, int | None], bool]:
    """is_shown() over a row's (status string, author id), for readers of row
    tuples: the viewer is looked at once, not once per row."""
    moderator, me = _kind(viewer)

    def shown(status: str, author_id: int | None) -> bool:
        return _shown(status, author_id, moderator, me)

    return shown


def _shown(status: str, author_id: int | None, moderator: bool, me: int | None) -> bool:
    # The rule itself, over plain values; shown_clause() is its SQL twin.
    if status == CommentStatus.APPROVED:
        return True
    if me is not None and author_id == me:
        return status in _OWN_HELD_VALUES
    return moderator and status == CommentStatus.PENDING


def shown_clause(model, moderator: bool, signed_in: bool, me: int | None = None):
    """is_shown() in SQL over model (Comment or an alias), for a kind of viewer.

    The viewer's id is the parameter "me", bound to `me` when given, else given
    at execution: a statement built once serves every viewer of that kind.
    """
    clause = model.status == CommentStatus.APPROVED
    if moderator:
        clause = or_(clause, model.status == CommentStatus.PENDING)
    if signed_in:
        viewer_id = bindparam("me", value=me) if me is not None else bindparam("me")
        own = and_(model.status.in_(OWN_HELD), model.author_id == viewer_id)
        clause = or_(clause, own)
    return clause


def shown_sql(viewer, model=Comment):
    """is_shown() in SQL over model (Comment or an alias), for this viewer."""
    moderator, me = _kind(viewer)
    return shown_clause(model, moderator, me is not None, me)


# Made once: building an alias costs more than the query it serves.
_REPLY = aliased(Comment)


def root_visible_clause(moderator: bool, signed_in: bool, me: int | None = None):
    """SQL over Comment: a top-level comment this kind of viewer sees, or one
    that stands as a tombstone over a reply they see (parameter "me" as in
    shown_clause())."""
    reply_shown = shown_clause(_REPLY, moderator, signed_in, me)
    return or_(
        shown_clause(Comment, moderator, signed_in, me),
        exists().where(_REPLY.root_id == Comment.id, reply_shown),
    )


def root_visible(viewer):
    """root_visible_clause() for this viewer."""
    moderator, me = _kind(viewer)
    return root_visible_clause(moderator, me is not None, me)


# -- tombstones ----------------------------------------------------------------


class TreeNode(Protocol):
    tombstone: bool
    replies: list


N = TypeVar("N", bound=TreeNode)


def prune(tops: list[N]) -> list[N]:
    """Drop, bottom-up, the hidden comments (node.tombstone set) that have no
    shown reply under them; a hidden comment with one stays as a tombstone.

    Returns the tops that stay, in their order.  The walk, not the stored
    depth, decides what is under what: imported depths can be wrong.  No
    recursion, so a deep chain of replies cannot exhaust the stack.
    """
    order, stack = [], list(tops)
    while stack:  # parents before their replies
        node = stack.pop()
        order.append(node)
        stack.extend(node.replies)
    kept = set()  # ids of the node objects that stay
    for node in reversed(order):  # replies first: each knows if any reply stayed
        if node.replies:
            node.replies = [reply for reply in node.replies if id(reply) in kept]
        if not node.tombstone or node.replies:
            kept.add(id(node))
    return [node for node in tops if id(node) in kept]

"""Reading a thread as trees: pages of top-level comments with their replies,
a conversation's replies a chunk at a time, and what is new since a page was made.

What each viewer sees is forum.services.discussion.visibility's rule; the
statements here apply its SQL form, and assemble() its predicate and prune().

Two read models, one assembly.  The JSON API reads whole trees as row tuples
(thread_pages.load_page, RowNode); the HTML pages and the embed read ORM
Comments (Node), with replies collapsed (load_trees(replies_shown=N)).  Both
take the same two statements per page (page_root_ids(), then the trees) and
build their trees with assemble().  Rows take a third to an eighth of the
ORM's time on the same 1,000-2,000-comment tree (bench/readers.py), but the
pages stay on Comments:
their templates call the permission predicates (can_edit, can_delete, can_flag,
can_vote, is_author), which take a Comment, and read its author and thread;
rows would need a second, row-shaped copy of each of those rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import Integer, and_, bindparam, case, cast, func, null, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from forum import permissions
from forum.errors import NotFound
from forum.extensions import db
from forum.models import Comment, Thread, is_id
from forum.services.discussion import visibility
from forum.services.discussion.comments import DEPTH_MAX
from forum.services.discussion.cursors import REPLY_CURSOR, after, encode_cursor
from forum.services.discussion.visibility import N, is_shown

# The HTML pages show a top-level comment's first FORUM_REPLIES_SHOWN replies;
# "N more replies" brings the rest this many at a time (replies_after()).
REPLIES_CHUNK = 50
_NO_NUMBER = cast(null(), Integer)  # a column of NULLs in a UNION of numbered rows
# Planner note.  The reading statements below number a conversation's replies
# with window functions, then take the first few rows.  On PostgreSQL the
# numbering is a MATERIALIZED CTE and the few rows carry a LIMIT they never
# reach: without the fence the LIMIT tempts the planner to walk the whole site's
# (status, created_at) index hoping to stop early (count() over the replies
# never lets it), and without the LIMIT it expects thousands of rows and scans
# the comments table instead of looking up the few by primary key.  A
# 20,000-reply conversation among 620,000 comments: 540 ms a statement without,
# 22-32 ms with (mostly sorting the 20,000; an index on (root_id, created_at,
# id) would spare that).


@dataclass
class Node:
    """A comment placed in its tree; a tombstone keeps the shape of a thread
    whose comment was deleted or removed but has replies still shown."""

    comment: Comment
    tombstone: bool = False
    replies: list[Node] = field(default_factory=list)
    parent_author: str | None = None  # for the "replying to @name" cue
    # A top-level comment read with its replies collapsed (load_trees(replies_shown=N)):
    # how many replies this viewer may see that are not loaded, the cursor that
    # continues after the loaded ones, and the newest shown reply's id (so a live
    # page does not take the collapsed replies for new ones).
    more: int = 0
    more_cursor: str | None = None
    latest: int | None = None


@dataclass
class Page:
    roots: list[Node]
    next_cursor: str | None


@dataclass
class Replies:
    """A chunk of one top-level comment's replies, oldest first (replies_after())."""

    root: Node  # the top-level comment (a tombstone if hidden from this viewer)
    # Shown replies in reading order, each after the tombstones of any hidden
    # comments above it that the chunk brings: every node's parent is the root,
    # an earlier node, or a reply before the chunk's cursor.
    nodes: list[Node]
    more: int  # shown replies after this chunk
    next_cursor: str | None


def lone_node(comment: Comment) -> Node:
    """A comment on its own, with its "replying to" cue (a new or just posted one)."""
    above = comment.parent.author if comment.parent is not None else None
    return Node(comment, parent_author=above.username if above is not None else None)


def newer_than(
    thread: Thread, viewer, after_id: int, since: datetime | None = None, limit: int = 100
) -> list[Node]:
    """Comments this viewer may see that are new to a page: posted after after_id,
    or approved by a moderator since the page was made (an older id held in a queue).
    Oldest first, each as a single node with its "replying to" cue."""
    fresh = Comment.id > after_id
    if since is not None:
        fresh = or_(fresh, Comment.moderated_at > since)
    found = db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.parent).joinedload(Comment.author))
        .where(Comment.thread_id == thread.id, fresh, visibility.shown_sql(viewer, Comment))
        .order_by(Comment.id)
        .limit(limit)
    ).all()
    return [lone_node(c) for c in found]


@functools.cache
def _roots_statement(sort: str, moderator: bool, signed_in: bool, paged: bool):
    """Top-level comments a viewer sees (or tombstones over replies they see), in
    sort order, after a cursor when paged: parameters thread, me, limit, rank, at, after."""
    visible = visibility.root_visible_clause(moderator, signed_in)
    roots = select(Comment.id, Comment.rank, Comment.created_at).where(
        Comment.thread_id == bindparam("thread"), Comment.parent_id.is_(None), visible
    )
    if sort == "top":
        roots = roots.order_by(Comment.rank.desc(), Comment.created_at, Comment.id)
    elif sort == "newest":
        roots = roots.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        roots = roots.order_by(Comment.created_at, Comment.id)
    if paged:
        roots = roots.where(after(sort, (bindparam("rank"), bindparam("at"), bindparam("after"))))
    return roots.limit(bindparam("limit"))


def page_root_ids(
    thread: Thread, viewer, sort: str, limit: int, position: tuple | None
) -> tuple[list[int], str | None]:
    """The ids of one page of top-level comments and the cursor of the next page."""
    signed_in = permissions.is_signed_in(viewer)
    statement = _roots_statement(
        sort, permissions.is_moderator(viewer), signed_in, position is not None
    )
    values = {"thread": thread.id, "limit": limit + 1}
    if signed_in:
        values["me"] = viewer.id
    if position is not None:
        values["rank"], values["at"], values["after"] = position
    rows = db.session.connection().execute(statement, values).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, last.rank, last.created_at, last.id)
    return [row.id for row in rows], next_cursor


def load_page(
    thread: Thread,
    viewer,
    sort: str,
    limit: int,
    position: tuple | None,
    replies_shown: int | None = None,
) -> Page:
    """One page of top-level comments, each with its whole reply tree, or with
    at most replies_shown of its replies (see load_trees).

    Two statements whatever the thread's size: the page's roots, then the
    comments under them with their authors.
    """
    root_ids, next_cursor = page_root_ids(thread, viewer, sort, limit, position)
    return Page(roots=load_trees(viewer, root_ids, replies_shown), next_cursor=next_cursor)


def load_trees(viewer, root_ids: list[int], replies_shown: int | None = None) -> list[Node]:
    """The trees under these top-level comments, in the given order, pruned to
    what the viewer may see (tombstones where hidden comments have shown replies).

    replies_shown=None: whole trees (the API's contract).  A number N: under each
    top-level comment only its first N shown replies, with Node.more and
    Node.more_cursor saying what replies_after() will bring (the HTML pages,
    whose memory must not grow with a 20,000-reply conversation).
    """
    if not root_ids:
        return []
    if replies_shown is not None:
        return _collapsed_trees(viewer, root_ids, replies_shown)
    comments = db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(or_(Comment.id.in_(root_ids), Comment.root_id.in_(root_ids)))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    return hang_trees(viewer, {c.id: Node(c) for c in comments}, root_ids)


def assemble(
    nodes: dict[int, N],
    parent_of: Callable[[N], int | None],
    shown: Callable[[N], bool],
    root_ids: list[int],
) -> list[N]:
    """The trees under root_ids, in that order, from loaded nodes (in reading
    order, each with .replies and .tombstone): each node hung under its parent,
    a tombstone where shown(node) says the viewer may not see it, then pruned
    (visibility.prune).  Both readers build their trees here: Nodes over ORM
    comments (hang_trees) and the API's RowNodes over row tuples (thread_pages)."""
    hidden = False
    for node in nodes.values():
        if not shown(node):
            node.tombstone = hidden = True
        parent = nodes.get(parent_of(node))
        if parent is not None:
            parent.replies.append(node)
    roots = [nodes[i] for i in root_ids if i in nodes]
    return visibility.prune(roots) if hidden else roots  # the usual page hides nothing


def hang_trees(viewer, nodes: dict[int, Node], root_ids: list[int]) -> list[Node]:
    """assemble() over Nodes for this viewer, each reply given its "replying to" cue."""
    trees = assemble(
        nodes,
        lambda node: node.comment.parent_id,
        lambda node: is_shown(viewer, node.comment),
        root_ids,
    )
    for tree in trees:
        for node in (tree, *descendants(tree)):
            if not node.tombstone and node.comment.author is not None:
                for reply in node.replies:
                    reply.parent_author = node.comment.author.username
    return trees


def _collapsed_trees(viewer, root_ids: list[int], shown_max: int) -> list[Node]:
    """load_trees() with at most shown_max (at least 1) replies under each root,
    in one statement whatever the size of the trees.

    The replies loaded are each root's first shown_max by (created_at, id) among
    those this viewer may see, found with row_number() over the root's replies;
    count() and max(id) over the same window give Node.more and Node.latest.
    A reply is newer than the comment it answers, so those replies include
    every shown comment above them; the hidden comments above them come along
    (a recursive CTE climbs through them) to stand as tombstones.  In odd
    imported data a reply can be older than its parent: if that parent is not
    among the first shown_max, the reply is left out, as a hidden one would be.
    """
    shown_max = max(1, shown_max)
    reply = aliased(Comment)
    in_order = (reply.created_at, reply.id)
    ranked = (
        select(
            reply.id,
            reply.parent_id,
            func.row_number().over(partition_by=reply.root_id, order_by=in_order).label("position"),
            func.count().over(partition_by=reply.root_id).label("total"),
            func.max(reply.id).over(partition_by=reply.root_id).label("latest"),
        )
        .where(reply.root_id.in_(root_ids), visibility.shown_sql(viewer, reply))
        .cte("ranked")
        .prefix_with("MATERIALIZED", dialect="postgresql")  # see the planner note
    )
    first = (
        select(ranked)
        .where(ranked.c.position <= shown_max)
        .limit(shown_max * len(root_ids))  # never more anyway: see the planner note
        .cte("first_replies")
    )
    above = _hidden_above(viewer, select(first.c.parent_id))
    wanted = union_all(
        select(first.c.id, first.c.position, first.c.total, first.c.latest),
        select(Comment.id, _NO_NUMBER, _NO_NUMBER, _NO_NUMBER).where(Comment.id.in_(root_ids)),
        select(above.c.id, _NO_NUMBER, _NO_NUMBER, _NO_NUMBER),
    ).subquery("wanted")
    rows = db.session.execute(
        select(Comment, wanted.c.position, wanted.c.total, wanted.c.latest)
        .join(wanted, wanted.c.id == Comment.id)
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()

    nodes: dict[int, Node] = {}
    first_ids = set()
    windows = {}  # root id -> (shown replies, newest id, the last loaded one)
    for comment, position, total, latest in rows:
        nodes.setdefault(comment.id, Node(comment))  # a hidden root comes twice
        if position is not None:
            first_ids.add(comment.id)
            if position == min(total, shown_max):
                windows[comment.root_id] = (total, latest, comment)
    # Only the roots, the first replies and hidden comments take replies; a
    # shown reply past the first ones was loaded only as the parent of an older
    # reply (see above) and stays out, with that reply.
    nodes = {
        i: node
        for i, node in nodes.items()
        if i in first_ids or node.comment.parent_id is None or not is_shown(viewer, node.comment)
    }
    trees = hang_trees(viewer, nodes, root_ids)
    for node in trees:
        total, node.latest, last = windows.get(node.comment.id, (0, None, None))
        if total > shown_max:
            node.more = total - shown_max
            node.more_cursor = encode_cursor(REPLY_CURSOR, 0, last.created_at, last.id)
    return trees


def visible_root(viewer, thread: Thread, comment_id) -> Comment:
    """The top-level comment comment_id of this thread, if the viewer sees it or
    any reply under it (then it stands as a tombstone); raises NotFound."""
    root = None
    if is_id(comment_id):
        root = db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(
                Comment.id == comment_id,
                Comment.thread_id == thread.id,
                Comment.parent_id.is_(None),
                visibility.root_visible(viewer),
            )
        ).first()
    if root is None:
        raise NotFound(gettext("There is no such conversation in this discussion."))
    return root


def replies_after(
    viewer, root: Comment, position: tuple | None, limit: int = REPLIES_CHUNK
) -> Replies:
    """The next `limit` replies under root that this viewer may see, after
    `position` (a parse_replies_cursor() result) by (created_at, id): a keyset
    read, never an offset, in one statement whatever the size of the tree.

    Hidden comments above a reply come first as tombstones, so each node's
    parent is the root, an earlier node, or a comment before the cursor (which
    the page already shows).  A reply whose shown parent comes after the
    cursor (odd imported data) is left out, as a hidden one would be.
    """
    reply = aliased(Comment)
    later = [reply.root_id == root.id, visibility.shown_sql(viewer, reply)]
    if position is not None:
        _, created_at, comment_id = position
        later.append(
            or_(
                reply.created_at > created_at,
                and_(reply.created_at == created_at, reply.id > comment_id),
            )
        )
    # count() over () reads every reply after the cursor anyway (the root_id
    # index, then a sort); the chunk is the first `limit` of them (planner note).
    numbered = (
        select(
            reply.id,
            reply.parent_id,
            func.row_number().over(order_by=(reply.created_at, reply.id)).label("n"),
            func.count().over().label("remaining"),
        )
        .where(*later)
        .cte("numbered")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    chunk = select(numbered).where(numbered.c.n <= limit).limit(limit).cte("chunk")
    above = _hidden_above(viewer, select(chunk.c.parent_id))
    wanted = union_all(
        select(chunk.c.id, chunk.c.n, chunk.c.remaining),
        select(chunk.c.parent_id, _NO_NUMBER, _NO_NUMBER),  # for "replying to"
        select(above.c.id, _NO_NUMBER, _NO_NUMBER),
        select(above.c.parent_id, _NO_NUMBER, _NO_NUMBER),  # where the tombstones hang
    ).subquery("wanted")
    rows = [
        (comment, remaining)
        for comment, _, remaining in db.session.execute(
            select(Comment, wanted.c.n, wanted.c.remaining)
            .join(wanted, wanted.c.id == Comment.id)
            .options(joinedload(Comment.author))
            .order_by(Comment.created_at, Comment.id)
        ).all()
    ]

    loaded = {comment.id: comment for comment, _ in rows}
    loaded[root.id] = root
    brought = [comment for comment, remaining in rows if remaining is not None]
    in_chunk = {comment.id for comment in brought}

    def on_the_page(comment: Comment) -> bool:
        # A shown reply before the cursor: the page (or an earlier chunk) has it.
        return (
            comment.id not in in_chunk
            and position is not None
            and (comment.created_at, comment.id) <= position[1:]
        )

    placed, nodes = {root.id}, []
    for comment in brought:
        path, top = [comment], comment
        while top.parent_id not in placed and len(path) <= DEPTH_MAX:
            parent = loaded.get(top.parent_id)
            if parent is None:
                path = []
                break
            if parent.id not in in_chunk and is_shown(viewer, parent):
                if not on_the_page(parent):
                    path = []  # its shown parent comes later: see the docstring
                break
            path.append(parent)
            top = parent
        for item in reversed(path):  # from the top down: parents first
            if item.id in placed:
                continue
            parent = loaded.get(item.parent_id)
            cue = None
            if parent is not None and parent.author is not None and is_shown(viewer, parent):
                cue = parent.author.username
            nodes.append(Node(item, tombstone=not is_shown(viewer, item), parent_author=cue))
            placed.add(item.id)

    more = next((r for _, r in rows if r is not None), 0) - len(brought)
    next_cursor = None
    if more > 0:
        last = brought[-1]
        next_cursor = encode_cursor(REPLY_CURSOR, 0, last.created_at, last.id)
    root_node = Node(root, tombstone=not is_shown(viewer, root))
    return Replies(root=root_node, nodes=nodes, more=more, next_cursor=next_cursor)


def _hidden_above(viewer, parent_ids):
    """A recursive CTE (id, parent_id) of the comments this viewer may not see
    above some replies: those of parent_ids (a one-column select) that are
    hidden, then their parents while hidden, and so on up (at most DEPTH_MAX
    steps, each a primary-key lookup): the tombstones those replies need."""

    def hidden(model):
        # CASE, not NOT(...): the test of one's own comments is NULL for a
        # comment without an author, and NOT NULL would lose it.
        return case((visibility.shown_sql(viewer, model), 1), else_=0) == 0

    start, step = aliased(Comment), aliased(Comment)
    above = (
        select(start.id, start.parent_id)
        .where(start.id.in_(parent_ids), hidden(start))
        .cte("above", recursive=True)
    )
    return above.union(
        select(step.id, step.parent_id)
        .join(above, step.id == above.c.parent_id)
        .where(hidden(step))
    )


def descendants(node: Node) -> list[Node]:
    """Every reply under node, in reading order (depth first), without recursion."""
    found, stack = [], list(reversed(node.replies))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.replies))
    return found

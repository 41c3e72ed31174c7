"""Comments: posting, editing, deleting, and reading a thread as trees."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError

from forum import permissions
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.markup import normalize, render_comment
from forum.models import (
    MAX_INT,
    Comment,
    CommentStatus,
    TheoryStatus,
    Thread,
    User,
    is_id,
    utcnow,
)
from forum.services import settings
from forum.services.audit import audit
from forum.services.discussion import visibility
from forum.services.discussion.threads import moderation_mode
from forum.services.discussion.visibility import is_shown
from forum.services.moderation import rules
from forum.services.notify import notifications

BODY_MAX = 10_000
THEORY_TITLE = (3, 120)
SORTS = ("oldest", "newest", "top")
LIMIT_MAX = 1000
# Replies nest to this depth, far past any real conversation; the bound keeps
# every reader of a tree (JSON encoder, templates) clear of recursion limits.
DEPTH_MAX = 100
# The HTML pages show a top-level comment's first FORUM_REPLIES_SHOWN replies;
# "N more replies" brings the rest this many at a time (replies_after()).
REPLIES_CHUNK = 50
REPLY_CURSOR = "replies"  # the kind named in reply cursors (see encode_cursor)
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


# -- writing -----------------------------------------------------------------


def check_body(body) -> str:
    """The normalized body; raises ValidationError."""
    if not isinstance(body, str):
        raise ValidationError(fields={"body": "Write your comment as text."})
    body = normalize(body)
    if not body:
        raise ValidationError(fields={"body": "Write something first."})
    if len(body) > BODY_MAX:
        raise ValidationError(
            fields={"body": f"Keep it to {BODY_MAX:,} characters at most (this is {len(body):,})."}
        )
    return body


def post_comment(
    author: User,
    thread: Thread,
    body,
    parent: Comment | None = None,
    theory_title=None,
    spoiler=False,
) -> Comment:
    """Add a comment or reply.

    Raises Unauthorized, ThreadClosed, or ValidationError (body, parent_id,
    theory_title, spoiler).
    """
    permissions.require_can_post(author, thread)
    body = check_body(body)
    fields = {}
    if parent is not None:
        if parent.thread_id != thread.id:
            fields["parent_id"] = "That comment belongs to another discussion."
        elif parent.status == CommentStatus.DELETED:
            fields["parent_id"] = "That comment was deleted; reply to another one."
        elif parent.depth >= DEPTH_MAX:
            fields["parent_id"] = "This reply chain is as deep as it goes; reply further up."
        elif not permissions.can_reply(author, parent):
            fields["parent_id"] = "That comment cannot be replied to yet."
    if theory_title is not None:
        if not isinstance(theory_title, str):
            fields["theory_title"] = "Give the theory a title as text."
        else:
            theory_title = normalize(theory_title)
            low, high = THEORY_TITLE
            if parent is not None:
                fields["theory_title"] = "Only a top-level comment can be a theory."
            elif not low <= len(theory_title) <= high:
                fields["theory_title"] = f"Use {low} to {high} characters."
    if not isinstance(spoiler, bool):
        fields["spoiler"] = "Use true or false."
    if fields:
        raise ValidationError(fields=fields)

    verdict = rules.review(_submission(author, thread, body))
    comment = add_comment(
        thread,
        author,
        parent,
        body,
        verdict.status,
        theory_title=theory_title,
        spoiler=spoiler,
        hold_reasons=verdict.reasons,
        html=verdict.html,  # rendered once, for the rules
    )
    if comment.status == CommentStatus.APPROVED:
        notifications.comment_published(comment)
    else:
        notifications.follow(author, thread)  # to hear about the thread once published
    return comment


def _submission(author: User, thread: Thread, body: str, comment=None) -> rules.Submission:
    return rules.Submission(
        author=author,
        thread=thread,
        body=body,
        html=render_comment(body),
        mode=moderation_mode(thread),
        settings=settings.current(),
        now=utcnow(),
        comment=comment,
    )


def add_comment(
    thread: Thread,
    author: User | None,
    parent: Comment | None,
    body: str,
    status: CommentStatus,
    theory_title: str | None = None,
    spoiler: bool = False,
    created_at: datetime | None = None,
    hold_reasons: list[dict] | None = None,
    html: str | None = None,
) -> Comment:
    """Store an already validated comment and keep the thread's count and version.

    post_comment() is the checked way in; imports and the demo call this directly.
    html is render_comment(body) when the caller has it already.
    """
    comment = Comment(
        thread=thread,
        parent=parent,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author=author,
        body=body,
        html=render_comment(body) if html is None else html,
        status=status,
        theory_title=theory_title,
        theory_status=TheoryStatus.OPEN if theory_title else None,
        spoiler=spoiler,
        created_at=created_at or utcnow(),
        hold_reasons=hold_reasons or [],
    )
    db.session.add(comment)
    _touch(thread, +1 if status == CommentStatus.APPROVED else 0)
    db.session.flush()
    return comment


def edit_comment(user: User, comment: Comment, body, now: datetime | None = None) -> Comment:
    """Replace the body inside the edit window; raises Forbidden or ValidationError."""
    now = now or utcnow()
    require_editable(user, comment, now)
    body = check_body(body)
    if body != comment.body:
        verdict = rules.review(_submission(user, comment.thread, body, comment))
        comment.body = body
        comment.html = verdict.html
        comment.edited_at = now
        if verdict.status != CommentStatus.APPROVED:
            comment.hold_reasons = [*comment.hold_reasons, *verdict.reasons]
            if rules.SEVERITY[verdict.status] > rules.SEVERITY.get(comment.status, 0):
                before = {"status": comment.status.value}
                change_status(comment, verdict.status)
                after = {"status": verdict.status.value}
                audit(None, "auto_hold", comment, "Held again after an edit", before, after)
        _touch(comment.thread, 0)
    _flush_or_conflict()
    return comment


def require_editable(user, comment: Comment, now: datetime | None = None) -> None:
    """Raises Unauthorized or Forbidden unless user may edit comment now."""
    window = current_app.config["FORUM_EDIT_WINDOW_MINUTES"]
    permissions.require_signed_in(user)
    permissions.require(
        permissions.can_edit(user, comment, now or utcnow(), window),
        f"Comments can be edited by their author for {window} minutes after posting.",
    )


def delete_comment(user: User, comment: Comment, now: datetime | None = None) -> None:
    """Delete; the row stays as a tombstone so replies keep their place.

    An author's own deletion removes the words for good.  A moderator's keeps
    them for the record (readers see the same tombstone) and is audited.
    Raises Unauthorized or Forbidden.
    """
    permissions.require_signed_in(user)
    permissions.require(permissions.can_delete(user, comment))
    by_author = permissions.is_author(user, comment)
    if not by_author:
        audit(
            user, "delete", comment, None, {"status": comment.status.value}, {"status": "deleted"}
        )
    change_status(comment, CommentStatus.DELETED)
    notifications.withdraw(comment)
    comment.deleted_at = now or utcnow()
    if by_author:
        comment.body = ""
        comment.html = ""
    _flush_or_conflict()


def _flush_or_conflict() -> None:
    """Flush; if someone changed the comment since we read it, raise Conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("This comment changed a moment ago; reload and try again.") from None


def change_status(comment: Comment, status: CommentStatus) -> None:
    """Set the status, keeping the thread's approved count and version right."""
    delta = int(status == CommentStatus.APPROVED) - int(comment.status == CommentStatus.APPROVED)
    comment.status = status
    _touch(comment.thread, delta)


def _touch(thread: Thread, count_delta: int) -> None:
    # SQL-side arithmetic: concurrent writers cannot lose each other's update.
    thread.version = Thread.version + 1
    if count_delta:
        thread.comment_count = Thread.comment_count + count_delta


# -- reading -----------------------------------------------------------------


def comment_by_id_or_none(comment_id) -> Comment | None:
    if is_id(comment_id):
        return db.session.get(Comment, comment_id)
    return None


def comment_by_id(comment_id) -> Comment:
    """Raises NotFound."""
    comment = comment_by_id_or_none(comment_id)
    if comment is None:
        raise NotFound("There is no comment with that id.")
    return comment


def visible_comment(viewer, comment_id) -> Comment:
    """The comment if this viewer may see it; raises NotFound otherwise."""
    comment = comment_by_id(comment_id)
    if not visibility.can_view(viewer, comment):
        raise NotFound("There is no comment with that id.")
    return comment


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
    return [
        Node(c, parent_author=c.parent.author.username if c.parent and c.parent.author else None)
        for c in found
    ]


def featured(thread: Thread) -> list[Comment]:
    """The thread's Editors' picks: featured approved comments, oldest first."""
    return db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(
            Comment.thread_id == thread.id,
            Comment.featured.is_(True),
            Comment.status == CommentStatus.APPROVED,
        )
        .order_by(Comment.created_at, Comment.id)
        .limit(10)
    ).all()


def recent_by_author(author: User, limit: int = 50) -> list[Comment]:
    """An author's latest comments in any status (for moderators), newest first."""
    return db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.thread))
        .where(Comment.author_id == author.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()


def parse_page_args(sort, limit, cursor, default_limit: int) -> tuple[str, int, tuple | None]:
    """Validate the query string of a page request; raises ValidationError."""
    fields = {}
    sort = sort or "oldest"
    if sort not in SORTS:
        fields["sort"] = "Use oldest, newest or top."
    if limit in (None, ""):
        limit = default_limit
    else:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= LIMIT_MAX:
            fields["limit"] = f"Use a whole number from 1 to {LIMIT_MAX}."
    position = None
    if cursor:
        position = decode_cursor(cursor, sort)
        if position is None:
            fields["cursor"] = "This cursor is not valid for this list; start again without it."
    if fields:
        raise ValidationError(fields=fields)
    return sort, limit, position


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
        roots = roots.where(_after(sort, (bindparam("rank"), bindparam("at"), bindparam("after"))))
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


def hang_trees(viewer, nodes: dict[int, Node], root_ids: list[int]) -> list[Node]:
    """The trees under root_ids (in that order) from loaded nodes (in reading
    order): each hung under its parent, marked a tombstone where this viewer may
    not see it, pruned (visibility.prune), each reply given its "replying to" cue."""
    for node in nodes.values():
        node.tombstone = not is_shown(viewer, node.comment)
        parent = nodes.get(node.comment.parent_id)
        if parent is not None:
            parent.replies.append(node)
    trees = visibility.prune([nodes[i] for i in root_ids if i in nodes])
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
        raise NotFound("There is no such conversation in this discussion.")
    return root


def parse_replies_cursor(cursor) -> tuple | None:
    """Where a chunk of replies starts: None for the first reply, else the
    position the cursor names; raises ValidationError."""
    if cursor in (None, ""):
        return None
    position = decode_cursor(cursor, REPLY_CURSOR)
    if position is None:
        raise ValidationError(
            fields={"after": "This cursor is not valid for these replies; start again without it."}
        )
    return position


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


def _after(sort: str, position: tuple):
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

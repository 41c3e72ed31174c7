"""Comments: posting, editing, deleting, and reading a thread as trees."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import and_, exists, or_, select
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
from forum.services import notifications, rules, settings
from forum.services.audit import audit
from forum.services.threads import moderation_mode

BODY_MAX = 10_000
THEORY_TITLE = (3, 120)
SORTS = ("oldest", "newest", "top")
LIMIT_MAX = 1000
# Replies nest to this depth, far past any real conversation; the bound keeps
# every reader of a tree (JSON encoder, templates) clear of recursion limits.
DEPTH_MAX = 100


@dataclass
class Node:
    """A comment placed in its tree; a tombstone keeps the shape of a thread
    whose comment was deleted or removed but has replies still shown."""

    comment: Comment
    tombstone: bool = False
    replies: list[Node] = field(default_factory=list)
    parent_author: str | None = None  # for the "replying to @name" cue


@dataclass
class Page:
    roots: list[Node]
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
) -> Comment:
    """Store an already validated comment and keep the thread's count and version.

    post_comment() is the checked way in; imports and the demo call this directly.
    """
    comment = Comment(
        thread=thread,
        parent=parent,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author=author,
        body=body,
        html=render_comment(body),
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
    if not permissions.can_view(viewer, comment):
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
        .where(Comment.thread_id == thread.id, fresh, _shown_sql(viewer, Comment))
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


def load_page(thread: Thread, viewer, sort: str, limit: int, position: tuple | None) -> Page:
    """One page of top-level comments, each with its whole reply tree.

    Two statements whatever the thread's size: the page's roots, then every
    comment under them with its author.
    """
    roots = select(Comment.id, Comment.rank, Comment.created_at).where(
        Comment.thread_id == thread.id,
        Comment.parent_id.is_(None),
        _root_visible(viewer),
    )
    if sort == "top":
        roots = roots.order_by(Comment.rank.desc(), Comment.created_at, Comment.id)
    elif sort == "newest":
        roots = roots.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        roots = roots.order_by(Comment.created_at, Comment.id)
    if position is not None:
        roots = roots.where(_after(sort, position))
    rows = db.session.execute(roots.limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, last.rank, last.created_at, last.id)
    return Page(roots=load_trees(viewer, [row.id for row in rows]), next_cursor=next_cursor)


def load_trees(viewer, root_ids: list[int]) -> list[Node]:
    """The trees under these top-level comments, in the given order, pruned to
    what the viewer may see (tombstones where hidden comments have shown replies)."""
    if not root_ids:
        return []
    comments = db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(or_(Comment.id.in_(root_ids), Comment.root_id.in_(root_ids)))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    nodes = {c.id: Node(c) for c in comments}
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in nodes:
            nodes[comment.parent_id].replies.append(nodes[comment.id])

    # Deepest first, so every node knows whether any of its replies survived.
    keep = {}
    for node in sorted(nodes.values(), key=lambda n: -n.comment.depth):
        node.replies = [reply for reply in node.replies if keep[reply.comment.id]]
        shown = _shown(viewer, node.comment)
        node.tombstone = not shown
        keep[node.comment.id] = shown or bool(node.replies)
        if shown and node.comment.author is not None:
            for reply in node.replies:
                reply.parent_author = node.comment.author.username
    return [nodes[i] for i in root_ids if i in nodes and keep[i]]


def descendants(node: Node) -> list[Node]:
    """Every reply under node, in reading order (depth first), without recursion."""
    found, stack = [], list(reversed(node.replies))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.replies))
    return found


def _shown(viewer, comment: Comment) -> bool:
    """In a thread: approved comments; held ones to moderators; the author's own."""
    if comment.status == CommentStatus.APPROVED:
        return True
    if permissions.is_author(viewer, comment):
        return comment.status in permissions.OWN_HELD
    return comment.status == CommentStatus.PENDING and permissions.is_moderator(viewer)


def _shown_sql(viewer, model):
    """The SQL twin of _shown(): keep the two in step."""
    clause = model.status == CommentStatus.APPROVED
    if permissions.is_moderator(viewer):
        clause = or_(clause, model.status == CommentStatus.PENDING)
    if permissions.is_signed_in(viewer):
        own = and_(model.status.in_(permissions.OWN_HELD), model.author_id == viewer.id)
        clause = or_(clause, own)
    return clause


def _root_visible(viewer):
    """SQL for: a top-level comment this viewer sees, or a tombstone over shown replies."""
    reply = aliased(Comment)
    return or_(
        _shown_sql(viewer, Comment),
        exists().where(reply.root_id == Comment.id, _shown_sql(viewer, reply)),
    )


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

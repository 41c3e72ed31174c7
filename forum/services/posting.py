"""One way in for a reader's new comment, whichever door it comes through.

The article pages' form and the JSON API (and with it the embed, whose frame
posts through the API) call post_comment(): it finds the comment being answered,
settles the idempotency key (forum.services.idempotency) and posts through
forum.services.discussion.comments.post_comment().  The views keep the HTTP
(parsing the request, status codes, rendering) and the one commit.
"""

from __future__ import annotations

from flask_babel import gettext

from forum.errors import ValidationError
from forum.models import Comment, Thread, User
from forum.services import idempotency
from forum.services.discussion import comments, visibility

# The refusal of a parent that is not there (or not this author's to see), in
# English: no_parent() says it in the request's language.
NO_PARENT = "There is no comment with that id."


def no_parent() -> str:
    return gettext("There is no comment with that id.")


def post_comment(
    author: User,
    thread: Thread,
    body,
    parent_id: int | None = None,
    idempotency_key: str | None = None,
    theory_title=None,
    spoiler=False,
    guest=None,
) -> tuple[Comment, bool]:
    """Post author's comment in thread, as a reply to parent_id if given, once
    per idempotency_key (already checked with idempotency.check_key()).
    A guest author (forum.services.accounts.guests) comes with its `guest`
    signals for the rules.

    Returns (comment, created): created is False when an earlier request with
    the same key made the comment (this one then posted nothing).  The parent is
    looked up only when posting, so a repeat gets its comment back even if the
    parent has gone since.  Raises ValidationError (body, parent_id,
    theory_title, spoiler), Unauthorized, Banned, EmailUnverified, ThreadClosed,
    or Conflict (the key is still being used by another request).
    """

    def post() -> Comment:
        return comments.post_comment(
            author,
            thread,
            body,
            parent=find_parent(author, parent_id),
            theory_title=theory_title,
            spoiler=spoiler,
            guest=guest,
        )

    return idempotency.post_once(author, idempotency_key, post)


def find_parent(author: User, parent_id: int | None) -> Comment | None:
    """The comment parent_id names, None for a top-level comment; raises
    ValidationError (parent_id) unless it is one this author may open."""
    if parent_id is None:
        return None
    parent = comments.comment_by_id_or_none(parent_id)
    if parent is None or not visibility.can_view(author, parent):
        raise ValidationError(fields={"parent_id": no_parent()})
    return parent

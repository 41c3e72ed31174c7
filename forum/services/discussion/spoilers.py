"""Which words stay covered outside their thread page."""

from __future__ import annotations

from datetime import datetime

from forum.models import Comment, utcnow


def withheld(comment: Comment, now: datetime | None = None) -> bool:
    """Whether a comment's words stay covered wherever they appear out of their
    thread (lists, profiles, emails, the Editors' picks): a spoiler, or a reply or
    theory during its article's spoiler window.  On the article page a reader may
    opt in to the window; elsewhere it always holds."""
    if comment.spoiler:
        return True
    article = comment.thread.article
    return bool(
        article is not None
        and article.spoiler_until is not None
        and (now or utcnow()) < article.spoiler_until
        and (comment.parent_id is not None or comment.is_theory)
    )

"""What every rendering of comments needs to know about the reader."""

from flask import session
from flask_login import current_user

from forum.models import utcnow
from forum.services import comments, people, votes


def as_this_reader_sees(article, nodes) -> dict:
    """Their votes on these comments, whom they muted, and whether the spoiler
    window covers them (`article` is None for a thread embedded elsewhere)."""
    shown = [n.comment.id for node in nodes for n in (node, *comments.descendants(node))]
    return {
        "my_votes": votes.my_votes(current_user, shown),
        "muted": people.muted_ids(current_user),
        "spoiler_window": article is not None and in_spoiler_window(article),
    }


def in_spoiler_window(article) -> bool:
    return (
        article.spoiler_until is not None
        and utcnow() < article.spoiler_until
        and article.id not in session.get("spoilers_ok", [])
    )

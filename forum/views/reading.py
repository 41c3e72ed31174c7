"""What every rendering of comments needs to know about the reader, and the
"N more replies" chunks that the article pages and the embedded frame share."""

from flask import render_template, session
from flask_babel import format_number, ngettext
from flask_login import current_user

from forum.models import utcnow
from forum.services.accounts import people
from forum.services.discussion import cursors, trees, votes


def as_this_reader_sees(article, nodes) -> dict:
    """Their votes on these comments, whom they muted, and whether the spoiler
    window covers them (`article` is None for a thread embedded elsewhere)."""
    shown = [n.comment.id for node in nodes for n in (node, *trees.descendants(node))]
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


def more_replies(thread, article, comment_id, after, links, **context) -> dict:
    """The next chunk of a conversation's replies as "N more replies" in a page
    or in the embedded frame asks for it: items like /updates gives (tombstones
    first where hidden comments stand above a reply), what is left, and where
    the next chunk is.

    links(root_id, cursor) gives (the next chunk's URL, the page that shows it
    without JavaScript or None); context goes to the items' template (the
    frame's embed=True and permalink_base).  Raises ValidationError for a bad
    cursor and NotFound for a conversation this reader may not see.
    """
    position = cursors.parse_replies_cursor(after)
    root = trees.visible_root(current_user, thread, comment_id)
    chunk = trees.replies_after(current_user, root, position)
    seen_as = {**as_this_reader_sees(article, chunk.nodes), **context}
    payload = {
        "items": [placed_item(node, thread, seen_as) for node in chunk.nodes],
        "more": chunk.more,
        "label": more_label(chunk.more),
        "next": None,
        "href": None,
    }
    if chunk.next_cursor:
        payload["next"], payload["href"] = links(root.id, chunk.next_cursor)
    return payload


def more_label(count: int) -> str:
    # %(count)s, not ngettext's own %(num)s: the number written with the
    # separators of the reader's language ("1,200 more replies").
    return ngettext(
        "%(count)s more reply", "%(count)s more replies", count, count=format_number(count)
    )


def placed_item(node, thread, seen_as) -> dict:
    """One comment for the page's script to place under its parent."""
    return {
        "id": node.comment.id,
        "parent_id": node.comment.parent_id,
        "html": render_template("comments/posted.html", node=node, thread=thread, **seen_as),
    }


def rendered_comment(comment, article, **context) -> str:
    """One comment's <article> as this reader sees it now, for a page's script
    to put in place of the old one after a moderator changed it (its replies
    stay where they are). `article` is None in the embedded frame, whose
    context (embed=True, permalink_base) comes in `context`."""
    node = trees.lone_node(comment)
    seen_as = {**as_this_reader_sees(article, [node]), **context}
    html = render_template("comments/one.html", node=node, thread=comment.thread, **seen_as)
    return html.strip()

"""Atom 1.0 feeds of approved comments: per article thread and per reader.

The XML is built with ElementTree, so every piece of user text reaches the
document through the serializer's escaping, never by concatenation; characters
XML 1.0 cannot carry at all (control characters, lone surrogates) are dropped
first.  A feed is the same document for everyone, so it may be cached publicly;
its ETag is a hash of the document, which makes a poll that finds nothing new a
304 without a body, and stays valid through changes a feed does not show (votes,
say).  There is no Last-Modified: removing or rejecting a comment changes the
feed without making anything in it newer, so a date would wrongly say "unchanged".

Spoilers stay hidden, as on the site before a reader chooses to look: inline
||spoilers|| become a "[spoiler]" link, and a whole comment the site collapses
(marked as a spoiler, or a reply or theory in the article's spoiler window) is
an entry that links to it without its words.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, make_response, request
from flask_babel import gettext, lazy_gettext
from markupsafe import escape

from forum import links
from forum.markup import excerpt, without_spoilers
from forum.models import Comment, utcnow
from forum.services.discussion import feeds
from forum.views.formatting import iso

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
# Readers poll every quarter of an hour or so: five minutes in a shared cache costs
# them little freshness and spares the database a crowd of identical requests.
MAX_AGE = 300
EXCERPT = 80
UNKNOWN_AUTHOR = lazy_gettext("Unknown reader")

# Everything outside XML 1.0's Char production: C0 controls but tab and newlines,
# lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DNS_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


@bp.get("/articles/<slug>/comments.atom")
def thread_comments(slug):
    article, comments = feeds.thread_feed(slug)
    thread = article.thread
    return _atom(
        made=(thread.created_at, f"thread:{thread.id}"),
        title=gettext("Comments on %(title)s", title=thread.title),
        self_url=links.external("feeds.thread_comments", slug=article.slug),
        alternate_url=links.external("pages.article", slug=article.slug),
        since=thread.created_at,
        author=None,
        comments=comments,
    )


@bp.get("/users/<username>/comments.atom")
def user_comments(username):
    user, comments = feeds.user_feed(username)
    return _atom(
        made=(user.created_at, f"user:{user.id}"),
        title=gettext("Comments by %(name)s", name=user.display_name),
        self_url=links.external("feeds.user_comments", username=user.username),
        alternate_url=links.external("people.profile", username=user.username),
        since=user.created_at,
        author=user.display_name,
        comments=comments,
    )


def _atom(
    made: tuple[datetime, str],
    title: str,
    self_url: str,
    alternate_url: str,
    since: datetime,
    author: str | None,
    comments: list[Comment],
):
    now, host = utcnow(), _tag_host()
    feed = Element("feed", xmlns=ATOM)
    _add(feed, "id", _tag(host, *made))
    _add(feed, "title", title)
    # The newest change among the entries (an old comment may have been edited).
    updated = max((_updated(c) for c in comments), default=since)
    _add(feed, "updated", iso(updated))
    SubElement(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    SubElement(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    if author is not None:
        _add(SubElement(feed, "author"), "name", author)
    for comment in comments:
        _entry(feed, comment, now, host)

    response = make_response(tostring(feed, encoding="utf-8", xml_declaration=True))
    response.mimetype = "application/atom+xml"  # Werkzeug adds "; charset=utf-8"
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


def _entry(feed: Element, comment: Comment, now: datetime, host: str) -> None:
    permalink = links.external("comments.show", comment_id=comment.id)
    author = comment.author.display_name if comment.author is not None else str(UNKNOWN_AUTHOR)
    withheld = feeds.withheld(comment, now)
    if withheld:
        summary = gettext("(spoiler)")
        # The translation is ours (trusted, like a template's); only the link is data.
        sentence = gettext(
            'This comment may contain spoilers. <a href="%(url)s">Read it on the site</a>.',
            url=escape(permalink),
        )
        html = f"<p>{sentence}</p>"
    else:
        # Sanitized when it was written; inline spoilers become a link to the site.
        hidden = escape(gettext("[spoiler]"))
        spoiler_link = f'<a href="{escape(permalink)}">{hidden}</a>'
        html = without_spoilers(comment.html, spoiler_link)
        summary = (
            gettext("Theory: %(title)s", title=comment.theory_title)
            if comment.is_theory
            else excerpt(html)
        )
    entry = SubElement(feed, "entry")
    _add(entry, "id", _tag(host, comment.created_at, f"comment:{comment.id}"))
    _add(
        entry,
        "title",
        gettext("%(author)s: %(summary)s", author=author, summary=summary or gettext("(no text)")),
    )
    SubElement(entry, "link", rel="alternate", type="text/html", href=permalink)
    _add(SubElement(entry, "author"), "name", author)
    _add(entry, "published", iso(comment.created_at))
    _add(entry, "updated", iso(_updated(comment)))
    _add(entry, "content", html, type="html")


def _updated(comment: Comment) -> datetime:
    return comment.edited_at or comment.created_at


def _add(parent: Element, tag: str, text: str, **attributes) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = xml_safe(text)
    return element


def xml_safe(text: str) -> str:
    """text without the characters an XML 1.0 document cannot contain at all
    (escaping cannot help those; the serializer escapes the rest)."""
    return _NOT_XML.sub("", text)


def _tag(host: str, moment: datetime, specific: str) -> str:
    """A tag: URI (RFC 4151) on this site's host name, dated by when the thing
    was made: it never changes, whatever happens to titles, names or paths."""
    return f"tag:{host},{moment:%Y-%m-%d}:{specific}"


def _tag_host() -> str:
    """The site's host name: FORUM_BASE_URL's when set, so ids do not change with
    the name a request came in by; else the one the feed's links use."""
    host = links.host()
    if not _DNS_NAME.fullmatch(host):
        host = "localhost"  # an IPv6 literal, say: not a name a tag: URI can use
    return host

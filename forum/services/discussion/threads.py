"""Articles and their threads."""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.addresses import page_address
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.markup import normalize, render_article
from forum.models import Article, ModerationMode, Thread

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Thread keys come from publishers' pages later on: letters, digits and _.:- only (no
# "/", so a key is one path segment in every URL), bounded.
THREAD_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")


def is_valid_key(key) -> bool:
    return isinstance(key, str) and THREAD_KEY.fullmatch(key) is not None


def thread_by_key(key) -> Thread:
    """Raises NotFound for an unknown (or malformed) key."""
    thread = None
    if is_valid_key(key):
        thread = db.session.scalar(select(Thread).where(Thread.key == key))
    if thread is None:
        raise NotFound(gettext("There is no discussion with that key."))
    return thread


def thread_shown_by_key(key) -> Thread:
    """The thread readers see under this key: its own, or the one an admin merged
    it into. Raises NotFound for an unknown (or malformed) key."""
    thread = shown_under(key) if is_valid_key(key) else None
    if thread is None:
        raise NotFound(gettext("There is no discussion with that key."))
    return thread


def article_by_slug(slug) -> Article:
    """The article and its thread, in one statement; raises NotFound."""
    article = None
    if isinstance(slug, str) and SLUG.fullmatch(slug) and len(slug) <= 120:
        article = db.session.scalar(
            select(Article).options(joinedload(Article.thread)).where(Article.slug == slug)
        )
    if article is None or article.thread is None:
        raise NotFound(gettext("There is no article at this address."))
    return article


def list_articles(limit: int = 100) -> list[tuple[Article, int]]:
    """Newest first, each with its approved-comment count, in one statement."""
    rows = db.session.execute(
        select(Article, Thread.comment_count)
        .join(Thread, Thread.article_id == Article.id)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [(article, count) for article, count in rows]


def counts_for(keys: list[str]) -> dict[str, int]:
    """Approved-comment counts for these keys; unknown keys count 0."""
    valid = [key for key in keys if is_valid_key(key)]
    found = {}
    if valid:
        rows = db.session.execute(
            select(Thread.key, Thread.comment_count, Thread.merged_into_id).where(
                Thread.key.in_(valid)
            )
        ).all()
        found = {key: count for key, count, _ in rows}
        merged = {key: target for key, _, target in rows if target is not None}
        if merged:  # a merged key counts what it shows
            targets = dict(
                db.session.execute(
                    select(Thread.id, Thread.comment_count).where(
                        Thread.id.in_(set(merged.values()))
                    )
                ).all()
            )
            found.update({key: targets.get(target, 0) for key, target in merged.items()})
    return {key: found.get(key, 0) for key in keys}


def moderation_mode(thread: Thread) -> ModerationMode:
    """The thread's own mode, or the site default."""
    return thread.moderation or ModerationMode(current_app.config["FORUM_MODERATION"])


def save_article(
    slug: str,
    title: str,
    body: str,
    summary: str = "",
    byline: str = "",
    published_at: datetime | None = None,
    url: str | None = None,
) -> Article:
    """Create or update the article with this slug, and its thread.

    Raises ValidationError for a malformed slug or an empty title or body.
    """
    fields = {}
    if not SLUG.fullmatch(slug or "") or len(slug) > 120:
        fields["slug"] = gettext("Use lower-case letters, digits and single hyphens.")
    title, body = normalize(title or ""), normalize(body or "")
    if not 1 <= len(title) <= 200:
        fields["title"] = gettext("Give the article a title of at most 200 characters.")
    if not body:
        fields["body"] = gettext("The article needs a body.")
    if fields:
        raise ValidationError(fields=fields)

    article = db.session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        article = Article(slug=slug)
        db.session.add(article)
    article.title = title
    article.summary = normalize(summary)[:500]
    article.byline = normalize(byline)[:100]
    article.body = body
    article.body_html = render_article(body)
    if published_at is not None:
        article.published_at = published_at
    db.session.flush()

    thread = article.thread or db.session.scalar(select(Thread).where(Thread.key == slug))
    if thread is None:
        thread = Thread(key=slug, title=title)
        db.session.add(thread)
    if thread.id is not None:
        thread.version = Thread.version + 1  # its page shows the article, the API the title
    thread.article = article
    thread.title = title
    thread.url = url
    db.session.flush()
    return article


def embedded_thread(key) -> Thread | None:
    """The thread a publisher's page embeds under `key`, if it exists yet; raises
    NotFound for a malformed key."""
    if not is_valid_key(key):
        raise NotFound(gettext("A thread key is 1 to 200 letters, digits and _ . : - characters."))
    return shown_under(key)


def thread_for_embed(key, origin: str, title=None, url=None) -> tuple[Thread, bool]:
    """The thread a publisher's page embeds under `key`, created on its first view
    with the page's title and address: (thread, created).

    `origin` must already be checked as allowed. A merged thread's key shows the
    thread it was merged into. An existing thread keeps its title and address
    (an admin's rename must not be undone by the next page view).

    Call it before any other write of the request. Raises NotFound for a
    malformed key.
    """
    if not is_valid_key(key):
        raise NotFound(gettext("A thread key is 1 to 200 letters, digits and _ . : - characters."))
    thread = shown_under(key)
    if thread is not None:
        return thread, False
    title = normalize(title if isinstance(title, str) else "")[:300] or key
    url = page_address(url, origin)  # only a clean address on the embedding site
    thread = Thread(key=key, title=title, url=url, origin=origin)
    db.session.add(thread)
    try:
        db.session.flush()
    except IntegrityError:
        # Two first views at once: the other request created it. This is the
        # request's first write, so rolling back loses nothing else. (Not a
        # savepoint: on SQLite one opened before any write commits on release.)
        db.session.rollback()
        thread = shown_under(key)
        if thread is None:
            raise
        return thread, False
    return thread, True


def shown_under(key: str) -> Thread | None:
    """The thread a key shows: its own, or the one it was merged into."""
    thread = db.session.scalar(select(Thread).where(Thread.key == key))
    if thread is not None and thread.merged_into_id is not None:
        thread = db.session.get(Thread, thread.merged_into_id) or thread
    return thread

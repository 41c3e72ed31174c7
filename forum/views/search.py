"""Readers' search: the whole site's approved comments, or one article's
(forum.services.discussion.search does the asking)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from forum.errors import ValidationError
from forum.extensions import limiter
from forum.services.accounts import people
from forum.services.discussion import search, threads

bp = Blueprint("search", __name__)

# A search costs more than a page: per account, or per address without one.  An
# empty form costs nothing and is not counted.
SEARCH_LIMIT = "30 per minute; 300 per hour"


@bp.get("/search")
@limiter.limit(SEARCH_LIMIT, exempt_when=lambda: not request.args.get("q"))
def results():
    """GET /search?q=words[&article=slug][&cursor=C]: newest first, a page at a
    time; a query past the limits or a stale cursor answers 400 with the reason."""
    article = None
    if request.args.get("article"):
        article = threads.article_by_slug(request.args["article"])  # 404 if unknown
    thread = article.thread if article else None
    errors, status = {}, 200
    try:
        query = search.parse(request.args.get("q"))
        found = search.search_comments(query, thread, cursor=request.args.get("cursor"))
    except ValidationError as error:
        errors, status = error.fields, 400
        found = search.Results(None, [], None, thread)
    return render_template(
        "search/results.html",
        q=request.args.get("q", ""),
        found=found,
        article=article,
        errors=errors,
        muted=people.muted_ids(current_user),
    ), status

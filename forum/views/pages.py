"""The reading pages: the index of articles and an article with its thread."""

from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from forum.errors import ValidationError
from forum.forms import CommentForm, ConfirmForm
from forum.services import comments, notifications, theories, threads
from forum.views.params import parse_id
from forum.views.reading import as_this_reader_sees

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("pages/index.html", articles=threads.list_articles())


@bp.get("/articles/<slug>")
def article(slug):
    article = threads.article_by_slug(slug)
    thread = article.thread
    status = 200
    try:
        sort, limit, position = comments.parse_page_args(
            request.args.get("sort"),
            None,
            request.args.get("cursor"),
            current_app.config["FORUM_PAGE_SIZE"],
        )
    except ValidationError:
        # A stale or hand-edited link: show the first page rather than an error.
        sort, limit, position = "oldest", current_app.config["FORUM_PAGE_SIZE"], None
        status = 400 if request.args.get("sort") not in (None, *comments.SORTS) else 200
    focus = _focus(request.args.get("comment"), thread)
    page = None
    if focus is not None:
        roots = comments.load_trees(current_user, [focus])
        page = comments.Page(roots=roots, next_cursor=None) if roots else None
    missing = "comment" in request.args and page is None
    if page is None:
        page = comments.load_page(thread, current_user, sort, limit, position)
    tab = "theories" if request.args.get("tab") == "theories" else "discussion"
    theory_list = theories.for_thread(thread, sort) if tab == "theories" else []
    return render_template(
        "articles/show.html",
        **as_this_reader_sees(article, page.roots),
        tab=tab,
        theory_list=theory_list,
        theory_replies=theories.reply_counts(theory_list),
        following=notifications.is_following(current_user, thread),
        article=article,
        thread=thread,
        page=page,
        sort=sort,
        focused=focus is not None and not missing,
        missing=missing,
        continued=position is not None,
        form=CommentForm(),
        picks=comments.featured(thread),
        moderation_mode=threads.moderation_mode(thread).value,
        moderation_form=ConfirmForm(),
    ), status


@bp.get("/articles/<slug>/comments")
def more_comments(slug):
    """The next page of top-level comments as an HTML fragment (for "Load more")."""
    article = threads.article_by_slug(slug)
    thread = article.thread
    sort, limit, position = comments.parse_page_args(
        request.args.get("sort"),
        None,
        request.args.get("cursor"),
        current_app.config["FORUM_PAGE_SIZE"],
    )
    page = comments.load_page(thread, current_user, sort, limit, position)
    return render_template(
        "comments/page.html",
        thread=thread,
        page=page,
        sort=sort,
        **as_this_reader_sees(article, page.roots),
    )


@bp.get("/articles/<slug>/updates")
def updates(slug):
    """What is new since the reader's page loaded, for static/js/thread.js.

    An open page polls this with the ETag of the thread's version; while
    nothing changed the answer is an empty 304 after one indexed lookup.
    """
    article = threads.article_by_slug(slug)
    thread = article.thread
    tag = f"v{thread.version}"
    if tag in request.if_none_match:
        return "", 304, {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}
    after = parse_id(request.args.get("after")) or 0
    nodes = comments.newer_than(thread, current_user, after, _since(request.args.get("since")))
    seen_as = as_this_reader_sees(article, nodes)
    items = [
        {
            "id": node.comment.id,
            "parent_id": node.comment.parent_id,
            "html": render_template("comments/posted.html", node=node, thread=thread, **seen_as),
        }
        for node in nodes
    ]
    payload = {"version": thread.version, "count": thread.comment_count, "items": items}
    return jsonify(payload), 200, {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}


@bp.post("/articles/<slug>/spoilers")
def show_spoilers(slug):
    """A reader opts in to this article's spoilers (kept in their session)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    article = threads.article_by_slug(slug)
    allowed = [i for i in session.get("spoilers_ok", []) if isinstance(i, int)][-49:]
    session["spoilers_ok"] = [*allowed, article.id]
    return redirect(url_for("pages.article", slug=slug) + "#discussion")


def _since(raw) -> datetime | None:
    """The page's own timestamp (ISO 8601 with zone), or None if absent or malformed."""
    try:
        moment = datetime.fromisoformat(raw) if raw and len(raw) < 40 else None
        return moment.astimezone(UTC) if moment and moment.tzinfo else None
    except (ValueError, OverflowError):
        return None


def _focus(raw, thread) -> int | None:
    """The top-level comment above ?comment=ID, when it is in this thread."""
    comment = comments.comment_by_id_or_none(parse_id(raw))
    if comment is None or comment.thread_id != thread.id:
        return None
    return comment.root_id or comment.id

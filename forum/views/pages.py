"""The reading pages: the index of articles and an article with its thread."""

import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from forum import i18n
from forum.errors import ValidationError
from forum.forms import CommentForm, ConfirmForm, Lazy, require_confirmed
from forum.services.discussion import (
    comments,
    cursors,
    theories,
    thread_pages,
    threads,
    trees,
    visibility,
)
from forum.services.notify import notifications
from forum.views import reading
from forum.views.params import parse_id
from forum.views.reading import as_this_reader_sees, in_spoiler_window

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("pages/index.html", articles=threads.list_articles())


@bp.get("/articles/<slug>")
def article(slug):
    """An article and its discussion. The page a reader without an account or a
    session gets is the same for all of them: it is cached under the thread's
    version (see forum.services.discussion.thread_pages) and the minute, since times on it
    read "3 minutes ago"."""
    article = threads.article_by_slug(slug)
    sort = request.args.get("sort") or cursors.SORTS[0]
    tab = request.args.get("tab") or TABS[0]
    cursor = request.args.get("cursor")
    if cursor and sort in cursors.SORTS and cursors.decode_cursor(cursor, sort) is None:
        # A stale or hand-edited link: the first page, at its own address.
        kept = {name: request.args[name] for name in SHARED_ARGS if name in request.args}
        return redirect(url_for("pages.article", slug=slug, **kept))
    if not _shared_page(article) or sort not in cursors.SORTS or tab not in TABS:
        return _article_page(article)
    # Parsed, known values only: a made-up argument never makes a new copy.
    # One copy per shipped language at most: the locale is always one of them.
    key = thread_pages.page_key(
        article.thread, "page", i18n.html_lang(), sort, tab, int(time.time() // 60)
    )
    html, status = thread_pages.cached(
        key,
        lambda: _article_page(article),
        # Kept only when fit to share: a 200 that started no session after all.
        keep=lambda built: built[1] == 200 and not session.modified,
        seconds=120,  # the key changes every minute: older copies are never read again
    )
    return html, status


# Pages cached for readers without an account: a thread's first page in each
# order and tab, nothing else (any later page, any other argument, is built for
# its reader), so made-up arguments cannot fill the cache with copies.
SHARED_ARGS = ("sort", "tab")
TABS = ("discussion", "theories")


def _shared_page(article) -> bool:
    return (
        not current_user.is_authenticated
        and not session  # no flashed message, no spoiler opt-in, no form token
        and set(request.args) <= set(SHARED_ARGS)
        and not in_spoiler_window(article)  # its opt-in form carries a token
    )


def _article_page(article):
    thread = article.thread
    status = 200
    try:
        sort, limit, position = cursors.parse_page_args(
            request.args.get("sort"),
            None,
            request.args.get("cursor"),
            current_app.config["FORUM_PAGE_SIZE"],
        )
    except ValidationError:
        # A stale or hand-edited link: show the first page rather than an error.
        sort, limit, position = "oldest", current_app.config["FORUM_PAGE_SIZE"], None
        status = 400 if request.args.get("sort") not in (None, *cursors.SORTS) else 200
    shown = current_app.config["FORUM_REPLIES_SHOWN"]
    target = _target(request.args.get("comment"), thread)
    page = None
    if target is not None:
        page = _conversation(target, shown)
    missing = "comment" in request.args and page is None
    tab = request.args.get("tab") or TABS[0]
    if tab not in TABS:
        tab, status = TABS[0], 400
    if page is None:
        page = trees.load_page(thread, current_user, sort, limit, position, shown)
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
        focused=target is not None and not missing,
        missing=missing,
        continued=position is not None,
        form=Lazy(CommentForm),
        picks=comments.featured(thread),
        moderation_mode=threads.moderation_mode(thread).value,
        moderation_form=Lazy(ConfirmForm),
    ), status


@bp.get("/articles/<slug>/comments")
def more_comments(slug):
    """The next page of top-level comments as an HTML fragment (for "Load more")."""
    article = threads.article_by_slug(slug)
    thread = article.thread
    sort, limit, position = cursors.parse_page_args(
        request.args.get("sort"),
        None,
        request.args.get("cursor"),
        current_app.config["FORUM_PAGE_SIZE"],
    )
    shown = current_app.config["FORUM_REPLIES_SHOWN"]
    page = trees.load_page(thread, current_user, sort, limit, position, shown)
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
    nodes = trees.newer_than(thread, current_user, after, _since(request.args.get("since")))
    seen_as = as_this_reader_sees(article, nodes)
    # root_id: a reply under a conversation whose replies the page has collapsed
    # waits behind its "N more replies" instead (static/js/thread.js).
    items = [
        {**reading.placed_item(node, thread, seen_as), "root_id": node.comment.root_id}
        for node in nodes
    ]
    payload = {"version": thread.version, "count": thread.comment_count, "items": items}
    return jsonify(payload), 200, {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}


@bp.get("/articles/<slug>/comments/<int:comment_id>/replies")
def replies(slug, comment_id):
    """A conversation's replies, REPLIES_CHUNK at a time, oldest first, each
    with its "replying to" cue: where "N more replies" leads without JavaScript."""
    article = threads.article_by_slug(slug)
    thread = article.thread
    position = cursors.parse_replies_cursor(request.args.get("after"))
    root = trees.visible_root(current_user, thread, comment_id)
    chunk = trees.replies_after(current_user, root, position)
    shown = [node for node in chunk.nodes if not node.tombstone]
    return render_template(
        "comments/replies.html",
        **as_this_reader_sees(article, [chunk.root, *shown]),
        article=article,
        thread=thread,
        chunk=chunk,
        shown=shown,
        on_page={root.id, *(node.comment.id for node in shown)},
        continued=position is not None,
    )


@bp.get("/articles/<slug>/comments/<int:comment_id>/more-replies")
def more_replies(slug, comment_id):
    """The next chunk of a conversation's replies for static/js/thread.js, as
    items like /updates gives (tombstones first where hidden comments stand
    above a reply), what is left, and where the next chunk is."""
    article = threads.article_by_slug(slug)

    def links(root_id, cursor):
        args = {"slug": article.thread.key, "comment_id": root_id, "after": cursor}
        return url_for("pages.more_replies", **args), url_for("pages.replies", **args)

    payload = reading.more_replies(
        article.thread, article, comment_id, request.args.get("after"), links
    )
    return jsonify(payload)


@bp.post("/articles/<slug>/spoilers")
def show_spoilers(slug):
    """A reader opts in to this article's spoilers (kept in their session)."""
    require_confirmed()
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


def _target(raw, thread):
    """The comment ?comment=ID names, when it is in this thread."""
    comment = comments.comment_by_id_or_none(parse_id(raw))
    if comment is None or comment.thread_id != thread.id:
        return None
    return comment


def _conversation(target, shown: int) -> trees.Page | None:
    """The conversation around target, its replies collapsed like the page's
    unless target is a reply the collapsed view leaves out: then all of it, so
    the comment a link names is on the page."""
    root_id = target.root_id or target.id
    roots = trees.load_trees(current_user, [root_id], shown)
    if roots and target.root_id is not None and visibility.is_shown(current_user, target):
        loaded = {node.comment.id for node in trees.descendants(roots[0])}
        if target.id not in loaded:
            roots = trees.load_trees(current_user, [root_id])
    return trees.Page(roots=roots, next_cursor=None) if roots else None

"""Threads embedded on publishers' pages.

`/embed.js` (the publisher's one line) puts an iframe of `/embed/threads/<key>`
into their page. Inside the iframe nothing relies on cookies, which browsers
block or partition in third-party frames: the reader signs in through a popup on
our own origin (`/embed/auth`), which hands the iframe a bearer token by
postMessage, and the iframe sends it as `Authorization: Bearer` to the API and
to `/embed/threads/<key>/comments`, the thread as this reader sees it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from limits import parse as parse_limit

from forum import addresses, links, permissions
from forum.errors import (
    EmailUnverified,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationError,
)
from forum.extensions import client_address, counters, db
from forum.forms import ConfirmForm
from forum.services.accounts import accounts, guests
from forum.services.discussion import comments, cursors, sites, threads, trees, visibility
from forum.views import reading
from forum.views.api.serializers import user_json
from forum.views.params import parse_id
from forum.views.reading import as_this_reader_sees

bp = Blueprint("embed", __name__)

# New threads a single address may create through embeds (existing ones are free).
CREATE_LIMIT = parse_limit("60 per hour")
THEMES = ("auto", "light", "dark")


@bp.get("/embed.js")
def script():
    response = send_from_directory(current_app.static_folder, "embed.js", max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script
    return response


@bp.get("/embed/threads/<key>")
def thread(key):
    """The iframe: the thread as an anonymous reader sees it; the page's script
    then personalizes it for a signed-in reader."""
    origin = _embedding_origin()
    thread = threads.embedded_thread(key)
    if thread is None:
        # A first view: only the publisher's own page may start a discussion, and
        # the count comes before the request's first write.
        page = _publisher_page(origin, request.args.get("url"))
        _count_creation()
        thread, _ = threads.thread_for_embed(key, origin, request.args.get("title"), page)
    db.session.commit()
    sort, page, focused = _page(thread, request.args.get("comment"))
    response = current_app.make_response(
        render_template(
            "embed/thread.html",
            thread=thread,
            page=page,
            sort=sort,
            focused=focused,
            host_origin=origin,
            theme=request.args.get("theme") if request.args.get("theme") in THEMES else "auto",
            # data-login="host": the publisher's page signs readers in (embed.js).
            host_login=request.args.get("login") == "host",
            **_render_context(thread, page),
        )
    )
    _frame_only_for(response, origin)
    return response


@bp.get("/embed/threads/<key>/comments")
def comments_for_reader(key):
    """The thread as the bearer of the token sees it (their pending comments,
    votes, reply links), as HTML for the iframe to swap in, with who they are."""
    user = _bearer_user()
    thread = threads.thread_shown_by_key(key)
    cursor = request.args.get("cursor")
    sort, page, _ = _page(thread, None, cursor)
    html = render_template(
        "embed/_comments.html",
        thread=thread,
        page=page,
        sort=sort,
        continued=cursor is not None,
        **_render_context(thread, page),
    )
    payload = {
        "user": user_json(user, user) if user is not None else None,
        "can_post": user is not None and permissions.can_post(user, thread),
        # Signed out where guests are welcome: the composer asks for a name instead.
        "guests": user is None and guests.can_post(None, thread),
        "notice": _posting_notice(user, thread),
        "count": thread.comment_count,
        "html": html,
        "posted": _posted(thread, request.args.get("posted")),
    }
    return jsonify(payload), 200, {"Cache-Control": "no-store", "Vary": "Authorization"}


@bp.get("/embed/threads/<key>/comments/<int:comment_id>/more-replies")
def more_replies(key, comment_id):
    """The next chunk of a conversation's replies for the frame's "N more
    replies" (static/js/embed-frame.js), like the article pages' chunk (same
    items, counts and cursor) but keyed by the thread's key, rendered as the
    frame renders comments, and seen as the bearer of the token sees it."""
    _bearer_user()
    thread = threads.thread_shown_by_key(key)

    def links(root_id, cursor):
        chunk = url_for("embed.more_replies", key=thread.key, comment_id=root_id, after=cursor)
        return chunk, _replies_page(thread, root_id, cursor)

    payload = reading.more_replies(
        thread, None, comment_id, request.args.get("after"), links, **_frame_context(thread)
    )
    return jsonify(payload), 200, {"Cache-Control": "no-store", "Vary": "Authorization"}


@bp.get("/embed/threads/<key>/comments/<int:comment_id>")
def one_comment(key, comment_id):
    """One comment as the bearer of the token sees it, rendered as the frame
    renders comments: after a moderator's decision in its menu (the API made
    it), the frame puts it in place of the old one."""
    _bearer_user()
    thread = threads.thread_shown_by_key(key)
    comment = comments.visible_comment(current_user, comment_id)
    if comment.thread_id != thread.id:
        raise NotFound(gettext("There is no comment with that id."))
    html = reading.rendered_comment(comment, None, **_frame_context(thread))
    return jsonify({"html": html}), 200, {"Cache-Control": "no-store", "Vary": "Authorization"}


@bp.route("/embed/auth", methods=["GET", "POST"])
@login_required
def auth():
    """The popup on our own origin: after signing in here (first-party, where
    cookies work) the reader hands a bearer token to the iframe that opened it."""
    site = _named_site()
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        raw, token = accounts.issue_token(
            current_user,
            current_app.config["FORUM_TOKEN_TTL_HOURS"],
            # The session's sign-in, however long ago: handing a token to the
            # frame proves nothing new (deleting the account asks for a recent one).
            signed_in_at=accounts.session_started_at(session.get(accounts.SESSION_KEY)),
        )
        db.session.commit()
        return render_template("embed/handoff.html", token=raw), 200, {"Cache-Control": "no-store"}
    return render_template("embed/auth.html", site=site, form=form)


@bp.get("/embed/auth/start")
def auth_start():
    """Where the iframe's "Sign in" opens the popup: to the sign-in form, or
    straight to the confirmation when the reader is signed in already."""
    site = _named_site()
    target = url_for("embed.auth", site=site)
    if current_user.is_authenticated:
        return redirect(target)
    view = "auth.register" if request.args.get("register") else "auth.login"
    return redirect(url_for(view, next=target))


# -- helpers -------------------------------------------------------------------


def _embedding_origin() -> str:
    """The publisher's origin the iframe says it is on, checked against the
    allowed list and against the Referer the browser sent.

    The browser enforces the rest: the answer may be framed by that origin only.
    """
    origin = addresses.normalize_origin(request.args.get("origin"))
    if origin is None or not sites.is_allowed(origin):
        raise Forbidden(gettext("This site is not allowed to embed discussions from this forum."))
    referrer = request.headers.get("Referer")
    if referrer and addresses.origin_of(referrer) not in (origin, _own_origin()):
        raise Forbidden(gettext("This page was not opened from the site it names."))
    return origin


def _publisher_page(origin: str, url) -> str | None:
    """The page address to keep for a new thread, once the browser vouches that
    the request comes from a page of `origin`; raises Forbidden otherwise.

    Anyone could otherwise start a publisher's future threads, with any title and
    address, by leaving the Referer out. /embed.js asks browsers to send the
    origin at least (the iframe's referrerpolicy), whatever the page's own policy.
    """
    referrer = request.headers.get("Referer") or request.headers.get("Origin")
    if addresses.origin_of(referrer) != origin:
        raise Forbidden(
            gettext(
                "A new discussion starts only from a page of the site that embeds it: "
                "this request does not say which page it came from."
            )
        )
    # On that site, clean, or not kept at all (addresses.page_address).
    return addresses.page_address(url, origin)


def _named_site() -> str | None:
    """The publisher the sign-in popup names: an allowed origin, or none at all
    (a made-up name there would lend it the forum's voice)."""
    site = addresses.normalize_origin(request.args.get("site"))
    return site if site is not None and sites.is_allowed(site) else None


def _own_origin() -> str:
    return addresses.normalize_origin(request.host_url.rstrip("/")) or ""


def _count_creation() -> None:
    if not counters.hit(CREATE_LIMIT, "embed-create", client_address()):
        db.session.rollback()
        raise RateLimited(gettext("Too many new discussions from this address; try again later."))


def _frame_only_for(response, origin: str) -> None:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; "
        f"frame-ancestors {origin}"
    )
    response.headers["Cache-Control"] = "no-cache"


def _page(thread, focus_raw, cursor=None):
    """(sort, page, focused): the first page, the conversation of ?comment=ID,
    or the page after `cursor`.

    Pages show each conversation's first FORUM_REPLIES_SHOWN replies, then
    "N more replies" (more_replies() brings the rest), as the article pages do:
    a 20,000-reply conversation must not fill the frame.  A linked comment's
    conversation comes whole, so the comment the link names is there."""
    try:
        sort, limit, position = cursors.parse_page_args(
            request.args.get("sort"), None, cursor, current_app.config["FORUM_PAGE_SIZE"]
        )
    except ValidationError:
        sort, limit, position = "oldest", current_app.config["FORUM_PAGE_SIZE"], None
    focus = comments.comment_by_id_or_none(parse_id(focus_raw))
    if focus is not None and focus.thread_id == thread.id:
        roots = trees.load_trees(current_user, [focus.root_id or focus.id])
        if roots:
            return sort, trees.Page(roots=roots, next_cursor=None), True
    shown = current_app.config["FORUM_REPLIES_SHOWN"]
    return sort, trees.load_page(thread, current_user, sort, limit, position, shown), False


def _render_context(thread, page) -> dict:
    return {**as_this_reader_sees(None, page.roots), **_frame_context(thread)}


def _frame_context(thread) -> dict:
    """What the comment templates need to render for the frame: no CSRF
    fields (the frame has no session), and permalinks that open the page the
    thread lives on: the publisher's, or ours."""
    if thread.url:
        permalink = thread.url.split("#")[0]
    elif thread.article_id is not None:
        permalink = links.external("pages.article", slug=thread.key)
    else:
        permalink = ""
    return {"embed": True, "permalink_base": permalink}


def _replies_page(thread, root_id: int, cursor: str) -> str | None:
    """Where "N more replies" leads without JavaScript: our replies page, in a
    new tab, for a thread of one of our articles; nowhere for the others."""
    if thread.article_id is None:
        return None
    return url_for("pages.replies", slug=thread.key, comment_id=root_id, after=cursor)


def _bearer_user():
    """The token's user (for this request only), None without a token; raises
    Unauthorized for a token that is unknown, expired or revoked."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, raw = header.partition(" ")
    token = accounts.token_for(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise Unauthorized(gettext("That sign-in has expired; sign in again."))
    g._login_user = token.user
    return token.user


def _posted(thread, raw) -> dict | None:
    """?posted=ID, a reply the reader just posted, as an item the frame places
    under its parent (its conversation in the list may be collapsed past it);
    None unless it is in this thread and the reader sees it."""
    comment = comments.comment_by_id_or_none(parse_id(raw))
    if comment is None or comment.thread_id != thread.id:
        return None
    if comment.parent_id is None or not visibility.is_shown(current_user, comment):
        return None
    node = trees.lone_node(comment)
    seen_as = {**as_this_reader_sees(None, [node]), **_frame_context(thread)}
    return reading.placed_item(node, thread, seen_as)


def _posting_notice(user, thread) -> str | None:
    if not thread.is_open:
        return gettext("This discussion is closed to new comments.")
    if user is not None and permissions.is_banned(user):
        return str(permissions.ban_message(user))
    if user is not None and permissions.must_confirm_email(user):
        return str(EmailUnverified.message)  # perhaps a lazy_gettext string
    return None

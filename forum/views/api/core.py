"""Sessions, tokens, users, threads, comments and counts (CONTRACT.md section 3)."""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_babel import gettext, ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from forum import links, permissions
from forum.errors import NotFound, Unauthorized, ValidationError
from forum.extensions import (
    client_address,
    db,
    guest_posting,
    limiter,
    posting_per_account,
    posting_per_address,
)
from forum.services import idempotency, posting
from forum.services.accounts import accounts, guests, proof, recovery, sso
from forum.services.discussion import comments, cursors, thread_pages, threads
from forum.views.api import schemas
from forum.views.api.base import body, bp, created, no_content, read
from forum.views.api.openapi import document
from forum.views.api.serializers import (
    acting_json,
    comment_json,
    iso,
    page_bytes,
    row_nodes_json,
    thread_json,
    user_json,
)
from forum.views.guesting import guest_arrives
from forum.views.negotiation import acting_user

# -- sessions, tokens, users --------------------------------------------------


@bp.get("/session")
def get_session():
    user = user_json(current_user, current_user) if current_user.is_authenticated else None
    return {"user": user, "csrf_token": generate_csrf()}


@bp.post("/session")
@limiter.limit("20 per minute")
def create_session():
    data = read(schemas.Credentials)
    user = accounts.sign_in(data.get("username"), data.get("password"), request.remote_addr)
    if user is None:
        raise Unauthorized(gettext("Wrong username or password."))
    session.clear()  # a fresh session at sign-in, as on the HTML form
    session[accounts.SESSION_KEY] = accounts.start_session(user)
    login_user(user)
    db.session.commit()
    return {"user": user_json(user, user)}


@bp.delete("/session")
def delete_session():
    accounts.end_session(session.get(accounts.SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    return no_content()


@bp.post("/tokens")
@limiter.limit("20 per minute")
def create_token():
    data = body()
    data = schemas.check(schemas.SsoExchange if "sso" in data else schemas.Credentials, data)
    if "sso" in data:
        # A publisher's signed token (see forum.services.accounts.sso); "site" is the origin
        # of the page the embed is on. Refusals are 422 with fields.sso or .site.
        user = sso.exchange(data["sso"], data.get("site"))
    else:
        user = accounts.sign_in(data.get("username"), data.get("password"), request.remote_addr)
        if user is None:
            raise Unauthorized(gettext("Wrong username or password."))
    raw, token = accounts.issue_token(user, current_app.config["FORUM_TOKEN_TTL_HOURS"])
    db.session.commit()
    return created(
        {"token": raw, "expires_at": iso(token.expires_at), "user": user_json(user, user)}
    )


@bp.delete("/tokens/current")
def delete_current_token():
    token = g.get("api_token")
    if token is None:
        raise Unauthorized(gettext("Send the token to revoke as Authorization: Bearer <token>."))
    accounts.revoke_token(token)
    db.session.commit()
    return no_content()


@bp.post("/users")
@limiter.limit("10 per hour")
def create_user():
    data = read(schemas.Registration)
    user = accounts.register(data.get("username"), data.get("email"), data.get("password"))
    recovery.send_verification(user)
    db.session.commit()
    return created({"user": user_json(user, user)})


# -- threads and comments -----------------------------------------------------


@bp.get("/threads/<key>")
def get_thread(key):
    return thread_json(threads.thread_shown_by_key(key))


@bp.get("/threads/<key>/comments")
def list_comments(key):
    """A page of the thread, answered 304 while the thread is unchanged.

    The ETag is the thread's version and who is asking; a reader without an
    account gets bytes cached under that version (see forum.services.discussion.thread_pages).
    """
    thread = thread_pages.thread_head(key)
    sort, limit, position = cursors.parse_page_args(
        request.args.get("sort"),
        request.args.get("limit"),
        request.args.get("cursor"),
        default_limit=50,
    )
    viewer = acting_user()
    tag = f"{thread_pages.thread_stamp(thread)}-{thread_pages.viewer_tag(viewer)}"
    headers = {
        "ETag": f'"{tag}"',
        "Cache-Control": "no-cache" if tag.endswith("-a") else "private, no-cache",
        "Vary": "Cookie, Authorization",
    }
    if tag in request.if_none_match:
        return "", 304, headers

    def build() -> bytes:
        page = thread_pages.load_page(thread, viewer, sort, limit, position)
        return page_bytes(
            {
                "thread": thread_json(thread),
                "comments": row_nodes_json(page.roots, thread.key, viewer),
                "next_cursor": page.next_cursor,
            }
        )

    if permissions.is_signed_in(viewer) or position is not None or limit not in SHARED_LIMITS:
        payload = build()
    else:
        # A thread's first page at a common size, from parsed values only: made-up
        # cursors and sizes are built for their reader and never fill the cache.
        key = thread_pages.page_key(thread, "api", sort, limit, links.base())
        payload = thread_pages.cached(key, build)
    return current_app.response_class(payload, mimetype="application/json", headers=headers)


# The page sizes whose first pages anonymous readers share from the cache.
SHARED_LIMITS = (10, 20, 25, 50, 100, 200, 500, 1000)


@bp.post("/threads/<key>/comments")
@posting_per_account
@posting_per_address
@guest_posting
def create_comment(key):
    """201 and the new comment; 200 and the same comment again for a repeated
    Idempotency-Key (with Idempotent-Replayed: true). A visitor without an
    account posts as a guest where guests are welcome (guest_name)."""
    data = read(schemas.NewComment)
    once = idempotency.check_key(request.headers.get("Idempotency-Key"), "Idempotency-Key")
    author = acting_user()
    if not permissions.is_signed_in(author):
        thread = threads.thread_shown_by_key(key)
        author, signals = guest_arrives(
            thread,
            data.get("guest_name"),
            data.get("guest_email"),
            data.get("guest_proof"),
            data.get("guest_website"),
            once,
        )
    else:
        thread, signals = threads.thread_shown_by_key(key), None
    comment, is_new = posting.post_comment(
        author,
        thread,
        data.get("body"),
        data.get("parent_id"),  # a whole number or null: schemas.NewComment
        once,
        theory_title=data.get("theory_title"),
        spoiler=data.get("spoiler", False),
        guest=signals,
    )
    # Shaped before the commit, which would expire what it reads (three more queries).
    payload = {"comment": comment_json(comment, comment.thread.key, author)}
    db.session.commit()
    if is_new:
        return created(payload)
    return payload, 200, {"Idempotent-Replayed": "true"}


@bp.get("/guest-challenge")
@limiter.limit("30 per minute; 300 per hour", key_func=client_address)
def guest_challenge():
    """A proof-of-work challenge for a guest's next comment (forum.services.accounts.proof)."""
    if not guests.enabled():
        raise NotFound(gettext("Guests are not taken on this forum."))
    challenge = proof.issue()
    return {**challenge, "expires_at": iso(challenge["expires_at"])}


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id):
    comment = comments.visible_comment(current_user, comment_id)
    return {"comment": acting_json(comment, current_user)}


@bp.patch("/comments/<int:comment_id>")
@posting_per_account
@posting_per_address
def edit_comment(comment_id):
    data = read(schemas.CommentEdit)
    permissions.require_signed_in(current_user)
    comment = comments.visible_comment(current_user, comment_id)
    comments.edit_comment(acting_user(), comment, data.get("body"))
    db.session.commit()
    return {"comment": comment_json(comment, comment.thread.key, current_user)}


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id):
    permissions.require_signed_in(current_user)
    comment = comments.visible_comment(current_user, comment_id)
    comments.delete_comment(acting_user(), comment)
    db.session.commit()
    return no_content()


@bp.get("/counts")
def counts():
    raw = request.args.get("keys", "")
    keys = [key for key in dict.fromkeys(raw.split(",")) if key]
    if not keys or len(keys) > 200:
        raise ValidationError(
            fields={"keys": gettext("Give 1 to 200 thread keys, separated by commas.")}
        )
    found = threads.counts_for(keys)
    # "N comments" in the reader's language (?lang=, else Accept-Language), so
    # embed.js on a publisher's page need not know any language's plural rules.
    labels = {key: ngettext("%(num)s comment", "%(num)s comments", n) for key, n in found.items()}
    return {"counts": found, "labels": labels}


@bp.get("/openapi.json")
def openapi():
    return document()

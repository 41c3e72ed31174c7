"""JSON or HTML: the one place that decides how a request is answered, turns any
error into the contract's error object or a page, and names the acting user.

Scripts (the API, the embedded thread's data, "N more replies" chunks, and the
pages' own scripts, which send X-Forum-Fragment: 1) get JSON; people get pages.
A database that is down, locked or full is a 503 with Retry-After, not a 500.
"""

from __future__ import annotations

import contextlib
import re

from flask import Flask, flash, g, jsonify, render_template, request, url_for
from flask_babel import force_locale, gettext, lazy_gettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, SecurityError

from forum import i18n
from forum.errors import (
    CsrfFailed,
    ForumError,
    StorageFull,
    Unavailable,
    ValidationError,
    database_trouble,
    unavailable_error,
)
from forum.extensions import db
from forum.forms import show_errors

FRAGMENT_HEADER = "X-Forum-Fragment"
# The embedded frame's data: a thread as the token's bearer sees it, or one comment.
_EMBED_DATA = re.compile(r"/embed/threads/.+/comments(/\d+)?")


def is_fragment() -> bool:
    """Sent by the pages' own scripts (thread.js, moderation.js): answer with a
    piece of HTML or JSON for the script, never a whole page or a redirect."""
    return request.headers.get(FRAGMENT_HEADER) == "1"


def wants_json() -> bool:
    """Whether this request is answered in JSON: the API, the embedded thread's
    data, the "N more replies" chunks, and any request a page's script sent."""
    path = request.path
    return (
        path.startswith("/api/")
        or path.endswith("/more-replies")
        or _EMBED_DATA.fullmatch(path) is not None
        or is_fragment()
    )


def acting_user():
    """The signed-in user (or the API token's) as the model object services take."""
    return current_user._get_current_object()


def error_sentence(error: ForumError) -> str:
    """What a page says about a refused form: each field's message, or the error's."""
    return " ".join(field_messages(error)) if error.fields else str(error.message)


def field_messages(error: ForumError) -> list[str]:
    """The error's field messages as text: they may be lazy_gettext strings, which
    neither str.join, the session (a flash) nor orjson take as they are."""
    return [str(message) for message in error.fields.values()]


def save_form(form, done: str, change, *args) -> bool:
    """A valid form's change, change(*args): commit and flash `done`, or roll back and
    show the refusal beside the form's fields (the caller answers the form again, 422)."""
    try:
        change(*args)
    except ValidationError as error:
        db.session.rollback()
        show_errors(form, error)
        return False
    db.session.commit()
    flash(str(done))
    return True


def flash_outcome(change, done, refused: type[ForumError] = ForumError) -> bool:
    """A page's one change, said in a flash: commit and flash `done` (a message, or a
    function of what the change returned), or roll back and flash why it was refused.
    Errors other than `refused` go on to the error page."""
    try:
        result = change()
    except refused as error:
        db.session.rollback()
        flash(error_sentence(error))
        return False
    db.session.commit()
    flash(str(done(result) if callable(done) else done))
    return True


def json_outcome(change, done, refused: type[ForumError] = ForumError):
    """flash_outcome() for a page's script (X-Forum-Fragment): commit and answer
    {"message": done}, or roll back and answer the error object with its status."""
    try:
        result = change()
    except refused as error:
        db.session.rollback()
        body = {"error": {"code": error.code, "message": error_sentence(error)}}
        return jsonify(body), error.status
    db.session.commit()
    return jsonify({"message": str(done(result) if callable(done) else done)})


# Werkzeug's status codes -> our machine codes, for errors raised outside services.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# Werkzeug's own words for those statuses (its exceptions' descriptions, word for
# word), so they can be translated; a description a view chose itself is kept.
_HTTP_MESSAGES = {
    400: lazy_gettext(
        "The browser (or proxy) sent a request that this server could not understand."
    ),
    401: lazy_gettext(
        "The server could not verify that you are authorized to access the URL requested. "
        "You either supplied the wrong credentials (e.g. a bad password), or your browser "
        "doesn't understand how to supply the credentials required."
    ),
    403: lazy_gettext(
        "You don't have the permission to access the requested resource. "
        "It is either read-protected or not readable by the server."
    ),
    404: lazy_gettext(
        "The requested URL was not found on the server. "
        "If you entered the URL manually please check your spelling and try again."
    ),
    405: lazy_gettext("The method is not allowed for the requested URL."),
    409: lazy_gettext(
        "A conflict happened while processing the request. "
        "The resource might have been modified while the request was being processed."
    ),
    413: lazy_gettext("The data value transmitted exceeds the capacity limit."),
    415: lazy_gettext("The server does not support the media type transmitted in the request."),
    429: lazy_gettext("This user has exceeded an allotted request count. Try again later."),
}


def error_response(error: ForumError, headers: dict[str, str] | None = None):
    headers = dict(headers or {})
    if error.retry_after and "Retry-After" not in headers:
        headers["Retry-After"] = str(error.retry_after)
    # str(): a message may be a lazy_gettext string (a ForumError's default).
    message = str(error.message)
    if wants_json():
        body = {"code": error.code, "message": message}
        if error.fields:
            body["fields"] = {name: str(text) for name, text in error.fields.items()}
        response = jsonify({"error": body})
    else:
        response = render_template(
            "errors/error.html", error=error, message=message, details=field_messages(error)
        )
    return response, error.status, headers


# Pages that stand alone, without the site's layout: the layout asks the database
# who is signed in (which would fail again when it is in trouble), and builds URLs
# (which cannot be built for a host name the forum does not answer by).
_STANDALONE_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{title} · forum</title>{stylesheet}
</head>
<body>
  <main id="main" class="wrap">
    <h1>{title}</h1>
    <p>{message}</p>{more}
  </main>
</body>
</html>
"""


def standalone_page(title: str, message: str, stylesheet: str = "", more: str = "") -> str:
    """The page, every value escaped here; `more` is a link (href, label) or nothing."""
    link = f'\n  <link rel="stylesheet" href="{escape(stylesheet)}">' if stylesheet else ""
    return _STANDALONE_PAGE.format(
        lang=escape(i18n.html_lang()),
        dir=escape(i18n.html_dir()),
        title=escape(title),
        message=escape(message),
        stylesheet=link,
        more=more,
    )


@contextlib.contextmanager
def language_without_the_database():
    """The standalone answers' language, chosen without asking who is signed in:
    the reader's saved choice is read from the database, which may be what just
    failed (a bearer token's lookup, say). The language this request chose
    already if it did, else ?lang=, the remembered cookie, Accept-Language."""
    chosen = g.get("forum_locale") or i18n.choose(
        request.args.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.accept_languages,
        i18n.shipped(),
    )
    with force_locale(chosen.replace("-", "_")):
        yield


def unavailable_response(error: Unavailable):
    headers = {"Retry-After": str(error.retry_after), "Cache-Control": "no-store"}
    with language_without_the_database():
        if wants_json():
            # thread.js shows a JSON error beside the form, the words still in it.
            body = {"error": {"code": error.code, "message": str(error.message)}}
            return jsonify(body), error.status, headers
        retry_here = request.method in ("GET", "HEAD")
        again = escape(request.full_path.rstrip("?") if retry_here else "/")
        label = escape(gettext("Try again") if retry_here else gettext("Back to the front page"))
        page = standalone_page(
            gettext("Storage full")
            if isinstance(error, StorageFull)
            else gettext("Back in a moment"),
            str(error.message),
            stylesheet=url_for("static", filename="css/forum.css"),
            more=f'\n    <p><a href="{again}">{label}</a></p>',
        )
    return page, error.status, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(ForumError)
    def on_forum_error(error: ForumError):
        db.session.rollback()  # nothing half-done survives a refused request
        if isinstance(error, Unavailable):
            return unavailable_response(error)
        return error_response(error)

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    def on_database_error(error: Exception):
        kind = database_trouble(error)
        if kind is None:
            return on_unexpected(error)  # an IntegrityError or a bug: still a 500
        with contextlib.suppress(Exception):  # the connection may be gone: the pool replaces it
            db.session.rollback()
        # One line, without the statement or its parameters (they hold readers' words).
        original = getattr(error, "orig", None) or error
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        app.logger.warning(
            "database %s on %s %s: %s.%s%s",
            kind,
            request.method,
            _route(),
            type(original).__module__,
            type(original).__name__,
            f" (SQLSTATE {state})" if state else "",
        )
        return unavailable_response(unavailable_error(kind))

    @app.errorhandler(CSRFError)
    def on_csrf_error(error: CSRFError):
        if wants_json():
            return error_response(CsrfFailed())
        # A form from a page shared by visitors without a session (a guest's, with
        # JavaScript off) had no token: the session starts now, so the reload has one.
        generate_csrf()
        return error_response(
            CsrfFailed(gettext("Your form had expired. Go back, reload the page and try again."))
        )

    @app.errorhandler(RateLimitExceeded)
    def on_rate_limited(error: RateLimitExceeded):
        error_obj = ForumError(
            gettext(
                "Too many requests: the limit is %(limit)s. Try later.", limit=error.description
            )
        )
        error_obj.status, error_obj.code = 429, "rate_limited"
        retry = getattr(error, "retry_after", None) or 60
        return error_response(error_obj, {"Retry-After": str(int(retry))})

    @app.errorhandler(SecurityError)
    def on_untrusted_host(error: SecurityError):
        # A Host (or X-Forwarded-Host) outside TRUSTED_HOSTS (forum.links): no URL
        # can be built for this request, so the answer stands alone.
        with language_without_the_database():
            message = gettext(
                "This forum does not answer by that host name. Its operator sets "
                "FORUM_BASE_URL (or FORUM_TRUSTED_HOSTS) to the names it serves."
            )
            if wants_json():
                return jsonify({"error": {"code": "bad_request", "message": message}}), 400
            page = standalone_page(gettext("Unknown host name"), message)
        return page, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException):
        status = error.code or 500
        description = error.description
        if status in _HTTP_MESSAGES and description == type(error).description:
            description = str(_HTTP_MESSAGES[status])  # Werkzeug's default, translated
        error_obj = ForumError(description)
        error_obj.status = status
        error_obj.code = _HTTP_CODES.get(status, "error")
        response, status, headers = error_response(error_obj)
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return response, status, headers

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, _route())
        error_obj = ForumError(gettext("Something went wrong on our side; nothing was saved."))
        error_obj.status, error_obj.code = 500, "internal_error"
        return error_response(error_obj)


def _route() -> str:
    """The request's route for a log line (/auth/reset/<token>), never the path
    itself: reset, confirmation and unsubscribe links carry tokens in it."""
    return request.url_rule.rule if request.url_rule is not None else "(no route)"

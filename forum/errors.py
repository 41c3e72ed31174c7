"""Domain errors, and the one place that turns any error into HTML or JSON.

Services raise ForumError subclasses; the handlers here answer API requests
(anything under /api/) with the contract's error object and pages with a page.
A database that is down, locked or full is a 503 with Retry-After, not a 500.
"""

from __future__ import annotations

import contextlib

from flask import Flask, jsonify, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, SecurityError

from forum.extensions import db


class ForumError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be understood."
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, message: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields or {}


class ValidationError(ForumError):
    status = 422
    code = "validation_error"
    message = "Some fields need another look."


class Unauthorized(ForumError):
    status = 401
    code = "unauthorized"
    message = "Please log in first."


class Forbidden(ForumError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class NotFound(ForumError):
    status = 404
    code = "not_found"
    message = "There is nothing here."


class Conflict(ForumError):
    status = 409
    code = "conflict"
    message = "That conflicts with something that already exists."


class Banned(ForumError):
    status = 403
    code = "banned"
    message = "Your account cannot post at the moment."


class ThreadClosed(ForumError):
    status = 409
    code = "thread_closed"
    message = "This discussion is closed to new comments."


class RateLimited(ForumError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, retry_after: int = 600):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class EmailUnverified(ForumError):
    status = 403
    code = "email_unverified"
    message = (
        "Confirm your email address first: open the link we emailed you "
        "(your account page can send it again)."
    )


class CsrfFailed(ForumError):
    status = 400
    code = "csrf_failed"
    message = "The CSRF token is missing or wrong; fetch a new one from GET /api/v1/session."


class Unavailable(ForumError):
    """The database is down, locked or busy for a moment; the request changed nothing."""

    status = 503
    code = "unavailable"
    message = "The forum's database cannot be reached right now; try again in a few seconds."
    retry_after = 5


class StorageFull(Unavailable):
    code = "storage_full"
    message = "The server's storage is full, so nothing was saved. Please try again later."
    retry_after = 60


BUSY_MESSAGE = "The forum is busy right now, so nothing was saved; try again in a few seconds."

# SQLite says everything with OperationalError, bugs ("no such table", syntax)
# included: only these messages are passing trouble worth a 503.
_SQLITE_TROUBLE = {
    "database is locked": "locked",
    "database table is locked": "locked",
    "database schema is locked": "locked",
    "database or disk is full": "full",
    "disk i/o error": "disk I/O error",
    "unable to open database file": "unreachable",
    "attempt to write a readonly database": "read-only",
}
# PostgreSQL's SQLSTATEs for the same (psycopg's errors carry .sqlstate).
_SQLSTATE_TROUBLE = {
    "53100": "full",  # disk_full
    "53300": "busy",  # too_many_connections
    "40001": "busy",  # serialization_failure
    "40P01": "busy",  # deadlock_detected
    "55P03": "locked",  # lock_not_available (lock_timeout)
    "57014": "busy",  # query_canceled (statement_timeout)
}


def database_trouble(error: BaseException) -> str | None:
    """What passing trouble with the database this error is ("unreachable",
    "disconnected", "locked", "busy", "full", ...), or None if it is not one
    (a bug, or a constraint: those stay 500s)."""
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection in use
        return "busy"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    original = error.orig
    if type(original).__module__.startswith("sqlite3"):
        text = str(original).lower()
        return next((kind for needle, kind in _SQLITE_TROUBLE.items() if needle in text), None)
    if error.connection_invalidated:
        return "disconnected"
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state in _SQLSTATE_TROUBLE:
        return _SQLSTATE_TROUBLE[state]
    if state and state.startswith(("08", "57P")):  # connection exception, shutdown
        return "unreachable"
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return "unreachable"
    return None


def unavailable_error(kind: str) -> Unavailable:
    if kind == "full":
        return StorageFull()
    if kind in ("locked", "busy"):
        return Unavailable(BUSY_MESSAGE)
    return Unavailable()


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


def wants_json() -> bool:
    # The embedded thread's own data requests and the "N more replies" chunks
    # (fetched by scripts on the pages and in the frame) answer like the API.
    path = request.path
    return (
        path.startswith("/api/")
        or path.endswith("/more-replies")
        or (path.startswith("/embed/threads/") and path.endswith("/comments"))
    )


def error_response(error: ForumError, headers: dict[str, str] | None = None):
    headers = dict(headers or {})
    if error.retry_after and "Retry-After" not in headers:
        headers["Retry-After"] = str(error.retry_after)
    if wants_json():
        body = {"code": error.code, "message": error.message}
        if error.fields:
            body["fields"] = error.fields
        response = jsonify({"error": body})
    else:
        response = render_template("errors/error.html", error=error)
    return response, error.status, headers


# The page for a database in trouble stands alone: the site's layout asks the
# database who is signed in, which would fail again.
_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{title} · forum</title>
  <link rel="stylesheet" href="{stylesheet}">
</head>
<body>
  <main id="main" class="wrap">
    <h1>{title}</h1>
    <p>{message}</p>
    <p><a href="{again}">{again_label}</a></p>
  </main>
</body>
</html>
"""


_UNTRUSTED_HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>Unknown host name · forum</title>
</head>
<body><main><h1>Unknown host name</h1><p>{message}</p></main></body>
</html>
"""


def unavailable_response(error: Unavailable):
    headers = {"Retry-After": str(error.retry_after), "Cache-Control": "no-store"}
    if wants_json() or request.headers.get("X-Forum-Fragment") == "1":
        # thread.js shows a JSON error beside the form, the words still in it.
        body = {"error": {"code": error.code, "message": error.message}}
        return jsonify(body), error.status, headers
    retry_here = request.method in ("GET", "HEAD")
    page = _UNAVAILABLE_PAGE.format(
        title="Storage full" if isinstance(error, StorageFull) else "Back in a moment",
        message=escape(error.message),
        stylesheet=escape(url_for("static", filename="css/forum.css")),
        again=escape(request.full_path.rstrip("?") if retry_here else "/"),
        again_label="Try again" if retry_here else "Back to the front page",
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
        return error_response(
            CsrfFailed("Your form had expired. Go back, reload the page and try again.")
        )

    @app.errorhandler(RateLimitExceeded)
    def on_rate_limited(error: RateLimitExceeded):
        error_obj = ForumError(f"Too many requests: the limit is {error.description}. Try later.")
        error_obj.status, error_obj.code = 429, "rate_limited"
        retry = getattr(error, "retry_after", None) or 60
        return error_response(error_obj, {"Retry-After": str(int(retry))})

    @app.errorhandler(SecurityError)
    def on_untrusted_host(error: SecurityError):
        # A Host (or X-Forwarded-Host) outside TRUSTED_HOSTS (forum.links): no URL
        # can be built for this request, so the answer stands alone.
        message = (
            "This forum does not answer by that host name. Its operator sets "
            "FORUM_BASE_URL (or FORUM_TRUSTED_HOSTS) to the names it serves."
        )
        if wants_json():
            return jsonify({"error": {"code": "bad_request", "message": message}}), 400
        page = _UNTRUSTED_HOST_PAGE.format(message=escape(message))
        return page, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException):
        status = error.code or 500
        error_obj = ForumError(error.description)
        error_obj.status = status
        error_obj.code = _HTTP_CODES.get(status, "error")
        response, status, headers = error_response(error_obj)
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return response, status, headers

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, _route())
        error_obj = ForumError("Something went wrong on our side; nothing was saved.")
        error_obj.status, error_obj.code = 500, "internal_error"
        return error_response(error_obj)


def _route() -> str:
    """The request's route for a log line (/auth/reset/<token>), never the path
    itself: reset, confirmation and unsubscribe links carry tokens in it."""
    return request.url_rule.rule if request.url_rule is not None else "(no route)"

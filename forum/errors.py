"""Domain errors, and the one place that turns any error into HTML or JSON.

Services raise ForumError subclasses; the handlers here answer API requests
(anything under /api/) with the contract's error object and pages with a page.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forum.extensions import db


class ForumError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be understood."

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
    retry_after = 600


class CsrfFailed(ForumError):
    status = 400
    code = "csrf_failed"
    message = "The CSRF token is missing or wrong; fetch a new one from GET /api/v1/session."


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
    # The embedded thread's own data request answers like the API.
    return request.path.startswith("/api/") or (
        request.path.startswith("/embed/threads/") and request.path.endswith("/comments")
    )


def error_response(error: ForumError, headers: dict[str, str] | None = None):
    if wants_json():
        body = {"code": error.code, "message": error.message}
        if error.fields:
            body["fields"] = error.fields
        response = jsonify({"error": body})
    else:
        response = render_template("errors/error.html", error=error)
    return response, error.status, headers or {}


def init_app(app: Flask) -> None:
    @app.errorhandler(ForumError)
    def on_forum_error(error: ForumError):
        db.session.rollback()  # nothing half-done survives a refused request
        if isinstance(error, RateLimited):
            return error_response(error, {"Retry-After": str(error.retry_after)})
        return error_response(error)

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
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        error_obj = ForumError("Something went wrong on our side; nothing was saved.")
        error_obj.status, error_obj.code = 500, "internal_error"
        return error_response(error_obj)

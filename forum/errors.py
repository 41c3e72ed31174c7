"""Domain errors: what services raise (ForumError and its kinds), and which
database failures are passing trouble (a 503 with Retry-After) rather than bugs.
forum/views/negotiation.py turns any of them into the contract's JSON or a page."""

from __future__ import annotations

from flask_babel import lazy_gettext
from sqlalchemy import exc as sa_exc


class ForumError(Exception):
    """A refusal a person reads: `message` and `fields` are in the request's
    language, made plain str when raised (a class's default message is a lazy
    string until then), so JSON and pages get text whatever reads them."""

    status = 400
    code = "bad_request"
    message = lazy_gettext("The request could not be understood.")
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, message: str | None = None, fields: dict[str, str] | None = None):
        text = str(message or self.message)
        super().__init__(text)
        self.message = text
        self.fields = {name: str(reason) for name, reason in (fields or {}).items()}


class ValidationError(ForumError):
    status = 422
    code = "validation_error"
    message = lazy_gettext("Some fields need another look.")


class Unauthorized(ForumError):
    status = 401
    code = "unauthorized"
    message = lazy_gettext("Please log in first.")


class Forbidden(ForumError):
    status = 403
    code = "forbidden"
    message = lazy_gettext("You are not allowed to do that.")


class NotFound(ForumError):
    status = 404
    code = "not_found"
    message = lazy_gettext("There is nothing here.")


class Conflict(ForumError):
    status = 409
    code = "conflict"
    message = lazy_gettext("That conflicts with something that already exists.")


class Banned(ForumError):
    status = 403
    code = "banned"
    message = lazy_gettext("Your account cannot post at the moment.")


class ThreadClosed(ForumError):
    status = 409
    code = "thread_closed"
    message = lazy_gettext("This discussion is closed to new comments.")


class RateLimited(ForumError):
    status = 429
    code = "rate_limited"
    message = lazy_gettext("Too many requests; try again later.")

    def __init__(self, message: str | None = None, retry_after: int = 600):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class EmailUnverified(ForumError):
    status = 403
    code = "email_unverified"
    message = lazy_gettext(
        "Confirm your email address first: open the link we emailed you "
        "(your account page can send it again)."
    )


class CsrfFailed(ForumError):
    status = 400
    code = "csrf_failed"
    message = lazy_gettext(
        "The CSRF token is missing or wrong; fetch a new one from GET /api/v1/session."
    )


class Unavailable(ForumError):
    """The database is down, locked or busy for a moment; the request changed nothing."""

    status = 503
    code = "unavailable"
    message = lazy_gettext(
        "The forum's database cannot be reached right now; try again in a few seconds."
    )
    retry_after = 5


class StorageFull(Unavailable):
    code = "storage_full"
    message = lazy_gettext(
        "The server's storage is full, so nothing was saved. Please try again later."
    )
    retry_after = 60


BUSY_MESSAGE = lazy_gettext(
    "The forum is busy right now, so nothing was saved; try again in a few seconds."
)

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


class ExternalSignInFailed(ForumError):
    """Signing in with an account elsewhere did not prove who the reader is
    (forged or stale state, a refused code, an ID token that fails a check)."""

    status = 400
    code = "sign_in_failed"
    message = lazy_gettext("Signing in with that account did not work. Try again.")

"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

The schemas are generated from forum.views.api.schemas, the models the
endpoints validate their bodies against; this module adds the operations.
tests/views/test_openapi.py keeps it true: every route is documented, every
documented operation exists, and real responses validate against it.
"""

from __future__ import annotations

from functools import cache

from forum.services.accounts import staff
from forum.services.discussion import cursors
from forum.services.moderation import queues
from forum.views.api import schemas
from forum.views.api.schemas import ref


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


# A strong ETag: the thread's version and who is asking.
ETAG = {"schema": {"type": "string", "pattern": '^"[^"]+"$'}}


def _answer(description: str, kind: type | None = None) -> dict:
    answer = {"description": description}
    if kind is not None:
        answer.update(_json(ref(kind)))
    return answer


def _errors(*statuses: int) -> dict:
    meaning = {
        400: "Malformed request or missing CSRF token (code csrf_failed)",
        401: "Not signed in, or a bad token",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed on this path",
        409: "Conflict (taken, or thread_closed)",
        413: "Body too large",
        415: "Not JSON: a call without the session cookie sends Content-Type: application/json",
        422: "Validation error; fields says which and why (a field the request does not "
        "have is refused too)",
        429: "Rate limited; see Retry-After",
        503: "The database is down, locked or busy (code unavailable) or the disk is full "
        "(code storage_full); nothing was saved. See Retry-After",
    }
    return {str(s): _answer(meaning[s], schemas.Error) for s in statuses}


def _operation(summary: str, responses: dict, request: dict | None = None, **extra) -> dict:
    # Any operation can meet a bad bearer token (401), a wrong method (405) and
    # a database in trouble (503); any with a body can meet one over the size
    # limit (413) or not JSON (422).
    common = (401, 405, 413, 422, 503) if request is not None else (401, 405, 503)
    operation = {"summary": summary, "responses": {**_errors(*common), **responses}, **extra}
    if request is not None:
        operation["requestBody"] = {"required": True, **_json(request)}
    return operation


KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
COMMENT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
USERNAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Names this submission (a uuid4, say): sent again by the same account, "
    "it answers 200 with the comment the first request made instead of posting twice. "
    "Kept for at least 24 hours. A failed request stores nothing, so its key can be reused.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"},
}
MODERATORS = "Moderators only."

PATHS = {
    "/session": {
        "get": _operation(
            "The signed-in user (or null) and a CSRF token for cookie-authenticated calls",
            {"200": _answer("Session", schemas.SessionAnswer)},
        ),
        "post": _operation(
            "Sign in with the session cookie",
            {"200": _answer("Signed in", schemas.UserAnswer), **_errors(400, 401, 422, 429)},
            ref(schemas.Credentials),
        ),
        "delete": _operation("Sign out", {"204": _answer("Signed out"), **_errors(400)}),
    },
    "/tokens": {
        "post": _operation(
            "Exchange a password, or a publisher's single sign-on token, for a bearer token",
            {
                "201": _answer("Token issued; it is shown only this once", schemas.TokenAnswer),
                **_errors(401, 422, 429),
            },
            {"oneOf": [ref(schemas.Credentials), ref(schemas.SsoExchange)]},
            description=(
                "A refused sign-on token (malformed, forged, expired, not yet valid, "
                "too long-lived, already used, or for a site that is not allowed or "
                "has no secret) is a 422 validation_error with fields.sso saying why; "
                "fields.site when the site is malformed or cannot be told."
            ),
        )
    },
    "/tokens/current": {
        "delete": _operation(
            "Revoke the bearer token that authenticated this request",
            {"204": _answer("Revoked"), **_errors(401)},
        )
    },
    "/users": {
        "post": _operation(
            "Register an account",
            {"201": _answer("Created", schemas.UserAnswer), **_errors(400, 409, 415, 422, 429)},
            ref(schemas.Registration),
        )
    },
    "/threads/{key}": {
        "get": _operation(
            "A thread",
            {"200": _answer("The thread", schemas.Thread), **_errors(404)},
            parameters=[KEY],
        )
    },
    "/threads/{key}/comments": {
        "get": _operation(
            "A page of top-level comments, each with its whole reply tree",
            {
                "200": {**_answer("One page", schemas.CommentPage), "headers": {"ETag": ETAG}},
                "304": {
                    "description": "Unchanged since the page with the ETag sent in "
                    "If-None-Match (the thread's version, for this reader)",
                    "headers": {"ETag": ETAG},
                },
                **_errors(404, 422),
            },
            parameters=[
                KEY,
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "schema": {"type": "string"},
                    "description": "The ETag of a page already held: 304 if still current",
                },
                {
                    "name": "sort",
                    "in": "query",
                    "schema": {"enum": list(cursors.SORTS), "default": cursors.SORTS[0]},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": cursors.LIMIT_MAX,
                        "default": 50,
                    },
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
        ),
        "post": _operation(
            "Post a comment or a reply; status says approved or pending. Without an "
            "account, where guests are welcome (FORUM_GUESTS=on, the thread and its site "
            "allowing them), guest_name posts as a guest: a JSON body, and X-CSRFToken "
            "if the session cookie is sent. Guests share a smaller budget per address "
            "(3 a minute, 20 an hour, 60 a day); 401 where guests are not taken",
            {
                "201": _answer("Posted", schemas.CommentAnswer),
                "200": {
                    **_answer(
                        "Already posted with this Idempotency-Key by this account: the "
                        "same comment again, nothing new made",
                        schemas.CommentAnswer,
                    ),
                    "headers": {"Idempotent-Replayed": {"schema": {"const": "true"}}},
                },
                **_errors(400, 401, 404, 409, 422, 429),
            },
            ref(schemas.NewComment),
            parameters=[KEY, IDEMPOTENCY_KEY],
        ),
    },
    "/comments/{id}": {
        "get": _operation(
            "One comment, without its replies",
            {"200": _answer("The comment", schemas.CommentAnswer), **_errors(404)},
            parameters=[COMMENT_ID],
        ),
        "patch": _operation(
            "Edit a comment (its author, inside the edit window)",
            {
                "200": _answer("Edited", schemas.CommentAnswer),
                **_errors(400, 401, 403, 404, 422, 429),
            },
            ref(schemas.CommentEdit),
            parameters=[COMMENT_ID],
        ),
        "delete": _operation(
            "Delete a comment (author or moderator); replies keep a tombstone",
            {"204": _answer("Deleted"), **_errors(400, 401, 403, 404)},
            parameters=[COMMENT_ID],
        ),
    },
    "/comments/{id}/votes": {
        "post": _operation(
            "Vote on a comment: 1 up, -1 down, 0 to take the vote back (not one's own)",
            {
                "200": _answer("The comment's score and your vote", schemas.VoteAnswer),
                **_errors(400, 401, 403, 404, 409, 422, 429),
            },
            ref(schemas.VoteRequest),
            parameters=[COMMENT_ID],
        )
    },
    "/comments/{id}/flags": {
        "post": _operation(
            "Report a comment (one report per reader per comment, not one's own)",
            {
                "201": _answer("Reported", schemas.FlagAnswer),
                **_errors(400, 401, 403, 404, 409, 422, 429),
            },
            ref(schemas.FlagRequest),
            parameters=[COMMENT_ID],
        )
    },
    "/moderation/queue/{name}": {
        "get": _operation(
            "A page of a moderation queue, oldest first (pending, reported) or newest first",
            {"200": _answer("One page", schemas.QueuePage), **_errors(401, 403, 404, 422)},
            parameters=[
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": list(queues.QUEUES)},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            description=MODERATORS,
        )
    },
    "/moderation/comments/{id}": {
        "post": _operation(
            "Act on a comment; 409 if it was already handled, or changed since the revision sent",
            {
                "200": _answer("Done", schemas.CommentAnswer),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            ref(schemas.ModerationRequest),
            parameters=[COMMENT_ID],
            description=MODERATORS,
        )
    },
    "/moderation/settings": {
        "get": _operation(
            "The automatic-hold and moderator-alert settings",
            {"200": _answer("Settings", schemas.SettingsAnswer), **_errors(403)},
            description="Admins only.",
        ),
        "patch": _operation(
            "Change some settings (the others keep their values); audited",
            {"200": _answer("Settings", schemas.SettingsAnswer), **_errors(400, 403)},
            ref(schemas.SettingsChange),
            description="Admins only.",
        ),
    },
    "/moderation/log": {
        "get": _operation(
            "The audit log, newest first",
            {"200": _answer("A page", schemas.AuditPage), **_errors(403, 404, 422)},
            parameters=[
                {"name": "action", "in": "query", "schema": {"type": "string"}},
                {"name": "target", "in": "query", "schema": {"type": "string"}},
                {"name": "actor", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            description="Admins only.",
        )
    },
    "/moderation/history": {
        "get": _operation(
            "Approvals and restorations, newest first",
            {"200": _answer("A page", schemas.AuditPage), **_errors(403, 422)},
            parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            description=MODERATORS,
        )
    },
    "/moderation/users/{username}": {
        "get": _operation(
            "An account's moderation record: ban, comment counts by status, notes",
            {"200": _answer("The record", schemas.UserRecord), **_errors(401, 403, 404)},
            parameters=[USERNAME],
            description=MODERATORS,
        )
    },
    "/moderation/users/{username}/ban": {
        "post": _operation(
            "Ban an account until a time, or for good without one",
            {"200": _answer("Banned", schemas.Ban), **_errors(400, 401, 403, 404, 422)},
            ref(schemas.BanRequest),
            parameters=[USERNAME],
            description=MODERATORS,
        ),
        "delete": _operation(
            "Lift a ban",
            {"204": _answer("Unbanned"), **_errors(400, 401, 403, 404, 409)},
            parameters=[USERNAME],
            description=MODERATORS,
        ),
    },
    "/moderation/users/{username}/notes": {
        "post": _operation(
            "Add a moderator note to an account (moderators only see it)",
            {"201": _answer("Added", schemas.NoteAnswer), **_errors(400, 401, 403, 404, 422)},
            ref(schemas.NoteRequest),
            parameters=[USERNAME],
            description=MODERATORS,
        )
    },
    "/moderation/threads/{key}": {
        "patch": _operation(
            "Close or reopen a thread, or change its moderation mode",
            {"200": _answer("The thread", schemas.Thread), **_errors(400, 401, 403, 404, 422)},
            ref(schemas.ThreadChange),
            parameters=[KEY],
            description=MODERATORS,
        )
    },
    "/users/{username}": {
        "get": _operation(
            "A reader's public profile and theory record",
            {"200": _answer("The profile", schemas.Profile), **_errors(404)},
            parameters=[USERNAME],
        )
    },
    "/users/{username}/mute": {
        "put": _operation(
            "Mute a reader: their comments start collapsed for you, and they stop notifying you",
            {"204": _answer("Muted"), **_errors(400, 404, 422)},
            parameters=[USERNAME],
        ),
        "delete": _operation(
            "Unmute a reader",
            {"204": _answer("Unmuted"), **_errors(400, 404)},
            parameters=[USERNAME],
        ),
    },
    "/notifications": {
        "get": _operation(
            "The signed-in reader's notifications, newest first (30 a page)",
            {"200": _answer("Notifications", schemas.NotificationList)},
            parameters=[{"name": "before", "in": "query", "schema": {"type": "integer"}}],
        )
    },
    "/notifications/read": {
        "post": _operation(
            "Mark some (ids) or all notifications as read",
            {"200": _answer("Still unread", schemas.Unread), **_errors(400)},
            ref(schemas.ReadNotifications),
        )
    },
    "/threads/{key}/follow": {
        "put": _operation(
            "Follow a thread: new comments in it become notifications",
            {"204": _answer("Following"), **_errors(400, 404)},
            parameters=[KEY],
        ),
        "delete": _operation(
            "Stop following a thread",
            {"204": _answer("Not following"), **_errors(400, 404)},
            parameters=[KEY],
        ),
    },
    "/guest-challenge": {
        "get": _operation(
            "A proof-of-work challenge for a guest's next comment (404 with guests off)",
            {"200": _answer("A challenge", schemas.GuestChallenge), **_errors(404, 429)},
        )
    },
    "/counts": {
        "get": _operation(
            "Approved-comment counts for up to 200 thread keys",
            {"200": _answer("Counts", schemas.Counts), **_errors(422)},
            parameters=[
                {"name": "keys", "in": "query", "required": True, "schema": {"type": "string"}}
            ],
        )
    },
    "/account/export": {
        "get": _operation(
            "The signed-in reader's own data, as a JSON download (streamed, not capped)",
            {
                "200": {
                    **_answer("The data", schemas.AccountExport),
                    "headers": {
                        "Content-Disposition": {"schema": {"type": "string"}},
                    },
                },
                **_errors(429),
            },
        )
    },
    "/account": {
        "delete": _operation(
            "Delete the signed-in account: it can no longer sign in, its comments' words "
            "are erased (tombstones keep replies in place), its votes, follows, "
            "notifications, sessions and tokens are gone",
            {"204": _answer("Deleted"), **_errors(400, 403, 429)},
            ref(schemas.AccountDeletion),
            description="A wrong password (or, for an account without one, a sign-in "
            "older than 10 minutes) is a 422 with fields.password. 403 for the only admin.",
        )
    },
    "/admin/users": {
        "get": _operation(
            "Find accounts: q matches the start of a username or email, or part of a "
            "display name; 50 a page in username order",
            {"200": _answer("A page", schemas.UserList), **_errors(403, 422)},
            parameters=[
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                {"name": "role", "in": "query", "schema": {"enum": list(staff.ROLE_VALUES)}},
                {"name": "after", "in": "query", "schema": {"type": "string"}},
            ],
            description="Admins only.",
        )
    },
    "/admin/users/{username}": {
        "patch": _operation(
            "Change an account's role; audited",
            {
                "200": _answer("The account", schemas.UserAnswer),
                **_errors(400, 403, 404, 429),
            },
            ref(schemas.UserChange),
            parameters=[USERNAME],
            description="Admins only. 403 also when the only admin would step down.",
        ),
        "delete": _operation(
            "Delete an account on the person's behalf (as DELETE /account does); audited "
            "with the reason",
            {"204": _answer("Deleted"), **_errors(400, 403, 404, 429)},
            ref(schemas.AdminDeletion),
            parameters=[USERNAME],
            description="Admins only. 403 also for the only admin.",
        ),
    },
    "/openapi.json": {
        "get": _operation(
            "This document",
            {"200": {"description": "OpenAPI 3.1", **_json({"type": "object"})}},
        )
    },
}


@cache
def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "forum API",
            "version": "1",
            "description": "Threads, comments and accounts of a forum installation. "
            "Cookie-authenticated unsafe calls, registration included, send X-CSRFToken "
            "(from GET /session); bearer calls need none. Posting and editing share one "
            "budget (10 a minute per account, 30 per address); every other write has a "
            "limit too (429 with Retry-After). A request by a host name the server does not "
            "serve (FORUM_BASE_URL, FORUM_TRUSTED_HOSTS, loopback) is a 400.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": schemas.components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{}, {"bearer": []}, {"cookie": []}],
        "paths": PATHS,
    }

"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

tests/views/test_openapi.py keeps it true: every route is documented, every
documented operation exists, and real responses validate against it.
"""

from __future__ import annotations

from functools import cache

TIME = {"type": "string", "format": "date-time"}
FLAG_REASONS = ["spam", "abuse", "off_topic", "spoiler", "other"]
ACTIONS = [
    "approve", "reject", "spam", "restore", "feature", "unfeature", "mark_spoiler",
    "unmark_spoiler", "confirm_theory", "debunk_theory", "reopen_theory",
]  # fmt: skip
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _object(required: list[str], properties: dict, additional: bool = False) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": additional,
    }


# A strong ETag: the thread's version and who is asking.
ETAG = {"schema": {"type": "string", "pattern": '^"[^"]+"$'}}


def _answer(description: str, schema: dict | None = None) -> dict:
    answer = {"description": description}
    if schema is not None:
        answer.update(_json(schema))
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
        422: "Validation error; fields says which and why",
        429: "Rate limited; see Retry-After",
        503: "The database is down, locked or busy (code unavailable) or the disk is full "
        "(code storage_full); nothing was saved. See Retry-After",
    }
    return {str(s): _answer(meaning[s], _ref("Error")) for s in statuses}


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

SCHEMAS = {
    "Error": _object(
        ["error"],
        {
            "error": _object(
                ["code", "message"],
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            )
        },
    ),
    "User": _object(
        ["username", "display_name", "role", "created_at"],
        {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"enum": ["reader", "moderator", "admin"]},
            "created_at": TIME,
            "email": {
                "type": ["string", "null"],
                "description": "only to its owner and admins; null: none on record",
            },
        },
    ),
    "Thread": _object(
        ["key", "title", "url", "status", "moderation", "comment_count"],
        {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": ["string", "null"]},
            "status": {"enum": ["open", "closed"]},
            "moderation": {"enum": ["pre", "post", "trusted"]},
            "comment_count": {"type": "integer", "minimum": 0},
        },
    ),
    "Author": _object(
        ["username", "display_name"],
        {"username": {"type": "string"}, "display_name": {"type": "string"}},
    ),
    "Comment": _object(
        [
            "id",
            "thread_key",
            "parent_id",
            "author",
            "html",
            "created_at",
            "edited_at",
            "status",
            "score",
            "is_theory",
            "theory_title",
            "theory_status",
            "spoiler",
            "featured",
            "replies",
        ],
        {
            "id": {"type": "integer"},
            "thread_key": {"type": "string"},
            "parent_id": {"type": ["integer", "null"]},
            "author": {"oneOf": [_ref("Author"), {"type": "null"}]},
            "html": {"type": "string", "description": "sanitized once, at write time"},
            "body": {"type": "string", "description": "the Markdown source; only to its author"},
            "created_at": TIME,
            "edited_at": NULLABLE_TIME,
            "status": {"enum": ["approved", "pending", "rejected", "spam", "deleted"]},
            "score": {"type": "integer"},
            "is_theory": {"type": "boolean"},
            "theory_title": {"type": ["string", "null"]},
            "theory_status": {"enum": ["open", "confirmed", "debunked", None]},
            "spoiler": {"type": "boolean"},
            "featured": {"type": "boolean"},
            "replies": {"type": "array", "items": _ref("Comment")},
            "moderation_reason": {
                "type": "string",
                "description": "why it was rejected; to its author and moderators",
            },
        },
    ),
    "Flag": _object(
        ["reason", "note", "user", "created_at"],
        {
            "reason": {"enum": FLAG_REASONS},
            "note": {"type": ["string", "null"]},
            "user": {"type": "string"},
            "created_at": TIME,
        },
    ),
    "Ban": _object(
        ["user", "banned", "banned_until", "ban_reason"],
        {
            "user": _ref("User"),
            "banned": {"type": "boolean"},
            "banned_until": {**NULLABLE_TIME, "description": "null while banned means for good"},
            "ban_reason": {"type": ["string", "null"]},
        },
    ),
    "Note": _object(
        ["body", "author", "created_at"],
        {"body": {"type": "string"}, "author": {"type": ["string", "null"]}, "created_at": TIME},
    ),
}
SCHEMAS["AuditEntry"] = _object(
    [
        "id",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target",
        "reason",
        "before",
        "after",
        "created_at",
    ],
    {
        "id": {"type": "integer"},
        "actor": {"type": ["string", "null"], "description": "null: an automatic rule"},
        "action": {"type": "string"},
        "target_type": {"enum": ["comment", "user", "thread", "settings", "site"]},
        "target_id": {"type": ["integer", "null"]},
        "target": {"type": "string"},
        "reason": {"type": ["string", "null"]},
        "before": {"type": "object"},
        "after": {"type": "object"},
        "created_at": TIME,
    },
)
SCHEMAS["Settings"] = {
    "type": "object",
    "description": "The automatic-hold settings; hook_secret only says whether one is set.",
    "properties": {
        "banned_words": {"type": "array", "items": {"type": "string"}},
        "banned_action": {"enum": ["refuse", "spam"]},
        "suspect_words": {"type": "array", "items": {"type": "string"}},
        "banned_email_domains": {"type": "array", "items": {"type": "string"}},
        "premoderated_email_domains": {"type": "array", "items": {"type": "string"}},
        "max_links": {"type": "integer"},
        "duplicate_hours": {"type": "integer"},
        "new_account_minutes": {"type": "integer"},
        "new_account_comments": {"type": "integer"},
        "rejection_threshold": {"type": "number"},
        "rejection_window": {"type": "integer"},
        "flag_threshold": {"type": "integer"},
        "trusted_after": {"type": "integer"},
        "hook_url": {"type": "string"},
        "hook_secret": {"type": ["boolean", "string"]},
    },
}
SCHEMAS["Notification"] = _object(
    ["id", "kind", "text", "detail", "comment_id", "thread_key", "actor", "created_at", "read"],
    {
        "id": {"type": "integer"},
        "kind": {
            "enum": [
                "reply",
                "thread_reply",
                "approved",
                "rejected",
                "theory_confirmed",
                "theory_debunked",
                "mention",
            ]
        },
        "text": {"type": "string"},
        "detail": {"type": ["string", "null"]},
        "comment_id": {"type": ["integer", "null"]},
        "thread_key": {"type": ["string", "null"]},
        "actor": {"type": ["string", "null"]},
        "created_at": TIME,
        "read": {"type": "boolean"},
    },
)
SCHEMAS["QueueItem"] = {
    "allOf": [
        {**SCHEMAS["Comment"], "additionalProperties": True},
        {
            "type": "object",
            "required": [
                "flags",
                "hold_reasons",
                "thread_title",
                "author_created_at",
                "author_record",
            ],
            "properties": {
                "flags": {"type": "array", "items": _ref("Flag")},
                "hold_reasons": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["rule", "detail"],
                        "properties": {"rule": {"type": "string"}, "detail": {"type": "string"}},
                    },
                },
                "thread_title": {"type": "string"},
                "author_created_at": NULLABLE_TIME,
                "author_record": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
    ]
}

AUDIT_PAGE = _object(
    ["entries", "next_cursor"],
    {
        "entries": {"type": "array", "items": _ref("AuditEntry")},
        "next_cursor": {"type": ["string", "null"]},
    },
)
CREDENTIALS = _object(
    ["username", "password"],
    {"username": {"type": "string"}, "password": {"type": "string"}},
)
USER_ANSWER = _object(["user"], {"user": _ref("User")})
COMMENT_ANSWER = _object(["comment"], {"comment": _ref("Comment")})

PATHS = {
    "/session": {
        "get": _operation(
            "The signed-in user (or null) and a CSRF token for cookie-authenticated calls",
            {
                "200": _answer(
                    "Session",
                    _object(
                        ["user", "csrf_token"],
                        {
                            "user": {"oneOf": [_ref("User"), {"type": "null"}]},
                            "csrf_token": {"type": "string"},
                        },
                    ),
                )
            },
        ),
        "post": _operation(
            "Sign in with the session cookie",
            {"200": _answer("Signed in", USER_ANSWER), **_errors(400, 401, 422, 429)},
            CREDENTIALS,
        ),
        "delete": _operation("Sign out", {"204": _answer("Signed out"), **_errors(400)}),
    },
    "/tokens": {
        "post": _operation(
            "Exchange a password, or a publisher's single sign-on token, for a bearer token",
            {
                "201": _answer(
                    "Token issued; it is shown only this once",
                    _object(
                        ["token", "expires_at", "user"],
                        {"token": {"type": "string"}, "expires_at": TIME, "user": _ref("User")},
                    ),
                ),
                **_errors(401, 422, 429),
            },
            {
                "oneOf": [
                    CREDENTIALS,
                    _object(
                        ["sso"],
                        {
                            "sso": {
                                "type": "string",
                                "description": "HS256 JWT signed with the site's secret: "
                                "exp (at most an hour ahead), sub, jti (used once); "
                                "optional username, name, email, iat, nbf, aud (the origin)",
                            },
                            "site": {
                                "type": "string",
                                "description": "origin of the page the embed is on; "
                                "if absent, the token header's kid, or the only site "
                                "set up for single sign-on",
                            },
                        },
                    ),
                ]
            },
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
            {"201": _answer("Created", USER_ANSWER), **_errors(400, 409, 415, 422, 429)},
            _object(
                ["username", "email", "password"],
                {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9_-]{3,30}$"},
                    "email": {"type": "string", "format": "email"},
                    "password": {"type": "string", "minLength": 10},
                },
            ),
        )
    },
    "/threads/{key}": {
        "get": _operation(
            "A thread",
            {"200": _answer("The thread", _ref("Thread")), **_errors(404)},
            parameters=[KEY],
        )
    },
    "/threads/{key}/comments": {
        "get": _operation(
            "A page of top-level comments, each with its whole reply tree",
            {
                "200": {
                    **_answer(
                        "One page",
                        _object(
                            ["thread", "comments", "next_cursor"],
                            {
                                "thread": _ref("Thread"),
                                "comments": {"type": "array", "items": _ref("Comment")},
                                "next_cursor": {"type": ["string", "null"]},
                            },
                        ),
                    ),
                    "headers": {"ETag": ETAG},
                },
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
                    "schema": {"enum": ["oldest", "newest", "top"], "default": "oldest"},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
        ),
        "post": _operation(
            "Post a comment or a reply; status says approved or pending",
            {
                "201": _answer("Posted", COMMENT_ANSWER),
                "200": {
                    **_answer(
                        "Already posted with this Idempotency-Key by this account: the "
                        "same comment again, nothing new made",
                        COMMENT_ANSWER,
                    ),
                    "headers": {"Idempotent-Replayed": {"schema": {"const": "true"}}},
                },
                **_errors(400, 401, 404, 409, 422, 429),
            },
            _object(
                ["body"],
                {
                    "body": {"type": "string", "minLength": 1, "maxLength": 10000},
                    "parent_id": {"type": ["integer", "null"]},
                    "theory_title": {"type": ["string", "null"], "minLength": 3, "maxLength": 120},
                    "spoiler": {"type": "boolean"},
                },
                additional=True,
            ),
            parameters=[KEY, IDEMPOTENCY_KEY],
        ),
    },
    "/comments/{id}": {
        "get": _operation(
            "One comment, without its replies",
            {"200": _answer("The comment", COMMENT_ANSWER), **_errors(404)},
            parameters=[COMMENT_ID],
        ),
        "patch": _operation(
            "Edit a comment (its author, inside the edit window)",
            {"200": _answer("Edited", COMMENT_ANSWER), **_errors(400, 401, 403, 404, 422, 429)},
            _object(["body"], {"body": {"type": "string"}}, additional=True),
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
                "200": _answer(
                    "The comment's score and your vote",
                    _object(
                        ["score", "my_vote"],
                        {"score": {"type": "integer"}, "my_vote": {"enum": [1, -1, 0]}},
                    ),
                ),
                **_errors(400, 401, 403, 404, 409, 422, 429),
            },
            _object(["value"], {"value": {"enum": [1, -1, 0]}}, additional=True),
            parameters=[COMMENT_ID],
        )
    },
    "/comments/{id}/flags": {
        "post": _operation(
            "Report a comment (one report per reader per comment, not one's own)",
            {
                "201": _answer(
                    "Reported",
                    _object(
                        ["flag"],
                        {
                            "flag": _object(
                                ["reason", "note", "created_at"],
                                {
                                    "reason": {"enum": FLAG_REASONS},
                                    "note": {"type": ["string", "null"]},
                                    "created_at": TIME,
                                },
                            )
                        },
                    ),
                ),
                **_errors(400, 401, 403, 404, 409, 422, 429),
            },
            _object(
                ["reason"],
                {"reason": {"enum": FLAG_REASONS}, "note": {"type": ["string", "null"]}},
                additional=True,
            ),
            parameters=[COMMENT_ID],
        )
    },
    "/moderation/queue/{name}": {
        "get": _operation(
            "A page of a moderation queue, oldest first (pending, reported) or newest first",
            {
                "200": _answer(
                    "One page",
                    _object(
                        ["items", "next_cursor"],
                        {
                            "items": {"type": "array", "items": _ref("QueueItem")},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    ),
                ),
                **_errors(401, 403, 404, 422),
            },
            parameters=[
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["pending", "reported", "spam", "rejected"]},
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
            "Act on a comment; 409 if it was already handled",
            {
                "200": _answer("Done", COMMENT_ANSWER),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            _object(
                ["action"],
                {
                    "action": {"enum": ACTIONS},
                    "reason": {"type": ["string", "null"], "description": "shown to the author"},
                    "note": {"type": ["string", "null"]},
                    "link": {"type": ["string", "null"], "format": "uri"},
                },
                additional=True,
            ),
            parameters=[COMMENT_ID],
            description=MODERATORS,
        )
    },
    "/moderation/settings": {
        "get": _operation(
            "The automatic-hold settings",
            {
                "200": _answer("Settings", _object(["settings"], {"settings": _ref("Settings")})),
                **_errors(403),
            },
            description="Admins only.",
        ),
        "patch": _operation(
            "Change some settings (the others keep their values); audited",
            {
                "200": _answer("Settings", _object(["settings"], {"settings": _ref("Settings")})),
                **_errors(400, 403),
            },
            _ref("Settings"),
            description="Admins only.",
        ),
    },
    "/moderation/log": {
        "get": _operation(
            "The audit log, newest first",
            {
                "200": _answer("A page", AUDIT_PAGE),
                **_errors(403, 404, 422),
            },
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
            {"200": _answer("A page", AUDIT_PAGE), **_errors(403, 422)},
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
            {
                "200": _answer(
                    "The record",
                    {
                        "allOf": [
                            {**SCHEMAS["Ban"], "additionalProperties": True},
                            {
                                "type": "object",
                                "required": ["record", "notes"],
                                "properties": {
                                    "record": {
                                        "type": "object",
                                        "additionalProperties": {"type": "integer"},
                                    },
                                    "notes": {"type": "array", "items": _ref("Note")},
                                },
                            },
                        ]
                    },
                ),
                **_errors(401, 403, 404),
            },
            parameters=[USERNAME],
            description=MODERATORS,
        )
    },
    "/moderation/users/{username}/ban": {
        "post": _operation(
            "Ban an account until a time, or for good without one",
            {"200": _answer("Banned", _ref("Ban")), **_errors(400, 401, 403, 404, 422)},
            _object(
                ["reason"],
                {
                    "until": {"type": ["string", "null"], "format": "date-time"},
                    "reason": {"type": "string"},
                },
                additional=True,
            ),
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
            {
                "201": _answer("Added", _object(["note"], {"note": _ref("Note")})),
                **_errors(400, 401, 403, 404, 422),
            },
            _object(["body"], {"body": {"type": "string"}}, additional=True),
            parameters=[USERNAME],
            description=MODERATORS,
        )
    },
    "/moderation/threads/{key}": {
        "patch": _operation(
            "Close or reopen a thread, or change its moderation mode",
            {"200": _answer("The thread", _ref("Thread")), **_errors(400, 401, 403, 404, 422)},
            _object(
                [],
                {
                    "status": {"enum": ["open", "closed"]},
                    "moderation": {"enum": ["pre", "post", "trusted", "default"]},
                    "spoiler_until": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "until then replies and theories start collapsed",
                    },
                },
                additional=True,
            ),
            parameters=[KEY],
            description=MODERATORS,
        )
    },
    "/users/{username}": {
        "get": _operation(
            "A reader's public profile and theory record",
            {
                "200": _answer(
                    "The profile",
                    _object(
                        ["user", "bio", "record", "theories"],
                        {
                            "user": _ref("User"),
                            "bio": {"type": "string"},
                            "record": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                            "theories": {"type": "array", "items": _ref("Comment")},
                        },
                    ),
                ),
                **_errors(404),
            },
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
            {
                "200": _answer(
                    "Notifications",
                    _object(
                        ["items", "unread"],
                        {
                            "items": {"type": "array", "items": _ref("Notification")},
                            "unread": {"type": "integer"},
                        },
                    ),
                )
            },
            parameters=[{"name": "before", "in": "query", "schema": {"type": "integer"}}],
        )
    },
    "/notifications/read": {
        "post": _operation(
            "Mark some (ids) or all notifications as read",
            {
                "200": _answer(
                    "Still unread", _object(["unread"], {"unread": {"type": "integer"}})
                ),
                **_errors(400),
            },
            _object([], {"ids": {"type": "array", "items": {"type": "integer"}}}, additional=True),
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
    "/counts": {
        "get": _operation(
            "Approved-comment counts for up to 200 thread keys",
            {
                "200": _answer(
                    "Counts",
                    _object(
                        ["counts"],
                        {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}},
                    ),
                ),
                **_errors(422),
            },
            parameters=[
                {"name": "keys", "in": "query", "required": True, "schema": {"type": "string"}}
            ],
        )
    },
    "/openapi.json": {
        "get": _operation("This document", {"200": _answer("OpenAPI 3.1", {"type": "object"})})
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
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{}, {"bearer": []}, {"cookie": []}],
        "paths": PATHS,
    }

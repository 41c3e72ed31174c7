"""A reader's own data, as JSON they can download (GET /api/v1/account/export,
"Download my data" on the account page).

Streamed: the document is written a section at a time and each section read in
batches by keyset, so an account with a hundred thousand comments costs the
server one batch of memory, not the whole answer. Nothing of anyone else's is in
it beyond the names of the threads, the other reader's username for a mute or a
notification, and the ids of comments voted on or flagged. Sessions and tokens
are described (when, until when), never their secrets.

    {"format": "forum-account-export", "version": 1, "exported_at": "...",
     "account": {...}, "comments": [...], "votes": [...], "flags": [...],
     "follows": [...], "notifications": [...], "mutes": [...],
     "sessions": [...], "tokens": [...], "identities": [...]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
from sqlalchemy import select
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import (
    ApiToken,
    Comment,
    EmbedSite,
    ExternalIdentity,
    Flag,
    Follow,
    Mute,
    Notification,
    Role,
    SsoIdentity,
    Thread,
    User,
    UserSession,
    Vote,
    utcnow,
)

FORMAT = "forum-account-export"
VERSION = 1
BATCH = 500


def _dump(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def _value(value):
    return value.value if hasattr(value, "value") and not isinstance(value, int) else value


def account(user: User) -> dict:
    staff = {}
    if user.role != Role.READER:  # a moderator's own choice of alert emails
        staff["moderation_alerts"] = user.moderation_alerts.value
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "email_verified_at": user.email_verified_at,
        "role": user.role.value,
        "created_at": user.created_at,
        "bio": user.bio,
        "email_notifications": list(user.email_kinds or []),
        "badges": list(user.badges or []),
        "banned_until": user.banned_until,
        "ban_reason": user.ban_reason,
        **staff,
    }


def _rows(statement, key, shape: Callable) -> Iterator[dict]:
    """The statement's rows by ascending key, BATCH at a time."""
    last = None
    while True:
        page = statement if last is None else statement.where(key > last)
        rows = db.session.execute(page.order_by(key).limit(BATCH)).all()
        for row in rows:
            yield shape(row)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def sections(user: User) -> list[tuple[str, Iterator[dict]]]:
    uid = user.id
    other = aliased(User)
    return [
        (
            "comments",
            _rows(
                select(
                    Comment.id,
                    Thread.key,
                    Thread.title,
                    Comment.parent_id,
                    Comment.body,
                    Comment.status,
                    Comment.created_at,
                    Comment.edited_at,
                    Comment.theory_title,
                    Comment.theory_status,
                    Comment.spoiler,
                    Comment.score,
                    Comment.moderation_reason,
                )
                .join(Thread, Thread.id == Comment.thread_id)
                .where(Comment.author_id == uid),
                Comment.id,
                lambda r: {
                    "id": r[0],
                    "thread_key": r[1],
                    "thread_title": r[2],
                    "parent_id": r[3],
                    "body": r[4],
                    "status": _value(r[5]),
                    "created_at": r[6],
                    "edited_at": r[7],
                    "theory_title": r[8],
                    "theory_status": _value(r[9]),
                    "spoiler": r[10],
                    "score": r[11],
                    "moderation_reason": r[12],
                },
            ),
        ),
        (
            "votes",
            _rows(
                select(Vote.id, Vote.comment_id, Vote.value, Vote.created_at).where(
                    Vote.user_id == uid
                ),
                Vote.id,
                lambda r: {"comment_id": r[1], "value": r[2], "created_at": r[3]},
            ),
        ),
        (
            "flags",
            _rows(
                select(Flag.id, Flag.comment_id, Flag.reason, Flag.note, Flag.created_at).where(
                    Flag.user_id == uid
                ),
                Flag.id,
                lambda r: {
                    "comment_id": r[1],
                    "reason": _value(r[2]),
                    "note": r[3],
                    "created_at": r[4],
                },
            ),
        ),
        (
            "follows",
            _rows(
                select(Follow.id, Thread.key, Thread.title, Follow.created_at)
                .join(Thread, Thread.id == Follow.thread_id)
                .where(Follow.user_id == uid),
                Follow.id,
                lambda r: {"thread_key": r[1], "thread_title": r[2], "created_at": r[3]},
            ),
        ),
        (
            "notifications",
            _rows(
                select(
                    Notification.id,
                    Notification.kind,
                    Notification.comment_id,
                    other.username,
                    Notification.detail,
                    Notification.created_at,
                    Notification.read_at,
                )
                .outerjoin(other, other.id == Notification.actor_id)
                .where(Notification.user_id == uid),
                Notification.id,
                lambda r: {
                    "id": r[0],
                    "kind": _value(r[1]),
                    "comment_id": r[2],
                    "actor": r[3],
                    "detail": r[4] or None,
                    "created_at": r[5],
                    "read_at": r[6],
                },
            ),
        ),
        (
            "mutes",
            _rows(
                select(Mute.id, other.username, Mute.created_at)
                .join(other, other.id == Mute.muted_id)
                .where(Mute.user_id == uid),
                Mute.id,
                lambda r: {"username": r[1], "created_at": r[2]},
            ),
        ),
        (
            "sessions",
            _rows(
                select(UserSession.id, UserSession.created_at, UserSession.revoked_at).where(
                    UserSession.user_id == uid
                ),
                UserSession.id,
                lambda r: {"signed_in_at": r[1], "signed_out_at": r[2]},
            ),
        ),
        (
            "tokens",
            _rows(
                select(
                    ApiToken.id, ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at
                ).where(ApiToken.user_id == uid),
                ApiToken.id,
                lambda r: {"created_at": r[1], "expires_at": r[2], "revoked_at": r[3]},
            ),
        ),
        (
            "identities",
            _identities(uid),
        ),
    ]


def _identities(uid: int) -> Iterator[dict]:
    for origin, created_at in db.session.execute(
        select(EmbedSite.origin, SsoIdentity.created_at)
        .join(EmbedSite, EmbedSite.id == SsoIdentity.site_id)
        .where(SsoIdentity.user_id == uid)
        .order_by(SsoIdentity.id)
    ):
        yield {"kind": "site_sign_on", "site": origin, "created_at": created_at}
    for provider, email, created_at in db.session.execute(
        select(ExternalIdentity.provider, ExternalIdentity.email, ExternalIdentity.created_at)
        .where(ExternalIdentity.user_id == uid)
        .order_by(ExternalIdentity.id)
    ):
        yield {"kind": "provider", "provider": provider, "email": email, "created_at": created_at}


def stream(user: User) -> Iterator[bytes]:
    """The document, in pieces; each section's items one per line."""
    head = {"format": FORMAT, "version": VERSION, "exported_at": utcnow()}
    yield _dump(head)[:-1] + b',\n"account":' + _dump(account(user))
    for name, items in sections(user):
        yield b',\n"' + name.encode() + b'":['
        first = True
        for item in items:
            yield (b"\n" if first else b",\n") + _dump(item)
            first = False
        yield b"]"
    yield b"}\n"


def document(user: User) -> dict:
    """The same, as one object (tests, small accounts)."""
    return orjson.loads(b"".join(stream(user)))

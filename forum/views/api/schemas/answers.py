"""The API's answers, as TypedDicts: the serializers (forum.views.api.serializers)
build plain dicts of these shapes on the hot path and orjson dumps them; the
document is generated from these, and tests/views/test_openapi.py validates real
answers against it.  Enums come from forum.models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, StrictFloat, StrictInt, StrictStr
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from forum.models import (
    CommentStatus,
    FlagReason,
    ModerationMode,
    NotificationKind,
    Role,
    TheoryStatus,
    ThreadStatus,
)
from forum.services import settings

CLOSED = ConfigDict(extra="forbid")


def _closed(cls):
    """A TypedDict whose documented shape has no other keys."""
    cls.__pydantic_config__ = CLOSED
    return cls


# -- answers ------------------------------------------------------------------------


@_closed
class ErrorDetail(TypedDict):
    code: str
    message: str
    fields: NotRequired[dict[str, str]]


@_closed
class Error(TypedDict):
    error: ErrorDetail


@_closed
class User(TypedDict):
    username: str
    display_name: str
    role: Role
    created_at: datetime
    email: NotRequired[
        Annotated[
            str | None,
            Field(description="only to its owner and admins; null: none on record"),
        ]
    ]


@_closed
class Thread(TypedDict):
    key: str
    title: str
    url: str | None
    status: ThreadStatus
    moderation: ModerationMode
    comment_count: Annotated[int, Field(ge=0)]


@_closed
class Author(TypedDict):
    username: str
    display_name: str
    guest: NotRequired[
        Annotated[Literal[True], Field(description="posted as a guest, without an account")]
    ]
    role: NotRequired[
        Annotated[
            Literal["moderator", "admin"],
            Field(description="only for the forum's staff; readers have none"),
        ]
    ]
    badges: NotRequired[
        Annotated[
            list[str],
            Field(description="labels the publisher's sign-on vouched for, e.g. subscriber"),
        ]
    ]


@_closed
class GuestChallenge(TypedDict):
    challenge: Annotated[
        str,
        Field(
            description='find a decimal nonce such that SHA-256 of "<challenge>:<nonce>" '
            "starts with `bits` zero bits; send both as guest_proof (once)"
        ),
    ]
    bits: Annotated[int, Field(ge=8, le=24)]
    expires_at: datetime


@_closed
class Comment(TypedDict):
    id: int
    thread_key: str
    parent_id: int | None
    author: Author | None
    html: Annotated[str, Field(description="sanitized once, at write time")]
    body: NotRequired[Annotated[str, Field(description="the Markdown source; only to its author")]]
    created_at: datetime
    edited_at: datetime | None
    status: CommentStatus
    score: int
    is_theory: bool
    theory_title: str | None
    theory_status: TheoryStatus | None
    spoiler: bool
    featured: bool
    replies: list[Comment]
    moderation_reason: NotRequired[
        Annotated[str, Field(description="why it was rejected; to its author and moderators")]
    ]
    revision: NotRequired[
        Annotated[
            int,
            Field(
                description="to moderators, in the queue, GET /comments/{id} and moderation "
                "answers: send it back as revision when acting, and the action is refused "
                "(409 conflict) if the comment changed since"
            ),
        ]
    ]


@_closed
class Flag(TypedDict):
    reason: FlagReason
    note: str | None
    user: str
    created_at: datetime


@_closed
class HoldReason(TypedDict):
    rule: str
    detail: str


@_closed
class QueueItem(Comment):
    flags: list[Flag]
    hold_reasons: list[HoldReason]
    thread_title: str
    author_created_at: datetime | None
    author_record: dict[str, int]


@_closed
class Ban(TypedDict):
    user: User
    banned: bool
    banned_until: Annotated[datetime | None, Field(description="null while banned means for good")]
    ban_reason: str | None


@_closed
class Note(TypedDict):
    body: str
    author: str | None
    created_at: datetime


@_closed
class UserRecord(Ban):
    record: dict[str, int]
    notes: list[Note]


@_closed
class AuditEntry(TypedDict):
    id: int
    actor: Annotated[str | None, Field(description="null: an automatic rule")]
    action: Annotated[
        str,
        Field(description="a ModerationAction, or ban, unban, note, thread, settings, ..."),
    ]
    target_type: Literal["comment", "user", "thread", "settings", "site"]
    target_id: int | None
    target: str
    reason: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    created_at: datetime


@_closed
class Notification(TypedDict):
    id: int
    kind: NotificationKind
    text: str
    detail: str | None
    comment_id: int | None
    thread_key: str | None
    actor: str | None
    created_at: datetime
    read: bool


def setting_type(field: settings.Field, answer: bool) -> Any:
    if field.kind == "words":
        return list[StrictStr]
    if field.kind == "choice":
        return Literal[field.choices]
    if field.kind == "int":
        return StrictInt
    if field.kind == "float":
        return StrictInt | StrictFloat
    if field.kind == "secret" and answer:
        return bool  # only whether one is set
    return StrictStr


# The settings' shape, from the settings' own list (forum.services.settings.FIELDS).
Settings = _closed(
    TypedDict(
        "Settings",
        {field.key: NotRequired[setting_type(field, answer=True)] for field in settings.FIELDS},
    )
)
Settings.__doc__ = (
    "The automatic-hold and alert settings; a secret (hook_secret, alert_webhook_secret) "
    "only says whether one is set."
)


@_closed
class UserAnswer(TypedDict):
    user: User


@_closed
class SessionAnswer(TypedDict):
    user: User | None
    csrf_token: str


@_closed
class TokenAnswer(TypedDict):
    token: str
    expires_at: datetime
    user: User


@_closed
class CommentAnswer(TypedDict):
    comment: Comment


@_closed
class CommentPage(TypedDict):
    thread: Thread
    comments: list[Comment]
    next_cursor: str | None


@_closed
class FlagSent(TypedDict):
    reason: FlagReason
    note: str | None
    created_at: datetime


@_closed
class FlagAnswer(TypedDict):
    flag: FlagSent


@_closed
class VoteAnswer(TypedDict):
    score: int
    my_vote: Literal[1, -1, 0]


@_closed
class QueuePage(TypedDict):
    items: list[QueueItem]
    next_cursor: str | None


@_closed
class AuditPage(TypedDict):
    entries: list[AuditEntry]
    next_cursor: str | None


@_closed
class NoteAnswer(TypedDict):
    note: Note


@_closed
class SettingsAnswer(TypedDict):
    settings: Settings


@_closed
class Profile(TypedDict):
    user: User
    bio: str
    record: dict[str, int]
    theories: list[Comment]


@_closed
class NotificationList(TypedDict):
    items: list[Notification]
    unread: int


@_closed
class Unread(TypedDict):
    unread: int


@_closed
class Counts(TypedDict):
    counts: dict[str, int]
    # "3 comments" in the reader's language (?lang=, else Accept-Language).
    labels: dict[str, str]


@_closed
class UserList(TypedDict):
    users: list[User]
    next_after: Annotated[
        str | None, Field(description="send as after= for the next page; null: the last page")
    ]


@_closed
class AccountExport(TypedDict):
    """The signed-in reader's own data (forum.services.accounts.data_export)."""

    format: Literal["forum-account-export"]
    version: Literal[1]
    exported_at: datetime
    account: dict[str, Any]
    comments: Annotated[list[dict[str, Any]], Field(description="with their Markdown bodies")]
    votes: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    follows: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    mutes: list[dict[str, Any]]
    sessions: Annotated[list[dict[str, Any]], Field(description="when, never the keys")]
    tokens: Annotated[list[dict[str, Any]], Field(description="when, never the tokens")]
    identities: list[dict[str, Any]]

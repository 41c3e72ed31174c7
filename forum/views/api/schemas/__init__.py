"""The JSON API's requests and answers, described once.

bodies.py: the request bodies, pydantic models every endpoint validates its JSON
against.  answers.py: the answers, TypedDicts the serializers are written to.
Both read their enums from forum.models; components() turns them all into the
OpenAPI document's schemas (forum.views.api.openapi), so what is accepted,
what is answered and what is documented cannot drift apart.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from forum.views.api.schemas.answers import (
    AccountExport,
    AuditEntry,
    AuditPage,
    Author,
    Ban,
    Comment,
    CommentAnswer,
    CommentPage,
    Counts,
    Error,
    ErrorDetail,
    Flag,
    FlagAnswer,
    FlagSent,
    GuestChallenge,
    HoldReason,
    Note,
    NoteAnswer,
    Notification,
    NotificationList,
    Profile,
    QueueItem,
    QueuePage,
    SessionAnswer,
    Settings,
    SettingsAnswer,
    Thread,
    TokenAnswer,
    Unread,
    User,
    UserAnswer,
    UserList,
    UserRecord,
    VoteAnswer,
)
from forum.views.api.schemas.bodies import (
    AccountDeletion,
    AdminDeletion,
    BanRequest,
    CommentEdit,
    Credentials,
    FlagRequest,
    GuestProof,
    ModerationRequest,
    NewComment,
    NoteRequest,
    ReadNotifications,
    Registration,
    Request,
    SettingsChange,
    SsoExchange,
    Text,
    ThreadChange,
    ThreadModeration,
    UserChange,
    VoteRequest,
    check,
)

# -- the document's components ----------------------------------------------------------

ANSWERS = (
    Error, User, Thread, Author, Comment, Flag, QueueItem, Ban, Note, UserRecord, AuditEntry,
    Notification, Settings, UserAnswer, SessionAnswer, TokenAnswer, CommentAnswer, CommentPage,
    FlagAnswer, VoteAnswer, QueuePage, AuditPage, NoteAnswer, SettingsAnswer, Profile,
    NotificationList, Unread, Counts, GuestChallenge, UserList, AccountExport,
)  # fmt: skip
REQUESTS = (
    Credentials, SsoExchange, Registration, NewComment, CommentEdit, VoteRequest, FlagRequest,
    ModerationRequest, BanRequest, NoteRequest, ThreadChange, ReadNotifications, SettingsChange,
    GuestProof, AccountDeletion, UserChange, AdminDeletion,
)  # fmt: skip
REF = "#/components/schemas/{model}"


class _Document(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:
        return False  # "Theory Title" next to theory_title says nothing more


def components() -> dict[str, dict]:
    """Every schema above, by name, as OpenAPI 3.1 components."""
    adapters = [(kind, "validation", TypeAdapter(kind)) for kind in (*ANSWERS, *REQUESTS)]
    _, document = TypeAdapter.json_schemas(adapters, ref_template=REF, schema_generator=_Document)
    return document["$defs"]


def ref(kind: type) -> dict:
    return {"$ref": REF.format(model=kind.__name__)}


__all__ = [
    "GuestChallenge",
    "GuestProof",
    "ANSWERS",
    "AccountDeletion",
    "AccountExport",
    "AdminDeletion",
    "AuditEntry",
    "AuditPage",
    "Author",
    "Ban",
    "BanRequest",
    "Comment",
    "CommentAnswer",
    "CommentEdit",
    "CommentPage",
    "Counts",
    "Credentials",
    "Error",
    "ErrorDetail",
    "Flag",
    "FlagAnswer",
    "FlagRequest",
    "FlagSent",
    "HoldReason",
    "ModerationRequest",
    "NewComment",
    "Note",
    "NoteAnswer",
    "NoteRequest",
    "Notification",
    "NotificationList",
    "Profile",
    "QueueItem",
    "QueuePage",
    "REQUESTS",
    "ReadNotifications",
    "Registration",
    "Request",
    "SessionAnswer",
    "Settings",
    "SettingsAnswer",
    "SettingsChange",
    "SsoExchange",
    "Text",
    "Thread",
    "ThreadChange",
    "ThreadModeration",
    "TokenAnswer",
    "Unread",
    "User",
    "UserAnswer",
    "UserChange",
    "UserList",
    "UserRecord",
    "VoteAnswer",
    "VoteRequest",
    "check",
    "components",
    "ref",
]

"""Tables and enums.  Models hold data and tiny derived properties, never queries.

One module per domain; every name is importable from forum.models as before."""

from forum.models.accounts import (
    ApiToken,
    ExternalIdentity,
    Mute,
    SpentToken,
    SsoIdentity,
    SsoTokenUse,
    User,
    UserSession,
)
from forum.models.columns import (
    MAX_INT,
    PERMANENT,
    UTCDateTime,
    is_id,
    render_migration_item,
    utcnow,
)
from forum.models.discussion import (
    Article,
    Comment,
    CommentRevision,
    EmbedSite,
    Follow,
    Thread,
    Vote,
)
from forum.models.enums import (
    AlertFrequency,
    CommentStatus,
    FlagReason,
    ModerationAction,
    ModerationMode,
    NotificationKind,
    Role,
    TheoryStatus,
    ThreadStatus,
)
from forum.models.moderation import AuditEntry, Flag, Setting, UserNote
from forum.models.notify import (
    OUTBOX_EMAIL,
    OUTBOX_WEBHOOK,
    ModeratorAlert,
    Notification,
    OutboxMessage,
)
from forum.models.records import IdempotencyKey, ImportRecord, RateCounter
from forum.models.search_index import include_name as include_search_objects

__all__ = [
    "AlertFrequency",
    "ApiToken",
    "Article",
    "ExternalIdentity",
    "AuditEntry",
    "Comment",
    "CommentRevision",
    "CommentStatus",
    "EmbedSite",
    "Flag",
    "FlagReason",
    "Follow",
    "IdempotencyKey",
    "ImportRecord",
    "MAX_INT",
    "ModerationAction",
    "ModerationMode",
    "ModeratorAlert",
    "Mute",
    "Notification",
    "NotificationKind",
    "OUTBOX_EMAIL",
    "OUTBOX_WEBHOOK",
    "OutboxMessage",
    "PERMANENT",
    "RateCounter",
    "Role",
    "Setting",
    "SsoIdentity",
    "SsoTokenUse",
    "SpentToken",
    "TheoryStatus",
    "Thread",
    "ThreadStatus",
    "UTCDateTime",
    "User",
    "UserNote",
    "UserSession",
    "Vote",
    "include_search_objects",
    "is_id",
    "render_migration_item",
    "utcnow",
]

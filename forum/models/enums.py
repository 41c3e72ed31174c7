"""The enums: roles, comment and thread states, moderation modes, actions and flag
reasons, notification kinds, how often moderators hear about what waits."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    ADMIN = "admin"


class CommentStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class ModerationMode(enum.StrEnum):
    PRE = "pre"
    POST = "post"
    TRUSTED = "trusted"


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    SPOILER = "spoiler"
    OTHER = "other"


class ModerationAction(enum.StrEnum):
    """What a moderator can do to a comment (services.moderation.decisions)."""

    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    RESTORE = "restore"
    FEATURE = "feature"
    UNFEATURE = "unfeature"
    MARK_SPOILER = "mark_spoiler"
    UNMARK_SPOILER = "unmark_spoiler"
    CONFIRM_THEORY = "confirm_theory"
    DEBUNK_THEORY = "debunk_theory"
    REOPEN_THEORY = "reopen_theory"


class NotificationKind(enum.StrEnum):
    REPLY = "reply"  # someone replied to your comment
    THREAD_REPLY = "thread_reply"  # a new comment in a thread you follow
    APPROVED = "approved"  # your held comment was approved
    REJECTED = "rejected"  # ... or rejected, with the reason
    THEORY_CONFIRMED = "theory_confirmed"
    THEORY_DEBUNKED = "theory_debunked"
    MENTION = "mention"  # @username in a comment


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TheoryStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DEBUNKED = "debunked"


class AlertFrequency(enum.StrEnum):
    """How often a moderator is emailed about comments waiting for them
    (forum.services.notify.alerts): each email lists everything since the last."""

    IMMEDIATE = "immediate"  # at the next delivery pass, seconds after the hold
    HOURLY = "hourly"  # an hour after the first item of the batch
    DAILY = "daily"  # a day after it
    OFF = "off"

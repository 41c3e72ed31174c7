"""What the product's fixed values are called in the reader's language: roles,
statuses, modes, reasons, actions.  The values themselves (stored, and in the API)
never change with the language; pages show `value|label` instead of `value`."""

from __future__ import annotations

import enum

from flask_babel import gettext, lazy_gettext, ngettext

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

# Keyed by (enum, value): the enums are StrEnums, so CommentStatus.SPAM and
# FlagReason.SPAM are equal to "spam" and to each other.
LABELS: dict[tuple[type, str], object] = {
    (Role, Role.READER.value): lazy_gettext("reader"),
    (Role, Role.MODERATOR.value): lazy_gettext("moderator"),
    (Role, Role.ADMIN.value): lazy_gettext("admin"),
    (CommentStatus, CommentStatus.APPROVED.value): lazy_gettext("approved"),
    (CommentStatus, CommentStatus.PENDING.value): lazy_gettext("pending"),
    (CommentStatus, CommentStatus.REJECTED.value): lazy_gettext("rejected"),
    (CommentStatus, CommentStatus.SPAM.value): lazy_gettext("spam"),
    (CommentStatus, CommentStatus.DELETED.value): lazy_gettext("deleted"),
    (ModerationMode, ModerationMode.PRE.value): lazy_gettext(
        "pre-moderation (held until approved)"
    ),
    (ModerationMode, ModerationMode.POST.value): lazy_gettext("post-moderation"),
    (ModerationMode, ModerationMode.TRUSTED.value): lazy_gettext("trusted readers first"),
    (FlagReason, FlagReason.SPAM.value): lazy_gettext("spam"),
    (FlagReason, FlagReason.ABUSE.value): lazy_gettext("abuse"),
    (FlagReason, FlagReason.OFF_TOPIC.value): lazy_gettext("off topic"),
    (FlagReason, FlagReason.SPOILER.value): lazy_gettext("unmarked spoiler"),
    (FlagReason, FlagReason.OTHER.value): lazy_gettext("something else"),
    (ModerationAction, ModerationAction.APPROVE.value): lazy_gettext("approved"),
    (ModerationAction, ModerationAction.REJECT.value): lazy_gettext("rejected"),
    (ModerationAction, ModerationAction.SPAM.value): lazy_gettext("marked as spam"),
    (ModerationAction, ModerationAction.RESTORE.value): lazy_gettext("restored"),
    (ModerationAction, ModerationAction.FEATURE.value): lazy_gettext("featured"),
    (ModerationAction, ModerationAction.UNFEATURE.value): lazy_gettext("unfeatured"),
    (ModerationAction, ModerationAction.MARK_SPOILER.value): lazy_gettext("marked as spoiler"),
    (ModerationAction, ModerationAction.UNMARK_SPOILER.value): lazy_gettext("unmarked as spoiler"),
    (ModerationAction, ModerationAction.CONFIRM_THEORY.value): lazy_gettext("confirmed the theory"),
    (ModerationAction, ModerationAction.DEBUNK_THEORY.value): lazy_gettext("debunked the theory"),
    (ModerationAction, ModerationAction.REOPEN_THEORY.value): lazy_gettext("reopened the theory"),
    (NotificationKind, NotificationKind.REPLY.value): lazy_gettext(
        "Someone replies to one of my comments"
    ),
    (NotificationKind, NotificationKind.THREAD_REPLY.value): lazy_gettext(
        "A new comment appears in a discussion I follow"
    ),
    (NotificationKind, NotificationKind.APPROVED.value): lazy_gettext(
        "A moderator approves my held comment"
    ),
    (NotificationKind, NotificationKind.REJECTED.value): lazy_gettext(
        "A moderator rejects my held comment"
    ),
    (NotificationKind, NotificationKind.THEORY_CONFIRMED.value): lazy_gettext(
        "One of my theories is confirmed"
    ),
    (NotificationKind, NotificationKind.THEORY_DEBUNKED.value): lazy_gettext(
        "One of my theories is debunked"
    ),
    (NotificationKind, NotificationKind.MENTION.value): lazy_gettext(
        "Someone mentions me (@username)"
    ),
    (AlertFrequency, AlertFrequency.IMMEDIATE.value): lazy_gettext("As they happen"),
    (AlertFrequency, AlertFrequency.HOURLY.value): lazy_gettext("An hourly digest"),
    (AlertFrequency, AlertFrequency.DAILY.value): lazy_gettext("A daily digest"),
    (AlertFrequency, AlertFrequency.OFF.value): lazy_gettext(
        "Never (the count in the header only)"
    ),
    (ThreadStatus, ThreadStatus.OPEN.value): lazy_gettext("open"),
    (ThreadStatus, ThreadStatus.CLOSED.value): lazy_gettext("closed"),
    (TheoryStatus, TheoryStatus.OPEN.value): lazy_gettext("open theory"),
    (TheoryStatus, TheoryStatus.CONFIRMED.value): lazy_gettext("confirmed"),
    (TheoryStatus, TheoryStatus.DEBUNKED.value): lazy_gettext("debunked"),
}


def label(value) -> str:
    """value (an enum member) as the reader's language says it; anything else as is."""
    found = LABELS.get((type(value), value.value)) if isinstance(value, enum.Enum) else None
    return str(found) if found is not None else str(getattr(value, "value", value))


def hold_reason(reason: dict) -> str:
    """Why the automatic rules held a comment, in the moderator's language, from
    the rule and the numbers kept with it; a reason stored before those were kept
    (or one this table does not know) shows its English as written."""
    rule, args, words = reason.get("rule"), reason.get("args") or {}, reason.get("words") or []
    try:
        if rule == "banned_word" and words:
            return gettext("Banned words: %(words)s", words=", ".join(words))
        if rule == "suspect_word" and words:
            return gettext("Suspect words: %(words)s", words=", ".join(words))
        if rule == "email_domain":
            return gettext("Email domain held for review: %(domain)s", domain=args["domain"])
        if rule == "rejection_rate":
            return ngettext(
                "%(bad)s of the author's last %(num)s comment was removed by moderators",
                "%(bad)s of the author's last %(num)s comments were removed by moderators",
                args["total"],
                bad=args["bad"],
            )
        if rule == "links":
            return ngettext("%(num)s link", "%(num)s links", args["num"])
        if rule == "duplicate":
            return gettext("Same text posted again by the same account")
        if rule == "new_account":
            return ngettext(
                "Comment number %(nth)s from an account %(num)s minute old",
                "Comment number %(nth)s from an account %(num)s minutes old",
                args["num"],
                nth=args["nth"],
            )
        if rule == "guest_trap":
            return gettext("A field only robots fill was filled in")
        if rule == "guest_unproven":
            return gettext(
                "Guest comment without a valid proof of work (%(problem)s)", problem=args["problem"]
            )
        if rule == "guest_fast":
            return ngettext(
                "Guest comment sent %(num)s second after the form opened",
                "Guest comment sent %(num)s seconds after the form opened",
                args["num"],
            )
        if rule == "guest":
            return gettext("Comments from guests wait for review")
        if rule == "hook":
            return gettext("The moderation service says: %(reason)s", reason=args["reason"])
        if rule == "flags":
            return ngettext(
                "Hidden after %(num)s reader report",
                "Hidden after %(num)s reader reports",
                args["num"],
            )
    except (KeyError, TypeError):
        pass
    return str(reason.get("detail", ""))

"""Telling moderators that something waits for them.

When the automatic rules hold a comment (Pending or Spam: a guest's, a
suspect word's, a pre-moderated thread's…) or readers' reports hide one,
comment_held() is called in that transaction and

- writes one ModeratorAlert per moderator who wants email about it (one
  INSERT … SELECT over the staff, ix_users_role), and
- queues a call of the alerts webhook, if an admin set one up (settings
  alert_webhook_*), in the outbox (forum.services.notify.webhooks says what).

queue_digests() runs before every delivery pass (the background sender and
`flask --app forum mail send`) and turns each moderator's waiting alerts into
one email in the outbox when their choice says it is time:

- immediate: at the next pass (seconds; a burst of holds makes one email);
- hourly / daily: an hour / a day after the first alert of the batch, so a
  moderator gets at most one email per hour / day, listing all since the last;
- off: nothing (and nothing is kept for them).

Each alert row is claimed once (a conditional UPDATE, as the outbox claims its
rows), so no two passes tell the same thing twice; the email then goes out, and
is retried, as every other outbox message.  A digest lists only what still
waits when it is written: what another moderator decided meanwhile is left out,
and a digest with nothing left is not sent.

The in-app count (the header's badge) is forum.services.moderation.queues.waiting_count().
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from forum import i18n, links, permissions
from forum.addresses import is_web_address
from forum.errors import ValidationError
from forum.extensions import db
from forum.markup import spoiler_free_text
from forum.models import (
    AlertFrequency,
    Comment,
    CommentStatus,
    ModeratorAlert,
    Role,
    User,
    UTCDateTime,
    utcnow,
)
from forum.services import settings
from forum.services.discussion import spoilers
from forum.services.notify import outbox, webhooks
from forum.vocabulary import hold_reason

log = logging.getLogger(__name__)

HELD, SPAM, REPORTED = "held", "spam", "reported"
# Which queue each kind of alert points to.
QUEUE = {HELD: "pending", SPAM: "spam", REPORTED: "reported"}
WAIT = {
    AlertFrequency.IMMEDIATE: timedelta(0),
    AlertFrequency.HOURLY: timedelta(hours=1),
    AlertFrequency.DAILY: timedelta(days=1),
}
# The digest's footer, a whole sentence for each choice.
WHY_SENT = {
    AlertFrequency.IMMEDIATE: lazy_gettext(
        "You get this email because you asked to hear about comments waiting for "
        "moderation as they happen."
    ),
    AlertFrequency.HOURLY: lazy_gettext(
        "You get this email because you chose an hourly digest of comments waiting for moderation."
    ),
    AlertFrequency.DAILY: lazy_gettext(
        "You get this email because you chose a daily digest of comments waiting for moderation."
    ),
}
DIGEST_ITEMS = 30  # listed in one email; the rest are counted, with the queue's link
EXCERPT = 240  # characters of each comment
KEEP = timedelta(days=8)  # queued alerts are cleared away after this


# -- when something is held -----------------------------------------------------------


def comment_held(comment: Comment, hidden_by_reports: bool = False) -> None:
    """Alert the moderators that comment waits (its status is set, its
    hold_reasons written), in the current transaction."""
    if hidden_by_reports:
        reason = REPORTED
    elif comment.status == CommentStatus.SPAM:
        reason = SPAM
    else:
        reason = HELD
    now = utcnow()
    _tell_moderators(comment, reason, now)
    _queue_webhook(comment, reason, now)


def _tell_moderators(comment: Comment, reason: str, now: datetime) -> None:
    staff = select(
        User.id,
        literal(comment.id),
        literal(reason),
        literal(now, UTCDateTime),
    ).where(
        User.role.in_([Role.MODERATOR, Role.ADMIN]),
        User.moderation_alerts != AlertFrequency.OFF,
        User.email.is_not(None),
        User.deleted_at.is_(None),
        or_(User.banned_until.is_(None), User.banned_until <= now),
    )
    if comment.author_id is not None:
        staff = staff.where(User.id != comment.author_id)  # never about oneself
    db.session.execute(
        insert(ModeratorAlert).from_select(["user_id", "comment_id", "reason", "created_at"], staff)
    )


def _queue_webhook(comment: Comment, reason: str, now: datetime) -> None:
    values = settings.current()
    url = values.get("alert_webhook_url") or ""
    if not is_web_address(url):
        return
    style = values.get("alert_webhook_format")
    style = style if style in webhooks.FORMATS else "generic"
    # Said to a team, not to one person: in the site's language.
    with i18n.recipient_language(None):
        body = webhooks.payload(describe(comment, reason, now), style)
    outbox.enqueue_webhook(url, body, comment_id=comment.id)


def describe(comment: Comment, reason: str, now: datetime) -> dict:
    """What an alert says about a comment (forum.services.notify.webhooks.payload)."""
    thread = comment.thread
    thread_url = thread.url
    if thread_url is None and thread.article_id is not None:
        thread_url = links.external("pages.article", slug=thread.key)
    author = comment.author
    reasons = list(comment.hold_reasons or [])
    return {
        "event": "comment.hidden" if reason == REPORTED else "comment.held",
        "status": comment.status.value,
        "created_at": now,
        "headline": headline(reason, thread.title),
        "why": [hold_reason(r) for r in reasons],
        "reasons": [{"rule": r.get("rule"), "detail": r.get("detail")} for r in reasons],
        "comment": {
            "id": comment.id,
            "url": links.external("comments.show", comment_id=comment.id),
            "excerpt": excerpt(comment),
            "author": None
            if author is None
            else {
                "username": author.username,
                "display_name": author.display_name,
                "guest": author.is_guest,
            },
            "created_at": comment.created_at,
        },
        "thread": {"key": thread.key, "title": thread.title, "url": thread_url},
        "queue_url": queue_link(comment.id, reason),
    }


def headline(reason: str, title: str) -> str:
    if reason == REPORTED:
        return gettext("Hidden by readers' reports on “%(title)s”", title=title)
    if reason == SPAM:
        return gettext("Held as spam on “%(title)s”", title=title)
    return gettext("Held for review on “%(title)s”", title=title)


def excerpt(comment: Comment) -> str:
    """The comment's words for an alert, on one line: never a spoiler."""
    if spoilers.withheld(comment):
        return gettext("(Covered because of spoilers: read it on the site.)")
    text = spoiler_free_text(comment.html, EXCERPT, placeholder=gettext("[spoiler]"))
    return " ".join(text.split())


def queue_link(comment_id: int, reason: str) -> str:
    return links.external("moderation.queue", name=QUEUE[reason]) + f"#item-{comment_id}"


# -- the digests -------------------------------------------------------------------------


def queue_digests(now: datetime | None = None) -> int:
    """Put each moderator's due digest in the outbox; returns how many.

    Runs in short transactions of its own (like outbox.send_due(): call it from a
    delivery pass, never inside a request); a database error is logged and the
    rest waits for the next pass.
    """
    now = now or utcnow()
    waiting = db.session.execute(
        select(ModeratorAlert.user_id, func.min(ModeratorAlert.created_at))
        .where(ModeratorAlert.queued_at.is_(None))
        .group_by(ModeratorAlert.user_id)
    ).all()
    db.session.commit()  # end the read
    queued = 0
    for user_id, oldest in waiting:
        try:
            queued += _digest(user_id, oldest, now)
            db.session.commit()
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning(
                "alerts: database trouble while writing a digest: %s", outbox.summary(error)
            )
            break
    if waiting:
        _clear_old(now)
    return queued


def _digest(user_id: int, oldest: datetime, now: datetime) -> int:
    """Claim and write one moderator's digest if it is due; 1 if an email was queued."""
    user = db.session.get(User, user_id)
    if user is None:  # went with its alerts (ON DELETE CASCADE) meanwhile
        return 0
    wanted = (
        user.moderation_alerts != AlertFrequency.OFF
        and bool(user.email)
        and user.deleted_at is None
        and permissions.can_moderate(user)
    )
    if wanted and oldest + WAIT[user.moderation_alerts] > now:
        return 0  # not yet
    if not _claim(user.id, now) or not wanted:
        return 0  # another pass has them, or nobody is to hear of them
    rows = db.session.execute(
        select(ModeratorAlert.comment_id, ModeratorAlert.reason)
        .join(Comment, Comment.id == ModeratorAlert.comment_id)
        .where(
            ModeratorAlert.user_id == user.id,
            ModeratorAlert.queued_at == now,
            _still_waits(),
        )
        .order_by(ModeratorAlert.id)
    ).all()
    # One line per comment, with its latest reason, in the order they came.
    latest = {}
    for comment_id, reason in rows:
        latest.pop(comment_id, None)
        latest[comment_id] = reason
    if not latest:
        return 0  # all decided already
    shown = list(latest.items())[:DIGEST_ITEMS]
    found = {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .options(selectinload(Comment.author), selectinload(Comment.thread))
            .where(Comment.id.in_([comment_id for comment_id, _ in shown]))
        )
    }
    items = [(found[cid], reason) for cid, reason in shown if cid in found]
    with i18n.recipient_language(user):
        subject, body = digest_text(user, items, len(latest))
    outbox.enqueue_to_moderator(user, subject, body)
    return 1


def _claim(user_id: int, now: datetime) -> bool:
    """Mark this moderator's unqueued alerts as taken by this pass (stamped with
    `now`); False if another pass took them first."""
    result = db.session.execute(
        update(ModeratorAlert)
        .where(
            ModeratorAlert.user_id == user_id,
            ModeratorAlert.queued_at.is_(None),
            ModeratorAlert.created_at <= now,
        )
        .values(queued_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount > 0


def _still_waits():
    """The alert's comment is still where the alert said (no one decided yet)."""
    return or_(
        and_(ModeratorAlert.reason == HELD, Comment.status == CommentStatus.PENDING),
        and_(ModeratorAlert.reason == SPAM, Comment.status == CommentStatus.SPAM),
        and_(
            ModeratorAlert.reason == REPORTED,
            Comment.open_flags > 0,
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.PENDING]),
        ),
    )


def _clear_old(now: datetime) -> None:
    try:
        db.session.execute(delete(ModeratorAlert).where(ModeratorAlert.queued_at < now - KEEP))
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("alerts: could not clear old alerts: %s", outbox.summary(error))


def digest_text(user: User, items: list[tuple[Comment, str]], total: int) -> tuple[str, str]:
    """Subject and body of a digest, in the current language (the caller's
    recipient_language)."""
    subject = ngettext(
        "%(num)s comment waits for moderation",
        "%(num)s comments wait for moderation",
        total,
    )
    lines = [
        ngettext(
            "%(num)s comment waits for a moderator:",
            "%(num)s comments wait for a moderator:",
            total,
        ),
        "",
    ]
    for number, (comment, reason) in enumerate(items, 1):
        author = comment.author.display_name if comment.author else gettext("Someone")
        lines.append(f"{number}. {headline(reason, comment.thread.title)}")
        lines.append(
            "   " + gettext("%(name)s wrote: “%(excerpt)s”", name=author, excerpt=excerpt(comment))
        )
        why = [hold_reason(r) for r in comment.hold_reasons or []]
        if why:
            lines.append("   " + gettext("Why: %(reasons)s", reasons="; ".join(why)))
        lines.append("   " + gettext("Review it: %(link)s", link=queue_link(comment.id, reason)))
        lines.append("")
    if total > len(items):
        more = total - len(items)
        lines.append(ngettext("…and %(num)s more.", "…and %(num)s more.", more))
        lines.append("")
    lines.append(
        gettext("The moderation queues: %(link)s", link=links.external("moderation.index"))
    )
    lines += [
        "",
        "-- ",
        str(WHY_SENT.get(user.moderation_alerts, WHY_SENT[AlertFrequency.IMMEDIATE])),
        gettext(
            "Change how often, or stop these emails: %(link)s",
            link=links.external("account.notifications") + "#moderation-alerts",
        ),
    ]
    return subject, "\n".join(lines)


# -- each moderator's choice ------------------------------------------------------------


def set_frequency(user: User, value) -> AlertFrequency:
    """How often this moderator is emailed about what waits.  Raises Forbidden
    or ValidationError (frequency)."""
    permissions.require(permissions.can_moderate(user), gettext("Moderators only."))
    try:
        frequency = AlertFrequency(value)
    except ValueError:
        raise ValidationError(
            fields={
                "frequency": gettext(
                    "Choose one of: %(values)s.", values=", ".join(f.value for f in AlertFrequency)
                )
            }
        ) from None
    user.moderation_alerts = frequency
    if frequency == AlertFrequency.OFF:
        # Nothing already waiting is told later either.
        db.session.execute(
            update(ModeratorAlert)
            .where(ModeratorAlert.user_id == user.id, ModeratorAlert.queued_at.is_(None))
            .values(queued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return frequency

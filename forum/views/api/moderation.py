"""Readers' votes and flags, and the moderators' endpoints (CONTRACT.md section 3)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request
from flask_babel import gettext
from flask_login import current_user

from forum import permissions
from forum.errors import ValidationError
from forum.extensions import db, limiter
from forum.services import settings
from forum.services.discussion import comments, threads, votes
from forum.services.moderation import bans, controls, decisions, flags, queues
from forum.views.api import schemas
from forum.views.api.base import bp, created, no_content, read
from forum.views.api.serializers import acting_json, iso, thread_json, user_json
from forum.views.negotiation import acting_user


def _moderator():
    """The signed-in moderator; raises Unauthorized or Forbidden."""
    actor = _actor()
    permissions.require(permissions.can_moderate(actor))
    return actor


def _admin():
    """The signed-in admin; raises Unauthorized or Forbidden."""
    actor = _actor()
    permissions.require(permissions.can_administer(actor), gettext("Admins only."))
    return actor


def _actor():
    permissions.require_signed_in(current_user)
    return acting_user()


@bp.post("/comments/<int:comment_id>/flags")
@limiter.limit("30 per hour")
def flag_comment(comment_id):
    data = read(schemas.FlagRequest)
    user = _actor()
    comment = comments.visible_comment(user, comment_id)
    report = flags.flag(user, comment, data.get("reason"), data.get("note"))
    db.session.commit()
    return created(
        {
            "flag": {
                "reason": report.reason.value,
                "note": report.note,
                "created_at": iso(report.created_at),
            }
        }
    )


@bp.post("/comments/<int:comment_id>/votes")
@limiter.limit("120 per minute")
def vote_on_comment(comment_id):
    data = read(schemas.VoteRequest)
    user = _actor()
    comment = comments.visible_comment(user, comment_id)
    tally = votes.vote(user, comment, data.get("value"))
    db.session.commit()
    return {"score": tally.score, "my_vote": tally.my_vote}


@bp.get("/moderation/queue/<name>")
def queue(name):
    user = _actor()
    page = queues.queue(
        user, name, limit=_limit(request.args.get("limit")), cursor=request.args.get("cursor")
    )
    return {
        "items": [queue_item_json(item, user) for item in page.items],
        "next_cursor": page.next_cursor,
    }


@bp.post("/moderation/comments/<int:comment_id>")
def act(comment_id):
    data = read(schemas.ModerationRequest)
    user = _moderator()
    comment = comments.comment_by_id(comment_id)
    decisions.act(
        user,
        comment,
        data.get("action"),
        reason=data.get("reason"),
        note=data.get("note"),
        link=data.get("link"),
        seen_revision=data.get("revision"),
    )
    db.session.commit()
    return {"comment": acting_json(comment, user)}


@bp.post("/moderation/users/<username>/ban")
def ban(username):
    data = read(schemas.BanRequest)
    actor = _moderator()
    target = bans.user_by_name(username)
    bans.ban(actor, target, data.get("reason"), _time(data.get("until"), "until"))
    db.session.commit()
    return ban_json(target, actor)


@bp.delete("/moderation/users/<username>/ban")
def unban(username):
    actor = _moderator()
    target = bans.user_by_name(username)
    bans.unban(actor, target)
    db.session.commit()
    return no_content()


@bp.get("/moderation/users/<username>")
def user_record(username):
    actor = _moderator()
    target = bans.user_by_name(username)
    record = queues.author_records({target.id})[target.id]
    return {
        **ban_json(target, actor),
        "record": {
            "approved": record.approved,
            "pending": record.pending,
            "rejected": record.rejected,
            "spam": record.spam,
        },
        "notes": [
            {
                "body": note.body,
                "author": note.author.username if note.author else None,
                "created_at": iso(note.created_at),
            }
            for note in record.notes
        ],
    }


@bp.post("/moderation/users/<username>/notes")
def add_note(username):
    data = read(schemas.NoteRequest)
    actor = _moderator()
    target = bans.user_by_name(username)
    note = bans.add_note(actor, target, data.get("body"))
    db.session.commit()
    return created(
        {"note": {"body": note.body, "author": actor.username, "created_at": iso(note.created_at)}}
    )


@bp.patch("/moderation/threads/<key>")
def update_thread(key):
    data = read(schemas.ThreadChange)
    actor = _moderator()
    thread = threads.thread_by_key(key)
    window = controls.UNCHANGED
    if "spoiler_until" in data:
        window = _time(data["spoiler_until"], "spoiler_until")
    controls.update_thread(
        actor,
        thread,
        data.get("status"),
        data.get("moderation"),
        window,
        guests=data.get("guests"),
    )
    db.session.commit()
    return thread_json(thread)


@bp.get("/moderation/settings")
def get_settings():
    _admin()
    return {"settings": settings.public(settings.current())}


@bp.patch("/moderation/settings")
def update_settings():
    data = read(schemas.SettingsChange)
    actor = _admin()
    controls.change_settings(actor, settings.as_form(data))
    db.session.commit()
    return {"settings": settings.public(settings.current())}


@bp.get("/moderation/log")
def audit_log():
    actor = _admin()
    by = None
    if request.args.get("actor"):
        by = bans.user_by_name(request.args["actor"])
    entries, next_cursor = queues.audit_page(
        actor,
        limit=_limit(request.args.get("limit")),
        cursor=request.args.get("cursor") or None,
        action=request.args.get("action") or None,
        actor=by,
        target_type=request.args.get("target") or None,
    )
    return {"entries": [audit_json(e) for e in entries], "next_cursor": next_cursor}


@bp.get("/moderation/history")
def history():
    actor = _actor()
    entries, next_cursor = queues.history_page(
        actor, limit=_limit(request.args.get("limit")), cursor=request.args.get("cursor") or None
    )
    return {"entries": [audit_json(e) for e in entries], "next_cursor": next_cursor}


# -- shapes ------------------------------------------------------------------------------


def queue_item_json(item: queues.QueueItem, viewer) -> dict:
    comment = item.comment
    data = acting_json(comment, viewer)
    data["flags"] = [
        {
            "reason": report.reason.value,
            "note": report.note,
            "user": report.user.username,
            "created_at": iso(report.created_at),
        }
        for report in item.flags
    ]
    # As the contract has them: the words for pages ("args") stay on the server.
    data["hold_reasons"] = [
        {key: value for key, value in reason.items() if key != "args"}
        for reason in comment.hold_reasons
    ]
    data["thread_title"] = comment.thread.title
    data["author_created_at"] = iso(comment.author.created_at) if comment.author else None
    data["author_record"] = {
        "approved": item.record.approved,
        "pending": item.record.pending,
        "rejected": item.record.rejected,
        "spam": item.record.spam,
        "notes": len(item.record.notes),
    }
    return data


def audit_json(entry) -> dict:
    return {
        "id": entry.id,
        "actor": entry.actor.username if entry.actor else None,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target": entry.target_label,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "created_at": iso(entry.created_at),
    }


def ban_json(user, viewer) -> dict:
    banned = permissions.is_banned(user)
    return {
        "user": user_json(user, viewer),
        "banned": banned,
        "banned_until": None if not banned or user.ban_is_permanent else iso(user.banned_until),
        "ban_reason": user.ban_reason if banned else None,
    }


def _limit(raw) -> int:
    if raw in (None, ""):
        return 50
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 200:
        raise ValidationError(fields={"limit": gettext("Use a whole number from 1 to 200.")})
    return int(raw)


def _time(raw, name: str) -> datetime | None:
    """An ISO 8601 time with its zone (Z or +hh:mm), as UTC; raises ValidationError."""
    if raw is None:
        return None
    try:
        if not isinstance(raw, str) or len(raw) > 40:
            raise ValueError
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # year 9999 at -01:00 overflows here
    except (ValueError, OverflowError):
        raise ValidationError(
            fields={name: gettext("Use an ISO 8601 time such as 2026-12-31T23:00:00Z.")}
        ) from None
    if moment.tzinfo is None:
        raise ValidationError(
            fields={name: gettext("Give the time zone too, e.g. a trailing Z for UTC.")}
        )
    return moment.astimezone(UTC)

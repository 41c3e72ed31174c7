"""The moderators' pages: queues, decisions, people, threads, settings, the log.

Every action is a plain form post; static/js/moderation.js adds keyboard
shortcuts and acts without reloading (header X-Forum-Fragment: JSON answer).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user, login_required

from forum import permissions
from forum.addresses import local_path
from forum.errors import Conflict, NotFound, ValidationError
from forum.extensions import db
from forum.forms import ConfirmForm, require_confirmed
from forum.models import ModerationMode, ThreadStatus
from forum.services import settings
from forum.services.discussion import comments, threads
from forum.services.moderation import bans, controls, decisions, queues
from forum.views.negotiation import (
    acting_user,
    error_sentence,
    flash_outcome,
    is_fragment,
    json_outcome,
    wants_json,
)
from forum.views.params import parse_id
from forum.vocabulary import label

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

QUEUE_TITLES = {
    "pending": lazy_gettext("Pending"),
    "reported": lazy_gettext("Reported"),
    "spam": lazy_gettext("Spam"),
    "rejected": lazy_gettext("Rejected"),
}


@bp.app_template_global()
def moderation_waiting() -> int:
    """How many comments wait for a moderator: the badge on every page's
    Moderation link (one cheap statement, only for moderators' pages)."""
    if "forum_waiting" not in g:
        g.forum_waiting = queues.waiting_count()
    return g.forum_waiting


@bp.before_request
@login_required
def moderators_only():
    permissions.require(permissions.can_moderate(current_user), gettext("Moderators only."))


@bp.get("/")
def index():
    return redirect(url_for("moderation.queue", name="pending"))


# The queue pages' search and filters, as the query string names them.
FILTERS = ("q", "author", "article", "reason")


@bp.get("/queue/<name>")
def queue(name):
    """A queue, searched and filtered by the query string; a filter that names
    nothing (an unknown author) shows why instead of the items, with a 400."""
    if name not in queues.QUEUES:
        raise NotFound(gettext("There is no such queue."))
    typed = {key: request.args.get(key, "") for key in FILTERS}
    errors, status = {}, 200
    try:
        filters = queues.parse_filters(**typed)
    except ValidationError as error:
        errors, status, filters = error.fields, 400, None
    page = queues.QueuePage(name, [], None)
    if filters is not None:
        try:
            page = queues.queue(
                acting_user(), name, limit=50, cursor=request.args.get("cursor"), filters=filters
            )
        except ValidationError:
            return redirect(url_for("moderation.queue", name=name, **filters.args()))
    return render_template(
        "moderation/queue.html",
        page=page,
        title=str(QUEUE_TITLES[name]),
        counts=queues.queue_counts(),
        form=ConfirmForm(),
        filters=filters,
        typed=typed,
        errors=errors,
        query=filters.query if filters else None,
        articles=queues.article_choices(name),
        hold_rules=queues.HOLD_RULES,
    ), status


@bp.get("/history")
def history():
    entries, next_cursor = queues.history_page(
        acting_user(), cursor=_cursor_or_none(request.args.get("cursor"))
    )
    return render_template(
        "moderation/history.html",
        entries=entries,
        comments=queues.comments_of(entries),
        next_cursor=next_cursor,
        counts=queues.queue_counts(),
    )


@bp.post("/comments/<int:comment_id>")
def act(comment_id):
    """One decision; the moderator's view of the comment travels along as seen_status."""
    require_confirmed()
    comment = comments.comment_by_id(comment_id)
    action = request.form.get("action")
    try:
        decisions.act(
            acting_user(),
            comment,
            action,
            reason=request.form.get("reason"),
            note=request.form.get("note"),
            link=request.form.get("link"),
            seen_status=request.form.get("seen"),
            seen_revision=request.form.get("revision"),
        )
    except (Conflict, ValidationError) as error:
        db.session.rollback()
        message = error_sentence(error)
        if wants_json():
            return jsonify(
                {"error": {"code": error.code, "message": message}, "counts": _counts()}
            ), error.status
        flash(message)
        return redirect(_back())
    db.session.commit()
    if wants_json():
        return jsonify(
            {
                "status": comment.status.value,
                # What the page's script announces, in the moderator's language.
                "status_label": label(comment.status),
                "counts": _counts(),
            }
        )
    flash(_done(action, comment.id))
    return redirect(_back())


@bp.post("/bulk")
def bulk():
    """Approve or reject the ticked comments; each one is its own decision."""
    require_confirmed()
    action = request.form.get("bulk_action")
    if action not in ("approve", "reject", "spam"):
        flash(gettext("Choose what to do with the selected comments."))
        return redirect(_back())
    done, skipped = 0, []
    for raw in request.form.getlist("ids"):
        comment = comments.comment_by_id_or_none(parse_id(raw))
        if comment is None:
            continue
        try:
            decisions.act(
                acting_user(),
                comment,
                action,
                seen_status=request.form.get(f"seen_{comment.id}"),
                seen_revision=request.form.get(f"revision_{comment.id}"),
            )
            db.session.commit()
            done += 1
        except (Conflict, ValidationError) as error:
            db.session.rollback()
            skipped.append(gettext("%(id)s: %(reason)s", id=raw, reason=error.message))
    said = _done_in_bulk(action, done)
    if skipped:
        said = gettext("%(done)s Skipped %(skipped)s", done=said, skipped="; ".join(skipped))
    flash(said)
    return redirect(_back())


# -- people ---------------------------------------------------------------------------------


@bp.get("/users/<username>")
def user(username):
    target = bans.user_by_name(username)
    record = queues.author_records({target.id}).get(target.id, queues.AuthorRecord())
    recent = comments.recent_by_author(target, limit=50)
    return render_template(
        "moderation/user.html",
        target=target,
        record=record,
        items=queues.with_context(recent),
        counts=queues.queue_counts(),
        form=ConfirmForm(),
    )


@bp.post("/users/<username>/ban")
def ban(username):
    require_confirmed()
    target = bans.user_by_name(username)

    def ban_until():
        until = _date(request.form.get("until"))
        bans.ban(acting_user(), target, request.form.get("reason"), until)
        return until

    def banned(until):
        if until:
            return gettext(
                "%(name)s is banned until %(date)s.", name=target.username, date=until.date()
            )
        return gettext("%(name)s is banned for good.", name=target.username)

    if is_fragment():  # from a comment's menu, by thread.js
        return json_outcome(ban_until, banned)
    flash_outcome(ban_until, banned)
    return _back_to_person(target)


@bp.post("/users/<username>/unban")
def unban(username):
    require_confirmed()
    target = bans.user_by_name(username)

    def lift():
        return bans.unban(acting_user(), target, request.form.get("reason"))

    done = gettext("%(name)s may post again.", name=target.username)
    if is_fragment():
        return json_outcome(lift, done)
    flash_outcome(lift, done)
    return _back_to_person(target)


def _back_to_person(target):
    """To the page the ban form was on (the moderators' record, or People)."""
    fallback = url_for("moderation.user", username=target.username)
    return redirect(local_path(request.form.get("next"), fallback))


@bp.post("/users/<username>/notes")
def add_note(username):
    require_confirmed()
    target = bans.user_by_name(username)
    flash_outcome(
        lambda: bans.add_note(acting_user(), target, request.form.get("body")),
        gettext("Note added."),
        refused=ValidationError,
    )
    return redirect(url_for("moderation.user", username=target.username) + "#notes")


# -- threads, settings, log -----------------------------------------------------------------


@bp.post("/threads/<key>")
def update_thread(key):
    require_confirmed()
    thread = threads.thread_by_key(key)

    def update():
        window = controls.UNCHANGED
        if "spoiler_until" in request.form:
            window = _moment(request.form["spoiler_until"])
        controls.update_thread(
            acting_user(),
            thread,
            request.form.get("status") or None,
            request.form.get("moderation") or None,
            window,
            guests={"on": True, "off": False}.get(request.form.get("guests", "")),
        )

    flash_outcome(
        update,
        lambda _: str(_SETTINGS_SAVED[thread.status, threads.moderation_mode(thread)]),
        refused=ValidationError,
    )
    return redirect(local_path(request.form.get("next"), url_for("moderation.index")))


@bp.route("/settings", methods=["GET", "POST"])
def edit_settings():
    permissions.require(permissions.can_administer(current_user), gettext("Admins only."))
    errors, values, status = {}, settings.current(), 200
    if request.method == "POST":
        require_confirmed()
        try:
            changed = controls.change_settings(acting_user(), request.form)
        except ValidationError as error:
            db.session.rollback()
            errors, values, status = error.fields, {**values, **request.form.to_dict()}, 422
        else:
            db.session.commit()
            flash(
                ngettext("Saved %(num)s change(s).", "Saved %(num)s change(s).", len(changed))
                if changed
                else gettext("Nothing changed.")
            )
            return redirect(url_for("moderation.edit_settings"))
    return render_template(
        "moderation/settings.html",
        fields=settings.FIELDS,
        values=values,
        errors=errors,
        counts=queues.queue_counts(),
        form=ConfirmForm(),
    ), status


@bp.get("/log")
def log():
    permissions.require(permissions.can_administer(current_user), gettext("Admins only."))
    actor = None
    if request.args.get("actor"):
        actor = bans.user_by_name(request.args["actor"])
    entries, next_cursor = queues.audit_page(
        acting_user(),
        cursor=_cursor_or_none(request.args.get("cursor")),
        action=request.args.get("action") or None,
        actor=actor,
        target_type=request.args.get("target") or None,
    )
    return render_template(
        "moderation/log.html",
        entries=entries,
        next_cursor=next_cursor,
        counts=queues.queue_counts(),
        filters=request.args,
    )


# -- helpers ----------------------------------------------------------------------------------


def _counts() -> dict:
    # The tabs' counts, and the header's badge (moderation.js updates both).
    return {**queues.queue_counts(), "waiting": queues.waiting_count()}


def _back() -> str:
    return local_path(request.form.get("next"), url_for("moderation.index"))


# Whole sentences, one per decision, so each language can say them its own way.
def _done(action: str, comment_id: int) -> str:
    if action == "approve":
        return gettext("Comment %(id)s: approved.", id=comment_id)
    if action == "reject":
        return gettext("Comment %(id)s: rejected.", id=comment_id)
    if action == "spam":
        return gettext("Comment %(id)s: marked as spam.", id=comment_id)
    if action == "restore":
        return gettext("Comment %(id)s: restored.", id=comment_id)
    if action == "feature":
        return gettext("Comment %(id)s: featured.", id=comment_id)
    if action == "unfeature":
        return gettext("Comment %(id)s: no longer featured.", id=comment_id)
    return gettext("Comment %(id)s: updated.", id=comment_id)


def _done_in_bulk(action: str, done: int) -> str:
    # "comment(s)" in English as before; other languages get their plural forms.
    if action == "approve":
        return ngettext("%(num)s comment(s) approved.", "%(num)s comment(s) approved.", done)
    if action == "reject":
        return ngettext("%(num)s comment(s) rejected.", "%(num)s comment(s) rejected.", done)
    return ngettext(
        "%(num)s comment(s) marked as spam.", "%(num)s comment(s) marked as spam.", done
    )


# The flash after a discussion's settings change, whole for each status and mode.
_SETTINGS_SAVED = {
    (ThreadStatus.OPEN, ModerationMode.PRE): lazy_gettext(
        "Discussion settings saved: open, pre-moderated."
    ),
    (ThreadStatus.OPEN, ModerationMode.POST): lazy_gettext(
        "Discussion settings saved: open, post-moderated."
    ),
    (ThreadStatus.OPEN, ModerationMode.TRUSTED): lazy_gettext(
        "Discussion settings saved: open, trusted-moderated."
    ),
    (ThreadStatus.CLOSED, ModerationMode.PRE): lazy_gettext(
        "Discussion settings saved: closed, pre-moderated."
    ),
    (ThreadStatus.CLOSED, ModerationMode.POST): lazy_gettext(
        "Discussion settings saved: closed, post-moderated."
    ),
    (ThreadStatus.CLOSED, ModerationMode.TRUSTED): lazy_gettext(
        "Discussion settings saved: closed, trusted-moderated."
    ),
}


def _cursor_or_none(raw):
    return raw if raw else None


def _moment(raw) -> datetime | None:
    """A datetime-local value ("2026-12-01T21:00"), read as UTC; empty means none."""
    if not raw:
        return None
    try:
        moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValidationError(
            fields={"spoiler_until": gettext("Pick a date and time (UTC).")}
        ) from None
    return moment.replace(tzinfo=UTC)


def _date(raw) -> datetime | None:
    """A YYYY-MM-DD from a date input, as the end of that day in UTC."""
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        raise ValidationError(
            fields={"until": gettext("Pick a date, or leave it empty for good.")}
        ) from None
    return day.replace(hour=23, minute=59, tzinfo=UTC)

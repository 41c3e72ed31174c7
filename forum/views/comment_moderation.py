"""Moderating where the comments are: the moderator's menu on each comment of
an article page (templates/comments/_mod_menu.html) and a comment's edit history.

The menu's forms are plain posts that come back to the comment's permalink with
a flash; static/js/thread.js sends them with X-Forum-Fragment and gets JSON: the
sentence to announce and the comment as the page now shows it, to put in place.
Every decision is forum.services.moderation.decisions.act, as in the queues and
the API; banning the author is the shared ban panel and moderation.ban.  The
embedded frame has no cookie: its menu goes through the API with the frame's
bearer token (static/js/embed-frame.js).
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required

from forum import permissions
from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.forms import require_confirmed
from forum.models import ModerationAction
from forum.services.discussion import comments, revisions
from forum.services.moderation import decisions, queues
from forum.views import reading
from forum.views.negotiation import acting_user, error_sentence, is_fragment

bp = Blueprint("comment_moderation", __name__, url_prefix="/moderation/comments")


@bp.before_request
@login_required
def moderators_only():
    permissions.require(permissions.can_moderate(current_user), gettext("Moderators only."))


@bp.post("/<int:comment_id>/decide")
def decide(comment_id):
    """One decision from the comment's menu: feature, spoiler, theory, reject..."""
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
            seen_revision=request.form.get("revision"),
        )
    except (Conflict, ValidationError) as error:
        db.session.rollback()
        message = error_sentence(error)
        if is_fragment():
            return jsonify({"error": {"code": error.code, "message": message}}), error.status
        flash(message)
        return redirect(_permalink(comment))
    db.session.commit()
    said = str(DONE.get(action, DONE[None]))
    if is_fragment():
        article = comment.thread.article
        return jsonify({"message": said, "html": reading.rendered_comment(comment, article)})
    flash(said)
    return redirect(_permalink(comment))


@bp.get("/<int:comment_id>/history")
def history(comment_id):
    """What each edit of the comment changed, as a diff (moderators only)."""
    comment = comments.comment_by_id(comment_id)
    edits = revisions.history(acting_user(), comment)
    return render_template(
        "comment_moderation/history.html",
        comment=comment,
        edits=edits,
        permalink=url_for("comments.show", comment_id=comment.id),
        counts=queues.queue_counts(),
    )


def _permalink(comment) -> str:
    """Back to the comment on its article's page (it may be a later page, or
    collapsed: ?comment= brings its conversation); elsewhere, its permalink."""
    thread = comment.thread
    if thread.article_id is None:
        return url_for("comments.show", comment_id=comment.id)
    return url_for("pages.article", slug=thread.key, comment=comment.id) + f"#c{comment.id}"


# What the moderator is told, one whole sentence per decision.
DONE = {
    ModerationAction.APPROVE: lazy_gettext("Approved: readers see this comment now."),
    ModerationAction.RESTORE: lazy_gettext("Restored: readers see this comment again."),
    ModerationAction.REJECT: lazy_gettext(
        "Rejected: readers no longer see this comment; its author sees your reason."
    ),
    ModerationAction.SPAM: lazy_gettext("Marked as spam: readers no longer see this comment."),
    ModerationAction.FEATURE: lazy_gettext("Featured among the editors’ picks."),
    ModerationAction.UNFEATURE: lazy_gettext("No longer among the editors’ picks."),
    ModerationAction.MARK_SPOILER: lazy_gettext("Marked as a spoiler: readers see it covered."),
    ModerationAction.UNMARK_SPOILER: lazy_gettext("No longer covered as a spoiler."),
    ModerationAction.CONFIRM_THEORY: lazy_gettext(
        "Theory confirmed: it shows as confirmed on the theories page and its author’s profile."
    ),
    ModerationAction.DEBUNK_THEORY: lazy_gettext("Theory debunked."),
    ModerationAction.REOPEN_THEORY: lazy_gettext("The theory is open again."),
    None: lazy_gettext("Comment updated."),
}

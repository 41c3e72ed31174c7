"""Writing comments from the HTML pages; each action works without JavaScript.

A request sent by static/js/thread.js (header X-Forum-Fragment) gets the new
comment's HTML, or the error as JSON, instead of a redirect.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from forum import permissions
from forum.errors import ForumError, ValidationError
from forum.extensions import db, guest_posting, limiter, posting_per_account, posting_per_address
from forum.forms import CommentForm, ConfirmForm, EditForm, FlagForm, require_confirmed, show_errors
from forum.models import CommentStatus
from forum.services import idempotency, posting
from forum.services.accounts import guests
from forum.services.discussion import comments, threads, trees, votes
from forum.services.moderation import flags
from forum.views.guesting import guest_arrives
from forum.views.negotiation import acting_user, error_sentence, is_fragment, save_form
from forum.views.params import parse_id

bp = Blueprint("comments", __name__)


def _permalink(comment) -> str:
    thread = comment.thread
    if thread.article_id is None and thread.url:
        # Embedded on a publisher's page: the comment lives there (embed.js
        # carries #c<ID> into the frame). The address came from an allowed origin.
        return f"{thread.url.split('#')[0]}#c{comment.id}"
    return url_for("pages.article", slug=thread.key, comment=comment.id) + f"#c{comment.id}"


@bp.post("/articles/<slug>/comments")
@posting_per_account
@posting_per_address
@guest_posting
def create(slug):
    article = threads.article_by_slug(slug)
    author = acting_user()
    as_guest = not permissions.is_signed_in(author)
    if as_guest and not guests.can_post(author, article.thread):
        return current_app.login_manager.unauthorized()  # to the sign-in page, as before
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    raw_parent = form.parent_id.data
    parent_id = parse_id(raw_parent) if raw_parent else None
    signals = None
    try:
        if raw_parent and parent_id is None:
            raise ValidationError(fields={"parent_id": posting.NO_PARENT})
        # Pages from before the field existed send no key: they post as before.
        once = idempotency.check_key(request.form.get("idempotency_key") or None)
        if as_guest:
            author, signals = guest_arrives(
                article.thread,
                form.guest_name.data or "",
                form.guest_email.data,
                _proof_of(form),
                form.website.data,
                once,
            )
        comment, is_new = posting.post_comment(
            author,
            article.thread,
            form.body.data,
            parent_id,
            once,
            theory_title=(form.theory_title.data or "").strip() or None,
            spoiler=bool(form.spoiler.data),
            guest=signals,
        )
    except ForumError as error:
        db.session.rollback()
        if is_fragment():
            return jsonify(
                {"error": {"code": error.code, "message": error_sentence(error)}}
            ), error.status
        if isinstance(error, ValidationError):
            show_errors(form, error)
        parent = _parent_for_form(acting_user(), parent_id)
        return render_template(
            "comments/reply.html", form=form, parent=parent, article=article, error=error
        ), error.status
    db.session.commit()
    pending = comment.status == CommentStatus.PENDING
    if is_fragment():
        # A repeat of a form already posted answers 200 with the first comment.
        node = trees.lone_node(comment)
        page = render_template("comments/posted.html", node=node, thread=comment.thread)
        headers = {"X-Forum-Comment-Count": str(comment.thread.comment_count)}
        if not is_new:
            headers["X-Forum-Replayed"] = "1"
        return page, 201 if is_new else 200, headers
    if not is_new:
        flash(gettext("That comment was already posted; here it is."))
    elif pending:
        flash(gettext("Thanks! Your comment is awaiting moderation."))
    else:
        flash(gettext("Your comment is up."))
    return redirect(_permalink(comment))


def _proof_of(form: CommentForm) -> dict | None:
    if not form.proof_challenge.data or not form.proof_nonce.data:
        return None
    return {"challenge": form.proof_challenge.data, "nonce": form.proof_nonce.data}


def _parent_for_form(author, parent_id):
    """The comment a failed reply answers, to quote above the form again."""
    try:
        return posting.find_parent(author, parent_id)
    except ValidationError:
        return None


@bp.get("/comments/<int:comment_id>")
def show(comment_id):
    """Permalink: the comment in its article page."""
    comment = comments.visible_comment(current_user, comment_id)
    return redirect(_permalink(comment))


@bp.get("/comments/<int:comment_id>/reply")
def reply(comment_id):
    parent = comments.visible_comment(current_user, comment_id)
    if guests.can_reply(current_user, parent, parent.thread):
        pass  # a guest answers with a name (the form asks for it)
    elif not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    else:
        permissions.require_can_post(current_user, parent.thread)
        permissions.require(
            permissions.can_reply(current_user, parent),
            gettext("This comment cannot take replies."),
        )
    article = threads.article_by_slug(parent.thread.key)
    form = CommentForm(parent_id=str(parent.id))
    return render_template("comments/reply.html", form=form, parent=parent, article=article)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@posting_per_account
@posting_per_address
@login_required
def edit(comment_id):
    comment = comments.visible_comment(current_user, comment_id)
    form = EditForm(body=comment.body)
    status = 200
    if form.validate_on_submit():
        done = gettext("Your comment was updated.")
        if save_form(form, done, comments.edit_comment, acting_user(), comment, form.body.data):
            return redirect(_permalink(comment))
        status = 422
    else:
        # Refuse the page itself when editing is no longer possible.
        comments.require_editable(current_user, comment)
    return render_template("comments/edit.html", form=form, comment=comment), status


@bp.route("/comments/<int:comment_id>/delete", methods=["GET", "POST"])
@login_required
def delete(comment_id):
    comment = comments.visible_comment(current_user, comment_id)
    permissions.require(permissions.can_delete(current_user, comment))
    form = ConfirmForm()
    if form.validate_on_submit():
        slug = comment.thread.key
        comments.delete_comment(acting_user(), comment)
        db.session.commit()
        flash(gettext("The comment was deleted."))
        return redirect(url_for("pages.article", slug=slug, comment=comment.id) + f"#c{comment.id}")
    return render_template("comments/delete.html", form=form, comment=comment)


@bp.route("/comments/<int:comment_id>/flag", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@login_required
def flag(comment_id):
    comment = comments.visible_comment(current_user, comment_id)
    form = FlagForm()
    status = 200
    if form.validate_on_submit():
        done = gettext("Thank you. A moderator will look at it.")
        reason, note = form.reason.data, form.note.data
        if save_form(form, done, flags.flag, acting_user(), comment, reason, note):
            return redirect(_permalink(comment))
        status = 422
    elif not permissions.can_flag(current_user, comment):
        permissions.require_not_banned(current_user)
        permissions.require(False, gettext("This comment cannot be reported."))
    return render_template("comments/flag.html", form=form, comment=comment), status


@bp.post("/comments/<int:comment_id>/vote")
@limiter.limit("120 per minute")
@login_required
def vote(comment_id):
    """Up, down or take back; thread.js sends X-Forum-Fragment and gets JSON."""
    require_confirmed()
    comment = comments.visible_comment(current_user, comment_id)
    value = {"1": 1, "-1": -1, "0": 0}.get(request.form.get("value", ""), "invalid")
    tally = votes.vote(acting_user(), comment, value)
    db.session.commit()
    if is_fragment():
        return jsonify({"score": tally.score, "my_vote": tally.my_vote})
    return redirect(_permalink(comment))

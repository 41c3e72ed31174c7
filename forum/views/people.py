"""Readers' own pages: profiles, notifications, following, muting, and the
site-wide theories page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from forum import i18n
from forum.addresses import local_path
from forum.errors import NotFound
from forum.extensions import db, limiter
from forum.forms import ConfirmForm, ProfileForm, require_confirmed
from forum.services.accounts import accounts, people
from forum.services.discussion import theories, threads
from forum.services.notify import notifications
from forum.views.negotiation import acting_user, save_form
from forum.views.params import parse_id

bp = Blueprint("people", __name__)


def _user(username):
    user = accounts.find_user(username)
    if user is None:
        raise NotFound(gettext("There is no reader by that name."))
    return user


@bp.get("/users/<username>")
def profile(username):
    user = _user(username)
    theory_list = theories.by_author(user)
    return render_template(
        "people/profile.html",
        person=user,
        record=theories.record(user),
        theory_list=theory_list,
        replies=theories.reply_counts(theory_list),
        comment_list=theories.published_by(user),
        muted=people.is_muting(current_user, user),
        form=ConfirmForm(),
    )


@bp.route("/account/profile", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@login_required
def edit_profile():
    form = ProfileForm(
        display_name=current_user.display_name,
        bio=current_user.bio,
        locale=current_user.locale or "",
        formdata=request.form or None,
    )
    form.locale.choices = [("", gettext("The one my browser asks for")), *i18n.language_names()]
    status = 200
    if form.validate_on_submit():
        name, bio, locale = form.display_name.data, form.bio.data, form.locale.data
        saved = gettext("Your profile is saved.")
        if save_form(form, saved, people.update_profile, acting_user(), name, bio, locale):
            return redirect(url_for("people.profile", username=current_user.username))
        status = 422
    return render_template("people/edit.html", form=form), status


@bp.get("/notifications")
@login_required
def inbox():
    items = notifications.inbox(current_user, before_id=parse_id(request.args.get("before")))
    return render_template(
        "people/notifications.html",
        items=items,
        describe=notifications.describe,
        form=ConfirmForm(),
    )


@bp.post("/notifications/read")
@login_required
def mark_read():
    require_confirmed()
    notifications.mark_read(acting_user())
    db.session.commit()
    flash(gettext("All caught up."))
    return redirect(url_for("people.inbox"))


@bp.post("/articles/<slug>/follow")
@login_required
def follow(slug):
    require_confirmed()
    thread = threads.article_by_slug(slug).thread
    if request.form.get("follow") == "0":
        notifications.unfollow(acting_user(), thread)
        flash(gettext("You will no longer hear about new comments here."))
    else:
        notifications.follow(acting_user(), thread)
        flash(gettext("You will hear about new comments here."))
    db.session.commit()
    return redirect(url_for("pages.article", slug=slug) + "#discussion")


@bp.post("/users/<username>/mute")
@login_required
def mute(username):
    require_confirmed()
    user = _user(username)
    if request.form.get("mute") == "0":
        people.unmute(acting_user(), user)
        flash(gettext("%(name)s's comments show again.", name=user.display_name))
    else:
        people.mute(acting_user(), user)
        flash(gettext("%(name)s's comments are collapsed for you now.", name=user.display_name))
    db.session.commit()
    return redirect(
        local_path(request.form.get("next"), url_for("people.profile", username=username))
    )


@bp.get("/theories")
def all_theories():
    week = theories.top_open_this_week()
    confirmed = theories.recently_confirmed()
    return render_template(
        "people/theories.html",
        week=week,
        confirmed=confirmed,
        replies=theories.reply_counts([*week, *confirmed]),
    )

"""Admins' pages about people: find an account, see its record, change its role,
ban it, delete it on the person's behalf. Every change is audited by the services."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from forum import permissions
from forum.errors import ValidationError
from forum.forms import ConfirmForm, require_confirmed
from forum.models import Role
from forum.services.accounts import erasure, staff
from forum.services.discussion import comments
from forum.services.moderation import bans, queues
from forum.views.negotiation import acting_user, field_messages, flash_outcome
from forum.vocabulary import label

bp = Blueprint("people_admin", __name__, url_prefix="/admin/people")


@bp.before_request
@login_required
def admins_only():
    permissions.require(permissions.can_administer(current_user), gettext("Admins only."))


@bp.get("/")
def index():
    query = request.args.get("q", "")
    role = request.args.get("role", "")
    error = None
    try:
        page = staff.search(query, role or None, request.args.get("after"))
    except ValidationError as refused:
        error = " ".join(field_messages(refused))
        page = staff.PeoplePage([], None)
    return render_template(
        "admin/people.html",
        page=page,
        query=query,
        role=role,
        # StrEnum members: each is its value, and `value|label` says it to people.
        roles=list(Role),
        error=error,
        counts=queues.queue_counts(),
    ), 422 if error else 200


@bp.get("/<username>")
def person(username):
    target = bans.user_by_name(username)
    record = queues.author_records({target.id}).get(target.id, queues.AuthorRecord())
    recent = comments.recent_by_author(target, limit=20)
    return (
        render_template(
            "admin/person.html",
            target=target,
            record=record,
            items=queues.with_context(recent),
            # StrEnum members: each is its value, and `value|label` says it to people.
            roles=list(Role),
            counts=queues.queue_counts(),
            form=ConfirmForm(),
        ),
        200,
        {"Cache-Control": "no-store"},
    )


def _back(target):
    return redirect(url_for("people_admin.person", username=target.username))


@bp.post("/<username>/role")
def set_role(username):
    require_confirmed()
    target = bans.user_by_name(username)
    role = request.form.get("role")
    flash_outcome(
        lambda: staff.set_role(acting_user(), target, role, request.form.get("reason")),
        # The role it has now: the one asked for, as the service read it.
        lambda changed: (
            gettext("%(name)s is now %(role)s.", name=target.username, role=label(target.role))
            if changed
            else gettext(
                "%(name)s is already %(role)s.", name=target.username, role=label(target.role)
            )
        ),
    )
    return _back(target)


@bp.post("/<username>/delete")
def delete(username):
    require_confirmed()
    target = bans.user_by_name(username)
    name = target.username
    if request.form.get("confirm") != name:
        flash_outcome(_mismatch, "")
        return _back(target)
    done = flash_outcome(
        lambda: erasure.delete_account(
            target, acting_user(), request.form.get("reason"), on_behalf=True
        ),
        gettext("%(name)s's account is deleted and their comments' words erased.", name=name),
    )
    return redirect(url_for("people_admin.index")) if done else _back(target)


def _mismatch():
    raise ValidationError(fields={"confirm": gettext("Type the username to confirm.")})

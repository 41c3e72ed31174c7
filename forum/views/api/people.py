"""A reader's own data (export, deleting the account) and admins managing
people (CONTRACT.md section 6, "Your data" and "People")."""

from __future__ import annotations

from flask import Response, g, request, session, stream_with_context
from flask_babel import gettext
from flask_login import current_user, logout_user

from forum import permissions
from forum.extensions import db, limiter
from forum.services.accounts import accounts, data_export, erasure, reauth, staff
from forum.services.moderation import bans
from forum.views.api import schemas
from forum.views.api.base import bp, no_content, read
from forum.views.api.serializers import user_json
from forum.views.negotiation import acting_user


def _owner():
    permissions.require_signed_in(current_user)
    return acting_user()


def _admin():
    actor = _owner()
    permissions.require(permissions.can_administer(actor), gettext("Admins only."))
    return actor


def signed_in_at():
    """When this request's holder last proved who they are: the bearer token's
    sign-in (accounts.issue_token), or the browser session's."""
    token = g.get("api_token")
    if token is not None:
        return token.signed_in_at
    return accounts.session_started_at(session.get(accounts.SESSION_KEY))


def export_response(user) -> Response:
    """The reader's data as a streamed JSON download."""
    name = f"forum-{user.username}-data.json"
    return Response(
        stream_with_context(data_export.stream(user)),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/account/export")
@limiter.limit("10 per hour")
def export_account():
    return export_response(_owner())


@bp.delete("/account")
@limiter.limit("5 per hour")
def delete_account():
    data = read(schemas.AccountDeletion)
    user = _owner()
    reauth.require_owner(user, data.get("password"), signed_in_at())
    erasure.delete_account(user, actor=user)
    db.session.commit()
    logout_user()
    session.clear()
    return no_content()


@bp.get("/admin/users")
def list_users():
    viewer = _admin()
    page = staff.search(request.args.get("q"), request.args.get("role"), request.args.get("after"))
    return {
        "users": [user_json(user, viewer) for user in page.people],
        "next_after": page.next_after,
    }


@bp.patch("/admin/users/<username>")
@limiter.limit("60 per hour")
def change_user(username):
    data = read(schemas.UserChange)
    actor = _admin()
    target = bans.user_by_name(username)
    if "role" in data:
        staff.set_role(actor, target, data["role"], data.get("reason"))
    db.session.commit()
    return {"user": user_json(target, actor)}


@bp.delete("/admin/users/<username>")
@limiter.limit("60 per hour")
def delete_user(username):
    """Delete an account on the person's behalf, with a reason for the record."""
    data = read(schemas.AdminDeletion)
    actor = _admin()
    erasure.delete_account(bans.user_by_name(username), actor, data.get("reason"), on_behalf=True)
    db.session.commit()
    return no_content()

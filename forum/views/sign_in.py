"""Other ways in than a password: an account elsewhere (OpenID Connect, GitHub)
and a link by email.

With a provider: /auth/external/<name> remembers a state, a nonce and a PKCE
verifier in the reader's session and sends them to the provider; the provider
sends them back to /auth/external/<name>/callback (its address built by
forum.links, never from the request's Host). A known identity signs in; a new
one goes to /auth/choose-username, and the account exists only once the reader
has chosen a name. `next` stays on this site, so the embed's sign-in popup
(forum.views.embed) ends in its usual hand-off whichever way the reader came in.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from forum import links
from forum.addresses import local_path
from forum.errors import Conflict, ExternalSignInFailed, ValidationError
from forum.extensions import db, limiter
from forum.forms import ChooseUsernameForm, ConfirmForm, EmailLinkForm, show_errors
from forum.services.accounts import email_sign_in, external, oidc_client, recovery
from forum.views.auth import start_session

bp = Blueprint("sign_in", __name__, url_prefix="/auth")

PENDING = "external_pending"  # a trip to a provider under way
NEW = "external_new"  # a first sign-in waiting for its username
NEW_MAX_AGE = 1800  # seconds to choose a username


@bp.app_context_processor
def _providers_for_templates():
    return {
        "sign_in_providers": lambda: list(current_app.config["FORUM_PROVIDERS"].values()),
        "email_sign_in_on": lambda: current_app.config["FORUM_EMAIL_SIGN_IN"],
        "linked_identities": external.identities_of,
        "provider_label": _label,
        "can_unlink": lambda identity: external.other_ways_in(current_user, identity),
        "has_password": external.has_password,
    }


def _label(name: str) -> str:
    provider = current_app.config["FORUM_PROVIDERS"].get(name)
    return provider.label if provider else name


def _provider(name: str):
    provider = current_app.config["FORUM_PROVIDERS"].get(name)
    if provider is None:
        abort(404)
    return provider


def _go_to_provider(provider, link_user_id: int | None = None):
    redirect_uri = links.external("sign_in.callback", name=provider.name)
    try:
        url, pending = oidc_client.begin(provider, redirect_uri)
    except ExternalSignInFailed as error:
        return _failed(error)
    pending["next"] = local_path(request.values.get("next"), "")
    pending["link_user"] = link_user_id
    session[PENDING] = pending
    return redirect(url)


def _failed(error: ExternalSignInFailed, next_path: str = ""):
    return render_template(
        "auth/external_failed.html", message=str(error.message), next=next_path or None
    ), error.status


@bp.get("/external/<name>")
@limiter.limit("20 per minute")
def start(name):
    return _go_to_provider(_provider(name))


@bp.post("/external/<name>/link")
@limiter.limit("10 per hour")
@login_required
def start_link(name):
    """A signed-in reader links an account elsewhere to this one, on purpose."""
    provider = _provider(name)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _go_to_provider(provider, current_user.id)


@bp.get("/external/<name>/callback")
@limiter.limit("20 per minute")
def callback(name):
    provider = _provider(name)
    pending = session.pop(PENDING, None)
    next_path = local_path(pending.get("next"), "") if isinstance(pending, dict) else ""
    try:
        claims = oidc_client.finish(provider, pending, request.args)
        if pending.get("link_user") is not None:
            return _finish_link(pending["link_user"], claims)
        user = external.account_for(claims)
    except ExternalSignInFailed as error:
        db.session.rollback()
        return _failed(error, next_path)
    if user is not None:
        start_session(user)
        db.session.commit()
        flash(gettext("Signed in as %(name)s.", name=user.display_name))
        return redirect(next_path or "/")
    session[NEW] = {
        "claims": external.claims_to_session(claims),
        "at": int(time.time()),
        "next": next_path,
    }
    return redirect(url_for("sign_in.choose_username"))


def _finish_link(user_id: int, claims):
    if not current_user.is_authenticated or current_user.id != user_id:
        raise ExternalSignInFailed(
            gettext("You signed out before linking finished. Sign in and try again.")
        )
    try:
        external.link(current_user, claims)
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message))
        return redirect(url_for("account.security"))
    db.session.commit()
    flash(
        gettext(
            "Your %(provider)s account is linked: you can sign in with it.",
            provider=_label(claims.provider),
        )
    )
    return redirect(url_for("account.security"))


@bp.route("/choose-username", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def choose_username():
    """A first sign-in with an account elsewhere: the reader picks a username,
    and only then is the account made."""
    pending = session.get(NEW)
    claims = external.claims_from_session(pending.get("claims")) if pending else None
    if claims is None or time.time() - pending.get("at", 0) > NEW_MAX_AGE:
        session.pop(NEW, None)
        return _failed(ExternalSignInFailed(gettext("This sign-in has ended. Start again.")))
    form = ChooseUsernameForm(next=pending.get("next", ""))
    if not form.is_submitted():
        form.username.data = external.suggested_username(claims)
    status = 200
    if form.validate_on_submit():
        try:
            user = external.create_account(claims, form.username.data)
        except (ValidationError, Conflict) as error:
            db.session.rollback()
            show_errors(form, error)
            status = 422
        else:
            start_session(user)  # a fresh session: the pending sign-in goes with the old one
            # An address the provider did not vouch for gets the usual confirmation link.
            recovery.send_verification(user)
            db.session.commit()
            flash(
                gettext(
                    "Welcome, %(name)s! You can join the discussion now.", name=user.display_name
                )
            )
            return redirect(local_path(pending.get("next"), "/"))
    elif form.is_submitted():
        status = 400
    return render_template(
        "auth/choose_username.html", form=form, provider=_label(claims.provider), claims=claims
    ), status


@bp.post("/external/identities/<int:identity_id>/unlink")
@limiter.limit("20 per hour")
@login_required
def unlink(identity_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        identity = external.unlink(current_user, identity_id)
    except ValidationError as error:
        db.session.rollback()
        flash(str(error.message))
        return redirect(url_for("account.security"))
    db.session.commit()
    flash(
        gettext(
            "Your %(provider)s account no longer signs in here.",
            provider=_label(identity.provider),
        )
    )
    return redirect(url_for("account.security"))


# -- a link by email ------------------------------------------------------------------


@bp.route("/email-link", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def request_email_link():
    """The same answer whether or not the address has accounts (see
    forum.services.accounts.email_sign_in)."""
    if not current_app.config["FORUM_EMAIL_SIGN_IN"]:
        abort(404)
    form = EmailLinkForm()
    if form.validate_on_submit():
        email_sign_in.request_link(form.email.data)
        db.session.commit()
        flash(
            gettext(
                "If an account uses that address, a sign-in link is on its way. "
                "It works once, for 15 minutes."
            )
        )
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/email_link_request.html", form=form
    ), 400 if form.is_submitted() else 200


@bp.route("/email-link/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def email_link(token):
    """A page with a button, not a sign-in on GET: mail scanners open links."""
    if not current_app.config["FORUM_EMAIL_SIGN_IN"]:
        abort(404)
    user = email_sign_in.user_for_link(token)
    if user is None:
        return render_template("auth/email_link_invalid.html"), 400
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        user = email_sign_in.spend(token)
        if user is None:
            db.session.rollback()
            return render_template("auth/email_link_invalid.html"), 400
        start_session(user)
        db.session.commit()
        flash(gettext("Signed in as %(name)s.", name=user.display_name))
        return redirect("/")
    return render_template("auth/email_link_confirm.html", form=form, user=user)

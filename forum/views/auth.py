"""Accounts in HTML: register, log in, log out, reset a password, confirm an
email address."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from forum.addresses import local_path
from forum.errors import Conflict, ValidationError
from forum.extensions import db, limiter
from forum.forms import (
    ConfirmForm,
    LoginForm,
    NewPasswordForm,
    RegisterForm,
    ResetRequestForm,
    show_errors,
)
from forum.models import utcnow
from forum.services.accounts import accounts, recovery

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    form = RegisterForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.register(form.username.data, form.email.data, form.password.data)
        except (ValidationError, Conflict) as error:
            show_errors(form, error)
            db.session.rollback()
            status = 422
        else:
            start_session(user)
            recovery.send_verification(user)
            db.session.commit()
            if recovery.verification_required():
                flash(
                    gettext(
                        "Welcome, %(name)s! We emailed a link to %(email)s: "
                        "open it to confirm your address, and you can post.",
                        name=user.display_name,
                        email=user.email,
                    )
                )
            else:
                flash(
                    gettext(
                        "Welcome, %(name)s! You can join the discussion now.",
                        name=user.display_name,
                    )
                )
            return redirect(local_path(form.next.data))
    elif form.is_submitted():
        status = 400
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = accounts.sign_in(form.username.data, form.password.data, request.remote_addr)
        if user is None:
            form.form_errors.append(gettext("Wrong username or password."))
            status = 401
        else:
            start_session(user)
            db.session.commit()  # the session record (and a rehashed password, if any)
            flash(gettext("Signed in as %(name)s.", name=user.display_name))
            return redirect(local_path(form.next.data))
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.end_session(session.get(accounts.SESSION_KEY))
        db.session.commit()
        logout_user()
        session.clear()
        flash(gettext("You are signed out."))
        return redirect("/")
    if not current_user.is_authenticated:
        return redirect("/")
    return render_template("auth/logout.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def request_reset():
    """The same answer whether or not the address has accounts (and about as
    fast: the work for a known address is queueing an email). Asking for an
    address is never refused for that address's sake: someone else asking for
    it must not keep its owner from a link (recovery.request_reset caps the
    emails instead)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        recovery.request_reset(form.email.data)
        db.session.commit()
        flash(
            gettext(
                "If an account uses that address, a link to choose a new password is on its "
                "way. It works for an hour."
            )
        )
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset_request.html", form=form
    ), 400 if form.is_submitted() else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token):
    user = recovery.user_for_reset(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            recovery.set_password(user, form.password.data)  # every session ends
        except ValidationError as error:
            show_errors(form, error)
            db.session.rollback()
            status = 422
        else:
            if user.email and user.email_verified_at is None:
                user.email_verified_at = utcnow()  # the link reached their inbox
            start_session(user)
            db.session.commit()
            flash(
                gettext(
                    "Your password is changed, and you are signed in. Other sessions were ended."
                )
            )
            return redirect("/")
    elif form.is_submitted():
        status = 400
    return render_template("auth/reset_password.html", form=form, user=user), status


@bp.get("/verify/<token>")
def verify_email(token):
    user = recovery.verify_email(token)
    if user is None:
        return render_template("auth/verify_invalid.html"), 400
    db.session.commit()
    flash(gettext("Thank you: your email address is confirmed."))
    if current_user.is_authenticated:
        return redirect("/")
    return redirect(url_for("auth.login"))


def start_session(user) -> None:
    # A fresh session at sign-in: nothing planted before it survives, and a new
    # record whose key only this cookie holds (the caller commits).
    session.clear()
    session[accounts.SESSION_KEY] = accounts.start_session(user)
    login_user(user)

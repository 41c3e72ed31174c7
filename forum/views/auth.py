"""Accounts in HTML: register, log in, log out."""

from flask import Blueprint, flash, redirect, render_template, request, session
from flask_login import current_user, login_user, logout_user

from forum.errors import Conflict, ValidationError
from forum.extensions import db, limiter
from forum.forms import ConfirmForm, LoginForm, RegisterForm, show_errors
from forum.services import accounts
from forum.views.redirects import safe_next

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
            db.session.commit()
            _start_session(user)
            flash(f"Welcome, {user.display_name}! You can join the discussion now.")
            return redirect(safe_next(form.next.data))
    elif form.is_submitted():
        status = 400
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            form.form_errors.append("Wrong username or password.")
            status = 401
        else:
            db.session.commit()  # a rehashed password, if any
            _start_session(user)
            flash(f"Signed in as {user.display_name}.")
            return redirect(safe_next(form.next.data))
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.")
        return redirect("/")
    if not current_user.is_authenticated:
        return redirect("/")
    return render_template("auth/logout.html", form=form)


def _start_session(user) -> None:
    # A fresh session at sign-in: nothing planted before it survives.
    session.clear()
    login_user(user)

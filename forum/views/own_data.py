"""The reader's own data in HTML: download it, change the account's email
address (confirmed by the new one), delete the account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, logout_user
from wtforms import EmailField, PasswordField

from forum.errors import ForumError, ValidationError
from forum.extensions import db, limiter
from forum.forms import ConfirmForm, Form, require_confirmed, show_errors
from forum.services.accounts import accounts, email_change, erasure, reauth
from forum.views.api.people import export_response
from forum.views.negotiation import acting_user

bp = Blueprint("own_data", __name__)


class EmailChangeForm(Form):
    email = EmailField(
        lazy_gettext("New email address"),
        description=lazy_gettext("We send a link there to confirm it"),
    )
    password = PasswordField(lazy_gettext("Your password"))


class DeleteAccountForm(Form):
    password = PasswordField(
        lazy_gettext("Your password"), description=lazy_gettext("To be sure it is you")
    )


# Prefixed: both forms are on one page, and their fields' ids must differ.
def _email_form() -> EmailChangeForm:
    return EmailChangeForm(prefix="change")


def _delete_form() -> DeleteAccountForm:
    return DeleteAccountForm(prefix="delete")


def _signed_in_at():
    return accounts.session_started_at(session.get(accounts.SESSION_KEY))


def _page(email_form=None, delete_form=None, status: int = 200):
    page = render_template(
        "account/data.html",
        email_form=email_form or _email_form(),
        delete_form=delete_form or _delete_form(),
        has_password=reauth.has_password(current_user),
        recent_minutes=int(reauth.RECENT.total_seconds() // 60),
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/account/data")
@login_required
def data():
    return _page()


@bp.get("/account/data/export")
@login_required
@limiter.limit("10 per hour")
def download():
    return export_response(acting_user())


@bp.post("/account/email")
@login_required
@limiter.limit("10 per hour")
def change_email():
    form = _email_form()
    if not form.validate_on_submit():
        return _page(email_form=form, status=400)
    try:
        address = email_change.request_change(
            acting_user(), form.email.data, form.password.data, _signed_in_at()
        )
    except ValidationError as error:
        db.session.rollback()
        show_errors(form, error)
        return _page(email_form=form, status=422)
    except ForumError as error:  # rate limited
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return _page(email_form=form, status=error.status)
    db.session.commit()
    flash(
        gettext(
            "We sent a link to %(email)s. Your address changes when you open it "
            "(within three days).",
            email=address,
        )
    )
    return redirect(url_for("own_data.data"))


# The link only shows a button: mail scanners and link previews open links, and
# one at a mistyped address must not hand that address the account.
@bp.get("/account/email/confirm/<token>")
def confirm_email_change_page(token):
    return render_template("account/email_confirm.html", form=ConfirmForm(), token=token)


@bp.post("/account/email/confirm/<token>")
@limiter.limit("30 per hour")
def confirm_email_change(token):
    require_confirmed()
    user = email_change.confirm_change(token)
    if user is None:
        return render_template("account/email_invalid.html"), 400
    db.session.commit()
    flash(gettext("Your account's email address is now %(email)s.", email=user.email))
    if current_user.is_authenticated:
        return redirect(url_for("own_data.data"))
    return redirect(url_for("auth.login"))


@bp.post("/account/delete")
@login_required
@limiter.limit("5 per hour")
def delete():
    form = _delete_form()
    if not form.validate_on_submit():
        return _page(delete_form=form, status=400)
    user = acting_user()
    try:
        reauth.require_owner(user, form.password.data, _signed_in_at())
        erasure.delete_account(user, actor=user)
    except ForumError as error:
        db.session.rollback()
        if isinstance(error, ValidationError):
            show_errors(form, error)
        else:
            form.form_errors.append(str(error.message))
        return _page(delete_form=form, status=error.status)
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("Your account is deleted, and the words of your comments with it. Goodbye."))
    return redirect("/")

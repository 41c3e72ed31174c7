"""The reader's own account: its security (password, sessions, confirming the
address), which notifications come by email, and the one-click unsubscribe link
every such email carries."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, login_user
from wtforms import RadioField, SelectChoice, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from forum import permissions
from forum.errors import ForumError, ValidationError
from forum.extensions import csrf, db, limiter
from forum.forms import ChangePasswordForm, ConfirmForm, Form, show_errors
from forum.models import AlertFrequency, NotificationKind, User
from forum.services.accounts import accounts, recovery
from forum.services.notify import alerts, messages
from forum.views.negotiation import acting_user
from forum.vocabulary import label

bp = Blueprint("account", __name__)


class NotificationsForm(Form):
    kinds = SelectMultipleField(
        lazy_gettext("Email me when…"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Said in the reader's language, so chosen per request, not at import.
        self.kinds.choices = [
            SelectChoice(kind.value, label(kind)) for kind in messages.KIND_LABELS
        ]


class ModerationAlertsForm(Form):
    """A moderator's choice of emails about comments waiting for them."""

    # The service checks the value (alerts.set_frequency), in the page's words.
    frequency = RadioField(lazy_gettext("Email me about them"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frequency.choices = [(f.value, label(f)) for f in AlertFrequency]


def _alerts_form(form: ModerationAlertsForm | None = None) -> ModerationAlertsForm | None:
    """The moderation alerts form for a moderator's notifications page (None for readers)."""
    if not permissions.can_moderate(current_user):
        return None
    return form or ModerationAlertsForm(
        formdata=None, frequency=current_user.moderation_alerts.value
    )


class BadUnsubscribeLink(ForumError):
    status = 400
    code = "bad_unsubscribe_link"
    message = lazy_gettext(
        "This unsubscribe link is not valid: it may have been cut short or changed. "
        "Copy the whole link from the email, or sign in and choose your emails "
        "on your notifications page."
    )


def _ordered(kinds) -> list[str]:
    chosen = set(kinds or [])
    return [kind.value for kind in NotificationKind if kind.value in chosen]


@bp.get("/account/security")
@login_required
def security():
    return render_template(
        "account/security.html", password_form=ChangePasswordForm(), confirm_form=ConfirmForm()
    )


@bp.post("/account/security/password")
@login_required
@limiter.limit("10 per hour")
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return security_page(form, 400)
    try:
        # Ends every other session and bearer token; this browser gets a new key.
        recovery.change_password(
            current_user, form.current_password.data, form.password.data, keep_session=None
        )
    except ValidationError as error:
        db.session.rollback()
        show_errors(form, error)
        return security_page(form, 422)
    user = acting_user()
    session.clear()
    session[accounts.SESSION_KEY] = accounts.start_session(user)
    login_user(user)
    db.session.commit()
    flash(gettext("Your password is changed. Every other browser and app was signed out."))
    return redirect(url_for("account.security"))


@bp.post("/account/security/sessions")
@login_required
def end_other_sessions():
    if not ConfirmForm().validate_on_submit():
        return security_page(ChangePasswordForm(), 400)
    accounts.end_other_sessions(current_user, keep=session.get(accounts.SESSION_KEY))
    db.session.commit()
    flash(gettext("Every other browser and app was signed out."))
    return redirect(url_for("account.security"))


@bp.post("/account/security/verify")
@login_required
@limiter.limit("5 per hour")
def resend_verification():
    if not ConfirmForm().validate_on_submit():
        return security_page(ChangePasswordForm(), 400)
    if recovery.send_verification(current_user):
        db.session.commit()
        flash(
            gettext(
                "We sent a new link to %(email)s. It works for three days.",
                email=current_user.email,
            )
        )
    else:
        flash(gettext("Your address is confirmed already."))
    return redirect(url_for("account.security"))


def security_page(password_form, status: int):
    page = render_template(
        "account/security.html", password_form=password_form, confirm_form=ConfirmForm()
    )
    return page, status


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    if request.method == "POST":
        # Explicit form data: unticking every box posts no "kinds" at all, which
        # must mean "none", not "keep what was saved".
        form = NotificationsForm(formdata=request.form)
    else:
        form = NotificationsForm(kinds=_ordered(current_user.email_kinds))
    status = 200
    if form.validate_on_submit():
        current_user.email_kinds = _ordered(form.kinds.data)  # a new list: saved
        db.session.commit()
        flash(
            gettext("Saved. We will email you about the things you ticked.")
            if current_user.email_kinds
            else gettext("Saved. We will not email you notifications.")
        )
        return redirect(url_for("account.notifications"))
    if form.is_submitted():
        status = 400
    return render_template(
        "account/notifications.html", form=form, alerts_form=_alerts_form()
    ), status


@bp.post("/account/notifications/moderation")
@login_required
def moderation_alerts():
    """A moderator's choice of emails about what waits (forum.services.notify.alerts)."""
    form = ModerationAlertsForm()
    status = 400
    if form.validate_on_submit():
        try:
            alerts.set_frequency(current_user, form.frequency.data)
        except ValidationError as error:
            db.session.rollback()
            show_errors(form, error)
            status = 422
        else:
            db.session.commit()
            flash(str(_ALERTS_SAVED[current_user.moderation_alerts]))
            return redirect(url_for("account.notifications") + "#moderation-alerts")
    page = render_template(
        "account/notifications.html",
        form=NotificationsForm(formdata=None, kinds=_ordered(current_user.email_kinds)),
        alerts_form=_alerts_form(form),
    )
    return page, status


# What a moderator is told after choosing, a whole sentence for each choice.
_ALERTS_SAVED = {
    AlertFrequency.IMMEDIATE: lazy_gettext(
        "Saved. We will email you about comments waiting for moderation as they happen."
    ),
    AlertFrequency.HOURLY: lazy_gettext(
        "Saved. We will email you an hourly digest of comments waiting for moderation."
    ),
    AlertFrequency.DAILY: lazy_gettext(
        "Saved. We will email you a daily digest of comments waiting for moderation."
    ),
    AlertFrequency.OFF: lazy_gettext(
        "Saved. We will not email you about comments waiting for moderation."
    ),
}


def _from_token(token: str) -> tuple[User | None, NotificationKind]:
    found = messages.read_unsubscribe_token(token)
    if found is None:
        raise BadUnsubscribeLink()
    user_id, kind = found
    return db.session.get(User, user_id), kind


# No CSRF token: the signed link is the authority, and mail clients post to it
# without a page (RFC 8058 one-click). GET only shows a button, because link
# scanners fetch every URL in an email.
@bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe(token: str):
    user, kind = _from_token(token)
    return _page(token, user, kind, done=False)


@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
# One-click unsubscribes (RFC 8058) come from mail providers' servers, a few
# addresses for all their users; the signed token is the authority here.
@limiter.exempt
def unsubscribe_post(token: str):
    user, kind = _from_token(token)
    if user is not None and messages.wants_email(user, kind):
        user.email_kinds = [k for k in user.email_kinds if k != kind.value]
        db.session.commit()
    return _page(token, user, kind, done=True)


def _page(token: str, user: User | None, kind: NotificationKind, done: bool):
    page = render_template(
        "account/unsubscribe.html",
        token=token,
        user=user,
        label=label(kind),
        subscribed=user is not None and messages.wants_email(user, kind),
        done=done,
    )
    # The token in the URL is as good as a password for this one setting.
    return page, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

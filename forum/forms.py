"""Form shapes and CSRF.  The rules themselves live in the services, which the
views call after validate_on_submit(); their ValidationError fields are shown
on these forms by show_errors()."""

from uuid import uuid4

from flask import abort
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from forum.errors import ValidationError
from forum.models import FlagReason
from forum.services.discussion.comments import THEORY_TITLE


class Form(FlaskForm):
    """Every form here.  A page may hold several forms, so their CSRF fields carry
    no id: one id="csrf_token" per form would repeat on the page."""

    class Meta:
        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}
            return super().render_field(field, render_kw)


class RegisterForm(Form):
    username = StringField(
        lazy_gettext("Username"), description=lazy_gettext("3–30 letters, digits, _ or -")
    )
    email = EmailField(
        lazy_gettext("Email"), description=lazy_gettext("Never shown to other readers")
    )
    password = PasswordField(
        lazy_gettext("Password"), description=lazy_gettext("At least 10 characters")
    )
    next = HiddenField()


class LoginForm(Form):
    username = StringField(lazy_gettext("Username"))
    password = PasswordField(lazy_gettext("Password"))
    next = HiddenField()


class CommentForm(Form):
    body = TextAreaField(
        lazy_gettext("Your comment"),
        description=lazy_gettext(
            "Markdown works: **bold**, *italic*, links, and ||spoilers|| to hide a twist. "
            "Write @name to let a reader know (the first 10 you mention)."
        ),
    )
    parent_id = HiddenField()
    theory_title = StringField(
        lazy_gettext("Theory title (optional)"),
        description=lazy_gettext(
            "Give it a title to post it as a theory: %(low)s to %(high)s characters.",
            low=THEORY_TITLE[0],
            high=THEORY_TITLE[1],
        ),
        render_kw={"maxlength": THEORY_TITLE[1]},
    )
    spoiler = BooleanField(lazy_gettext("The whole comment is a spoiler"))
    # A fresh key per rendered form: sending the form twice posts one comment
    # (forum.services.idempotency).
    idempotency_key = HiddenField(default=lambda: str(uuid4()))
    # Shown to visitors without an account where guests are welcome.
    guest_name = StringField(
        lazy_gettext("Your name"),
        description=lazy_gettext("Shown with your comment, marked as a guest's."),
        render_kw={"maxlength": 50, "autocomplete": "nickname"},
    )
    guest_email = EmailField(
        lazy_gettext("Email (optional)"),
        description=lazy_gettext(
            "Never shown. For replies: we mail you a link to confirm it first."
        ),
        render_kw={"maxlength": 254, "autocomplete": "email"},
    )
    # The trap: hidden from people, filled in by form-filling robots.
    website = StringField(
        lazy_gettext("Leave this empty"), render_kw={"tabindex": "-1", "autocomplete": "off"}
    )
    proof_challenge = HiddenField()
    proof_nonce = HiddenField()


class EditForm(Form):
    body = TextAreaField(lazy_gettext("Your comment"))


# Every reason needs its label: a new FlagReason without one fails at import.
FLAG_REASON_LABELS = {
    FlagReason.SPAM: lazy_gettext("Spam or advertising"),
    FlagReason.ABUSE: lazy_gettext("Abusive or hateful"),
    FlagReason.OFF_TOPIC: lazy_gettext("Off topic"),
    FlagReason.SPOILER: lazy_gettext("An unmarked spoiler"),
    FlagReason.OTHER: lazy_gettext("Something else"),
}


class FlagForm(Form):
    reason = RadioField(
        lazy_gettext("Why should a moderator look at it?"),
        choices=[SelectChoice(reason.value, FLAG_REASON_LABELS[reason]) for reason in FlagReason],
        validate_choice=False,  # the service says what is wrong, in one place
    )
    note = TextAreaField(lazy_gettext("Anything the moderators should know? (optional)"))


class ProfileForm(Form):
    display_name = StringField(
        lazy_gettext("Display name"), description=lazy_gettext("How your name appears on comments")
    )
    bio = TextAreaField(
        lazy_gettext("About you"), description=lazy_gettext("A line or two; at most 300 characters")
    )
    # Choices are the shipped locales, given by the view (each in its own language).
    locale = SelectField(
        lazy_gettext("Language"),
        description=lazy_gettext("Pages and emails use it, wherever you sign in."),
        validate_choice=False,
    )


class ConfirmForm(Form):
    """A button and its CSRF token (delete, log out)."""


def require_confirmed() -> None:
    """A button with no fields of its own still carries a valid CSRF token: 400 if not."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's field errors to the form; the rest go to form.form_errors."""
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    if not error.fields:
        form.form_errors.append(error.message)


class ResetRequestForm(Form):
    email = EmailField(
        lazy_gettext("Email"), description=lazy_gettext("The address your account uses")
    )


class EmailLinkForm(Form):
    """Ask for a sign-in link by email (forum.services.accounts.email_sign_in)."""

    email = EmailField(
        lazy_gettext("Email"),
        description=lazy_gettext("We email a link that signs you in, once, for 15 minutes"),
    )


class ChooseUsernameForm(Form):
    """A first sign-in with an account elsewhere: the name to be known by here."""

    username = StringField(
        lazy_gettext("Username"), description=lazy_gettext("3–30 letters, digits, _ or -")
    )
    next = HiddenField()


class NewPasswordForm(Form):
    password = PasswordField(
        lazy_gettext("New password"), description=lazy_gettext("At least 10 characters")
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(lazy_gettext("Current password"))
    password = PasswordField(
        lazy_gettext("New password"), description=lazy_gettext("At least 10 characters")
    )


class Lazy:
    """A form made the first time a template touches it. Making a FlaskForm puts
    a CSRF token in the session, and a page for a reader without an account
    (who is shown no form) must not start one: it could not be shared or cached.
    """

    def __init__(self, make):
        self._make = make
        self._form = None

    def __getattr__(self, name):
        if self._form is None:
            self._form = self._make()
        return getattr(self._form, name)

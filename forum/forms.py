"""Form shapes and CSRF.  The rules themselves live in the services, which the
views call after validate_on_submit(); their ValidationError fields are shown
on these forms by show_errors()."""

from uuid import uuid4

from flask import abort
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)

from forum.errors import ValidationError
from forum.models import FlagReason
from forum.services.discussion.comments import THEORY_TITLE


class RegisterForm(FlaskForm):
    username = StringField("Username", description="3–30 letters, digits, _ or -")
    email = EmailField("Email", description="Never shown to other readers")
    password = PasswordField("Password", description="At least 10 characters")
    next = HiddenField()


class LoginForm(FlaskForm):
    username = StringField("Username")
    password = PasswordField("Password")
    next = HiddenField()


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Your comment",
        description=(
            "Markdown works: **bold**, *italic*, links, and ||spoilers|| to hide a twist. "
            "Write @name to let a reader know (the first 10 you mention)."
        ),
    )
    parent_id = HiddenField()
    theory_title = StringField(
        "Theory title (optional)",
        description="Give it a title to post it as a theory: "
        f"{THEORY_TITLE[0]} to {THEORY_TITLE[1]} characters.",
        render_kw={"maxlength": THEORY_TITLE[1]},
    )
    spoiler = BooleanField("The whole comment is a spoiler")
    # A fresh key per rendered form: sending the form twice posts one comment
    # (forum.services.idempotency).
    idempotency_key = HiddenField(default=lambda: str(uuid4()))
    # Shown to visitors without an account where guests are welcome.
    guest_name = StringField(
        "Your name",
        description="Shown with your comment, marked as a guest's.",
        render_kw={"maxlength": 50, "autocomplete": "nickname"},
    )
    guest_email = EmailField(
        "Email (optional)",
        description="Never shown. For replies: we mail you a link to confirm it first.",
        render_kw={"maxlength": 254, "autocomplete": "email"},
    )
    # The trap: hidden from people, filled in by form-filling robots.
    website = StringField("Leave this empty", render_kw={"tabindex": "-1", "autocomplete": "off"})
    proof_challenge = HiddenField()
    proof_nonce = HiddenField()


class EditForm(FlaskForm):
    body = TextAreaField("Your comment")


# Every reason needs its label: a new FlagReason without one fails at import.
FLAG_REASON_LABELS = {
    FlagReason.SPAM: "Spam or advertising",
    FlagReason.ABUSE: "Abusive or hateful",
    FlagReason.OFF_TOPIC: "Off topic",
    FlagReason.SPOILER: "An unmarked spoiler",
    FlagReason.OTHER: "Something else",
}


class FlagForm(FlaskForm):
    reason = RadioField(
        "Why should a moderator look at it?",
        choices=[SelectChoice(reason.value, FLAG_REASON_LABELS[reason]) for reason in FlagReason],
        validate_choice=False,  # the service says what is wrong, in one place
    )
    note = TextAreaField("Anything the moderators should know? (optional)")


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", description="How your name appears on comments")
    bio = TextAreaField("About you", description="A line or two; at most 300 characters")


class ConfirmForm(FlaskForm):
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


class ResetRequestForm(FlaskForm):
    email = EmailField("Email", description="The address your account uses")


class EmailLinkForm(FlaskForm):
    """Ask for a sign-in link by email (forum.services.accounts.email_sign_in)."""

    email = EmailField(
        "Email", description="We email a link that signs you in, once, for 15 minutes"
    )


class ChooseUsernameForm(FlaskForm):
    """A first sign-in with an account elsewhere: the name to be known by here."""

    username = StringField("Username", description="3–30 letters, digits, _ or -")
    next = HiddenField()


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", description="At least 10 characters")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    password = PasswordField("New password", description="At least 10 characters")


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

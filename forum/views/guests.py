"""Guests' pages: confirming the address a guest left, and a reader taking over
the comments they wrote as a guest (forum.services.accounts.guests)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_number, gettext, ngettext
from flask_login import current_user, login_required

from forum.extensions import db, limiter
from forum.forms import ConfirmForm, require_confirmed
from forum.services.accounts import guests

bp = Blueprint("guests", __name__)


# The link only shows a button: mail scanners open links, and must not confirm
# an address for its owner.
@bp.get("/guests/confirm/<token>")
def confirm(token):
    return render_template("guests/confirm.html", form=ConfirmForm(), token=token)


@bp.post("/guests/confirm/<token>")
@limiter.limit("20 per hour")
def confirm_post(token):
    require_confirmed()
    guest = guests.confirm_address(token)
    if guest is None:
        return render_template("guests/confirm_invalid.html"), 400
    db.session.commit()
    return render_template("guests/confirmed.html", guest=guest)


@bp.post("/account/guest-comments")
@login_required
@limiter.limit("10 per hour")
def claim():
    require_confirmed()
    moved = guests.claim(current_user)
    db.session.commit()
    if moved:
        # %(count)s, not %(num)s: ngettext's num would be the bare number, without
        # the separators ("1,200") the reader's language writes it with.
        flash(
            ngettext(
                "%(count)s comment you wrote as a guest now shows your name.",
                "%(count)s comments you wrote as a guest now show your name.",
                moved,
                count=format_number(moved),
            )
        )
    else:
        flash(gettext("There are no guest comments left to take over for your address."))
    return redirect(url_for("account.security"))

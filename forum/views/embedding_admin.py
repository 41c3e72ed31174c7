"""Admins' pages for embedding: which publishers' origins may show threads, their
sign-on secrets, and the threads embeds created (rename, merge).

Every change is a plain form post with a CSRF token, audited by the services.
A new sign-on secret is shown once, in the answer to the post that made it: it is
never flashed (the session cookie is signed, not encrypted), logged, or shown again.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from forum import addresses, permissions
from forum.errors import ForumError, NotFound, ValidationError
from forum.extensions import db
from forum.forms import ConfirmForm, require_confirmed
from forum.services.discussion import sites, thread_admin, threads
from forum.services.moderation import queues
from forum.views.negotiation import acting_user, error_sentence, flash_outcome

bp = Blueprint("embedding_admin", __name__, url_prefix="/moderation/embedding")


@bp.before_request
@login_required
def admins_only():
    permissions.require(permissions.can_manage_embedding(current_user), gettext("Admins only."))


# -- sites ------------------------------------------------------------------------------------


@bp.get("/")
def sites_page():
    return _render_sites()


def _render_sites(status: int = 200, errors=None, values=None, secret=None):
    response = render_template(
        "embedding_admin/sites.html",
        rows=sites.overview(),
        errors=errors or {},
        values=values or {},
        secret=secret,
        counts=queues.queue_counts(),
        form=ConfirmForm(),
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/origins")
def add_origin():
    require_confirmed()
    raw = request.form.get("origin", "")
    try:
        site = sites.set_allowed(acting_user(), raw, True)
    except ValidationError as error:
        db.session.rollback()
        return _render_sites(422, errors=error.fields, values={"origin": raw})
    db.session.commit()
    flash(gettext("%(origin)s may embed discussions.", origin=site.origin))
    return redirect(url_for("embedding_admin.sites_page"))


@bp.post("/origins/allowed")
def set_allowed():
    require_confirmed()
    allowed = request.form.get("allowed") == "1"
    flash_outcome(
        lambda: sites.set_allowed(acting_user(), request.form.get("origin"), allowed),
        lambda site: (
            gettext("%(origin)s may embed discussions.", origin=site.origin)
            if allowed
            else gettext("%(origin)s may no longer embed discussions.", origin=site.origin)
        ),
    )
    return redirect(url_for("embedding_admin.sites_page"))


@bp.post("/origins/secret")
def generate_secret():
    require_confirmed()
    origin = request.form.get("origin")
    try:
        secret = sites.new_sso_secret(acting_user(), origin)
    except ForumError as error:
        db.session.rollback()
        flash(error_sentence(error))
        return redirect(url_for("embedding_admin.sites_page"))
    db.session.commit()
    # Shown in this answer only (no redirect, no flash): see the module's docstring.
    return _render_sites(secret={"origin": addresses.normalize_origin(origin), "value": secret})


@bp.post("/origins/secret/delete")
def remove_secret():
    require_confirmed()
    origin = request.form.get("origin")
    flash_outcome(
        lambda: sites.remove_sso_secret(acting_user(), origin),
        gettext("Single sign-on is off for %(origin)s.", origin=addresses.normalize_origin(origin)),
    )
    return redirect(url_for("embedding_admin.sites_page"))


@bp.post("/origins/roles")
def set_sso_roles():
    require_confirmed()
    origin = request.form.get("origin")
    honoured = request.form.get("sso_roles") == "1"

    def said(outcome):
        site, changed = outcome
        if honoured:
            return gettext(
                "Sign-on tokens from %(origin)s may now make moderators and give badges.",
                origin=site.origin,
            )
        if changed:
            # "account(s)" in English as before; other languages get their plural forms.
            return ngettext(
                "%(origin)s's role and badges claims are ignored from now on "
                "(%(num)s account(s) lost a role or badges it gave).",
                "%(origin)s's role and badges claims are ignored from now on "
                "(%(num)s account(s) lost a role or badges it gave).",
                changed,
                origin=site.origin,
            )
        return gettext(
            "%(origin)s's role and badges claims are ignored from now on.", origin=site.origin
        )

    flash_outcome(lambda: sites.set_sso_roles(acting_user(), origin, honoured), said)
    return redirect(url_for("embedding_admin.sites_page"))


@bp.post("/origins/guests")
def set_guests():
    require_confirmed()
    origin = request.form.get("origin")
    welcome = request.form.get("guests") == "1"
    flash_outcome(
        lambda: sites.set_guests(acting_user(), origin, welcome),
        lambda site: (
            gettext("Guests are welcome on %(origin)s.", origin=site.origin)
            if welcome
            else gettext("Guests are turned away on %(origin)s.", origin=site.origin)
        ),
    )
    return redirect(url_for("embedding_admin.sites_page"))


# -- threads ----------------------------------------------------------------------------------


@bp.get("/threads")
def threads_page():
    raw_origin = request.args.get("origin", "").strip()
    origin = addresses.normalize_origin(raw_origin) if raw_origin else None
    rows, next_cursor, error, status = [], None, None, 200
    if raw_origin and origin is None:
        error, status = gettext("Give an origin like https://news.example (no path)."), 422
    else:
        try:
            rows, next_cursor = thread_admin.embedded_threads(
                acting_user(), origin=origin, cursor=request.args.get("cursor") or None
            )
        except ValidationError:
            return redirect(url_for("embedding_admin.threads_page", origin=origin))
    return render_template(
        "embedding_admin/threads.html",
        rows=rows,
        merged_keys=thread_admin.keys_by_id(t.merged_into_id for t in rows),
        next_cursor=next_cursor,
        origin=origin,
        raw_origin=raw_origin,
        origin_error=error,
        known_origins=[row["origin"] for row in sites.overview()],
        counts=queues.queue_counts(),
    ), status


@bp.get("/threads/<key>")
def thread_page(key):
    return _render_thread(threads.thread_by_key(key))


def _render_thread(thread, status: int = 200, errors=None, values=None):
    candidates = []
    if thread.origin is not None and thread.merged_into_id is None:
        # The same site's latest threads, offered as keys to merge into.
        recent, _ = thread_admin.embedded_threads(acting_user(), origin=thread.origin, limit=50)
        candidates = [t for t in recent if t.id != thread.id and t.merged_into_id is None]
    return render_template(
        "embedding_admin/thread.html",
        thread=thread,
        candidates=candidates,
        merged_into=thread_admin.keys_by_id([thread.merged_into_id]).get(thread.merged_into_id),
        errors=errors or {},
        values=values or {},
        counts=queues.queue_counts(),
        form=ConfirmForm(),
    ), status


@bp.post("/threads/<key>/rename")
def rename(key):
    require_confirmed()
    thread = threads.thread_by_key(key)
    title, url = request.form.get("title"), request.form.get("url")
    try:
        thread_admin.rename_thread(acting_user(), thread, title, url)
    except ValidationError as error:
        db.session.rollback()
        return _render_thread(thread, 422, errors=error.fields, values={"title": title, "url": url})
    db.session.commit()
    flash(gettext("Saved the thread's title and address."))
    return redirect(url_for("embedding_admin.thread_page", key=thread.key))


@bp.post("/threads/<key>/merge")
def merge(key):
    require_confirmed()
    source = threads.thread_by_key(key)
    into = (request.form.get("into") or "").strip()
    try:
        if not into:
            raise ValidationError(fields={"into": gettext("Give the key of the thread to keep.")})
        try:
            target = threads.thread_by_key(into)
        except NotFound:
            raise ValidationError(
                fields={"into": gettext("There is no thread with the key %(key)s.", key=into[:200])}
            ) from None
        moved = thread_admin.merge_threads(acting_user(), source, target)
    except ValidationError as error:
        db.session.rollback()
        return _render_thread(source, 422, errors=error.fields, values={"into": into})
    db.session.commit()
    # "comment(s)" in English as before; other languages get their plural forms.
    flash(
        ngettext(
            "Merged %(source)s into %(target)s: %(num)s comment(s) moved.",
            "Merged %(source)s into %(target)s: %(num)s comment(s) moved.",
            moved,
            source=source.key,
            target=target.key,
        )
    )
    return redirect(url_for("embedding_admin.thread_page", key=target.key))

"""What every template can use: time filters and the thread display settings."""

from datetime import UTC, datetime

from flask import Flask, current_app

from forum.models import utcnow
from forum.services.comments import descendants

# Replies indent this many levels; deeper ones continue flat with a cue.
MAX_NESTING = 6


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API and <time datetime> want it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def when(moment: datetime) -> str:
    """A date a person reads at a glance: "24 Nov 2026, 05:30 UTC"."""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def init_app(app: Flask) -> None:
    app.add_template_filter(iso)
    app.add_template_filter(when)
    app.add_template_global(descendants)
    app.add_template_global(MAX_NESTING, "MAX_NESTING")

    @app.context_processor
    def clock():
        return {"now": utcnow(), "edit_window": current_app.config["FORUM_EDIT_WINDOW_MINUTES"]}

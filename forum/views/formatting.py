"""What every template can use: time filters and the thread display settings."""

from datetime import UTC, datetime

from babel.dates import format_timedelta
from flask import Flask, current_app
from flask_babel import get_locale, gettext
from markupsafe import Markup

from forum import i18n
from forum.markup import highlight, spoiler_free_text, words
from forum.models import FlagReason, ModerationAction, ModerationMode, utcnow
from forum.services.accounts import guests
from forum.services.discussion import spoilers
from forum.services.discussion.comments import BODY_MAX, THEORY_TITLE
from forum.services.discussion.trees import descendants
from forum.vocabulary import hold_reason, label

# Replies indent this many levels; deeper ones continue flat with a cue.
MAX_NESTING = 6


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API and <time datetime> want it."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"  # C-fast, unlike strftime


def when(moment: datetime) -> str:
    """ "Nov 24, 2026, 05:30 UTC" in the reader's language (forum.i18n)."""
    return i18n.format_moment(moment)


def age(moment: datetime) -> str:
    """How long ago, roughly, in the reader's language: "3 days", "5 hours"."""
    seconds = max(0, (utcnow() - moment).total_seconds())
    if seconds < 60:
        return gettext("under a minute")
    return format_timedelta(seconds, threshold=1, locale=get_locale())


def ago(moment: datetime) -> str:
    """ "3 hours ago", "hace 3 horas"; the exact time goes in the <time> element's title."""
    seconds = max(0, (utcnow() - moment).total_seconds())
    if seconds < 60:
        return gettext("just now")
    return format_timedelta(-seconds, threshold=1, add_direction=True, locale=get_locale())


def cover_for(comment, muted=None, spoiler_window=False) -> str | None:
    """Why a comment starts collapsed for this reader (its summary line), or None."""
    if muted and comment.author_id in muted:
        return gettext("Comment by a reader you muted — show")
    if comment.spoiler:
        return gettext("Contains spoilers — show")
    if spoiler_window and (comment.parent_id is not None or comment.is_theory):
        return gettext("Collapsed during the spoiler window — show")
    return None


def held_words(comment) -> list[str]:
    """The words the automatic rules matched, to highlight for the moderator."""
    return [w for reason in comment.hold_reasons for w in reason.get("words", [])]


def highlighted(clean_html: str, words: list[str]) -> Markup:
    # The stored HTML was cleaned at write time; highlight() only adds <mark>.
    return Markup(highlight(clean_html, words))


def search_marked(clean_html: str, query) -> str:
    """A comment's stored HTML with what a search matched in <mark> (moderators,
    who see spoilers uncovered); as it is without a query."""
    return words.mark(clean_html, list(query.terms)) if query else clean_html


def search_excerpt(comment, query) -> Markup:
    """Where a search found a comment, in its words, matches in <mark>, inline
    spoilers left out (forum.markup.words.excerpt escapes everything else)."""
    terms = list(query.terms) if query else []
    return Markup(words.excerpt(comment.html, terms, gettext("[spoiler]")))


def init_app(app: Flask) -> None:
    app.add_template_filter(age)
    app.add_template_filter(ago)
    app.add_template_global(held_words)
    app.add_template_global(cover_for)
    app.add_template_global(spoilers.withheld, "withheld")
    app.add_template_global(spoiler_free_text)
    app.add_template_global(highlighted, "highlight")
    app.add_template_global(search_marked)
    app.add_template_global(search_excerpt)
    app.add_template_filter(iso)
    app.add_template_filter(label)
    app.add_template_global(hold_reason)
    app.add_template_filter(when)
    app.add_template_global(descendants)
    app.add_template_global(MAX_NESTING, "MAX_NESTING")
    # Comment boxes' maxlength: the limit the server enforces, never a copy of it.
    app.add_template_global(BODY_MAX, "BODY_MAX")
    app.add_template_global(THEORY_TITLE, "THEORY_TITLE")
    app.add_template_global(guests.can_post, "guest_can_post")
    app.add_template_global(guests.can_reply, "guest_can_reply")
    app.add_template_global(guests.claimable, "claimable_guest_comments")
    # The enums, so pages list modes, actions and reasons from the one definition.
    for kind in (FlagReason, ModerationAction, ModerationMode):
        app.add_template_global(kind, kind.__name__)

    @app.context_processor
    def clock():
        return {"now": utcnow(), "edit_window": current_app.config["FORUM_EDIT_WINDOW_MINUTES"]}

"""The page's language and direction (forum.i18n): <html lang dir> follows the
chosen locale, ?lang= is remembered in a cookie, Accept-Language is heard, a
made-up language changes nothing, and cached pages are kept per language.

Until catalogs ship, the locales here are configured by hand: the words stay
English (gettext falls back), the choosing and the direction are what is tested."""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.i18n import COOKIE
from forum.services.discussion import threads


@pytest.fixture
def app(app_with):
    app = app_with(FORUM_LOCALES=["en", "ar", "es"])
    with app.app_context():
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    return app


def html_tag(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index("<html") : text.index(">", text.index("<html")) + 1]


def test_english_left_to_right_by_default(app):
    response = app.test_client().get("/articles/a-story")
    assert html_tag(response) == '<html lang="en" dir="ltr">'
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_lang_is_heard_remembered_and_read_right_to_left(app):
    client = app.test_client()
    chosen = client.get("/articles/a-story?lang=ar")
    assert html_tag(chosen) == '<html lang="ar" dir="rtl">'
    assert f"{COOKIE}=ar" in chosen.headers["Set-Cookie"]
    assert "Accept-Language" in chosen.headers["Vary"]
    later = client.get("/auth/login")
    assert html_tag(later) == '<html lang="ar" dir="rtl">'
    back = client.get("/auth/login?lang=en")
    assert html_tag(back) == '<html lang="en" dir="ltr">'


def test_the_browsers_language_is_heard(app):
    response = app.test_client().get(
        "/articles/a-story", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
    )
    assert html_tag(response) == '<html lang="es" dir="ltr">'


def test_a_made_up_language_changes_nothing(app):
    client = app.test_client()
    response = client.get("/articles/a-story?lang=xx-evil")
    assert html_tag(response) == '<html lang="en" dir="ltr">'
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_cached_pages_are_kept_per_language(app):
    """The shared page of a thread, built for one language, is never served in another."""
    english = app.test_client().get("/articles/a-story")
    arabic = app.test_client().get("/articles/a-story", headers={"Accept-Language": "ar"})
    again = app.test_client().get("/articles/a-story")
    assert html_tag(english) == html_tag(again) == '<html lang="en" dir="ltr">'
    assert html_tag(arabic) == '<html lang="ar" dir="rtl">'


def test_the_embed_takes_its_language_without_a_cookie(app_with):
    app = app_with(FORUM_LOCALES=["en", "ar"], FORUM_EMBED_ORIGINS="https://news.example")
    response = app.test_client().get(
        "/embed/threads/page-1",
        query_string={
            "origin": "https://news.example",
            "lang": "ar",
            "title": "A page",
            "url": "https://news.example/page-1",
        },
        headers={"Referer": "https://news.example/"},
    )
    assert response.status_code == 200
    assert html_tag(response).startswith('<html lang="ar" dir="rtl"')
    assert COOKIE not in response.headers.get("Set-Cookie", "")

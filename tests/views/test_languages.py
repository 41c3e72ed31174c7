"""The page's language and direction (forum.i18n): <html lang dir> follows the
chosen locale, ?lang= is remembered in a cookie, Accept-Language is heard, a
made-up language changes nothing, and cached pages are kept per language.

Most tests configure the locales by hand (ar and es), so what is tested is the
choosing and the direction; the last one uses the shipped catalogs."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from forum.extensions import db
from forum.i18n import COOKIE
from forum.models import User
from forum.services.accounts import guests
from forum.services.discussion import threads
from tests.conftest import AuthActions


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


def signed_in(app, make, username="layla"):
    make.user(username)
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def save_language(client, locale):
    return client.post(
        "/account/profile", data={"display_name": "Layla", "bio": "", "locale": locale}
    )


def test_a_readers_own_choice_comes_before_lang_and_the_browser(app, make):
    client = signed_in(app, make)
    form = client.get("/account/profile").get_data(as_text=True)
    assert '<option value="" selected>' in form
    assert '<option value="ar" lang="ar">العربية</option>' in form
    assert save_language(client, "ar").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(User.locale).filter_by(username="layla")) == "ar"
    spanish = {"Accept-Language": "es"}
    assert html_tag(client.get("/articles/a-story?lang=es", headers=spanish)) == (
        '<html lang="ar" dir="rtl">'
    )
    # "" goes back to following the browser.
    assert save_language(client, "").status_code == 302
    assert (
        html_tag(client.get("/articles/a-story", headers=spanish)) == '<html lang="es" dir="ltr">'
    )
    with app.app_context():
        assert db.session.scalar(db.select(User.locale).filter_by(username="layla")) is None


def test_a_language_not_shipped_is_refused_and_nothing_changes(app, make):
    client = signed_in(app, make)
    save_language(client, "es")
    refused = save_language(client, "xx")
    assert refused.status_code == 422
    # Said in her language, which is Spanish by now.
    with app.test_request_context("/"), force_locale("es"):
        sentence = gettext("Choose one of the languages on the list.")
    assert sentence in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(User.locale).filter_by(username="layla")) == "es"


def test_visitors_are_offered_the_page_in_each_language(app):
    page = app.test_client().get("/articles/a-story?sort=top", headers={"Accept-Language": "es"})
    text = page.get_data(as_text=True)
    footer = text[text.index('<nav class="languages"') :]
    assert (
        '<a href="/articles/a-story?sort=top&amp;lang=ar" lang="ar" hreflang="ar">العربية</a>'
        in footer
    )
    assert 'hreflang="es" aria-current="true">Español</a>' in footer
    # Followed, a link is heard and remembered like any ?lang=.
    assert html_tag(app.test_client().get("/articles/a-story?sort=top&lang=ar")) == (
        '<html lang="ar" dir="rtl">'
    )


def test_one_language_offers_no_choice(app_with):
    only = app_with(FORUM_LOCALES=["en"])
    with only.app_context():
        threads.save_article("solo", "Solo", "Text.")
        db.session.commit()
    assert 'class="languages"' not in only.test_client().get("/articles/solo").get_data(
        as_text=True
    )


@pytest.mark.parametrize("tag", ["es", "ar", "ja"])
def test_a_newcomers_browser_language_with_the_shipped_catalogs(app_with, tag):
    """The real catalogs: pages, API messages and times in the browser's
    language; codes and fields as they are in English."""
    shipped = app_with()  # FORUM_LOCALES: every catalog in forum/translations
    assert tag in shipped.config["FORUM_LOCALES"]
    with shipped.app_context():
        threads.save_article("una-historia", "Una historia", "Texto.")
        db.session.commit()
    with shipped.test_request_context("/"), force_locale(tag.replace("-", "_")):
        log_in, unauthorized = gettext("Log in"), str(guests.GUESTS_OFF)
    assert log_in != "Log in" and unauthorized != str(guests.GUESTS_OFF)
    client = shipped.test_client()
    wish = {"Accept-Language": f"{tag},en;q=0.5"}
    page = client.get("/articles/una-historia", headers=wish).get_data(as_text=True)
    assert f'<html lang="{tag}" dir="{"rtl" if tag == "ar" else "ltr"}">' in page
    assert log_in in page and ">Log in<" not in page
    refused = client.post("/api/v1/threads/una-historia/comments", json={"body": "x"}, headers=wish)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"
    assert refused.json["error"]["message"] == unauthorized
    invalid = client.get("/api/v1/counts", headers=wish)
    assert invalid.json["error"]["code"] == "validation_error"
    assert set(invalid.json["error"]["fields"]) == {"keys"}

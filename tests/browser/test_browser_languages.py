"""The forum in Arabic, Hebrew and Japanese, in real Chromium: a browser that
asks for the language gets the whole page in it, laid out the right way round
(replies indented from the right, spoilers and theories working the same), the
embed on a right-to-left publisher's page sized to its content, axe-core clean in
light and dark, and long unbroken Japanese text kept inside its comment.
Screenshots land in test-artifacts/ (languages-*.png)."""

from __future__ import annotations

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
    serving,
)
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from werkzeug.wrappers import Request, Response

from forum.extensions import db
from forum.models import CommentStatus, Role
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

SLUG = "the-keeper"
KEY = "keeper-embed"
ARABIC = "أظن أن حارس المنارة كتب السجل بنفسه، ثم أخفاه في القبو."
HEBREW = "לדעתי שומר המגדלור כתב את היומן בעצמו."
JAPANESE_RUN = "灯台守は嵐の夜に日誌を書き換えて地下室に隠したのだと思う" * 12
LATIN_RUN = "https://example.org/" + "a" * 300


class Publisher:
    """A publisher's page written right to left, embedding the forum with data-lang.
    Served from "localhost", another origin than the forum's 127.0.0.1."""

    forum = ""
    origin = ""

    def __call__(self, environ, start_response):
        lang = Request(environ).args.get("lang", "ar")
        page = (
            f'<!doctype html><html lang="{lang}" dir="rtl"><head><meta charset="utf-8">'
            "<title>Publisher</title></head><body><main><h1>المنارة</h1>"
            f"<p>{ARABIC}</p>"
            f'<p><span data-forum-count="{KEY}">…</span></p>'
            f'<div id="forum-thread" data-thread="{KEY}" data-title="المنارة" '
            f'data-url="{self.origin}/story" data-lang="{lang}"></div>'
            f'<script src="{self.forum}/embed.js" async></script></main></body></html>'
        )
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)


@pytest.fixture(scope="module")
def publisher():
    site = Publisher()
    with serving(site, host="localhost") as origin:
        site.origin = origin
        yield site


@pytest.fixture(scope="module")
def forum(tmp_path_factory, publisher):
    app = make_app(
        tmp_path_factory.mktemp("browser-languages"), FORUM_EMBED_ORIGINS=publisher.origin
    )
    with app.app_context():
        layla = accounts.register("layla", "layla@example.org", PASSWORD)
        layla.display_name = "ليلى"
        noa = accounts.register("noa", "noa@example.org", PASSWORD)
        noa.display_name = "נועה"
        mona = accounts.register("mona", "mona@example.org", PASSWORD, Role.MODERATOR)
        mona.locale = "ar"  # her own choice, whatever her browser says
        threads.save_article(SLUG, "المنارة", "من كتب السجل؟")
        thread = threads.thread_for_embed(
            KEY, publisher.origin, "المنارة", f"{publisher.origin}/s"
        )[0]
        # The same words twice would be held as a repeat: each thread gets its own.
        for target, mark in ((threads.thread_by_key(SLUG), ""), (thread, " (2)")):
            top = comments.post_comment(layla, target, ARABIC + mark, theory_title="الحارس كتبه")
            comments.post_comment(noa, target, HEBREW + mark, parent=top)
            comments.post_comment(noa, target, "הסוף: ||סוף העונה||" + mark)
            comments.post_comment(layla, target, JAPANESE_RUN + " " + LATIN_RUN + mark)
        held = comments.post_comment(noa, threads.thread_by_key(SLUG), "ממתין לבדיקה.")
        held.status = CommentStatus.PENDING
        db.session.commit()
    with serve(app) as base_url:
        publisher.forum = base_url
        app.base_url = base_url
        yield app


def words(app, locale: str, text: str, **values) -> str:
    with app.test_request_context("/"), force_locale(locale):
        return gettext(text, **values)


def border_widths(locator) -> list[str]:
    return locator.evaluate(
        "el => [getComputedStyle(el).borderLeftWidth, getComputedStyle(el).borderRightWidth]"
    )


@pytest.mark.parametrize("locale", ["ar", "he"])
def test_a_right_to_left_reader_gets_the_page_in_their_language_mirrored(
    forum, open_context, locale
):
    context = open_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{forum.base_url}/articles/{SLUG}")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", locale)
    expect(html).to_have_attribute("dir", "rtl")
    log_in_words = words(forum, locale, "Log in")
    assert log_in_words != "Log in"
    expect(page.locator("header nav")).to_contain_text(log_in_words)
    # Replies hang from the right: their rule is on the right, and they sit inside
    # their parent from that side.
    replies = page.locator(".comments.replies").first
    assert border_widths(replies) == ["0px", "2px"]
    reply = replies.bounding_box()
    parent = page.locator(".comment", has_text=ARABIC).first.bounding_box()
    assert reply["x"] + reply["width"] < parent["x"] + parent["width"]
    # The spoiler opens the same way.
    toggle = page.locator("button.spoiler-toggle").first
    expect(toggle).to_have_text(words(forum, locale, "Spoiler"))
    toggle.click()
    expect(page.locator(".spoiler-text", has_text="סוף העונה").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"languages-{locale}-article.png"), full_page=True)
    # Theories, in the same language.
    page.goto(f"{forum.base_url}/articles/{SLUG}?tab=theories")
    expect(page.locator("body")).to_contain_text("الحارس كتبه")
    page.screenshot(path=str(ARTIFACTS / f"languages-{locale}-theories.png"), full_page=True)

    inject_axe(page)
    page.goto(f"{forum.base_url}/articles/{SLUG}")
    inject_axe(page)
    failures, _ = axe_in_both_schemes(page, f"article in {locale}")
    assert not failures, axe_report(failures)


def test_the_moderation_queue_in_a_moderators_own_language(forum, open_context):
    # An English browser, signing in on the English page: then her own choice rules.
    context = open_context(locale="en-US", bypass_csp=True)
    page = context.new_page()
    log_in(page, Site(forum.base_url), "mona")
    page.goto(f"{forum.base_url}/moderation/queue/pending")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("main")).to_contain_text(words(forum, "ar", "Approve"))
    page.screenshot(path=str(ARTIFACTS / "languages-ar-queue.png"), full_page=True)
    inject_axe(page)
    failures, _ = axe_in_both_schemes(page, "moderation queue in ar")
    assert not failures, axe_report(failures)


@pytest.mark.parametrize("locale", ["he", "ar"])
def test_the_embed_on_a_right_to_left_page_speaks_data_lang_and_fits(
    forum, publisher, open_context, locale
):
    page = open_context(locale="en-US").new_page()
    page.goto(f"{publisher.origin}/?lang={locale}")
    frame = page.frame_locator("#forum-thread iframe")
    expect(frame.locator("html")).to_have_attribute("dir", "rtl")
    expect(frame.locator("html")).to_have_attribute("lang", locale)
    page.screenshot(path=str(ARTIFACTS / f"languages-{locale}-embed-start.png"), full_page=True)
    expect(frame.locator(".comment-body", has_text=HEBREW)).to_be_visible()
    # The frame grows to its content (no inner scrollbar, no empty tail).
    iframe = page.locator("#forum-thread iframe")
    content = frame.locator("#embed-root")

    def gap() -> float:
        inner = content.evaluate("e => e.getBoundingClientRect().height")
        return abs(iframe.evaluate("f => f.getBoundingClientRect().height") - inner)

    for _ in range(50):  # the frame reports its height as it settles
        if gap() < 40:
            break
        page.wait_for_timeout(100)
    assert gap() < 40
    assert frame.locator("html").evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    # "N comments" on the publisher's page, in the discussion's language.
    count = page.locator(f"[data-forum-count='{KEY}']")
    expect(count).not_to_have_text("…")
    assert "comment" not in count.inner_text()
    title = words(forum, locale, "Discussion: %(title)s", title="المنارة")
    expect(iframe).to_have_attribute("title", title)
    page.screenshot(path=str(ARTIFACTS / f"languages-{locale}-embed.png"), full_page=True)

    axe_page = open_context(locale=locale, bypass_csp=True).new_page()
    axe_page.goto(f"{forum.base_url}/embed/threads/{KEY}?origin={publisher.origin}&lang={locale}")
    inject_axe(axe_page)
    failures, _ = axe_in_both_schemes(axe_page, f"embed in {locale}")
    assert not failures, axe_report(failures)


def test_japanese_long_unbroken_text_stays_inside_its_comment(forum, open_context):
    context = open_context(locale="ja", viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(f"{forum.base_url}/articles/{SLUG}")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    body = page.locator(".comment-body", has_text=JAPANESE_RUN[:20])
    expect(body).to_be_visible()
    assert body.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    expect(page.locator("header nav")).to_contain_text(words(forum, "ja", "Log in"))
    page.screenshot(path=str(ARTIFACTS / "languages-ja-phone.png"), full_page=True)

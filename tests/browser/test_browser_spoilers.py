"""Inline spoilers (||text||) as a reader meets them: real Chromium, real server.

Concealed until the button is pressed (mouse, Enter, Space) and absent from the
accessibility tree until then; revealed by a click or Tab without JavaScript;
enhanced when a comment arrives later; open in the moderation queue; no serious
axe findings, in either colour scheme, concealed or revealed.  The server and
browser come from tests/browser/browser_support.py, as for tests/browser/test_browser.py.
Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    Site,
    inject_axe,
    make_app,
    serious_violations,
    serve,
    submit_login,
)
from playwright.sync_api import Page, expect

from forum.extensions import db
from forum.models import Role
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads
from forum.services.moderation import controls

ARTICLE = "spoilers-ahead"
HELD = "spoilers-held"  # pre-moderated: the comment waits in the queue
BODY = (
    "Before ||the *keeper* lit it|| after.\n\n"
    "Source: ||the [tide tables](https://example.org/tides) say so||."
)
FIRST, SECOND = "the keeper lit it", "tide tables"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-spoilers"),
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        _seed()
    with serve(app) as base_url:
        yield Site(base_url)


def _seed() -> None:
    reader = accounts.register("lena", "lena@example.org", PASSWORD)
    admin = accounts.register("mira", "mira@example.org", PASSWORD, Role.ADMIN)
    threads.save_article(ARTICLE, "Spoilers ahead", "An article with a discussion below.")
    threads.save_article(HELD, "Spoilers held", "Every comment here waits for a moderator.")
    db.session.flush()
    comments.post_comment(reader, threads.thread_by_key(ARTICLE), BODY)
    held = threads.thread_by_key(HELD)
    controls.update_thread(admin, held, moderation="pre")
    comments.post_comment(reader, held, "Held: ||the keeper lit it|| says lena.")
    db.session.commit()


def errors_of(page: Page) -> list[str]:
    """Uncaught errors and console errors (a CSP violation is one) as they come."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"console.error: {m.text}"))
    return errors


def body_of(page: Page):
    return page.locator("article.comment .comment-body").first


def readable(page: Page) -> str:
    """What a screen reader gets from the comment: its accessibility tree."""
    return body_of(page).aria_snapshot()


# -- with JavaScript -----------------------------------------------------------------------


@pytest.mark.browser
def test_button_reveals_by_click_enter_and_space(site, open_context):
    page = open_context().new_page()
    errors = errors_of(page)
    page.goto(site.url(f"/articles/{ARTICLE}"))
    spoilers = body_of(page).locator("span.spoiler")
    expect(spoilers).to_have_count(2)
    first, second = spoilers.nth(0), spoilers.nth(1)
    for spoiler in (first, second):
        expect(spoiler).not_to_have_attribute("tabindex", "0")  # the button took over
        expect(spoiler.get_by_role("button", name="Spoiler")).to_have_attribute(
            "aria-expanded", "false"
        )
        expect(spoiler.locator(".spoiler-text")).to_be_hidden()
    text = body_of(page).inner_text()
    assert FIRST not in text and SECOND not in text, text
    tree = readable(page)
    assert "keeper" not in tree and "tide" not in tree, tree

    button = first.get_by_role("button", name="Spoiler")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(first.locator(".spoiler-text")).to_be_visible()
    assert FIRST in body_of(page).inner_text()
    assert "keeper" in readable(page)
    expect(second.locator(".spoiler-text")).to_be_hidden()  # one at a time
    button.click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(first.locator(".spoiler-text")).to_be_hidden()

    # Keyboard: Tab reaches the buttons in order, Enter and Space toggle.
    button.focus()
    page.keyboard.press("Tab")
    other = second.get_by_role("button", name="Spoiler")
    expect(other).to_be_focused()
    page.keyboard.press("Enter")
    expect(other).to_have_attribute("aria-expanded", "true")
    expect(second.get_by_role("link", name="tide tables")).to_be_visible()
    page.keyboard.press("Tab")  # into the revealed link
    expect(second.get_by_role("link", name="tide tables")).to_be_focused()
    other.focus()
    page.keyboard.press("Space")
    expect(other).to_have_attribute("aria-expanded", "false")
    expect(second.locator(".spoiler-text")).to_be_hidden()
    assert page.url == site.url(f"/articles/{ARTICLE}")  # nothing submitted or followed
    assert not errors, errors


@pytest.mark.browser
def test_spoilers_in_comments_added_later_are_enhanced(site, open_context):
    page = open_context().new_page()
    page.goto(site.url(f"/articles/{ARTICLE}"))
    expect(body_of(page).get_by_role("button", name="Spoiler")).to_have_count(2)
    # As thread.js adds a posted comment or a further page: markup from the server.
    page.evaluate(
        """() => document.getElementById("comment-list").insertAdjacentHTML("beforeend",
        '<li id="late"><p><span class="spoiler" tabindex="0">' +
        '<span class="spoiler-text">arrived later</span></span></p></li>')"""
    )
    late = page.locator("#late")
    button = late.get_by_role("button", name="Spoiler")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(late.locator(".spoiler-text")).to_be_hidden()
    button.click()
    expect(late.get_by_text("arrived later")).to_be_visible()


# -- without JavaScript ----------------------------------------------------------------------


@pytest.mark.browser
def test_without_javascript_a_click_or_tab_reveals(site, open_context):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(site.url(f"/articles/{ARTICLE}"))
    first, second = body_of(page).locator("span.spoiler").all()
    expect(page.locator("button.spoiler-toggle")).to_have_count(0)
    for spoiler in (first, second):
        expect(spoiler).to_have_attribute("tabindex", "0")
        expect(spoiler.locator(".spoiler-text")).to_be_hidden()
    tree = readable(page)
    assert "keeper" not in tree and "tide" not in tree, tree

    first.click()
    expect(first).to_be_focused()
    expect(first.locator(".spoiler-text")).to_be_visible()
    assert FIRST in body_of(page).inner_text()
    expect(second.locator(".spoiler-text")).to_be_hidden()
    page.get_by_role("heading", level=1).click()  # focus elsewhere conceals it again
    expect(first.locator(".spoiler-text")).to_be_hidden()

    first.focus()
    page.keyboard.press("Tab")
    expect(second).to_be_focused()
    expect(second.locator(".spoiler-text")).to_be_visible()
    page.keyboard.press("Tab")  # the link inside keeps it open while it has focus
    expect(second.get_by_role("link", name="tide tables")).to_be_focused()
    expect(second.locator(".spoiler-text")).to_be_visible()
    expect(first.locator(".spoiler-text")).to_be_hidden()


# -- moderators ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_moderation_queue_shows_spoilers_open(site, open_context):
    page = open_context().new_page()
    errors = errors_of(page)
    submit_login(page, site, "mira", PASSWORD, next_path="/moderation/queue/pending")
    expect(page).to_have_url(site.url("/moderation/queue/pending"))
    item = page.locator(".mod-item", has_text="says lena")
    button = item.get_by_role("button", name="Spoiler")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(item.get_by_text(FIRST)).to_be_visible()
    button.click()  # inside the queue's form, and it submits nothing
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page).to_have_url(site.url("/moderation/queue/pending"))
    assert not errors, errors


# -- accessibility and looks -------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_concealed_and_revealed(site, open_context, scheme):
    page = open_context(color_scheme=scheme, bypass_csp=True).new_page()  # axe is inline
    page.goto(site.url(f"/articles/{ARTICLE}"))
    inject_axe(page)
    comment = page.locator("article.comment").first
    ARTIFACTS.mkdir(exist_ok=True)
    for state in ("concealed", "revealed"):
        if state == "revealed":
            for button in comment.get_by_role("button", name="Spoiler").all():
                button.click()
        comment.screenshot(path=str(ARTIFACTS / f"spoilers-{scheme}-{state}.png"))
        serious = serious_violations(page, f"spoilers ({scheme}, {state})")
        assert not serious, f"{scheme}, {state}: {serious}"


# A colour as the browser paints it (any CSS form, color-mix() too): [r, g, b] in 0-255.
_PAINTED = """(element, which) => {
  const style = getComputedStyle(element, which.pseudo);
  const paint = document.createElement("canvas").getContext("2d");
  paint.fillStyle = style[which.property];
  paint.fillRect(0, 0, 1, 1);
  return Array.from(paint.getImageData(0, 0, 1, 1).data).slice(0, 3);
}"""


def painted(locator, prop: str, pseudo: str | None = None) -> list[int]:
    return locator.evaluate(_PAINTED, {"property": prop, "pseudo": pseudo})


def contrast(a: list[int], b: list[int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(rgb: list[int]) -> float:
        linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_without_javascript_the_bar_and_the_revealed_text_are_legible(site, open_context, scheme):
    """Without JavaScript axe cannot run, and the bar is a ::before it would not
    judge anyway: the contrast a reader sees is measured here, in each scheme,
    concealed and revealed (screenshots of both land in test-artifacts/)."""
    page = open_context(color_scheme=scheme, java_script_enabled=False).new_page()
    page.goto(site.url(f"/articles/{ARTICLE}"))
    comment = page.locator("article.comment").first
    spoiler = comment.locator("span.spoiler").first
    text = spoiler.locator(".spoiler-text")
    page_background = painted(page.locator("body"), "backgroundColor")
    assert (sum(page_background) < 3 * 128) == (scheme == "dark"), page_background

    # Concealed: a bar that reads "Spoiler", legible (AA), and none of the text.
    expect(text).to_be_hidden()
    label = spoiler.evaluate("s => getComputedStyle(s, '::before').content")
    assert label == '"Spoiler"', label
    bar = painted(spoiler, "color", "::before"), painted(spoiler, "backgroundColor", "::before")
    assert contrast(*bar) >= 4.5, (scheme, bar)
    assert FIRST not in body_of(page).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    comment.screenshot(path=str(ARTIFACTS / f"spoilers-no-js-{scheme}-concealed.png"))

    # Revealed by a click: the text on its own solid background, AA or better,
    # and the bar gone.
    spoiler.click()
    expect(text).to_be_visible()
    assert FIRST in body_of(page).inner_text()
    assert spoiler.evaluate("s => getComputedStyle(s, '::before').content") == "none"
    shown = painted(text, "color"), painted(text, "backgroundColor")
    assert contrast(*shown) >= 4.5, (scheme, shown)
    comment.screenshot(path=str(ARTIFACTS / f"spoilers-no-js-{scheme}-revealed.png"))

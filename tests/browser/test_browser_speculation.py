"""Speculation as readers use it: theories, votes, spoilers, live updates, follows,
mutes, notifications and profiles.  Real Chromium, real server, real forms.

The same set-up as tests/browser/test_browser.py, from tests/browser/browser_support.py
(werkzeug's threaded server on 127.0.0.1 with CSRF on, Debian's /usr/bin/chromium
through Playwright, axe-core from npm; skipped without them, except under
CI=true, where that is an error), with its own seed: the demo site, a few
readers, a moderator, a discussion for live updates and an article in its
spoiler window.  Each test that changes something uses readers and articles no
other test looks at, so the tests do not depend on their order.

Screenshots of the Theories tab and a profile land in test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import browser_support
import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    PHONE,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect

from forum.extensions import db
from forum.models import Comment, NotificationKind, Role, utcnow
from forum.ops import demo
from forum.services.accounts import accounts, people
from forum.services.discussion import comments, threads
from forum.services.moderation import decisions
from forum.services.notify import messages

LANTERN = "the-lantern-coast-season-two-first-look"
WELCOME = "welcome-to-the-forum"
FINALE = "the-lantern-coast-finale"  # lena's confirmed theory: profile, inbox, axe
LIVE = "live-updates"  # another reader posts while a page is open
WINDOW = "spoiler-window"  # Article.spoiler_until in the future
# username -> display name; each test that changes something has its own reader.
READERS = {
    "alice": "Alice Marsh",  # posts the theory in the "done means" flow
    "bruno": "Bruno Vale",  # upvotes it and replies
    "carol": "Carol Finch",  # posts through the API
    "dora": "Dora Quay",  # follows and mutes
    "vic": "Vic Pell",  # votes without JavaScript
    "lena": "Lena Ortiz",  # a confirmed theory and notifications, for axe
    "eve": "Eve Strand",  # has muted carol from the start
}
MODERATOR = "mona"


# -- the site ------------------------------------------------------------------------


class Site(browser_support.Site):
    """The running server, the ids the tests need and lena's unsubscribe token."""

    def __init__(self, base_url: str, ids: dict[str, int], unsubscribe: str):
        super().__init__(base_url, ids)
        self.unsubscribe = unsubscribe


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-speculation"),
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
        # Cheap hashing: log-ins through the real form and API tokens.
    )
    with app.app_context():
        ids, unsubscribe = _seed()
    with serve(app) as base_url:
        yield Site(base_url, ids, unsubscribe)


def _seed() -> tuple[dict[str, int], str]:
    demo.load()
    db.session.commit()
    readers = {
        name: accounts.register(name, f"{name}@example.org", PASSWORD, display_name=display)
        for name, display in READERS.items()
    }
    mona = accounts.register(
        MODERATOR, f"{MODERATOR}@example.org", PASSWORD, Role.MODERATOR, display_name="Mona Reyes"
    )
    # lena gets an email when a theory of hers is confirmed: her unsubscribe
    # page then offers the button.
    readers["lena"].email_kinds = [NotificationKind.THEORY_CONFIRMED.value]
    people.mute(readers["eve"], readers["carol"])
    db.session.commit()

    def demo_comment(start: str) -> int:
        return db.session.scalar(db.select(Comment.id).where(Comment.body.startswith(start)))

    threads.save_article(FINALE, "The Lantern Coast finale", "Who called it? The answers.")
    threads.save_article(LIVE, "Live from Saltmere", "Readers are discussing this right now.")
    window = threads.save_article(
        WINDOW, "Episode three tonight", "Episode three airs tonight; careful below."
    )
    window.spoiler_until = utcnow() + timedelta(days=1)
    db.session.flush()

    finale = threads.thread_by_key(FINALE)
    lena_theory = comments.post_comment(
        readers["lena"],
        finale,
        "The doctor is Marguerite's daughter: same scar, same handwriting.",
        theory_title="The doctor is Marguerite's daughter",
    )
    comments.post_comment(readers["bruno"], finale, "The handwriting clinches it.", lena_theory)
    decisions.act(mona, lena_theory, "confirm_theory", note="Episode eight says so.")

    live_parent = comments.post_comment(readers["bruno"], threads.thread_by_key(LIVE), "Who's up?")

    window_thread = threads.thread_by_key(WINDOW)
    window_top = comments.post_comment(readers["bruno"], window_thread, "Opening: no spoilers.")
    window_reply = comments.post_comment(
        readers["carol"], window_thread, "The ferry never sails tonight.", window_top
    )
    window_theory = comments.post_comment(
        readers["carol"],
        window_thread,
        "The keeper and the doctor are the same person.",
        theory_title="One person, two names",
    )
    db.session.commit()
    ids = {
        "lena_theory": lena_theory.id,
        "live_parent": live_parent.id,
        "window_top": window_top.id,
        "window_reply": window_reply.id,
        "window_theory": window_theory.id,
        "ferry": demo_comment("Having seen the preview episodes"),
        "careful": demo_comment("Careful, those of you"),
        "happy": demo_comment("No theories from me yet"),
        "too_obvious": demo_comment("Too obvious"),
        "marguerite": demo_comment("Marguerite lit it herself"),
    }
    token = messages.unsubscribe_token(readers["lena"].id, NotificationKind.THEORY_CONFIRMED)
    return ids, token


# -- the browser -----------------------------------------------------------------------


class Api:
    """The JSON API with a bearer token, as a script or an app would use it."""

    def __init__(self, request, site: Site, username: str):
        self.request, self.site = request, site
        response = request.post(
            site.url("/api/v1/tokens"), data={"username": username, "password": PASSWORD}
        )
        assert response.status == 201, response.text()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def post(self, path: str, data: dict, status: int = 200) -> dict:
        response = self.request.post(self.site.url(path), data=data, headers=self.headers)
        assert response.status == status, (path, response.status, response.text())
        return response.json()


@pytest.fixture
def api(open_context, site):
    """username -> an Api signed in with a token of theirs (no cookies involved)."""
    return lambda username: Api(open_context().request, site, username)


def comment(page: Page, comment_id: int):
    return page.locator(f"#c{comment_id}")


def flash(page: Page):
    return page.locator(".flash")


def marked(page: Page) -> None:
    page.evaluate("window.__marker = 'same page'")


def same_page(page: Page) -> bool:
    return page.evaluate("window.__marker") == "same page"


# -- the "done means" ------------------------------------------------------------


@pytest.mark.browser
def test_theory_upvoted_replied_confirmed_and_called(site, as_user, api):
    # Reader A posts a theory through the form.
    a = as_user("alice")
    page = a.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    marked(page)
    body = "The lamp flashes the old ferry signals: someone is calling a boat in."
    title = "The lighthouse is signalling a boat"
    page.get_by_label("Your comment").fill(body)
    page.get_by_text("Post it as a theory, or mark spoilers").click()
    page.get_by_label("Theory title (optional)").fill(title)
    page.get_by_role("button", name="Post comment").click()
    theory = page.locator("article.comment", has_text=body)
    expect(theory).to_be_focused()
    expect(theory.locator(".theory-title")).to_have_text(f"Theory {title}")
    assert same_page(page)
    theory_id = int(theory.get_attribute("data-comment"))
    a.assert_clean()

    # Reader B upvotes it (in place) and replies inline.
    b = as_user("bruno")
    page = b.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    marked(page)
    theory = comment(page, theory_id)
    up = theory.get_by_role("button", name="Upvote")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(theory.locator(".score")).to_have_text("0")
    up.click()
    expect(theory.locator(".score")).to_have_text("1")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(theory.get_by_role("button", name="Downvote")).to_have_attribute("aria-pressed", "false")
    theory.locator("a.reply-link").click()
    form = page.locator(f"#c{theory_id} + form.reply-form")
    reply_box = form.get_by_label("Your reply to Alice Marsh")
    expect(reply_box).to_be_focused()
    reply_box.fill("Then who is on the boat?")
    form.get_by_role("button", name="Post reply").click()
    nested = page.locator(f"li:has(> #c{theory_id}) > ol.replies > li > article.comment")
    expect(nested.filter(has_text="Then who is on the boat?")).to_be_focused()
    assert same_page(page)
    page.reload()  # stored, not just drawn
    expect(comment(page, theory_id).locator(".score")).to_have_text("1")
    expect(comment(page, theory_id).get_by_role("button", name="Upvote")).to_have_attribute(
        "aria-pressed", "true"
    )
    b.assert_clean()

    # A moderator confirms it through the API.
    note = "Episode six: the lamp was signalling the smugglers' boat."
    result = api(MODERATOR).post(
        f"/api/v1/moderation/comments/{theory_id}", {"action": "confirm_theory", "note": note}
    )
    assert result["comment"]["theory_status"] == "confirmed"

    # Reader A hears about it and is credited.
    page = a.page
    page.goto(site.url("/"))
    # One reply from B and the confirmation.
    expect(page.locator(".inbox-link .unread-count")).to_have_text("2 unread")
    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page).to_have_url(site.url("/notifications"))
    confirmed = page.get_by_role("link", name="You called it: your theory was confirmed")
    expect(confirmed).to_be_visible()
    expect(page.locator(".notifications li", has=confirmed)).to_contain_text(note)
    expect(page.get_by_role("link", name="Bruno Vale replied to your comment")).to_be_visible()

    page.goto(site.url("/users/alice"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Marsh")
    expect(page.locator(".record strong")).to_have_text("Called it: 1")
    card = page.locator(".theory-card", has_text=title)
    expect(card.locator(".badge.theory-confirmed")).to_have_text("Confirmed")
    expect(card).to_contain_text(note)
    # The card may leave the reply count out, but must not deny B's reply.
    meta = card.locator(".meta").inner_text()
    counted = re.search(r"(\d+) repl(?:y|ies)\b", meta)
    assert counted is None or counted.group(1) == "1", meta

    # The article's Theories tab lists it with its score and replies.
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.get_by_role("navigation", name="Discussion or theories").get_by_role(
        "link", name="Theories"
    ).click()
    expect(page).to_have_url(re.compile(r"[?&]tab=theories"))
    card = page.locator("#theory-list .theory-card", has_text=title)
    expect(card.get_by_role("heading", name=title)).to_be_visible()
    expect(card.locator(".meta")).to_contain_text("score 1 · 1 reply")
    expect(card.locator(".badge.theory-confirmed")).to_have_text("Confirmed")
    a.assert_clean()


# -- votes without JavaScript -------------------------------------------------------------


@pytest.mark.browser
def test_votes_work_without_javascript(site, open_context, state_of):
    page = open_context(storage_state=state_of("vic"), java_script_enabled=False).new_page()
    target = site.ids["happy"]
    page.goto(site.url(f"/articles/{LANTERN}"))
    expect(comment(page, target).locator(".score")).to_have_text("0")
    comment(page, target).get_by_role("button", name="Upvote").click()
    expect(page).to_have_url(site.url(f"/articles/{LANTERN}?comment={target}#c{target}"))
    expect(comment(page, target).locator(".score")).to_have_text("1")
    up = comment(page, target).get_by_role("button", name="Upvote")
    expect(up).to_have_attribute("aria-pressed", "true")
    up.click()  # pressed again: takes the vote back
    expect(comment(page, target).locator(".score")).to_have_text("0")
    expect(comment(page, target).get_by_role("button", name="Upvote")).to_have_attribute(
        "aria-pressed", "false"
    )
    comment(page, target).get_by_role("button", name="Downvote").click()
    expect(comment(page, target).locator(".score")).to_have_text("-1")


# -- spoilers ------------------------------------------------------------------------------


@pytest.mark.browser
def test_spoiler_theory_starts_covered_and_opens_by_click_and_keyboard(site, as_user):
    w = as_user(None)
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    ferry = comment(page, site.ids["ferry"])
    cover = ferry.locator("details.cover")
    summary = cover.locator("summary")
    words = ferry.get_by_text("the doctor's brother")
    expect(summary).to_have_text("Contains spoilers — show")
    expect(words).to_be_hidden()
    assert cover.evaluate("d => d.open") is False

    summary.click()
    expect(words).to_be_visible()
    summary.click()
    expect(words).to_be_hidden()

    summary.focus()
    page.keyboard.press("Enter")
    expect(words).to_be_visible()
    page.keyboard.press("Enter")
    expect(words).to_be_hidden()
    page.keyboard.press("Space")
    expect(words).to_be_visible()
    page.keyboard.press("Space")
    expect(words).to_be_hidden()
    # The summary is reached with Tab like any control.
    assert summary.evaluate("s => s.tabIndex") == 0
    w.assert_clean()


@pytest.mark.browser
def test_inline_spoiler_stays_hidden_until_asked_with_javascript(site, as_user):
    w = as_user(None)
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    careful = comment(page, site.ids["careful"])
    spoiler = careful.locator("span.spoiler")
    expect(spoiler).to_have_count(1)
    text = spoiler.locator(".spoiler-text")
    button = spoiler.get_by_role("button", name="Spoiler")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(text).to_be_hidden()
    words = "the night of the storm"
    assert words not in careful.locator(".comment-body").inner_text()
    assert words not in careful.locator(".comment-body").aria_snapshot()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(text).to_be_visible()
    assert words in careful.locator(".comment-body").inner_text()
    button.press("Enter")
    expect(text).to_be_hidden()
    button.press("Space")
    expect(text).to_be_visible()
    w.assert_clean()


@pytest.mark.browser
def test_spoilers_stay_hidden_until_asked_without_javascript(site, open_context):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(site.url(f"/articles/{LANTERN}"))
    # Inline: the focusable bar stands in for the text until clicked or tabbed to.
    careful = comment(page, site.ids["careful"])
    spoiler = careful.locator("span.spoiler")
    expect(spoiler).to_have_attribute("tabindex", "0")
    expect(spoiler.locator(".spoiler-text")).to_be_hidden()
    assert "the night of the storm" not in careful.locator(".comment-body").inner_text()
    spoiler.click()
    expect(spoiler.locator(".spoiler-text")).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(spoiler.locator(".spoiler-text")).to_be_hidden()
    # The whole-comment cover is a plain <details>: no script needed.
    ferry = comment(page, site.ids["ferry"])
    words = ferry.get_by_text("the doctor's brother")
    expect(words).to_be_hidden()
    ferry.locator("details.cover summary").click()
    expect(words).to_be_visible()


# -- live updates --------------------------------------------------------------------------


@pytest.mark.browser
def test_new_reply_from_another_reader_arrives_after_the_poll(site, as_user, api):
    w = as_user("lena")
    page = w.page
    page.clock.install()
    page.goto(site.url(f"/articles/{LIVE}"))
    marked(page)
    parent = site.ids["live_parent"]
    expect(comment(page, parent)).to_be_visible()
    bar = page.locator(".new-comments")
    expect(bar).to_be_hidden()

    posted = api("carol").post(
        f"/api/v1/threads/{LIVE}/comments",
        {"body": "Me! Just finished episode two.", "parent_id": parent},
        status=201,
    )
    new_id = posted["comment"]["id"]
    page.clock.fast_forward(21_000)  # one poll is due every 20 seconds
    show = page.get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    expect(comment(page, new_id)).to_have_count(0)  # waits behind the button
    show.click()
    reply = page.locator(f"li:has(> #c{parent}) > ol.replies > li > #c{new_id}")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("Me! Just finished episode two.")
    expect(reply).to_be_focused()
    expect(bar).to_be_hidden()
    assert same_page(page)

    # Nothing new: the next poll is an empty 304 and no button comes back.
    with page.expect_response(lambda r: "/updates" in r.url) as polled:
        page.clock.fast_forward(20_000)
    assert polled.value.status == 304
    expect(bar).to_be_hidden()
    w.assert_clean()


def _arrives_live(page: Page, site: Site, api, path: str, data: dict):
    """Carol posts through the API while page is open; after the next poll the
    reader shows it.  The new comment's article."""
    new_id = api("carol").post(path, data, status=201)["comment"]["id"]
    page.clock.fast_forward(21_000)
    page.get_by_role("button", name="1 new comment — show").click()
    arrived = comment(page, new_id)
    expect(arrived).to_be_focused()
    return arrived


@pytest.mark.browser
def test_a_reply_arriving_live_in_the_spoiler_window_is_collapsed(site, as_user, api):
    w = as_user(None)
    page = w.page
    page.clock.install()
    page.goto(site.url(f"/articles/{WINDOW}"))
    expect(page.get_by_role("note")).to_be_visible()
    arrived = _arrives_live(
        page,
        site,
        api,
        f"/api/v1/threads/{WINDOW}/comments",
        {
            "body": "Live: the doctor was on the ferry all along.",
            "parent_id": site.ids["window_top"],
        },
    )
    expect(arrived.locator("details.cover summary")).to_have_text(
        "Collapsed during the spoiler window — show"
    )
    expect(arrived.get_by_text("on the ferry all along")).to_be_hidden()
    w.assert_clean()


@pytest.mark.browser
def test_a_muted_readers_comment_arriving_live_is_collapsed(site, as_user, api):
    w = as_user("eve")  # muted carol in the seed
    page = w.page
    page.clock.install()
    page.goto(site.url(f"/articles/{LIVE}"))
    arrived = _arrives_live(
        page, site, api, f"/api/v1/threads/{LIVE}/comments", {"body": "Carol again, live."}
    )
    expect(arrived.locator("details.cover summary")).to_have_text(
        "Comment by a reader you muted — show"
    )
    w.assert_clean()


# -- following and muting ------------------------------------------------------------------


@pytest.mark.browser
def test_follow_toggles_and_mute_collapses_for_the_muter_only(site, as_user):
    w = as_user("dora")
    page = w.page
    page.goto(site.url(f"/articles/{WELCOME}"))
    follow = page.locator("form.follow button")
    expect(follow).to_have_text("Follow this discussion")
    expect(follow).to_have_attribute("aria-pressed", "false")
    follow.click()
    expect(flash(page)).to_have_text("You will hear about new comments here.")
    expect(follow).to_have_text("Following")
    expect(follow).to_have_attribute("aria-pressed", "true")
    follow.click()
    expect(flash(page)).to_have_text("You will no longer hear about new comments here.")
    expect(follow).to_have_text("Follow this discussion")

    page.goto(site.url("/users/tidewatcher"))
    page.get_by_role("button", name="Mute Tom Okafor").click()
    expect(flash(page)).to_have_text("Tom Okafor's comments are collapsed for you now.")
    expect(page.get_by_role("button", name="Unmute Tom Okafor")).to_be_visible()

    page.goto(site.url(f"/articles/{LANTERN}"))
    toms = page.locator("article.comment[aria-label='Comment by Tom Okafor']")
    expect(toms).to_have_count(2)
    for tom in toms.all():
        expect(tom.locator("details.cover summary")).to_have_text(
            "Comment by a reader you muted — show"
        )
        expect(tom.locator(".comment-body")).to_be_hidden()
    too_obvious = comment(page, site.ids["too_obvious"])
    too_obvious.locator("summary").click()
    expect(too_obvious.get_by_text("Too obvious")).to_be_visible()
    # Others' comments are untouched.
    expect(comment(page, site.ids["marguerite"]).locator("details.cover")).to_have_count(0)
    w.assert_clean()

    # Only for the muter: another reader sees Tom's comments as usual.
    other = as_user("vic").page
    other.goto(site.url(f"/articles/{LANTERN}"))
    expect(other.locator(f"#c{site.ids['too_obvious']} details.cover")).to_have_count(0)
    expect(other.locator(f"#c{site.ids['too_obvious']} .comment-body")).to_be_visible()

    page.goto(site.url("/users/tidewatcher"))
    page.get_by_role("button", name="Unmute Tom Okafor").click()
    expect(flash(page)).to_have_text("Tom Okafor's comments show again.")
    page.goto(site.url(f"/articles/{LANTERN}"))
    expect(comment(page, site.ids["too_obvious"]).locator("details.cover")).to_have_count(0)


# -- the spoiler window ----------------------------------------------------------------------


@pytest.mark.browser
def test_spoiler_window_collapses_replies_and_theories_until_asked(site, as_user):
    w = as_user(None)
    page = w.page
    page.goto(site.url(f"/articles/{WINDOW}"))
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("Spoiler window until")
    top = comment(page, site.ids["window_top"])
    expect(top.locator("details.cover")).to_have_count(0)
    expect(top.locator(".comment-body")).to_be_visible()
    for key, words in (("window_reply", "ferry never sails"), ("window_theory", "same person")):
        covered = comment(page, site.ids[key])
        expect(covered.locator("details.cover summary")).to_have_text(
            "Collapsed during the spoiler window — show"
        )
        expect(covered.get_by_text(words)).to_be_hidden()

    notice.get_by_role("button", name="Show spoilers on this article").click()
    expect(page).to_have_url(site.url(f"/articles/{WINDOW}#discussion"))
    expect(page.get_by_role("note")).to_have_count(0)
    for key, words in (("window_reply", "ferry never sails"), ("window_theory", "same person")):
        shown = comment(page, site.ids[key])
        expect(shown.locator("details.cover")).to_have_count(0)
        expect(shown.get_by_text(words)).to_be_visible()
    w.assert_clean()

    # The choice belongs to this reader's session: someone else still gets the window.
    fresh = as_user(None).page
    fresh.goto(site.url(f"/articles/{WINDOW}"))
    expect(fresh.get_by_role("note")).to_be_visible()
    expect(comment(fresh, site.ids["window_reply"]).locator("details.cover")).to_have_count(1)


# -- accessibility -------------------------------------------------------------------------


def _goto(path: str, check: str | None = None):
    def arrive(page: Page, site: Site) -> None:
        page.goto(site.url(path.format(**site.ids, token=site.unsubscribe)))
        if check:
            expect(page.locator(check).first).to_be_visible()

    return arrive


# name -> (who, how to get there, viewport)
AXE_PAGES = {
    "article-discussion": ("lena", _goto(f"/articles/{LANTERN}", "#comment-list"), None),
    "article-theories": (
        "lena",
        _goto(f"/articles/{LANTERN}?tab=theories&sort=top", "#theory-list"),
        None,
    ),
    "article-spoiler-window": (None, _goto(f"/articles/{WINDOW}", "details.cover"), None),
    "theories": ("lena", _goto("/theories", ".theory-card"), None),
    "profile-own": ("lena", _goto("/users/lena", ".theory-card"), None),
    "profile-other": ("lena", _goto("/users/mapmaker_j", ".theory-card"), None),
    "account-profile": ("lena", _goto("/account/profile", "form"), None),
    "notifications": ("lena", _goto("/notifications", ".notifications li"), None),
    "account-notifications": ("lena", _goto("/account/notifications", "fieldset"), None),
    "unsubscribe": (None, _goto("/unsubscribe/{token}", "form button"), None),
    "article-phone": ("lena", _goto(f"/articles/{LANTERN}", "#comment-list"), PHONE),
}


@pytest.mark.browser
@pytest.mark.parametrize("name", list(AXE_PAGES))
def test_axe_finds_no_serious_violations(site, open_context, state_of, name):
    """Each page once, checked in the light and then the dark colour scheme."""
    who, arrive, viewport = AXE_PAGES[name]
    options = {"bypass_csp": True}  # axe is injected inline
    if who:
        options["storage_state"] = state_of(who)
    if viewport:
        options.update(viewport=viewport, is_mobile=True, has_touch=True)
    page = open_context(**options).new_page()
    page.emulate_media(color_scheme="light")
    arrive(page, site)
    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, name)
    report = axe_report(failures)
    assert len(backgrounds) == 2, f"the dark scheme did not apply: {backgrounds}"
    assert not failures, f"axe on {name} ({viewport or 'desktop'}):\n{report}"


# -- screenshots ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("label", "path", "ready"),
    [
        ("theories-tab", f"/articles/{LANTERN}?tab=theories&sort=top#discussion", "#theory-list"),
        ("profile", "/users/lena", ".theory-card"),
    ],
)
def test_screenshots(site, open_context, state_of, label, path, ready, scheme):
    page = open_context(storage_state=state_of("lena"), color_scheme=scheme).new_page()
    page.goto(site.url(path))
    expect(page.locator(ready)).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px ({label}, {scheme})"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"speculation-{label}-{scheme}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

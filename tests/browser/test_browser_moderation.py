"""Moderation as moderators and readers use it: real Chromium, real server, real forms.

The same set-up as tests/browser/test_browser.py, from tests/browser/browser_support.py
(werkzeug's threaded server on 127.0.0.1 with CSRF on, Debian's /usr/bin/chromium
through Playwright, axe-core from npm; skipped without them, except under
CI=true, where that is an error), with its own seed: a pre-moderated discussion
full of pending comments, readers, two moderators and an admin.

Screenshots of the pending queue land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    PHONE,
    Site,
    Watched,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect

from forum.extensions import db
from forum.models import Comment, Role
from forum.ops import demo
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads
from forum.services.moderation import bans, controls, decisions, flags

LANTERN = "the-lantern-coast-season-two-first-look"
QUEUE = "held-for-review"  # pre-moderated: every reader's comment waits
REPORTED = "a-reported-discussion"  # post-moderated: reports hide a comment
CLOSING = "a-discussion-to-close"
READERS = ("lena", "penny", "ruth", "reporter2", "reporter3", "trouble")
MODERATORS = ("mira", "otto")
ADMIN = "ada"
GENERIC_PENDING = 8  # the first items of the queue, for the keyboard test
SUSPECT = "zeppelin"
CURRENT = re.compile(r"\bcurrent\b")


# -- the site ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-moderation"),
        # Cheap hashing: a dozen log-ins through the real form.
        # New accounts post freely unless a test says otherwise.
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        ids = _seed()
    with serve(app) as base_url:
        yield Site(base_url, ids)


def _seed() -> dict[str, int]:
    demo.load()
    db.session.commit()
    people = {name: accounts.register(name, f"{name}@example.org", PASSWORD) for name in READERS}
    for name in MODERATORS:
        people[name] = accounts.register(name, f"{name}@example.org", PASSWORD, Role.MODERATOR)
    people[ADMIN] = accounts.register(ADMIN, f"{ADMIN}@example.org", PASSWORD, Role.ADMIN)
    db.session.commit()
    admin, mira = people[ADMIN], people["mira"]
    quill = accounts.find_user("quillfeather")

    def demo_comment(start: str) -> Comment:
        return db.session.scalar(db.select(Comment).where(Comment.body.startswith(start)))

    for slug, title in [
        (QUEUE, "Held for review"),
        (REPORTED, "A reported discussion"),
        (CLOSING, "A discussion to close"),
    ]:
        threads.save_article(slug, title, f"{title}: an article with a discussion below.")
    db.session.flush()
    queue_thread = threads.thread_by_key(QUEUE)
    controls.update_thread(admin, queue_thread, moderation="pre")

    def post(author: str, body: str, thread=queue_thread, parent=None) -> Comment:
        return comments.post_comment(people.get(author) or quill, thread, body, parent=parent)

    # An approved comment in the held discussion, so a reply shows its context.
    opener = post("quillfeather", "Who else thinks the tide tables are the key?")
    decisions.act(admin, opener, "approve")
    authors = ("penny", "ruth")
    for n in range(1, GENERIC_PENDING + 1):  # the head of the queue, in this order
        post(authors[n % 2], f"Pending comment {n:02}: the lighthouse keeper knows more.")
    reply = post("ruth", "Replying: the tables changed *twice*, remember.", parent=opener)
    conflict = post("penny", "Two moderators will look at this one at once.")
    bulk = [post("ruth", f"Bulk candidate {n}: nothing to see here.") for n in (1, 2)]
    single = post("penny", "Approve me with one button, no scripts needed.")
    enter = post("penny", "Reject me by pressing Enter in the reason box.")
    spam = post("ruth", "Buy cheap lantern oil at oil.example, best prices!")
    decisions.act(admin, spam, "spam")
    rejected = post("penny", "You are all idiots for liking this show.")
    decisions.act(mira, rejected, "reject", reason="Please argue with ideas, not people.")
    bans.add_note(mira, people["penny"], "Warned about tone once already.")

    reported_thread = threads.thread_by_key(REPORTED)
    reportable = post("quillfeather", "Readers will report this one.", reported_thread)
    post("quillfeather", "A calm comment before it closes.", threads.thread_by_key(CLOSING))

    # One open report on a demo comment keeps the Reported queue busy for axe.
    too_obvious = demo_comment("Too obvious")
    flags.flag(people["reporter2"], too_obvious, "spoiler", "Names who lit it.")
    # An Editors' pick for the article page.
    marguerite = demo_comment("Marguerite lit it herself")
    decisions.act(admin, marguerite, "feature")
    db.session.commit()
    return {
        "opener": opener.id,
        "reply": reply.id,
        "conflict": conflict.id,
        "bulk1": bulk[0].id,
        "bulk2": bulk[1].id,
        "single": single.id,
        "enter": enter.id,
        "spam": spam.id,
        "rejected": rejected.id,
        "reportable": reportable.id,
        "too_obvious": too_obvious.id,
        "marguerite": marguerite.id,
    }


# -- the browser -----------------------------------------------------------------------


def flash(page: Page):
    return page.locator(".flash")


def item(page: Page, comment_id: int):
    return page.locator(f"#item-{comment_id}")


def number(locator) -> int:
    return int(re.search(r"\d+", locator.inner_text()).group())


# -- the queue by keyboard -------------------------------------------------------------------


@pytest.mark.browser
def test_keyboard_decisions_in_the_pending_queue(site, open_context, as_user):
    w = Watched(open_context().new_page())
    page = w.page
    log_in(page, site, "mira", next_path="/moderation/queue/pending")
    expect(page).to_have_url(site.url("/moderation/queue/pending"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")

    items = page.locator("li.mod-item:not(.done)")
    first, second, third = (int(items.nth(n).get_attribute("data-comment")) for n in range(3))
    nav_count = page.locator(".mod-nav [data-queue-count=pending]")
    heading_count = page.locator("h1 [data-queue-count=pending]")
    before = number(nav_count)
    assert number(heading_count) == before
    assert before >= 3
    page.evaluate("window.__marker = 'same page'")

    # The first item is highlighted from the start; j moves on, with focus.
    expect(item(page, first)).to_have_class(CURRENT)
    page.keyboard.press("j")
    expect(item(page, second)).to_have_class(CURRENT)
    expect(item(page, second)).to_be_focused()
    expect(item(page, first)).not_to_have_class(CURRENT)

    page.keyboard.press("a")
    expect(item(page, second)).to_be_hidden()
    expect(nav_count).to_have_text(str(before - 1))
    expect(heading_count).to_have_text(str(before - 1))
    expect(item(page, third)).to_be_focused()
    expect(item(page, third)).to_have_class(CURRENT)
    expect(page.locator("#mod-live")).to_have_text(f"Comment {second}: approved.")
    assert page.evaluate("window.__marker") == "same page"

    # Type a reason, step back out of the box (Shift+Tab), and reject with r.
    author_link = item(page, third).locator(".mod-item-title a").first
    author = author_link.get_attribute("href").rsplit("/", 1)[1]
    reason = "Please keep spoilers for episode two out of this thread."
    item(page, third).get_by_label("Reason shown to the author").fill(reason)
    page.keyboard.press("Shift+Tab")
    expect(item(page, third).get_by_role("button", name="Approve")).to_be_focused()
    page.keyboard.press("r")
    expect(item(page, third)).to_be_hidden()
    expect(nav_count).to_have_text(str(before - 2))
    expect(heading_count).to_have_text(str(before - 2))
    expect(page.locator("#mod-live")).to_have_text(f"Comment {third}: rejected.")
    expect(page.locator("li.mod-item.current")).to_be_focused()
    assert page.evaluate("window.__marker") == "same page"

    # ? opens the list of shortcuts; ? or Escape closes it.
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.__marker") == "same page"
    w.assert_clean()

    # The decisions were stored: the author sees why, anyone sees the approved one.
    mine = as_user(author).page
    mine.goto(site.url(f"/comments/{third}"))
    rejected = mine.locator(f"#c{third}")
    expect(rejected).to_contain_text("removed by a moderator")
    expect(rejected.locator(".notice")).to_have_text(f"The moderators’ reason: {reason}")
    anonymous = as_user(None).page
    anonymous.goto(site.url(f"/comments/{second}"))
    expect(anonymous.locator(f"#c{second}")).to_be_visible()
    expect(anonymous.locator(f"#c{second}")).not_to_contain_text("awaiting moderation")


@pytest.mark.browser
def test_a_second_press_while_deciding_is_ignored(site, as_user):
    w = as_user("otto")
    page = w.page
    held = []  # the decisions on their way, kept there until the test lets them go
    page.route("**/moderation/comments/*", lambda route: held.append(route))
    page.goto(site.url("/moderation/queue/pending"))
    nav_count = page.locator(".mod-nav [data-queue-count=pending]")
    before = number(nav_count)
    first = page.locator("li.mod-item").first
    first.focus()
    page.keyboard.press("a")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(20)
    page.keyboard.press("a")  # impatient: the first answer has not come yet
    page.wait_for_timeout(200)
    assert len(held) == 1, f"{len(held)} requests for one decision"
    held[0].continue_()
    expect(first).to_be_hidden()
    expect(nav_count).to_have_text(str(before - 1))
    expect(page.locator(".mod-error")).to_have_count(0)
    w.assert_clean()


@pytest.mark.browser
def test_second_moderator_sees_the_conflict_inline(site, as_user):
    target = site.ids["conflict"]
    first = as_user("mira")
    second = as_user("otto")
    for w in (first, second):
        w.page.goto(site.url("/moderation/queue/pending"))
        expect(item(w.page, target)).to_be_visible()

    item(first.page, target).get_by_role("button", name="Approve").click()
    expect(item(first.page, target)).to_be_hidden()

    mine = item(second.page, target)
    mine.get_by_role("button", name="Reject").click()
    alert = mine.get_by_role("alert")
    expect(alert).to_contain_text("Already handled")
    expect(alert).to_contain_text("mira marked it approved")
    expect(mine).to_be_visible()
    expect(mine).not_to_have_class(re.compile(r"\bdone\b"))
    # The answer brought fresh counts along.
    expect(second.page.locator(".mod-nav [data-queue-count=pending]")).to_have_text(
        first.page.locator(".mod-nav [data-queue-count=pending]").inner_text()
    )
    first.assert_clean()
    second.assert_clean(expected=r"status of 409")


@pytest.mark.browser
def test_bulk_and_single_decisions_without_javascript(site, as_user):
    page = as_user("mira", java_script_enabled=False).page
    page.goto(site.url("/moderation/queue/pending"))
    expect(page.locator(".help-toggle")).to_be_hidden()  # nothing to open without scripts
    bulk = [site.ids["bulk1"], site.ids["bulk2"]]
    for comment_id in bulk:
        page.get_by_label(f"Select comment {comment_id}").check()
    page.get_by_label("With selected:").select_option("reject")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page).to_have_url(site.url("/moderation/queue/pending"))
    expect(flash(page)).to_have_text("2 comment(s) rejected.")
    for comment_id in bulk:
        expect(item(page, comment_id)).to_have_count(0)

    single = site.ids["single"]
    item(page, single).get_by_role("button", name="Approve").click()
    expect(page).to_have_url(site.url("/moderation/queue/pending"))
    expect(flash(page)).to_have_text(f"Comment {single}: approved.")
    expect(item(page, single)).to_have_count(0)

    page.goto(site.url("/moderation/queue/rejected"))
    for comment_id in bulk:
        expect(item(page, comment_id)).to_be_visible()


@pytest.mark.browser
def test_enter_in_a_reason_box_rejects_that_comment_only(site, as_user):
    page = as_user("mira", java_script_enabled=False).page
    page.goto(site.url("/moderation/queue/pending"))
    target = site.ids["enter"]
    pending_before = page.locator("li.mod-item").count()
    box = item(page, target).get_by_label("Reason shown to the author")
    box.fill("Pressed Enter")
    box.press("Enter")
    expect(flash(page)).to_have_text(f"Comment {target}: rejected.")
    expect(page.locator("li.mod-item")).to_have_count(pending_before - 1)


# -- readers' reports ------------------------------------------------------------------------


def _report(page: Page, site: Site, reason: str, note: str = "") -> None:
    target = site.ids["reportable"]
    page.goto(site.url(f"/articles/{REPORTED}"))
    page.locator(f"#c{target}").get_by_role("link", name="Report").click()
    expect(page).to_have_url(site.url(f"/comments/{target}/flag"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report this comment")
    page.get_by_label(reason).check()
    if note:
        page.get_by_label("Anything the moderators should know?").fill(note)
    page.get_by_role("button", name="Send report").click()
    expect(flash(page)).to_have_text("Thank you. A moderator will look at it.")


@pytest.mark.browser
def test_three_reports_hide_a_comment_for_review(site, as_user):
    target = site.ids["reportable"]
    anonymous = as_user(None).page
    reports = [
        ("lena", "Spam or advertising", "Links to a shop."),
        ("reporter2", "Abusive or hateful", ""),
        ("reporter3", "Off topic", ""),
    ]
    for n, (reader, reason, note) in enumerate(reports, start=1):
        w = as_user(reader)
        _report(w.page, site, reason, note)
        w.assert_clean()
        anonymous.goto(site.url(f"/articles/{REPORTED}"))
        if n < len(reports):  # under the threshold, readers still see it
            expect(anonymous.locator(f"#c{target}")).to_be_visible()
    expect(anonymous.locator(f"#c{target}")).to_have_count(0)
    expect(anonymous.get_by_text("Readers will report this one.")).to_have_count(0)

    moderator = as_user("mira").page
    moderator.goto(site.url("/moderation/queue/reported"))
    reported = item(moderator, target)
    expect(reported).to_be_visible()
    why = reported.get_by_role("list", name="Why it is here")
    expect(why).to_contain_text("Hidden after 3 reader reports")
    expect(why).to_contain_text("3 reports")
    reasons = ("spam (“Links to a shop.”) by lena", "abuse by reporter2", "off topic by reporter3")
    for text in reasons:
        expect(why).to_contain_text(text)


# -- the thread panel and bans ---------------------------------------------------------------


@pytest.mark.browser
def test_moderator_closes_a_discussion(site, as_user):
    reader = as_user("lena").page
    reader.goto(site.url(f"/articles/{CLOSING}"))
    expect(reader.locator("#new-comment")).to_be_visible()

    w = as_user("mira")
    page = w.page
    page.goto(site.url(f"/articles/{CLOSING}"))
    panel = page.locator("form.mod-thread-panel")
    panel.get_by_label("Discussion", exact=True).select_option("closed")
    panel.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("Discussion settings saved: closed, post-moderated.")
    expect(page).to_have_url(site.url(f"/articles/{CLOSING}"))
    expect(panel.get_by_label("Discussion", exact=True)).to_have_value("closed")
    w.assert_clean()

    reader.reload()
    expect(reader.get_by_text("This discussion is closed")).to_be_visible()
    expect(reader.locator("#new-comment")).to_have_count(0)
    expect(reader.locator(".reply-link")).to_have_count(0)
    anonymous = as_user(None).page
    anonymous.goto(site.url(f"/articles/{CLOSING}"))
    expect(anonymous.get_by_text("This discussion is closed")).to_be_visible()
    expect(anonymous.get_by_role("link", name="register", exact=True)).to_have_count(0)


@pytest.mark.browser
def test_banned_reader_sees_why_instead_of_the_form(site, as_user):
    reader = as_user("trouble").page  # signed in before the ban
    reader.goto(site.url(f"/articles/{LANTERN}"))
    expect(reader.locator("#new-comment")).to_be_visible()

    w = as_user("mira")
    page = w.page
    page.goto(site.url("/moderation/users/trouble"))
    reason = "Repeated personal attacks."
    page.get_by_label("Reason (the reader sees it)").fill(reason)
    expect(page.get_by_label("Until (leave empty for good)")).to_have_value("")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(flash(page)).to_have_text("trouble is banned for good.")
    expect(page.locator("#ban-heading + p")).to_contain_text(f"Banned for good. Reason: {reason}")
    w.assert_clean()

    reader.reload()
    notice = reader.get_by_role("status").filter(has_text="banned")
    expect(notice).to_have_text(f"Your account is banned from posting for good. Reason: {reason}")
    expect(reader.locator("#new-comment")).to_have_count(0)
    expect(reader.locator(".reply-link")).to_have_count(0)
    expect(reader.get_by_role("link", name="Report")).to_have_count(0)


# -- settings, admins only -------------------------------------------------------------------


@pytest.mark.browser
def test_admin_adds_a_suspect_word_and_the_queue_marks_it(site, as_user):
    admin = as_user(ADMIN)
    page = admin.page
    page.goto(site.url("/moderation/settings"))
    nav = page.get_by_role("navigation", name="Moderation")
    expect(nav.get_by_role("link", name="Settings")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit log")).to_be_visible()
    page.get_by_label("Suspect words and phrases").fill(SUSPECT)
    page.get_by_role("button", name="Save settings").click()
    expect(flash(page)).to_have_text("Saved 1 change(s).")
    expect(page.get_by_label("Suspect words and phrases")).to_have_value(SUSPECT)
    admin.assert_clean()

    reader = as_user("lena")
    reader.page.goto(site.url(f"/articles/{LANTERN}"))
    text = f"Maybe a {SUSPECT} crew lit the lighthouse."
    reader.page.get_by_label("Your comment").fill(text)
    reader.page.get_by_role("button", name="Post comment").click()
    posted = reader.page.locator("article.comment", has_text=text)
    expect(posted).to_be_visible()
    expect(posted.locator(".badge")).to_have_text("awaiting moderation")
    reader.assert_clean()

    w = as_user("mira")
    moderator = w.page
    moderator.goto(site.url("/moderation/queue/pending"))
    held = moderator.locator("li.mod-item", has_text=text.split(SUSPECT)[1].strip())
    expect(held.locator(".comment-body mark")).to_have_text(SUSPECT)
    expect(held.get_by_role("list", name="Why it is here")).to_contain_text("suspect word")

    # A moderator who is not an admin has neither the links nor the pages.
    nav = moderator.get_by_role("navigation", name="Moderation")
    expect(nav.get_by_role("link", name="History")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)
    w.assert_clean()
    for path in ("/moderation/settings", "/moderation/log"):
        response = moderator.goto(site.url(path))
        assert response.status == 403, (path, response.status)


# -- accessibility -------------------------------------------------------------------------


def _queue(name: str, at_least: int = 1):
    def arrive(page: Page, site: Site) -> None:
        page.goto(site.url(f"/moderation/queue/{name}"))
        assert page.locator("li.mod-item").count() >= at_least

    return arrive


def _goto(path: str):
    return lambda page, site: page.goto(site.url(path))


def _settings_with_errors(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/settings"))
    page.get_by_label("Links allowed before a hold").fill("lots")
    page.get_by_label("External moderation hook URL").fill("ftp://hook.example")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Some settings need another look.")
    expect(page.locator(".field.has-error")).to_have_count(2)


def _conflict_shown(page: Page, site: Site) -> None:
    """A queue item carrying the inline error of a lost race."""
    page.goto(site.url("/moderation/queue/pending"))
    first = page.locator("li.mod-item").first
    first.evaluate("el => { el.dataset.seen = 'approved'; }")  # as if another moderator won
    first.get_by_role("button", name="Reject").click()
    expect(first.get_by_role("alert")).to_be_visible()


def _shortcuts_open(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/queue/pending"))
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def _flag_with_errors(page: Page, site: Site) -> None:
    page.goto(site.url(f"/comments/{site.ids['marguerite']}/flag"))
    page.get_by_role("button", name="Send report").click()  # no reason chosen
    expect(page.locator("fieldset.has-error .error")).to_be_visible()


def _article_as_moderator(page: Page, site: Site) -> None:
    page.goto(site.url(f"/articles/{LANTERN}"))
    expect(page.locator("form.mod-thread-panel")).to_be_visible()
    expect(page.get_by_role("heading", name="Editors’ picks")).to_be_visible()


# name -> (who, how to get there)
AXE_PAGES = {
    "queue-pending": (ADMIN, _queue("pending", 3)),
    "queue-pending-conflict": ("otto", _conflict_shown),
    "queue-pending-shortcuts": ("mira", _shortcuts_open),
    "queue-reported": (ADMIN, _queue("reported")),
    "queue-spam": (ADMIN, _queue("spam")),
    "queue-rejected": (ADMIN, _queue("rejected")),
    "history": (ADMIN, _goto("/moderation/history")),
    "user": ("mira", _goto("/moderation/users/penny")),
    "settings": (ADMIN, _goto("/moderation/settings")),
    "settings-errors": (ADMIN, _settings_with_errors),
    "log": (ADMIN, _goto("/moderation/log")),
    "flag": ("lena", lambda p, s: p.goto(s.url(f"/comments/{s.ids['marguerite']}/flag"))),
    "flag-errors": ("lena", _flag_with_errors),
    "article-moderator": ("mira", _article_as_moderator),
}
AXE_CASES = [pytest.param(name, None, id=name) for name in AXE_PAGES] + [
    pytest.param("queue-pending", PHONE, id="queue-pending-phone"),
]


@pytest.mark.browser
@pytest.mark.parametrize(("name", "viewport"), AXE_CASES)
def test_axe_finds_no_serious_violations(site, open_context, state_of, name, viewport):
    """Each page once, checked in the light and then the dark colour scheme."""
    who, arrive = AXE_PAGES[name]
    options = {"storage_state": state_of(who), "bypass_csp": True}  # axe is injected inline
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
@pytest.mark.parametrize(
    ("label", "options"),
    [
        ("light", {"color_scheme": "light"}),
        ("dark", {"color_scheme": "dark"}),
        ("phone", {"color_scheme": "light", "viewport": PHONE, "is_mobile": True}),
        ("phone-dark", {"color_scheme": "dark", "viewport": PHONE, "is_mobile": True}),
    ],
)
def test_pending_queue_screenshots(site, open_context, state_of, label, options):
    page = open_context(storage_state=state_of(ADMIN), **options).new_page()
    page.goto(site.url("/moderation/queue/pending"))
    expect(page.locator("li.mod-item.current")).to_have_count(1)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px ({label})"
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"moderation-pending-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000

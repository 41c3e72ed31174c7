"""A thread embedded on a publisher's page, in real Chromium.

Two servers on loopback: the forum on http://127.0.0.1:<port> and a publisher on
http://localhost:<port> (another site, so the forum's frame is third-party there),
plus a second publisher that is not allowed to embed. The publisher's pages are
the one line of HTML the README documents. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    LAUNCH_ARGS,
    PASSWORD,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from forum.extensions import db
from forum.models import ApiToken, Comment, CommentStatus, Thread, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import comments, sites, threads

EXPECT_TIMEOUT_MS = 8_000  # expect()'s wait here (tests/browser/conftest.py)


KEY = "finale-first-look"
# A page long enough that the discussion starts below the fold.
ARTICLE = "".join(
    f"<p>Paragraph {n}: the lighthouse, the ferry timetable and the keeper's missing "
    "logbook all come back, and each scene leaves one more question open.</p>"
    for n in range(1, 9)
)


class Publisher:
    """A news site on its own origin whose pages embed the forum."""

    def __init__(self):
        self.forum = ""  # the forum's base URL, known once it runs
        self.sso = ""  # a token for the single sign-on page
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.origin = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def app(self, environ, start_response):
        request = Request(environ)
        theme = request.args.get("theme", "auto")
        key = request.args.get("key", KEY)
        if request.path == "/":
            body = (
                "<h1>Tonight on the news site</h1><ul>"
                f'<li><a href="/story">The finale, first look</a> · '
                f'<span data-forum-count="{KEY}">comments</span></li>'
                '<li><a href="/quiet">A quiet story</a> · '
                '<span data-forum-count="quiet-story">comments</span></li></ul>'
            )
        else:
            sso = f' data-sso="{html.escape(self.sso)}"' if request.path == "/sso" else ""
            body = (
                "<h1>The finale, first look</h1>"
                "<p>Everything we saw in the first ten minutes. Share your theories below.</p>"
                + ARTICLE
                + f'<div id="forum-thread" data-thread="{html.escape(key)}" '
                'data-title="The finale, first look" '
                f'data-url="{self.origin}/story" data-theme="{html.escape(theme)}"{sso}></div>'
            )
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>News site</title></head><body><main>"
            f'{body}<script src="{self.forum}/embed.js" async></script>'
            "</main></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)

    def url(self, path: str) -> str:
        return self.origin + path

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture(scope="module")
def publisher():
    with Publisher() as site:
        yield site


@pytest.fixture(scope="module")
def stranger():
    """A site that is not on the forum's list."""
    with Publisher() as site:
        yield site


@pytest.fixture(scope="module")
def forum(tmp_path_factory, publisher, stranger):
    app = make_app(
        tmp_path_factory.mktemp("browser-embed"),
        FORUM_EMBED_ORIGINS=publisher.origin,
        FORUM_EMBED_POLL_SECONDS=1,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        accounts.register("lena", "lena@example.org", PASSWORD)
        # The thread most tests use; the first test watches another one get made.
        threads.thread_for_embed(
            KEY, publisher.origin, "The finale, first look", publisher.url("/story")
        )
        sso_secret = sites.new_sso_secret(None, publisher.origin)
        db.session.commit()
    with serve(app) as base_url:
        publisher.forum = stranger.forum = base_url
        site = Site(base_url)
        site.app = app
        site.publisher_origin = publisher.origin
        site.sso_secret = sso_secret
        yield site


def frame_of(page: Page):
    return page.frame_locator("#forum-thread iframe")


def iframe_height(page: Page) -> float:
    return page.locator("#forum-thread iframe").evaluate("f => f.getBoundingClientRect().height")


def content_height(page: Page) -> float:
    return frame_of(page).locator("#embed-root").evaluate("e => e.getBoundingClientRect().height")


_serial = itertools.count(1)


def seed_comments(forum, n: int, key: str = KEY, publisher=None) -> list[int]:
    """n comments by lena (the thread is made first if need be); their ids."""
    ids = []
    with forum.app.app_context():
        thread = threads.thread_for_embed(key, forum.publisher_origin, key)[0]
        author = accounts.find_user("lena")
        for i in range(n):
            # Distinct texts: the duplicate rule would take repeats for spam.
            serial = next(_serial)
            comment = comments.post_comment(
                author, thread, f"Seeded comment {i} (#{serial}): the lighthouse again."
            )
            ids.append(comment.id)
        db.session.commit()
    return ids


def test_the_frame_appears_and_sizes_itself_to_its_content(forum, publisher, open_context):
    page = open_context().new_page()
    page.goto(publisher.url("/story?key=fresh-thread"))
    thread = frame_of(page)
    expect(thread.get_by_role("heading", name="0 comments")).to_be_visible()
    with forum.app.app_context():
        made = threads.thread_by_key("fresh-thread")
        assert (made.title, made.origin) == ("The finale, first look", publisher.origin)
    expect(thread.get_by_text("No comments yet")).to_be_visible()
    # The frame is exactly as tall as what it shows: no inner scroll bar.
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#forum-thread iframe').offsetHeight - 320) > 1"
    )
    assert abs(iframe_height(page) - content_height(page)) <= 2
    small = iframe_height(page)

    seed_comments(forum, 6, "fresh-thread")
    page.reload()
    expect(frame_of(page).get_by_text("Seeded comment 5")).to_be_visible()
    page.wait_for_function(
        f"() => document.querySelector('#forum-thread iframe').offsetHeight > {small + 200}"
    )
    assert abs(iframe_height(page) - content_height(page)) <= 2


def register_through_popup(page: Page, username: str) -> None:
    thread = frame_of(page)
    with page.expect_popup() as opened:
        thread.get_by_role("button", name="Register").click()
    popup = opened.value
    popup.get_by_label("Username").fill(username)
    popup.get_by_label("Email").fill(f"{username}@example.org")
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Create account").click()
    site = page.url.split("/story")[0]
    expect(popup.get_by_role("heading", name=f"Comment on {site}")).to_be_visible()
    popup.get_by_role("button", name="Continue as").click()
    popup.wait_for_event("close")
    expect(thread.get_by_text(f"Signed in as {username}")).to_be_visible()


@pytest.fixture
def open_profile(browser, tmp_path):
    """A browser context for each way Chromium treats third-party frames:
    "allowed" is a normal profile that keeps third-party cookies and storage
    (partitioned); "blocked" turns on Chromium's third-party cookie blocking,
    which also denies the frame any storage."""
    contexts = []

    def opener(mode: str):
        if mode == "allowed":
            profile = tmp_path / "profile"
            (profile / "Default").mkdir(parents=True)
            (profile / "Default" / "Preferences").write_text(
                json.dumps({"profile": {"cookie_controls_mode": 0}})
            )
            context = browser.browser_type.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
            )
        else:
            context = browser.new_context()
            page = context.new_page()
            context.new_cdp_session(page).send(
                "Network.setCookieControls",
                {
                    "enableThirdPartyCookieRestriction": True,
                    "disableThirdPartyCookieMetadata": True,
                    "disableThirdPartyCookieHeuristics": True,
                },
            )
            page.close()
        context.set_default_timeout(8_000)
        contexts.append(context)
        return context

    yield opener
    for context in contexts:
        context.close()


def frame_storage(page: Page) -> str:
    return page.frames[1].evaluate(
        "() => { try { localStorage.length; return 'usable'; } catch (e) { return 'denied'; } }"
    )


@pytest.mark.parametrize("mode", ["allowed", "blocked"])
def test_a_reader_registers_in_the_popup_and_posts_without_reload(
    forum, publisher, open_profile, mode
):
    """The frame never relies on a cookie: it works on the bearer token alone,
    whether or not Chromium blocks third-party cookies."""
    context = open_profile(mode)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(publisher.url("/story"))
    username = f"tp-{mode}"
    register_through_popup(page, username)
    thread = frame_of(page)

    before = iframe_height(page)
    thread.get_by_label("Your comment").fill(f"The keeper **is** the narrator ({username}).")
    thread.get_by_role("button", name="Post comment").click()
    mine = thread.locator(".comment", has_text=f"({username})")
    expect(mine.locator("strong")).to_have_text("is")
    page.wait_for_function(
        f"() => document.querySelector('#forum-thread iframe').offsetHeight > {before + 40}"
    )

    mine.get_by_role("link", name="Reply").click()
    thread.get_by_label("Your reply").fill(f"Replying to myself, {username}.")
    thread.get_by_role("button", name="Post reply").click()
    reply = thread.locator("ol.replies .comment", has_text=f"Replying to myself, {username}.")
    expect(reply).to_be_visible()
    expect(thread.get_by_text(f"Signed in as {username}")).to_be_visible()
    assert page.url == publisher.url("/story")  # no reload, no navigation

    with forum.app.app_context():
        rows = db.session.scalars(
            select(Comment).where(Comment.author.has(username=username)).order_by(Comment.id)
        ).all()
        assert [r.parent_id for r in rows] == [None, rows[0].id]
        assert threads.thread_by_key(KEY).url == publisher.url("/story")

    # The next visit: with storage the frame still holds its token; without it,
    # one click signs the reader in again, no password (the popup is first-party).
    page.reload()
    thread = frame_of(page)
    expect(thread.locator("#embed-root")).to_be_visible()
    if mode == "allowed":
        assert frame_storage(page) == "usable"
    else:
        assert frame_storage(page) == "denied"
        with page.expect_popup() as opened:
            thread.get_by_role("button", name="Sign in to comment").click()
        opened.value.get_by_role("button", name=f"Continue as {username}").click()
    expect(thread.get_by_text(f"Signed in as {username}")).to_be_visible()
    assert not errors, errors

    # Signing out revokes the token; the frame offers to sign in again.
    thread.get_by_role("button", name="Sign out").click()
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()
    with forum.app.app_context():
        live = db.session.scalars(
            select(ApiToken).where(
                ApiToken.user.has(username=username), ApiToken.revoked_at.is_(None)
            )
        ).all()
        assert len(live) == (0 if mode == "allowed" else 1)  # the first visit's token


def test_counts_show_on_an_index_page(forum, publisher, open_context):
    seed_comments(forum, 2)
    with forum.app.app_context():
        count = threads.thread_by_key(KEY).comment_count
    assert count >= 2
    page = open_context().new_page()
    page.goto(publisher.url("/"))
    expect(page.locator(f'[data-forum-count="{KEY}"]')).to_have_text(f"{count} comments")
    expect(page.locator('[data-forum-count="quiet-story"]')).to_have_text("0 comments")


def test_a_page_from_a_site_not_allowed_cannot_frame_or_create(forum, stranger, open_context):
    page = open_context().new_page()
    refused = []
    page.on(
        "response",
        lambda r: refused.append(r.status) if "/embed/threads/" in r.url else None,
    )
    page.goto(stranger.url("/story?key=stranger-thread"))
    page.wait_for_timeout(800)
    assert refused == [403]
    frame = page.frame_locator("#forum-thread iframe")
    expect(frame.locator("#embed-root")).to_have_count(0)
    with forum.app.app_context():
        assert db.session.scalar(select(Thread).where(Thread.key == "stranger-thread")) is None


def test_permalinks_on_the_publishers_page_open_the_comment(forum, publisher, open_context):
    seed_comments(forum, 3)
    with forum.app.app_context():
        last = db.session.scalars(select(Comment.id).order_by(Comment.id.desc())).first()
    page = open_context(viewport={"width": 900, "height": 500}).new_page()
    page.goto(publisher.url(f"/story#c{last}"))
    target = frame_of(page).locator(f"#c{last}")
    expect(target).to_have_class(re.compile(r"\btargeted\b"))
    # The publisher's page scrolled to it (the frame itself never scrolls).
    page.wait_for_function("() => window.scrollY > 0")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_and_accessibility_of_the_embedded_thread(
    forum, publisher, open_context, theme
):
    key = f"screens-{theme}"
    first, second = seed_comments(forum, 2, key)
    with forum.app.app_context():
        thread = threads.thread_by_key(key)
        lena = accounts.find_user("lena")
        parent = db.session.get(Comment, first)
        comments.post_comment(
            lena, thread, f"A reply, nested under the first ({theme}).", parent=parent
        )
        comments.post_comment(
            lena,
            thread,
            f"The keeper ||was the narrator|| all along ({theme}).",
            theory_title="The keeper is the narrator",
        )
        db.session.commit()
    page = open_context(viewport={"width": 820, "height": 1000}).new_page()
    page.goto(publisher.url(f"/story?theme={theme}&key={key}"))
    expect(frame_of(page).locator(".comment").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"embed-{theme}.png"), full_page=True)
    background = frame_of(page).locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert (background == "rgb(21, 23, 26)") == (theme == "dark"), background

    # axe over the frame's own document (opened directly, as axe needs no CSP).
    axe_page = open_context(bypass_csp=True).new_page()
    axe_page.goto(forum.url(f"/embed/threads/{key}?origin={publisher.origin}&theme={theme}"))
    inject_axe(axe_page)
    failures, _ = axe_in_both_schemes(axe_page, f"embedded thread ({theme})")
    assert not failures, axe_report(failures)


def sign_in_token(forum, publisher, subject: str, username: str) -> str:
    """What the publisher's server would put in data-sso (docs/sso/sign_token.py)."""
    now = int(time.time())
    claims = {"sub": subject, "username": username, "name": "Ada from the newsroom"}
    claims.update(iat=now, exp=now + 300, jti=uuid.uuid4().hex, aud=publisher.origin)
    return jwt.encode(
        claims, forum.sso_secret, algorithm="HS256", headers={"kid": publisher.origin}
    )


def test_single_sign_on_signs_the_reader_in_without_a_popup(forum, publisher, open_context):
    publisher.sso = sign_in_token(forum, publisher, "reader-42", "ada")
    page = open_context().new_page()
    page.goto(publisher.url("/sso"))
    thread = frame_of(page)
    expect(thread.get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    thread.get_by_label("Your comment").fill("Posting through my newsroom account.")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment", has_text="Posting through my newsroom")).to_be_visible()

    # The same token again (a replay, e.g. a copied page) is refused, visibly.
    page.reload()
    expect(frame_of(page).get_by_role("alert")).to_contain_text("already")
    with forum.app.app_context():
        ada = accounts.find_user("ada")
        assert ada is not None and ada.display_name == "Ada from the newsroom"


def test_comments_from_others_are_offered_without_a_reload(forum, publisher, open_context):
    page = open_context().new_page()
    page.goto(publisher.url("/story?key=live-thread"))
    thread = frame_of(page)
    expect(thread.get_by_text("No comments yet")).to_be_visible()
    seed_comments(forum, 1, "live-thread")
    thread.get_by_role("button", name="Show 1 new comment").click()
    expect(thread.get_by_text("Seeded comment 0")).to_be_visible()
    expect(thread.get_by_role("heading", name="1 comment")).to_be_visible()


def test_more_replies_load_in_place_and_the_frame_grows(forum, publisher, open_context):
    """A conversation of 60 replies shows 10 and "50 more replies"; a click
    brings the rest into the cross-site frame, which grows to fit them."""
    key = "long-conversation"
    with forum.app.app_context():
        thread = threads.thread_for_embed(key, forum.publisher_origin, key)[0]
        lena = accounts.find_user("lena")
        start = utcnow() - timedelta(hours=2)
        root = comments.add_comment(
            thread, lena, None, "Who rang the bell?", CommentStatus.APPROVED, created_at=start
        )
        made = [root]
        for i in range(60):  # even ones answer the root, odd ones an earlier reply
            parent = made[(i + 1) // 2] if i % 2 else root
            made.append(
                comments.add_comment(
                    thread,
                    lena,
                    parent,
                    f"Bell reply {i:02}.",
                    CommentStatus.APPROVED,
                    created_at=start + timedelta(seconds=i + 1),
                )
            )
        db.session.commit()
        first_new = made[11].id
    page = open_context().new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(publisher.url(f"/story?key={key}"))
    thread = frame_of(page)
    expect(thread.get_by_text("Bell reply 09.")).to_be_visible()
    expect(thread.get_by_text("Bell reply 10.")).to_have_count(0)
    more = thread.get_by_role("button", name=re.compile(r"^50 more replies to lena$"))
    expect(more).to_be_visible()
    page.wait_for_function(
        "() => { const f = document.querySelector('#forum-thread iframe');"
        " return f.contentWindow && f.offsetHeight > 600; }"
    )
    before = iframe_height(page)
    assert abs(before - content_height(page)) <= 2

    more.click()
    expect(thread.get_by_text("Bell reply 59.")).to_be_visible()
    expect(thread.locator("article.comment")).to_have_count(61)
    expect(more).to_have_count(0)
    expect(thread.locator(f"#c{first_new}")).to_be_focused()
    expect(thread.locator("#embed-live")).to_have_text("50 more replies loaded.")
    page.wait_for_function(
        f"() => document.querySelector('#forum-thread iframe').offsetHeight > {before + 1500}"
    )
    assert abs(iframe_height(page) - content_height(page)) <= 2
    assert page.url == publisher.url(f"/story?key={key}")  # no navigation
    assert not errors, errors

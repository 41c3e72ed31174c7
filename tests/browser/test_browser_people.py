"""People and their own data in Chromium: an admin finds a reader and promotes
them; a reader downloads their data, then deletes the account and their words
leave the page. axe over the new pages in light and dark, screenshots on a
desktop and a phone."""

from __future__ import annotations

import json

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    PHONE,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
    submit_login,
)
from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import Role, User
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

WORDS = "Tangerine-Orrery-6620: the lighthouse keeper did it"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("browser-people"), FORUM_MAIL_WORKER="off")
    with app.app_context():
        accounts.register("ada", "ada@example.org", PASSWORD, role=Role.ADMIN)
        accounts.register("rosalind", "rosalind@example.org", PASSWORD, display_name="Rosalind F")
        accounts.register("wendy", "wendy@example.org", PASSWORD)
        leaving = accounts.register("leaving", "leaving@example.org", PASSWORD)
        bob = accounts.register("bob", "bob@example.org", PASSWORD)
        threads.save_article("a-story", "A story", "Some text.")
        thread = threads.thread_by_key("a-story")
        top = comments.post_comment(leaving, thread, WORDS)
        comments.post_comment(bob, thread, "Bob answers the lighthouse theory", parent=top)
        db.session.commit()
    with serve(app) as base_url:
        site = Site(base_url)
        site.app = app
        yield site


def role_of(site, name):
    with site.app.app_context():
        return db.session.scalar(select(User.role).where(User.username_key == name))


def test_an_admin_finds_a_reader_and_promotes_them(site, open_context):
    page = open_context().new_page()
    log_in(page, site, "ada")
    page.goto(site.url("/moderation/"))
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username, email or name").fill("rosa")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the head and Rosalind
    page.get_by_role("link", name="Rosalind F").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rosalind F")
    page.get_by_label("New role").select_option("moderator")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("rosalind is now moderator.")).to_be_visible()
    assert role_of(site, "rosalind") == Role.MODERATOR


def test_a_reader_downloads_then_deletes_their_data(site, open_context, tmp_path):
    page = open_context(accept_downloads=True).new_page()
    log_in(page, site, "leaving")
    page.goto(site.url("/account/profile"))
    page.get_by_role("link", name="Your data, email address, deleting the account").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename == "forum-leaving-data.json"
    path = tmp_path / "data.json"
    download.save_as(path)
    data = json.loads(path.read_text())
    assert [c["body"] for c in data["comments"]] == [WORDS]
    assert data["account"]["email"] == "leaving@example.org"

    deleting = page.get_by_role("region", name="Delete my account")
    deleting.get_by_label("Your password").fill("not the password")
    deleting.get_by_role("button", name="Delete my account").click()
    expect(deleting.get_by_text("That is not your password.")).to_be_visible()
    deleting.get_by_label("Your password").fill(PASSWORD)
    deleting.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted")).to_be_visible()
    expect(page.locator(".whoami")).to_have_count(0)

    page.goto(site.url("/articles/a-story"))
    expect(page.get_by_text("Bob answers the lighthouse theory")).to_be_visible()
    assert "Tangerine" not in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "after-deletion.png"), full_page=True)
    submit_login(page, site, "leaving", PASSWORD)
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()


SHOTS = [
    ("light", {"color_scheme": "light"}),
    ("dark", {"color_scheme": "dark"}),
    ("phone", {"color_scheme": "light", "viewport": PHONE, "is_mobile": True}),
    ("phone-dark", {"color_scheme": "dark", "viewport": PHONE, "is_mobile": True}),
]


@pytest.mark.parametrize(
    ("name", "who", "path"),
    [
        ("people", "ada", "/admin/people/?q=w"),
        ("person", "ada", "/admin/people/wendy"),
        ("own-data", "wendy", "/account/data"),
    ],
)
def test_the_new_pages_are_accessible_and_fit_a_phone(site, open_context, name, who, path):
    for label, options in SHOTS:
        page = open_context(bypass_csp=True, **options).new_page()
        log_in(page, site, who)
        page.goto(site.url(path))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px ({label})"
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        if label in ("light", "phone"):
            inject_axe(page)
            failures, backgrounds = axe_in_both_schemes(page, f"{name} ({label})")
            assert not failures, axe_report(failures)
            assert len(backgrounds) == 2

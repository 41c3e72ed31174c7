"""The account pages in Chromium: a forgotten password reset through the emailed
link, the security page, and axe over both in light and dark."""

from __future__ import annotations

import re

import pytest
from browser_support import (
    PASSWORD,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
)
from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import OutboxMessage
from forum.services.accounts import accounts

NEW_PASSWORD = "the tide came in twice"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-account"),
        FORUM_MAIL_WORKER="off",
    )
    with app.app_context():
        accounts.register("lena", "lena@example.org", PASSWORD)
        accounts.register("omar", "omar@example.org", PASSWORD)
        db.session.commit()
    with serve(app) as base_url:
        site = Site(base_url)
        site.app = app
        yield site


def test_a_forgotten_password_is_reset_through_the_emailed_link(site, open_context):
    page = open_context().new_page()
    page.goto(site.url("/auth/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("lena@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()

    with site.app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.subject == "Reset your password")
        )
    link = re.search(r"https?://\S+", body).group(0)
    page.goto(link)
    expect(page.get_by_text("For the account @lena")).to_be_visible()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("lena")

    # The link was for one use.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work any more")).to_be_visible()


@pytest.mark.parametrize("path", ["/auth/reset", "/account/security", "/auth/login"])
def test_account_pages_have_no_serious_accessibility_problems(site, open_context, path):
    page = open_context(bypass_csp=True).new_page()
    if path == "/account/security":
        log_in(page, site, "omar")
    page.goto(site.url(path))
    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, path)
    assert not failures, axe_report(failures)
    assert len(backgrounds) == 2  # light and dark differ


def test_the_security_page_signs_out_other_browsers(site, open_context):
    here, there = open_context().new_page(), open_context().new_page()
    log_in(here, site, "omar")
    log_in(there, site, "omar")
    here.goto(site.url("/account/security"))
    here.get_by_role("button", name="Sign out everywhere else").click()
    expect(here.get_by_text("Every other browser and app was signed out.")).to_be_visible()
    there.reload()
    expect(there.get_by_role("link", name="Log in")).to_be_visible()

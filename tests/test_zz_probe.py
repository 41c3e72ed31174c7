import re
import pytest
from test_browser import *  # noqa
from test_browser import _serial

@pytest.mark.browser
def test_probe(site, open_context, signed_in_state):
    w = watched(open_context(storage_state=signed_in_state))
    page = w.page
    navs = []
    page.on("framenavigated", lambda f: navs.append(f.url))
    page.goto(site.url(f"/articles/{LANTERN}#c999999"))
    page.wait_for_timeout(1500)
    print("NAVS", navs)
    page.goto(site.url(f"/articles/{LONG}"))
    page.get_by_label("Your comment").fill("Fresh comment on a long thread.")
    page.get_by_role("button", name="Post comment").click()
    expect(comment_article(page, "Fresh comment on a long thread.")).to_be_visible()
    page.get_by_role("link", name="Load more comments").click()
    page.wait_for_timeout(500)
    page.get_by_role("link", name="Load more comments").click()
    page.wait_for_timeout(500)
    print("COUNT", comment_article(page, "Fresh comment on a long thread.").count())
    print(w.errors)

"""The frame of a publisher that signs readers in on its own page
(`data-login="host"` on the embed, `?login=host` on the frame's address): the
frame's script is told so, and offers no registration of ours."""

import re

import pytest

from tests.views.test_embed import HOST, frame


@pytest.fixture
def embed_app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=HOST)


@pytest.fixture
def host(embed_app):
    return embed_app.test_client()


def register_button(page: str) -> str:
    return re.search(r'<button[^>]*id="embed-register"[^>]*>', page).group(0)


def test_the_hosts_login_is_passed_to_the_frame_and_kept_by_its_links(host):
    page = frame(host, login="host").get_data(as_text=True)
    assert re.search(r'<main id="embed-root"[^>]* data-login="host"', page)
    assert " hidden" in register_button(page)
    sort_links = re.findall(r'href="(/embed/threads/ep-1\?[^"]*sort=[^"]*)"', page)
    assert len(sort_links) == 3 and all("login=host" in link for link in sort_links)


@pytest.mark.parametrize("value", [None, "", "forum", "HOST", "host "])
def test_any_other_value_keeps_our_own_sign_in(host, value):
    params = {} if value is None else {"login": value}
    page = frame(host, **params).get_data(as_text=True)
    assert 'data-login="host"' not in page
    assert " hidden" not in register_button(page)
    assert "login=host" not in page

"""The stylesheet and scripts are addressed by their content and kept a year."""

import re


def test_static_addresses_carry_a_content_hash_and_are_kept_a_year(client):
    page = client.get("/auth/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/forum\.css\?v=[0-9a-f]{12})"', page).group(1)
    script = re.search(r'src="(/static/js/thread\.js\?v=[0-9a-f]{12})"', page).group(1)
    for url in (css, script):
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.cache_control.immutable
    # A stale or made-up version is served, but not kept: the next page has the new one.
    stale = client.get("/static/css/forum.css?v=000000000000")
    assert stale.status_code == 200 and not stale.cache_control.immutable
    plain = client.get("/static/js/comment-dom.js")
    assert plain.status_code == 200 and not plain.cache_control.immutable
    assert client.get("/static/js/nope.js").status_code == 404

"""Threads embedded on publishers' pages: origins, framing, first-view creation,
the reader's view through a bearer token, the sign-in popup and counts."""

import re

import pytest
from sqlalchemy import select

from forum import addresses
from forum.extensions import db
from forum.models import ApiToken, EmbedSite, Thread
from forum.services.discussion import comments, sites, threads
from tests.conftest import PASSWORD, allowed_origins, count_statements, token_for

HOST = "https://news.example"
OTHER = "https://elsewhere.example"


@pytest.fixture
def embed_app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=f"{HOST} https://two.example")


@pytest.fixture
def host(embed_app):
    return embed_app.test_client()


def frame(client, key="ep-1", origin=HOST, referer="origin", **params):
    """The iframe's request as a browser sends it from the publisher's page (whose
    origin /embed.js's referrerpolicy makes the Referer), or with `referer`."""
    query = {"origin": origin, "title": "Episode one", "url": f"{HOST}/tv/ep-1", **params}
    headers = {"Referer": f"{origin}/" if referer == "origin" else referer}
    if headers["Referer"] is None:
        del headers["Referer"]
    return client.get(f"/embed/threads/{key}", query_string=query, headers=headers)


def thread_row(app, key):
    with app.app_context():
        thread = db.session.scalar(select(Thread).where(Thread.key == key))
        if thread is not None:
            db.session.expunge(thread)
        return thread


def test_first_view_from_an_allowed_origin_creates_the_thread(embed_app, host):
    response = frame(host)
    assert response.status_code == 200
    thread = thread_row(embed_app, "ep-1")
    assert (thread.title, thread.url, thread.origin) == ("Episode one", f"{HOST}/tv/ep-1", HOST)
    assert "No comments yet" in response.text

    # Later views do not rename it (an admin's rename must stick).
    assert frame(host, title="Something else", url=f"{HOST}/other").status_code == 200
    assert thread_row(embed_app, "ep-1").title == "Episode one"


def test_embed_page_may_be_framed_by_that_origin_only(host):
    response = frame(host)
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith(f"frame-ancestors {HOST}")
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    # The second allowed origin gets a policy naming itself, not the first.
    other = frame(host, origin="https://two.example", url="https://two.example/a")
    assert other.headers["Content-Security-Policy"].endswith("frame-ancestors https://two.example")


def test_every_other_page_refuses_to_be_framed(host, article):
    for path in ("/", "/articles/a-story", "/auth/login", "/api/v1/session"):
        response = host.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


@pytest.mark.parametrize(
    "origin",
    [OTHER, "", "news.example", "https://news.example/path", "javascript:alert(1)", "x" * 300],
)
def test_unknown_or_malformed_origins_are_refused_and_create_nothing(embed_app, host, origin):
    response = frame(host, origin=origin)
    assert response.status_code == 403
    assert "not allowed to embed" in response.text
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert thread_row(embed_app, "ep-1") is None


def test_without_any_configured_origin_nothing_can_embed(client):
    assert frame(client).status_code == 403


def test_a_referer_from_another_site_is_refused(embed_app, host):
    response = host.get(
        "/embed/threads/ep-1",
        query_string={"origin": HOST, "title": "t"},
        headers={"Referer": f"{OTHER}/page"},
    )
    assert response.status_code == 403
    assert thread_row(embed_app, "ep-1") is None
    ok = host.get(
        "/embed/threads/ep-1",
        query_string={"origin": HOST, "title": "t"},
        headers={"Referer": f"{HOST}/tv/ep-1"},
    )
    assert ok.status_code == 200


def test_a_page_address_on_another_site_is_not_stored(embed_app, host):
    frame(host, url=f"{OTHER}/phishing")
    assert thread_row(embed_app, "ep-1").url is None


@pytest.mark.parametrize("key", ["has space", "a/b", "-leading", "x" * 201, "é"])
def test_malformed_keys_are_refused(embed_app, host, key):
    response = frame(host, key=key)
    assert response.status_code == 404
    with embed_app.app_context():
        assert db.session.scalar(select(db.func.count(Thread.id))) == 0


def test_titles_are_plain_text(embed_app, host):
    response = frame(host, title="<script>alert(1)</script>Finale")
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text


def test_an_admin_can_refuse_an_origin_from_the_environment_and_add_another(embed_app, host):
    with embed_app.app_context():
        sites.set_allowed(None, HOST, False)
        sites.set_allowed(None, OTHER, True)
        db.session.commit()
    assert frame(host).status_code == 403
    assert frame(host, origin=OTHER, url=f"{OTHER}/a").status_code == 200
    with embed_app.app_context():
        assert allowed_origins() == sorted(["https://two.example", OTHER])


def test_a_merged_threads_key_shows_the_thread_it_went_into(embed_app, host, make):
    frame(host, key="old-key")
    frame(host, key="new-key", title="The new one")
    with embed_app.app_context():
        old = db.session.scalar(select(Thread).where(Thread.key == "old-key"))
        new = db.session.scalar(select(Thread).where(Thread.key == "new-key"))
        old.merged_into_id = new.id
        db.session.commit()
    response = frame(host, key="old-key")
    assert 'data-thread="new-key"' in response.text
    assert "Discussion: The new one" in response.text


def test_existing_comments_are_shown_and_permalinks_point_to_the_publishers_page(
    embed_app, host, make
):
    frame(host)
    author = make.user("writer")
    comment_id = make.comment(author, "ep-1", body="A **bold** guess")
    response = frame(host)
    assert "<strong>bold</strong>" in response.text
    assert f'href="{HOST}/tv/ep-1#c{comment_id}"' in response.text
    # The comment's own permalink on the forum leads to the publisher's page too.
    redirect = host.get(f"/comments/{comment_id}")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == f"{HOST}/tv/ep-1#c{comment_id}"


def test_the_embed_page_sets_no_cookie(host):
    response = frame(host)
    assert "Set-Cookie" not in response.headers


def test_the_readers_view_needs_a_valid_token(embed_app, host, make):
    frame(host)
    anonymous = host.get("/embed/threads/ep-1/comments")
    assert anonymous.status_code == 200
    assert anonymous.json["user"] is None and anonymous.json["can_post"] is False
    bad = host.get("/embed/threads/ep-1/comments", headers={"Authorization": "Bearer fpt_nope"})
    assert bad.status_code == 401
    assert bad.json["error"]["code"] == "unauthorized"


def test_a_reader_sees_their_own_pending_comment_and_their_votes(embed_app, host, make):
    frame(host)
    make.user("reader1")
    writer = make.user("writer")
    theirs = make.comment(writer, "ep-1", body="Somebody else's comment")
    token = token_for(host, "reader1")
    bearer = {"Authorization": f"Bearer {token}"}
    with embed_app.app_context():
        db.session.scalar(select(Thread).where(Thread.key == "ep-1")).moderation = "pre"
        db.session.commit()
    posted = host.post(
        "/api/v1/threads/ep-1/comments", json={"body": "My pending one"}, headers=bearer
    )
    assert posted.status_code == 201 and posted.json["comment"]["status"] == "pending"
    host.post(f"/api/v1/comments/{theirs}/votes", json={"value": 1}, headers=bearer)

    mine = host.get("/embed/threads/ep-1/comments", headers=bearer)
    assert mine.status_code == 200
    assert mine.json["user"]["username"] == "reader1" and mine.json["can_post"] is True
    assert "My pending one" in mine.json["html"] and "awaiting moderation" in mine.json["html"]
    assert 'aria-pressed="true" aria-label="Upvote"' in mine.json["html"]
    assert 'name="csrf_token"' not in mine.json["html"]  # the frame has no session
    assert mine.headers["Cache-Control"] == "no-store"
    # Anonymous readers do not see it.
    assert "My pending one" not in host.get("/embed/threads/ep-1/comments").json["html"]
    assert "My pending one" not in frame(host).text


def test_the_readers_view_of_a_closed_thread_says_so(embed_app, host, make):
    frame(host)
    make.user("reader1")
    with embed_app.app_context():
        db.session.scalar(select(Thread).where(Thread.key == "ep-1")).status = "closed"
        db.session.commit()
    token = token_for(host, "reader1")
    view = host.get("/embed/threads/ep-1/comments", headers={"Authorization": f"Bearer {token}"})
    assert view.json["can_post"] is False
    assert view.json["notice"] == "This discussion is closed to new comments."


def test_load_more_pages_through_the_readers_view(app_with, make):
    embed_app = app_with(FORUM_EMBED_ORIGINS=HOST, FORUM_PAGE_SIZE=3)
    client = embed_app.test_client()
    frame(client)
    make_ = type(make)(embed_app)
    writer = make_.user("writer")
    ids = [make_.comment(writer, "ep-1", body=f"Comment {n}") for n in range(7)]
    first = frame(client)
    assert f'id="c{ids[2]}"' in first.text and f'id="c{ids[3]}"' not in first.text
    more = re.search(r'data-more="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = client.get(more).json["html"]
    assert f'id="c{ids[3]}"' in second and f'id="c{ids[5]}"' in second
    assert f'id="c{ids[2]}"' not in second


def test_a_permalink_opens_its_conversation(embed_app, host, make):
    frame(host)
    writer = make.user("writer")
    root = make.comment(writer, "ep-1", body="Root comment")
    reply = make.comment(writer, "ep-1", body="The reply", parent_id=root)
    make.comment(writer, "ep-1", body="Another conversation")
    response = frame(host, comment=str(reply))
    assert "You are looking at one conversation" in response.text
    assert "The reply" in response.text and "Another conversation" not in response.text


def test_the_popup_asks_for_a_sign_in_first(host):
    start = host.get("/embed/auth/start", query_string={"site": HOST})
    assert start.status_code == 302
    assert start.headers["Location"].startswith("/auth/login?next=")
    register = host.get("/embed/auth/start", query_string={"site": HOST, "register": "1"})
    assert register.headers["Location"].startswith("/auth/register?next=")
    assert host.get("/embed/auth").status_code == 302


def test_the_popup_hands_a_working_token_to_the_frame(embed_app, make, auth, client):
    with embed_app.app_context():  # `client` is another app: allowed in the database
        sites.set_allowed(None, HOST, True)
        db.session.commit()
    make.user("alice")
    auth.login("alice")
    start = client.get("/embed/auth/start", query_string={"site": HOST})
    assert start.headers["Location"].startswith("/embed/auth?site=https")
    page = client.get("/embed/auth", query_string={"site": HOST})
    assert page.status_code == 200
    assert "Comment on https://news.example" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    handoff = client.post("/embed/auth", query_string={"site": HOST})
    assert handoff.status_code == 200
    assert handoff.headers["Cache-Control"] == "no-store"
    raw = re.search(r'data-token="(fpt_[^"]+)"', handoff.text).group(1)
    session = client.get("/api/v1/session", headers={"Authorization": f"Bearer {raw}"})
    assert session.json["user"]["username"] == "alice"
    # Logging out of the frame revokes exactly that token.
    assert (
        client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {raw}"})
    ).status_code == 204
    with embed_app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at)) is not None


def test_the_popups_continue_button_needs_its_csrf_token(app_with, make):
    strict = app_with(WTF_CSRF_ENABLED=True)
    make_ = type(make)(strict)
    make_.user("alice")
    client = strict.test_client()
    login_page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.text)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
    client.post(
        "/auth/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token[1]},
    )
    assert client.post("/embed/auth").status_code == 400
    with strict.app_context():
        assert db.session.scalar(select(db.func.count(ApiToken.id))) == 0


def test_counts_are_readable_by_allowed_origins_only(embed_app, host, make):
    frame(host)
    writer = make.user("writer")
    make.comment(writer, "ep-1")
    allowed = host.get("/api/v1/counts?keys=ep-1,none", headers={"Origin": HOST})
    assert allowed.json == {
        "counts": {"ep-1": 1, "none": 0},
        "labels": {"ep-1": "1 comment", "none": "0 comments"},
    }
    assert allowed.headers["Access-Control-Allow-Origin"] == HOST
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    refused = host.get("/api/v1/counts?keys=ep-1", headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_embed_js_is_served_as_a_script(host):
    response = host.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert "/embed/threads/" in response.text


def test_new_threads_per_address_are_limited(app_with):
    limited = app_with(FORUM_EMBED_ORIGINS=HOST, FORUM_RATELIMIT="on")
    client = limited.test_client()
    statuses = [frame(client, key=f"k-{n}").status_code for n in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    refused = frame(client, key="k-61")
    assert refused.headers["Retry-After"]
    with limited.app_context():
        assert db.session.scalar(select(db.func.count(Thread.id))) == 60
    # Threads that exist already still open.
    assert frame(client, key="k-3").status_code == 200


def test_statements_per_embed_view_do_not_grow_with_the_thread(embed_app, host, make):
    frame(host)
    writer = make.user("writer")
    counts = []
    for batch in (5, 40):
        for _ in range(batch):
            make.comment(writer, "ep-1")
        with count_statements(embed_app) as seen:
            assert frame(host).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_sites_normalize_origins():
    assert addresses.normalize_origin("HTTPS://News.Example:443/") == "https://news.example"
    assert addresses.normalize_origin("http://127.0.0.1:8001") == "http://127.0.0.1:8001"
    for bad in ("ftp://x", "https://u:p@x", "https://x/path", "https://x?q", None, 3, "https://"):
        assert addresses.normalize_origin(bad) is None


def test_embedded_sites_overview(embed_app):
    with embed_app.app_context():
        sites.new_sso_secret(None, "https://two.example")
        db.session.commit()
        rows = {row["origin"]: row for row in sites.overview()}
        assert rows[HOST]["from_environment"] and not rows[HOST]["sso"]
        assert rows["https://two.example"]["sso"]
        assert db.session.scalar(select(db.func.count(EmbedSite.id))) == 1


def test_two_first_views_at_once_make_one_thread(embed_app, monkeypatch):
    with embed_app.app_context():
        db.session.add(Thread(key="ep-1", title="Made by the other request", origin=HOST))
        db.session.commit()
        real = threads.shown_under
        calls = []

        def not_yet_on_first_look(key):
            calls.append(key)
            return None if len(calls) == 1 else real(key)

        monkeypatch.setattr(threads, "shown_under", not_yet_on_first_look)
        thread, created = threads.thread_for_embed("ep-1", HOST, "Mine", None)
        db.session.commit()
        assert (thread.title, created) == ("Made by the other request", False)
        assert db.session.scalar(select(db.func.count(Thread.id))) == 1


def test_the_readers_view_of_a_merged_key_is_the_merged_thread(embed_app, host, make):
    frame(host, key="old-key")
    frame(host, key="new-key")
    writer = make.user("writer")
    make.comment(writer, "new-key", body="Said in the new thread")
    with embed_app.app_context():
        old = db.session.scalar(select(Thread).where(Thread.key == "old-key"))
        old.merged_into_id = db.session.scalar(select(Thread.id).where(Thread.key == "new-key"))
        db.session.commit()
    view = host.get("/embed/threads/old-key/comments")
    assert "Said in the new thread" in view.json["html"] and view.json["count"] == 1
    assert host.get("/embed/threads/no-such-key/comments").status_code == 404


def test_an_article_of_our_own_can_be_embedded_with_permalinks_to_it(host, make, article):
    writer = make.user("writer")
    comment_id = make.comment(writer, article, body="On our own article")
    response = frame(host, key=article)
    assert response.status_code == 200
    assert f'href="http://localhost/articles/{article}#c{comment_id}"' in response.text


def test_the_api_and_counts_follow_a_merge(embed_app, host, make):
    frame(host, key="old-key")
    frame(host, key="new-key", title="Merged into")
    writer = make.user("writer")
    make.comment(writer, "new-key", body="Already here")
    with embed_app.app_context():
        old = db.session.scalar(select(Thread).where(Thread.key == "old-key"))
        old.merged_into_id = db.session.scalar(select(Thread.id).where(Thread.key == "new-key"))
        db.session.commit()
    assert host.get("/api/v1/threads/old-key").json["key"] == "new-key"
    token = token_for(host, "writer")
    posted = host.post(
        "/api/v1/threads/old-key/comments",
        json={"body": "Through the old key"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.json["comment"]["thread_key"] == "new-key"
    counts = host.get("/api/v1/counts?keys=old-key,new-key").json["counts"]
    assert counts == {"old-key": 2, "new-key": 2}


# -- thread squatting and the popup's name (security review, round two) ---------------


def test_a_new_thread_needs_the_publishers_page_behind_the_request(embed_app, host):
    # No Referer (a script, or a page that strips it): nothing is created.
    squat = frame(host, key="finale", referer=None, title="Spoilers here", url=f"{HOST}/x")
    assert squat.status_code == 403
    assert "starts only from a page of the site" in squat.text
    assert thread_row(embed_app, "finale") is None
    # A Referer from another site, or from the forum itself: still nothing.
    for referer in (f"{OTHER}/", "http://localhost/articles/x"):
        assert frame(host, key="finale", referer=referer).status_code == 403
    assert thread_row(embed_app, "finale") is None
    # An Origin header on the allowed origin is proof too (no Referer).
    vouched = host.get(
        "/embed/threads/finale",
        query_string={"origin": HOST, "title": "Finale", "url": f"{HOST}/tv/finale"},
        headers={"Origin": HOST},
    )
    assert vouched.status_code == 200
    assert thread_row(embed_app, "finale").title == "Finale"


def test_an_existing_thread_opens_without_a_referer(embed_app, host):
    assert frame(host).status_code == 200
    again = frame(host, referer=None)  # a reader whose browser strips it
    assert again.status_code == 200 and "Episode one" in again.text


def test_a_new_threads_page_address_must_be_on_the_publishers_site(embed_app, host):
    frame(host, key="ep-2", url=f"{OTHER}/look-like-the-publisher")
    assert thread_row(embed_app, "ep-2").url is None
    frame(host, key="ep-3", url=f"{HOST}/tv/ep-3")
    assert thread_row(embed_app, "ep-3").url == f"{HOST}/tv/ep-3"


def test_the_embed_script_asks_browsers_to_send_the_origin(client):
    script = client.get("/embed.js").text
    assert 'frame.referrerPolicy = "origin"' in script


def test_the_popup_names_only_allowed_sites(embed_app, make, auth, client):
    make.user("alice")
    auth.login("alice")
    made_up = client.get("/embed/auth", query_string={"site": "https://your-bank.example"})
    assert made_up.status_code == 200
    assert "your-bank" not in made_up.text
    assert "Comment on another site" in made_up.text
    start = client.get("/embed/auth/start", query_string={"site": "https://your-bank.example"})
    assert "your-bank" not in start.headers["Location"]
    with embed_app.app_context():
        sites.set_allowed(None, HOST, True)
        db.session.commit()
    allowed = client.get("/embed/auth", query_string={"site": HOST})
    assert "Comment on https://news.example" in allowed.text


def test_the_theory_title_box_takes_what_the_server_accepts(embed_app, host):
    longest = comments.THEORY_TITLE[1]
    assert f'name="theory_title" maxlength="{longest}"' in frame(host).text

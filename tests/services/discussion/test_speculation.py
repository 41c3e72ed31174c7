"""Theories, profiles, notifications, following, muting and spoiler windows."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from forum.extensions import db
from forum.models import Article, Notification, OutboxMessage, Role, User, utcnow
from tests.conftest import AuthActions, count_statements, token_for


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def crowd(app, make, article):
    for name in ("alice", "bob", "carol"):
        make.user(name)
    make.user("mona", role=Role.MODERATOR)
    clients, tokens = {}, {}
    for name in ("alice", "bob", "carol", "mona"):
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
        tokens[name] = {"Authorization": f"Bearer {token_for(app.test_client(), name)}"}
    return clients, tokens


def post(client, headers, body, **extra):
    response = client.post(
        "/api/v1/threads/a-story/comments", json={"body": body, **extra}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json["comment"]["id"]


def kinds(app, username):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        notes = db.session.scalars(
            db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).all()
        return [n.kind.value for n in notes], user.unread_count


def test_theory_life_called_it(app, client, crowd):
    """Done means: a theory is posted, voted on, replied to, confirmed; its author
    sees the badge on their profile and a notification."""
    clients, tokens = crowd
    theory = post(
        client,
        tokens["alice"],
        "The keeper is her sister.",
        theory_title="The keeper is her sister",
    )
    for voter in ("bob", "carol"):
        client.post(f"/api/v1/comments/{theory}/votes", json={"value": 1}, headers=tokens[voter])
    post(client, tokens["bob"], "No way. She has no sister.", parent_id=theory)
    confirmed = client.post(
        f"/api/v1/moderation/comments/{theory}",
        json={
            "action": "confirm_theory",
            "note": "Episode 8 says so",
            "link": "https://example.org/recap",
        },
        headers=tokens["mona"],
    )
    assert confirmed.json["comment"]["theory_status"] == "confirmed"
    profile = html(clients["bob"].get("/users/alice"))
    assert "Called it: 1" in profile and "Confirmed" in profile
    assert "The keeper is her sister" in profile
    page = html(clients["alice"].get("/notifications"))
    assert "You called it: your theory was confirmed" in page
    assert "Episode 8 says so" in page
    assert kinds(app, "alice") == (["reply", "theory_confirmed"], 2)
    theories_tab = html(client.get("/articles/a-story?tab=theories"))
    assert "score 2" in theories_tab and "1 reply" in theories_tab
    assert 'aria-current="page">Theories' in theories_tab
    site_wide = html(client.get("/theories"))
    assert "Recently confirmed" in site_wide and "The keeper is her sister" in site_wide


def test_theories_tab_sorts_top_and_newest(client, crowd, make, app):
    clients, tokens = crowd
    first = post(client, tokens["alice"], "first", theory_title="First idea")
    second = post(client, tokens["bob"], "second", theory_title="Second idea")
    client.post(f"/api/v1/comments/{first}/votes", json={"value": 1}, headers=tokens["carol"])
    top = html(client.get("/articles/a-story?tab=theories&sort=top"))
    newest = html(client.get("/articles/a-story?tab=theories&sort=newest"))
    assert top.index("First idea") < top.index("Second idea")
    assert newest.index("Second idea") < newest.index("First idea")
    assert second


def test_posting_a_theory_and_a_spoiler_from_the_form(app, crowd):
    clients, _ = crowd
    response = clients["alice"].post(
        "/articles/a-story/comments",
        data={"body": "She planned it.", "theory_title": "A plan all along", "spoiler": "y"},
    )
    assert response.status_code == 302
    page = html(clients["bob"].get("/articles/a-story"))
    assert "A plan all along" in page
    assert "Contains spoilers — show" in page  # the whole comment starts covered
    bad = clients["alice"].post(
        "/articles/a-story/comments", data={"body": "x", "theory_title": "ab"}
    )
    assert bad.status_code == 422 and "3 to 120 characters" in html(bad)


def test_replies_mentions_and_follows_notify_each_reader_once(app, client, crowd):
    _, tokens = crowd
    root = post(client, tokens["alice"], "Opening thought")  # alice now follows
    crowd[0]["carol"].post("/articles/a-story/follow", data={"follow": "1"})
    post(client, tokens["bob"], "Replying, and hello @alice and @carol", parent_id=root)
    assert kinds(app, "alice") == (["reply"], 1)  # the reply, not also the mention/follow
    assert kinds(app, "carol") == (["mention"], 1)
    assert kinds(app, "bob") == ([], 0)  # never about one's own words
    crowd[0]["carol"].post("/articles/a-story/follow", data={"follow": "0"})
    post(client, tokens["bob"], "Another one")
    assert kinds(app, "carol") == (["mention"], 1)
    assert kinds(app, "alice") == (["reply", "thread_reply"], 2)


def test_held_comments_notify_on_approval_and_rejection(app, client, crowd):
    clients, tokens = crowd
    app.config["FORUM_MODERATION"] = "pre"
    held = post(client, tokens["alice"], "waiting")
    assert kinds(app, "alice") == ([], 0)
    client.post(
        f"/api/v1/moderation/comments/{held}", json={"action": "approve"}, headers=tokens["mona"]
    )
    other = post(client, tokens["alice"], "also waiting")
    client.post(
        f"/api/v1/moderation/comments/{other}",
        json={"action": "reject", "reason": "Off topic"},
        headers=tokens["mona"],
    )
    assert kinds(app, "alice") == (["approved", "rejected"], 2)
    page = html(clients["alice"].get("/notifications"))
    assert "Off topic" in page
    header = html(clients["alice"].get("/"))
    assert re.search(r'class="unread-count">2<', header)
    clients["alice"].post("/notifications/read")
    assert kinds(app, "alice")[1] == 0
    assert 'class="unread-count"' not in html(clients["alice"].get("/"))


def test_notifications_api(app, client, crowd):
    _, tokens = crowd
    root = post(client, tokens["alice"], "hello")
    post(client, tokens["bob"], "hi back", parent_id=root)
    inbox = client.get("/api/v1/notifications", headers=tokens["alice"]).json
    assert inbox["unread"] == 1
    assert inbox["items"][0]["kind"] == "reply" and inbox["items"][0]["comment_id"] == root + 1
    assert inbox["items"][0]["actor"] == "bob"
    read = client.post("/api/v1/notifications/read", json={}, headers=tokens["alice"])
    assert read.json == {"unread": 0}
    assert client.get("/api/v1/notifications").status_code == 401


def test_muting_collapses_and_silences(app, client, crowd):
    clients, tokens = crowd
    clients["alice"].post("/users/bob/mute", data={"mute": "1"})
    root = post(client, tokens["alice"], "my thought")
    post(client, tokens["bob"], "bob's reply", parent_id=root)
    assert kinds(app, "alice") == ([], 0)  # no notifications from a muted reader
    page = html(clients["alice"].get("/articles/a-story"))
    assert "Comment by a reader you muted — show" in page
    assert "Comment by a reader you muted" not in html(clients["carol"].get("/articles/a-story"))
    clients["alice"].post("/users/bob/mute", data={"mute": "0"})
    assert "reader you muted" not in html(clients["alice"].get("/articles/a-story"))
    assert clients["alice"].post("/users/alice/mute", data={"mute": "1"}).status_code in (400, 422)


def test_profile_edit_is_escaped_and_validated(app, crowd):
    clients, _ = crowd
    saved = clients["alice"].post(
        "/account/profile",
        data={"display_name": "Alice <b>A</b>", "bio": "I <script>watch</script> too much TV"},
    )
    assert saved.status_code == 302
    page = html(clients["bob"].get("/users/alice"))
    assert "Alice &lt;b&gt;A&lt;/b&gt;" in page and "<script>watch" not in page
    too_long = clients["alice"].post(
        "/account/profile", data={"display_name": "", "bio": "x" * 301}
    )
    assert too_long.status_code == 422
    assert clients["bob"].get("/users/nobody-at-all").status_code == 404


def test_spoiler_window_collapses_replies_and_theories_until_opted_in(app, client, crowd):
    clients, tokens = crowd
    with app.app_context():
        article = db.session.scalar(db.select(Article))
        article.spoiler_until = utcnow() + timedelta(days=2)
        db.session.commit()
    root = post(client, tokens["alice"], "Top-level thoughts stay open")
    post(client, tokens["bob"], "the twist in a reply", parent_id=root)
    post(client, tokens["carol"], "theory text", theory_title="A twisty theory")
    page = html(clients["bob"].get("/articles/a-story"))
    assert "Spoiler window until" in page
    assert page.count("Collapsed during the spoiler window — show") == 2
    clients["bob"].post("/articles/a-story/spoilers")
    after = html(clients["bob"].get("/articles/a-story"))
    assert "Collapsed during the spoiler window" not in after
    assert "Spoiler window until" not in after
    assert "Collapsed during the spoiler window" in html(clients["carol"].get("/articles/a-story"))


def test_relative_times_with_the_exact_time_on_hover(client, crowd):
    _, tokens = crowd
    post(client, tokens["alice"], "just said")
    page = html(client.get("/articles/a-story"))
    assert re.search(
        r'<time datetime="[^"]+Z" title="\w+ \d+, \d{4}, \d\d:\d\d UTC">just now</time>', page
    )


def test_live_updates_cost_a_304_until_something_changes(app, client, crowd):
    _, tokens = crowd
    first = client.get("/articles/a-story/updates?after=0")
    assert first.status_code == 200 and first.json["items"] == []
    etag = first.headers["ETag"]
    with count_statements(app) as seen:
        unchanged = client.get("/articles/a-story/updates?after=0", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert len(seen) == 1  # the article and its thread, nothing more
    root = post(client, tokens["alice"], "fresh")
    post(client, tokens["bob"], "fresher", parent_id=root)
    changed = client.get("/articles/a-story/updates?after=0", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    items = changed.json["items"]
    assert [(i["id"], i["parent_id"]) for i in items] == [(root, None), (root + 1, root)]
    assert '<li class="comment-item">' in items[1]["html"] and "fresher" in items[1]["html"]
    later = client.get(f"/articles/a-story/updates?after={root + 1}").json
    assert later["items"] == [] and later["count"] == 2


def test_profile_api_and_spoiler_window_settings(app, client, crowd):
    clients, tokens = crowd
    theory = post(client, tokens["alice"], "theory", theory_title="It was the tide")
    client.post(
        f"/api/v1/moderation/comments/{theory}",
        json={"action": "debunk_theory"},
        headers=tokens["mona"],
    )
    profile = client.get("/api/v1/users/ALICE").json
    assert profile["record"] == {"confirmed": 0, "debunked": 1, "open": 0}
    assert profile["theories"][0]["theory_status"] == "debunked"
    assert "email" not in profile["user"]
    assert client.get("/api/v1/users/nobody").status_code == 404

    window = client.patch(
        "/api/v1/moderation/threads/a-story",
        json={"spoiler_until": "2999-01-01T00:00:00Z"},
        headers=tokens["mona"],
    )
    assert window.status_code == 200
    assert "Spoiler window until Jan 1, 2999" in html(clients["bob"].get("/articles/a-story"))
    ended = clients["mona"].post(
        "/moderation/threads/a-story",
        data={"status": "open", "moderation": "default", "spoiler_until": ""},
    )
    assert ended.status_code == 302
    assert "Spoiler window until" not in html(clients["bob"].get("/articles/a-story"))
    bad = clients["mona"].post(
        "/moderation/threads/a-story", data={"spoiler_until": "soon"}, follow_redirects=True
    )
    assert "Pick a date and time" in html(bad)


def test_notification_emails_never_carry_spoilers(app, client, crowd):
    clients, tokens = crowd
    with app.app_context():
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        alice.email_kinds = ["reply"]
        db.session.commit()
    root = post(client, tokens["alice"], "what happens next?")
    post(client, tokens["bob"], "Look: ||the keeper is her sister|| obviously", parent_id=root)
    post(client, tokens["carol"], "The whole thing: she lit it.", parent_id=root, spoiler=True)
    with app.app_context():
        bodies = [m.body for m in db.session.scalars(db.select(OutboxMessage))]
    assert len(bodies) == 2
    assert "[spoiler]" in bodies[0] and "sister" not in bodies[0]
    assert "she lit it" not in bodies[1] and "spoilers" in bodies[1]


def test_review_fixes_for_spoilers_notifications_and_theories(app, client, crowd):
    clients, tokens = crowd
    # Marking read with absurd ids is a clear 422, not a crash.
    huge = client.post(
        "/api/v1/notifications/read", json={"ids": [10**30]}, headers=tokens["alice"]
    )
    assert huge.status_code == 422
    # A vote of 1.0 is not a vote.
    cid = post(client, tokens["alice"], "vote target")
    assert (
        client.post(
            f"/api/v1/comments/{cid}/votes", json={"value": 1.0}, headers=tokens["bob"]
        ).status_code
        == 422
    )
    # Editors' picks never show inline spoilers.
    pick = post(client, tokens["bob"], "Loved it, especially ||the ending||.")
    client.post(
        f"/api/v1/moderation/comments/{pick}", json={"action": "feature"}, headers=tokens["mona"]
    )
    page = html(clients["carol"].get("/articles/a-story"))
    picks = page[
        page.index("Editors’ picks") : page.index("</section>", page.index("Editors’ picks"))
    ]
    assert "Loved it, especially [spoiler]" in picks and "the ending" not in picks
    # A rejected reply takes its notifications (and unread count) with it.
    before = kinds(app, "alice")
    reply = post(client, tokens["bob"], "a reply to remove", parent_id=cid)
    assert kinds(app, "alice") == ([*before[0], "reply"], before[1] + 1)
    client.post(
        f"/api/v1/moderation/comments/{reply}", json={"action": "reject"}, headers=tokens["mona"]
    )
    assert kinds(app, "alice") == before
    # Only a published theory can be settled.
    theory = post(client, tokens["alice"], "t", theory_title="Doomed theory")
    client.delete(f"/api/v1/comments/{theory}", headers=tokens["alice"])
    refused = client.post(
        f"/api/v1/moderation/comments/{theory}",
        json={"action": "confirm_theory"},
        headers=tokens["mona"],
    )
    assert refused.status_code == 409


def test_spoiler_window_covers_theory_cards_and_profiles(app, client, crowd):
    clients, tokens = crowd
    with app.app_context():
        db.session.scalar(db.select(Article)).spoiler_until = utcnow() + timedelta(days=1)
        db.session.commit()
    post(client, tokens["alice"], "text", theory_title="The captain dies in episode three")
    for path in ("/theories", "/users/alice", "/articles/a-story?tab=theories"):
        page = html(clients["bob"].get(path))
        assert "The captain dies" not in page, path
        assert "A theory with spoilers" in page, path


def test_mute_through_the_api(app, client, crowd):
    _, tokens = crowd
    assert client.put("/api/v1/users/bob/mute", headers=tokens["alice"]).status_code == 204
    root = post(client, tokens["alice"], "hello")
    post(client, tokens["bob"], "reply", parent_id=root)
    assert kinds(app, "alice") == ([], 0)
    assert client.delete("/api/v1/users/bob/mute", headers=tokens["alice"]).status_code == 204
    assert client.put("/api/v1/users/alice/mute", headers=tokens["alice"]).status_code == 422
    assert client.put("/api/v1/users/ghost/mute", headers=tokens["alice"]).status_code == 404
    assert client.put("/api/v1/users/bob/mute").status_code == 401


def test_live_updates_include_comments_approved_after_the_page_loaded(app, client, crowd):
    _, tokens = crowd
    app.config["FORUM_MODERATION"] = "pre"
    held = post(client, tokens["alice"], "held back")
    app.config["FORUM_MODERATION"] = "post"
    newer = post(client, tokens["bob"], "published at once")
    since = quote(utcnow().isoformat())
    client.post(
        f"/api/v1/moderation/comments/{held}", json={"action": "approve"}, headers=tokens["mona"]
    )
    items = client.get(f"/articles/a-story/updates?after={newer}&since={since}").json["items"]
    assert [i["id"] for i in items] == [held]
    odd = client.get("/articles/a-story/updates?after=x&since=yesterday")
    assert odd.status_code == 200

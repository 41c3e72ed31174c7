"""A reader's own data through the API and the pages: the export holds exactly
theirs, deleting the account leaves nothing of their words served anywhere, and
changing the address waits for the new one to confirm."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken, OutboxMessage, User, UserSession, utcnow
from forum.services.accounts import accounts
from forum.services.accounts.accounts import UNUSABLE_PASSWORD
from tests.conftest import PASSWORD, AuthActions, token_for
from tests.views.test_openapi import check

WORDS = "Marmalade-Zeppelin-5512 knows who did it"
BOBS = "Bob-Periwinkle-9034 disagrees"
HOST = "https://news.example"


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=HOST)


@pytest.fixture
def site(app, make):
    alice = make.user("alice")
    bob = make.user("bob")
    make.article("a-story", "A story")
    top = make.comment(alice, "a-story", WORDS, theory_title="Marmalade-Zeppelin theory")
    reply = make.comment(bob, "a-story", BOBS, parent_id=top)
    under = make.comment(alice, "a-story", f"{WORDS} (second)", parent_id=reply)
    make.vote(alice, reply, 1)
    make.vote(bob, top, -1)
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.display_name = "Alice Zeppelin-Name"
        db.session.commit()
    return {"alice": alice, "bob": bob, "top": top, "reply": reply, "under": under}


def signed_in(app, name="alice"):
    client = app.test_client()
    assert AuthActions(client).login(name).status_code == 302
    return client


def test_export_holds_exactly_the_readers_data(app, client, site):
    alice = signed_in(app)
    alice.put("/api/v1/threads/a-story/follow")
    response = alice.get("/api/v1/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    check(client.get("/api/v1/openapi.json").json, "get", "/account/export", response)
    data = response.json
    assert data["account"]["username"] == "alice"
    assert data["account"]["email"] == "alice@example.org"
    assert {c["id"] for c in data["comments"]} == {site["top"], site["under"]}
    assert WORDS in {c["body"] for c in data["comments"]}
    assert BOBS not in json.dumps(data)  # bob's words are not hers
    assert [(v["comment_id"], v["value"]) for v in data["votes"]] == [(site["reply"], 1)]
    assert [f["thread_key"] for f in data["follows"]] == ["a-story"]
    assert all(n["actor"] == "bob" for n in data["notifications"]) and data["notifications"]
    assert data["sessions"] and "key_hash" not in json.dumps(data)
    # Bob's export is his alone.
    bob = token_for(client, "bob")
    theirs = client.get("/api/v1/account/export", headers={"Authorization": f"Bearer {bob}"})
    assert {c["id"] for c in theirs.json["comments"]} == {site["reply"]}
    assert WORDS not in theirs.get_data(as_text=True)
    assert client.get("/api/v1/account/export").status_code == 401


def test_the_page_offers_the_download_and_the_deletion(app, site):
    alice = signed_in(app)
    page = alice.get("/account/data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Download my data" in text and "Delete my account" in text
    download = alice.get("/account/data/export")
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="forum-alice-data.json"'
    )
    assert WORDS in download.get_data(as_text=True)


def served_everywhere(app, client) -> str:
    """Every place a reader meets comments: the thread in the API (first page,
    cached), the article page, the embed's data, the feeds, the comment pages."""
    answers = [
        client.get("/api/v1/threads/a-story/comments"),
        client.get("/api/v1/threads/a-story/comments?limit=10"),
        client.get("/articles/a-story"),
        client.get("/articles/a-story/comments.atom"),
        client.get(
            "/embed/threads/a-story/comments", headers={"Origin": HOST, "Referer": HOST + "/"}
        ),
        client.get("/theories"),
    ]
    assert [answer.status_code for answer in answers] == [200] * len(answers)
    texts = [answer.get_data(as_text=True) for answer in answers]
    return "\n".join(texts)


def test_after_deletion_nothing_of_their_words_is_served(app, client, make, site):
    before = served_everywhere(app, client)
    assert before.count(WORDS) >= 5 and "Alice Zeppelin-Name" in before  # fills the caches
    alice = signed_in(app)
    token = token_for(client, "alice")
    wrong = alice.delete("/api/v1/account", json={"password": "not my password"})
    assert wrong.status_code == 422
    assert wrong.json["error"]["fields"] == {"password": "That is not your password."}

    gone = alice.delete("/api/v1/account", json={"password": PASSWORD})
    assert gone.status_code == 204

    after = served_everywhere(app, client)
    for trace in ("Marmalade", "Zeppelin", "Alice"):
        assert trace not in after, trace
    assert BOBS in after  # the reply stays, under a tombstone
    page = client.get("/api/v1/threads/a-story/comments").json["comments"]
    assert page[0]["id"] == site["top"] and page[0]["html"] == "" and page[0]["author"] is None
    assert page[0]["replies"][0]["id"] == site["reply"]
    assert client.get(f"/comments/{site['under']}").status_code in (200, 404)
    assert WORDS not in client.get(f"/comments/{site['top']}").get_data(as_text=True)
    assert client.get("/users/alice").status_code == 404
    assert client.get("/api/v1/users/alice").status_code == 404
    assert client.get("/users/alice/comments.atom").status_code == 404

    # No way back in: password, the old cookie, the old token.
    assert AuthActions(client).login("alice").status_code == 401
    assert (
        client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD}).status_code
        == 401
    )
    assert alice.get("/api/v1/session").json["user"] is None
    assert alice.get("/account/data").status_code == 302
    old = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert old.status_code == 401
    # A moderator sees the tombstones too, without words.
    make.user("mona", role=accounts.Role.MODERATOR)
    mona = signed_in(app, "mona")
    assert "Marmalade" not in mona.get("/api/v1/threads/a-story/comments").get_data(as_text=True)
    assert "Marmalade" not in mona.get(f"/api/v1/comments/{site['top']}").get_data(as_text=True)


def test_the_page_deletes_with_the_password(app, client, site):
    alice = signed_in(app)
    refused = alice.post("/account/delete", data={"delete-password": "wrong one"})
    assert refused.status_code == 422
    assert "That is not your password." in refused.get_data(as_text=True)
    done = alice.post("/account/delete", data={"delete-password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert WORDS not in client.get("/articles/a-story").get_data(as_text=True)
    assert AuthActions(client).login("alice").status_code == 401


def _sso_account(app, name: str, signed_in_ago: timedelta) -> str:
    """An account without a password, and a bearer token made signed_in_ago."""
    with app.app_context():
        user = User(
            username=name,
            username_key=name,
            email=None,
            display_name=name,
            password_hash=UNUSABLE_PASSWORD,
        )
        db.session.add(user)
        db.session.flush()
        raw, _ = accounts.issue_token(user, 24, now=utcnow() - signed_in_ago)
        db.session.commit()
        return raw


def test_an_account_without_a_password_needs_a_recent_sign_in(app, client):
    stale = _sso_account(app, "oldsso", timedelta(minutes=11))
    fresh = _sso_account(app, "newsso", timedelta(minutes=2))
    refused = client.delete(
        "/api/v1/account", json={}, headers={"Authorization": f"Bearer {stale}"}
    )
    assert refused.status_code == 422 and "password" in refused.json["error"]["fields"]
    done = client.delete("/api/v1/account", json={}, headers={"Authorization": f"Bearer {fresh}"})
    assert done.status_code == 204
    with app.app_context():
        assert db.session.scalar(select(User).where(User.display_name == "newsso")) is None


def test_a_token_handed_to_the_embed_is_no_fresher_than_its_session(app, client):
    """A browser signed in hours ago asks the embed's popup for a token: that
    token's sign-in is the session's, so it cannot delete a passwordless account."""
    with app.app_context():
        accounts.register("sso2", "sso2@example.org", PASSWORD)
        db.session.commit()
    browser = app.test_client()
    assert AuthActions(browser).login("sso2").status_code == 302
    with app.app_context():
        db.session.scalar(
            select(User).where(User.username == "sso2")
        ).password_hash = UNUSABLE_PASSWORD
        for row in db.session.scalars(select(UserSession)):
            row.created_at -= timedelta(hours=5)
        db.session.commit()
    assert browser.delete("/api/v1/account", json={}).status_code == 422
    handed = browser.post("/embed/auth", data={})
    assert handed.status_code == 200
    token = re.search(r"fpt_[A-Za-z0-9_-]+", handed.get_data(as_text=True)).group(0)
    refused = client.delete(
        "/api/v1/account", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 422 and "password" in refused.json["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "sso2")).deleted_at is None


def test_changing_the_address_waits_for_the_new_one(app, client, site):
    alice = signed_in(app)
    form = {"change-email": "new@example.org", "change-password": "nope"}
    wrong = alice.post("/account/email", data=form)
    assert wrong.status_code == 422
    form = {"change-email": "Alice.New@example.org", "change-password": PASSWORD}
    asked = alice.post("/account/email", data=form)
    assert asked.status_code == 302
    with app.app_context():
        assert db.session.get(User, site["alice"].id).email == "alice@example.org"
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == "Alice.New@example.org")
        ).one()
        link = re.search(r"https?://\S+/account/email/confirm/\S+", message.body).group(0)
    path = link[link.index("/account/") :]
    assert client.post(path[:-3] + "abc").status_code == 400  # tampered
    # Opening the link (a mail scanner does) changes nothing: it shows a button.
    shown = client.get(path)
    assert shown.status_code == 200 and "Confirm my new address" in shown.text
    with app.app_context():
        assert db.session.get(User, site["alice"].id).email == "alice@example.org"
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    with app.app_context():
        user = db.session.get(User, site["alice"].id)
        assert (user.email, user.email_key) == ("Alice.New@example.org", "alice.new@example.org")
        assert user.email_verified_at is not None
        notice = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == "alice@example.org")
        ).all()
        assert any("was changed" in m.subject for m in notice)
    assert client.post(path).status_code == 400  # used: the address it was for has moved on


def test_deleting_needs_the_csrf_header_with_a_cookie(app_with, make):
    app = app_with(WTF_CSRF_ENABLED=True)
    make_user = make.__class__(app).user
    make_user("carol")
    client = app.test_client()
    session = client.get("/api/v1/session").json
    client.post(
        "/api/v1/session",
        json={"username": "carol", "password": PASSWORD},
        headers={"X-CSRFToken": session["csrf_token"]},
    )
    refused = client.delete("/api/v1/account", json={"password": PASSWORD})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    token = client.get("/api/v1/session").json["csrf_token"]
    done = client.delete(
        "/api/v1/account", json={"password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert done.status_code == 204
    with app.app_context():
        assert db.session.scalars(select(UserSession)).all() == []
        assert db.session.scalars(select(ApiToken)).all() == []

"""CSRF stays on in this module: forms and cookie-authenticated API calls
without a token are refused, bearer-token calls need none."""

import re

import pytest

from forum.extensions import db
from forum.models import Comment, OutboxMessage, User
from tests.conftest import PASSWORD


@pytest.fixture
def app(app_with):
    return app_with(WTF_CSRF_ENABLED=True)


def form_token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_form_without_token_is_refused(client, make):
    make.user("alice")
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form had expired" in response.get_data(as_text=True)


def test_form_with_token_works_and_comment_post_needs_it(client, make):
    make.user("alice")
    make.article("a-story")
    token = form_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    refused = client.post("/articles/a-story/comments", data={"body": "forged"})
    assert refused.status_code == 400
    token = form_token(client, "/articles/a-story")
    accepted = client.post("/articles/a-story/comments", data={"body": "real", "csrf_token": token})
    assert accepted.status_code == 302
    assert make.get(Comment, 1).body == "real"
    assert make.get(Comment, 2) is None


def test_api_cookie_calls_need_the_header(client, make):
    make.user("alice")
    make.article("a-story")
    refused = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    token = client.get("/api/v1/session").json["csrf_token"]
    headers = {"X-CSRFToken": token}
    assert (
        client.post(
            "/api/v1/session", json={"username": "alice", "password": PASSWORD}, headers=headers
        ).status_code
        == 200
    )
    forged = client.post("/api/v1/threads/a-story/comments", json={"body": "forged"})
    assert forged.status_code == 400 and forged.json["error"]["code"] == "csrf_failed"
    wrong = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "x"}, headers={"X-CSRFToken": "nope"}
    )
    assert wrong.status_code == 400
    # The session may have rotated the token at login: ask again.
    token = client.get("/api/v1/session").json["csrf_token"]
    ok = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "real"}, headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 201


def test_bearer_calls_need_no_csrf_token(client, make):
    make.user("alice")
    make.article("a-story")
    token = client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD}).json
    response = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "from an app"},
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    assert response.status_code == 201


def test_registering_through_the_api_cannot_be_forged_by_another_site(app, client):
    # What a page elsewhere can send without a preflight: text/plain, no header.
    forged = client.post(
        "/api/v1/users",
        data='{"username": "drive_by", "email": "drive@example.org", "password": "long enough pw"}',
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert forged.status_code == 415
    assert forged.json["error"]["code"] == "unsupported_media_type"
    # With the session cookie (a visitor who has one): the CSRF header is needed.
    token = client.get("/api/v1/session").json["csrf_token"]
    cookie_call = client.post(
        "/api/v1/users",
        json={"username": "drive_by", "email": "drive@example.org", "password": "long enough pw"},
    )
    assert cookie_call.status_code == 400
    assert cookie_call.json["error"]["code"] == "csrf_failed"
    with app.app_context():
        assert db.session.query(User).count() == 0
        assert db.session.query(OutboxMessage).count() == 0
    # An app without cookies sends JSON, which no page elsewhere can send unasked.
    app_client = app.test_client()
    made = app_client.post(
        "/api/v1/users",
        json={"username": "an_app", "email": "app@example.org", "password": "long enough pw"},
    )
    assert made.status_code == 201
    made = client.post(
        "/api/v1/users",
        json={"username": "real_one", "email": "real@example.org", "password": "long enough pw"},
        headers={"X-CSRFToken": token},
    )
    assert made.status_code == 201


def test_pages_with_several_forms_repeat_no_id(client, make):
    """Each form carries its own token, without id="csrf_token" repeated."""
    make.user("alice")
    token = form_token(client, "/auth/login")
    client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    page = client.get("/account/security").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 2
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({one for one in ids if ids.count(one) > 1}) == []

"""JSON API v1 through the test client: the contract's shapes, auth and errors."""

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import ApiToken, Comment, Role, Thread, ThreadStatus
from tests.conftest import PASSWORD, token_for


@pytest.fixture
def bearer(client, reader):
    return {"Authorization": f"Bearer {token_for(client, 'alice')}"}


@pytest.fixture
def mod_bearer(client, moderator):
    return {"Authorization": f"Bearer {token_for(client, 'mona')}"}


def post(client, headers, key="a-story", **body):
    return client.post(f"/api/v1/threads/{key}/comments", json=body, headers=headers)


def error_code(response):
    return response.json["error"]["code"]


# -- sessions, tokens, users ---------------------------------------------------------


def test_session_anonymous_has_csrf_token(client):
    response = client.get("/api/v1/session")
    assert response.status_code == 200
    assert response.json["user"] is None
    assert len(response.json["csrf_token"]) > 20


def test_session_login_and_logout_with_cookie(client, reader):
    response = client.post("/api/v1/session", json={"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"]["username"] == "alice"
    assert response.json["user"]["email"] == "alice@example.org"  # to its owner
    assert client.get("/api/v1/session").json["user"]["username"] == "alice"
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/session").json["user"] is None


def test_session_wrong_password_is_401(client, reader):
    response = client.post("/api/v1/session", json={"username": "alice", "password": "nope" * 3})
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_token_issue_use_and_revoke(client, reader, make):
    response = client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 201
    token = response.json["token"]
    assert response.json["user"]["username"] == "alice"
    assert response.json["expires_at"].endswith("Z")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/session", headers=headers).json["user"]["username"] == "alice"

    # Only a hash is stored.
    stored = make.get(ApiToken, 1)
    assert stored.token_hash != token and token not in stored.token_hash

    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    again = client.get("/api/v1/session", headers=headers)
    assert again.status_code == 401
    assert error_code(again) == "unauthorized"


def test_expired_token_is_refused(client, reader, app):
    token = token_for(client, "alice")
    with app.app_context():
        record = db.session.scalars(db.select(ApiToken)).one()
        record.expires_at = record.created_at - timedelta(seconds=1)
        db.session.commit()
    response = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic abc", "Bearer fpt_unknown", "Bearer " + "x" * 5000]
)
def test_malformed_authorization_is_401(client, header):
    response = client.get("/api/v1/session", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_delete_current_token_needs_a_bearer_token(client, reader):
    client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    response = client.delete("/api/v1/tokens/current")
    assert response.status_code == 401


def test_token_sso_not_configured_is_a_clear_422(client):
    response = client.post("/api/v1/tokens", json={"sso": "a.b.c"})
    assert response.status_code == 422
    assert "sso" in response.json["error"]["fields"]


def test_register_through_api(client, make):
    response = client.post(
        "/api/v1/users",
        json={"username": "New_Reader", "email": "New@Example.org", "password": "long enough pw"},
    )
    assert response.status_code == 201
    assert response.json["user"]["username"] == "New_Reader"
    assert response.json["user"]["role"] == "reader"
    # Taken, whatever the case.
    again = client.post(
        "/api/v1/users",
        json={"username": "new_reader", "email": "other@example.org", "password": "long enough pw"},
    )
    assert again.status_code == 409
    assert again.json["error"] == {"code": "conflict", "message": "That username is taken."}
    same_email = client.post(
        "/api/v1/users",
        json={"username": "someone", "email": "new@example.org", "password": "long enough pw"},
    )
    # An address in use is not refused, so the answer tells nobody it is in use.
    assert same_email.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "ab", "email": "a@example.org", "password": "long enough pw"}, "username"),
        (
            {"username": "a" * 31, "email": "a@example.org", "password": "long enough pw"},
            "username",
        ),
        (
            {"username": "has space", "email": "a@example.org", "password": "long enough pw"},
            "username",
        ),
        ({"username": "émile", "email": "a@example.org", "password": "long enough pw"}, "username"),
        ({"username": "okname", "email": "not-an-email", "password": "long enough pw"}, "email"),
        ({"username": "okname", "email": "a@example.org", "password": "short"}, "password"),
        ({"username": 12, "email": ["x"], "password": None}, "username"),
        ({}, "password"),
    ],
)
def test_register_validation(client, payload, field):
    response = client.post("/api/v1/users", json=payload)
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert field in response.json["error"]["fields"]


def test_user_json_hides_email_from_others(client, make, bearer):
    make.article("a-story")
    bob = make.user("bob")
    make.comment(bob, "a-story", "hello")
    comments = client.get("/api/v1/threads/a-story/comments", headers=bearer).json["comments"]
    assert comments[0]["author"] == {"username": "bob", "display_name": "bob"}
    assert "email" not in str(comments)


# -- threads and comments ------------------------------------------------------------


def test_thread_json(client, article):
    response = client.get("/api/v1/threads/a-story")
    assert response.status_code == 200
    assert response.json == {
        "key": "a-story",
        "title": "A story",
        "url": "http://localhost/articles/a-story",
        "status": "open",
        "moderation": "post",
        "comment_count": 0,
    }


def test_unknown_thread_is_404(client):
    for path in ("/api/v1/threads/nope", "/api/v1/threads/nope/comments", "/api/v1/threads/%00"):
        response = client.get(path)
        assert response.status_code == 404
        assert error_code(response) == "not_found"


def test_post_comment_and_read_it_back(client, article, bearer):
    response = post(client, bearer, body="Hello **there**")
    assert response.status_code == 201
    comment = response.json["comment"]
    assert comment["html"] == "<p>Hello <strong>there</strong></p>"
    assert comment["body"] == "Hello **there**"  # to its author
    assert comment["status"] == "approved"
    assert comment["author"]["username"] == "alice"
    assert comment["created_at"].endswith("Z")
    assert comment["edited_at"] is None
    assert comment["is_theory"] is False and comment["theory_status"] is None
    listing = client.get("/api/v1/threads/a-story/comments").json
    assert listing["thread"]["comment_count"] == 1
    assert [c["id"] for c in listing["comments"]] == [comment["id"]]
    assert "body" not in listing["comments"][0]  # anonymous reader: no source


def test_replies_nest_to_any_depth(client, article, bearer):
    parent = post(client, bearer, body="root").json["comment"]["id"]
    ids = [parent]
    for depth in range(1, 12):
        ids.append(
            post(client, bearer, body=f"depth {depth}", parent_id=ids[-1]).json["comment"]["id"]
        )
    tree = client.get("/api/v1/threads/a-story/comments").json["comments"]
    node, seen = tree[0], []
    while True:
        seen.append(node["id"])
        if not node["replies"]:
            break
        assert node["replies"][0]["parent_id"] == node["id"]
        node = node["replies"][0]
    assert seen == ids


def test_theory_and_spoiler_fields(client, article, bearer):
    response = post(
        client, bearer, body="It was the keeper", theory_title="The keeper did it", spoiler=True
    )
    assert response.status_code == 201
    comment = response.json["comment"]
    assert comment["is_theory"] is True
    assert comment["theory_title"] == "The keeper did it"
    assert comment["theory_status"] == "open"
    assert comment["spoiler"] is True
    reply = post(
        client, bearer, body="nope", parent_id=comment["id"], theory_title="No theory here"
    )
    assert reply.status_code == 422
    assert "theory_title" in reply.json["error"]["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n\t "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": 5}, "body"),
        ({"body": None}, "body"),
        ({"body": ["list"]}, "body"),
        ({}, "body"),
        ({"body": "ok", "parent_id": "seven"}, "parent_id"),
        ({"body": "ok", "parent_id": True}, "parent_id"),
        ({"body": "ok", "parent_id": 999999}, "parent_id"),
        ({"body": "ok", "parent_id": 2**80}, "parent_id"),
        ({"body": "ok", "parent_id": -1}, "parent_id"),
        ({"body": "ok", "theory_title": "ab"}, "theory_title"),
        ({"body": "ok", "theory_title": "x" * 121}, "theory_title"),
        ({"body": "ok", "theory_title": 3}, "theory_title"),
        ({"body": "ok", "spoiler": "yes"}, "spoiler"),
    ],
)
def test_post_comment_validation(client, article, bearer, payload, field):
    response = client.post("/api/v1/threads/a-story/comments", json=payload, headers=bearer)
    assert response.status_code == 422, response.json
    assert error_code(response) == "validation_error"
    assert field in response.json["error"]["fields"]


def test_body_of_exactly_ten_thousand_characters_is_accepted(client, article, bearer):
    assert post(client, bearer, body="y" * 10_000).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1,2]", b'"string"', b"null", b"{", b"\xff\xfe"],
)
def test_malformed_json_is_a_clear_error(client, article, bearer, raw):
    response = client.post(
        "/api/v1/threads/a-story/comments",
        data=raw,
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert error_code(response) == "validation_error"


def test_lone_surrogate_is_replaced_not_crashing(client, article, bearer):
    response = client.post(
        "/api/v1/threads/a-story/comments",
        data=b'{"body": "a\\ud800b"}',
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json["comment"]["html"] == "<p>a\ufffdb</p>"


def test_huge_body_is_413_json(client, article, bearer):
    response = client.post(
        "/api/v1/threads/a-story/comments",
        data=b'{"body": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_nul_bytes_are_stripped_not_crashing(client, article, bearer):
    response = post(client, bearer, body="a\x00b")
    assert response.status_code == 201
    assert response.json["comment"]["html"] == "<p>ab</p>"


def test_parent_in_another_thread_is_refused(client, make, bearer, reader):
    make.article("a-story")
    make.article("other")
    foreign = make.comment(reader, "other", "elsewhere")
    response = post(client, bearer, body="reply", parent_id=foreign)
    assert response.status_code == 422
    assert "parent_id" in response.json["error"]["fields"]


def test_reply_to_deleted_comment_is_refused(client, article, bearer):
    parent = post(client, bearer, body="soon gone").json["comment"]["id"]
    assert client.delete(f"/api/v1/comments/{parent}", headers=bearer).status_code == 204
    response = post(client, bearer, body="reply", parent_id=parent)
    assert response.status_code == 422
    assert "parent_id" in response.json["error"]["fields"]


def test_posting_needs_authentication(client, article):
    response = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "hi"},
        headers={"X-CSRFToken": "irrelevant"},
    )
    # CSRF is checked first for cookie requests; with testing CSRF off it is 401.
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_closed_thread_refuses_readers_but_not_moderators(client, make, bearer, mod_bearer, app):
    make.article("a-story")
    with app.app_context():
        db.session.scalars(db.select(Thread)).one().status = ThreadStatus.CLOSED
        db.session.commit()
    response = post(client, bearer, body="hi")
    assert response.status_code == 409
    assert error_code(response) == "thread_closed"
    assert post(client, mod_bearer, body="closing note").status_code == 201


def test_pre_moderated_comment_is_pending_and_visible_only_to_its_author(app, make, client):
    app.config["FORUM_MODERATION"] = "pre"
    make.article("a-story")
    alice, bob = make.user("alice"), make.user("bob")
    alice_h = {"Authorization": f"Bearer {token_for(client, 'alice')}"}
    bob_h = {"Authorization": f"Bearer {token_for(client, 'bob')}"}
    response = post(client, alice_h, body="waiting")
    assert response.json["comment"]["status"] == "pending"
    mine = client.get("/api/v1/threads/a-story/comments", headers=alice_h).json
    assert [c["status"] for c in mine["comments"]] == ["pending"]
    assert mine["thread"]["comment_count"] == 0
    assert client.get("/api/v1/threads/a-story/comments", headers=bob_h).json["comments"] == []
    assert client.get("/api/v1/threads/a-story/comments").json["comments"] == []
    # Deleting a pending comment leaves the approved count alone.
    cid = response.json["comment"]["id"]
    assert client.delete(f"/api/v1/comments/{cid}", headers=alice_h).status_code == 204
    assert client.get("/api/v1/threads/a-story").json["comment_count"] == 0
    assert {alice.username, bob.username} == {"alice", "bob"}


# -- paging and sorting -----------------------------------------------------------------


def seed(make, reader, n, slug="a-story"):
    ids = []
    for i in range(n):
        ids.append(make.comment(reader, slug, f"comment {i}", age=timedelta(minutes=n - i)))
    return ids


def test_sort_orders(client, make, reader, app):
    make.article("a-story")
    ids = seed(make, reader, 4)
    voters = [make.user(f"voter{i}") for i in range(4)]
    for voter in voters[:3]:
        make.vote(voter, ids[2], 1)  # 3 up
        make.vote(voter, ids[0], 1)
    make.vote(voters[3], ids[0], -1)  # 3 up, 1 down
    make.vote(voters[3], ids[3], -1)  # 1 down
    listing = lambda sort: [  # noqa: E731
        c["id"]
        for c in client.get(f"/api/v1/threads/a-story/comments?sort={sort}").json["comments"]
    ]
    assert listing("oldest") == ids
    assert listing("newest") == ids[::-1]
    # Rank (Wilson lower bound) first, then the earlier comment wins a tie: the
    # unvoted ids[1] is not buried beneath the downvoted ids[3].
    assert listing("top") == [ids[2], ids[0], ids[1], ids[3]]


@pytest.mark.parametrize("sort", ["oldest", "newest", "top"])
def test_cursor_paging_visits_every_comment_once(client, make, reader, sort):
    make.article("a-story")
    ids = seed(make, reader, 23)
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/threads/a-story/comments?sort={sort}&limit=5"
        if cursor:
            url += f"&cursor={cursor}"
        page = client.get(url).json
        seen += [c["id"] for c in page["comments"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_cursor_is_stable_when_new_comments_arrive(client, make, reader):
    make.article("a-story")
    ids = seed(make, reader, 6)
    first = client.get("/api/v1/threads/a-story/comments?limit=3").json
    make.comment(reader, "a-story", "late arrival")
    second = client.get(
        f"/api/v1/threads/a-story/comments?limit=3&cursor={first['next_cursor']}"
    ).json
    assert [c["id"] for c in second["comments"]] == ids[3:6]


def test_each_page_carries_whole_reply_trees(client, make, reader):
    make.article("a-story")
    roots = seed(make, reader, 3)
    reply = make.comment(reader, "a-story", "reply", parent_id=roots[1])
    make.comment(reader, "a-story", "deeper", parent_id=reply)
    page = client.get(
        "/api/v1/threads/a-story/comments?limit=1&cursor="
        + client.get("/api/v1/threads/a-story/comments?limit=1").json["next_cursor"]
    ).json
    assert page["comments"][0]["id"] == roots[1]
    assert page["comments"][0]["replies"][0]["replies"][0]["html"] == "<p>deeper</p>"


@pytest.mark.parametrize(
    "query",
    [
        "sort=best",
        "limit=0",
        "limit=1001",
        "limit=-5",
        "limit=ten",
        "cursor=%%%",
        "cursor=bm90IGpzb24",
        "cursor=WyJ0b3AiLDEsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDFd",  # a "top" cursor
        "cursor=WyJvbGRlc3QiLDEsIm5vdCBhIGRhdGUiLDFd",
        "cursor=" + "A" * 500,
    ],
)
def test_bad_page_arguments_are_422(client, article, query):
    response = client.get(f"/api/v1/threads/a-story/comments?{query}")
    assert response.status_code == 422, query
    assert error_code(response) == "validation_error"


# -- edit and delete --------------------------------------------------------------------


def test_edit_inside_window(client, article, bearer):
    cid = post(client, bearer, body="frist").json["comment"]["id"]
    response = client.patch(f"/api/v1/comments/{cid}", json={"body": "first"}, headers=bearer)
    assert response.status_code == 200
    assert response.json["comment"]["html"] == "<p>first</p>"
    assert response.json["comment"]["edited_at"] is not None


def test_edit_after_window_is_403(client, make, reader, bearer):
    make.article("a-story")
    cid = make.comment(reader, "a-story", "old words", age=timedelta(minutes=16))
    response = client.patch(f"/api/v1/comments/{cid}", json={"body": "new"}, headers=bearer)
    assert response.status_code == 403
    assert "15 minutes" in response.json["error"]["message"]


def test_edit_window_is_configurable(client, app, make, reader, bearer):
    app.config["FORUM_EDIT_WINDOW_MINUTES"] = 60
    make.article("a-story")
    cid = make.comment(reader, "a-story", "old words", age=timedelta(minutes=30))
    assert (
        client.patch(f"/api/v1/comments/{cid}", json={"body": "new"}, headers=bearer).status_code
        == 200
    )


def test_only_the_author_edits(client, make, bearer):
    make.article("a-story")
    bob = make.user("bob")
    cid = make.comment(bob, "a-story", "bob's words")
    response = client.patch(f"/api/v1/comments/{cid}", json={"body": "mine now"}, headers=bearer)
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


def test_edit_validation(client, article, bearer):
    cid = post(client, bearer, body="fine").json["comment"]["id"]
    for payload in ({"body": ""}, {"body": 3}, {}):
        response = client.patch(f"/api/v1/comments/{cid}", json=payload, headers=bearer)
        assert response.status_code == 422
    assert (
        client.patch("/api/v1/comments/99999", json={"body": "x"}, headers=bearer).status_code
        == 404
    )


def test_delete_keeps_a_tombstone_for_replies(client, make, bearer, reader):
    make.article("a-story")
    bob = make.user("bob")
    root = make.comment(reader, "a-story", "secret plans")
    make.comment(bob, "a-story", "a reply", parent_id=root)
    lonely = make.comment(reader, "a-story", "no replies")
    assert client.delete(f"/api/v1/comments/{root}", headers=bearer).status_code == 204
    assert client.delete(f"/api/v1/comments/{lonely}", headers=bearer).status_code == 204
    listing = client.get("/api/v1/threads/a-story/comments").json
    assert [c["id"] for c in listing["comments"]] == [root]  # the lonely one is gone
    tombstone = listing["comments"][0]
    assert tombstone["status"] == "deleted"
    assert tombstone["author"] is None and tombstone["html"] == ""
    assert "secret" not in str(tombstone)
    assert tombstone["replies"][0]["html"] == "<p>a reply</p>"
    assert listing["thread"]["comment_count"] == 1
    stored = make.get(Comment, root)
    assert stored.body == "" and stored.deleted_at is not None


def test_delete_permissions(client, make, bearer, mod_bearer):
    make.article("a-story")
    bob = make.user("bob")
    cid = make.comment(bob, "a-story", "bob's")
    assert client.delete(f"/api/v1/comments/{cid}", headers=bearer).status_code == 403
    assert client.delete(f"/api/v1/comments/{cid}").status_code == 401  # CSRF is off here
    assert client.delete(f"/api/v1/comments/{cid}", headers=mod_bearer).status_code == 204
    assert client.delete(f"/api/v1/comments/{cid}", headers=mod_bearer).status_code == 403


def test_get_single_comment(client, article, bearer):
    cid = post(client, bearer, body="single").json["comment"]["id"]
    response = client.get(f"/api/v1/comments/{cid}")
    assert response.status_code == 200
    assert response.json["comment"]["html"] == "<p>single</p>"
    assert client.get("/api/v1/comments/0").status_code == 404
    assert client.get("/api/v1/comments/abc").status_code == 404


# -- counts and misc ---------------------------------------------------------------------


def test_counts(client, make, reader):
    make.article("one")
    make.article("two")
    make.comment(reader, "one", "a")
    make.comment(reader, "one", "b")
    response = client.get("/api/v1/counts?keys=one,two,missing")
    assert response.json == {
        "counts": {"one": 2, "two": 0, "missing": 0},
        "labels": {"one": "2 comments", "two": "0 comments", "missing": "0 comments"},
    }
    assert client.get("/api/v1/counts").status_code == 422
    keys = ",".join(f"k{i}" for i in range(201))
    assert client.get(f"/api/v1/counts?keys={keys}").status_code == 422


def test_unknown_route_and_method_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and error_code(response) == "not_found"
    response = client.put("/api/v1/session", json={})
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"


def test_role_is_reported(client, make):
    make.user("boss", role=Role.ADMIN)
    headers = {"Authorization": f"Bearer {token_for(client, 'boss')}"}
    assert client.get("/api/v1/session", headers=headers).json["user"]["role"] == "admin"

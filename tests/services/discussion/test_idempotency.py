"""A submission sent twice makes one comment: the API's Idempotency-Key header
and the comment forms' hidden key (forum.services.idempotency)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, IdempotencyKey, Thread, ThreadStatus, User, utcnow
from forum.services import idempotency
from forum.services.discussion import comments, threads
from tests.conftest import token_for

POST = "/api/v1/threads/a-story/comments"


@pytest.fixture
def bearer(client, reader, article):
    return {"Authorization": f"Bearer {token_for(client, 'alice')}"}


def stored(app) -> tuple[int, int, int]:
    """(comment rows, the thread's comment_count, idempotency key rows)."""
    with app.app_context():
        rows = db.session.scalar(select(func.count(Comment.id)))
        count = db.session.scalar(select(Thread.comment_count))
        keys = db.session.scalar(select(func.count(IdempotencyKey.id)))
        return rows, count, keys


# -- the API -------------------------------------------------------------------------


def test_the_same_key_returns_the_first_comment(app, client, bearer):
    headers = {**bearer, "Idempotency-Key": "5f0c7e4e-1b0e-4a55-9a37-0d1c3b1ad001"}
    first = client.post(POST, json={"body": "Only once"}, headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(POST, json={"body": "Only once"}, headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    # A different body under the same key is still the same submission.
    other = client.post(POST, json={"body": "Changed my mind"}, headers=headers)
    assert other.status_code == 200 and other.json == first.json
    assert stored(app) == (1, 1, 1)


def test_keys_belong_to_an_account(app, client, bearer, make):
    make.user("bob")
    bob = {"Authorization": f"Bearer {token_for(client, 'bob')}"}
    alices = client.post(POST, json={"body": "A"}, headers={**bearer, "Idempotency-Key": "k1"})
    bobs = client.post(POST, json={"body": "B"}, headers={**bob, "Idempotency-Key": "k1"})
    assert alices.status_code == bobs.status_code == 201
    assert alices.json["comment"]["id"] != bobs.json["comment"]["id"]
    assert stored(app) == (2, 2, 2)


def test_without_a_key_every_post_counts(app, client, bearer):
    for body in ("one", "two"):
        assert client.post(POST, json={"body": body}, headers=bearer).status_code == 201
    assert stored(app) == (2, 2, 0)


@pytest.mark.parametrize("key", ["", "x" * 101, "clé", "tab\there"])
def test_a_malformed_key_is_a_422(app, client, bearer, key):
    headers = {**bearer, "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    response = client.post(POST, json={"body": "Hello"}, headers=headers)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"Idempotency-Key"}
    assert stored(app) == (0, 0, 0)


@pytest.mark.parametrize("key", ["x", "x" * 100, "order 42: reply #3 (retry)", "~!@#$%^&*"])
def test_printable_ascii_keys_up_to_100(client, bearer, key):
    headers = {**bearer, "Idempotency-Key": key}
    assert client.post(POST, json={"body": "Hello " + key}, headers=headers).status_code == 201
    assert client.post(POST, json={"body": "Hello " + key}, headers=headers).status_code == 200


def test_a_failed_request_leaves_its_key_free(app, client, bearer):
    headers = {**bearer, "Idempotency-Key": "try-again"}
    assert client.post(POST, json={"body": ""}, headers=headers).status_code == 422
    assert (
        client.post(POST, json={"body": "x", "parent_id": 999}, headers=headers).status_code == 422
    )
    assert stored(app) == (0, 0, 0)
    assert client.post(POST, json={"body": "Now right"}, headers=headers).status_code == 201


def test_a_repeat_is_answered_even_after_the_thread_closed(app, client, bearer, make):
    headers = {**bearer, "Idempotency-Key": "before-closing"}
    first = client.post(POST, json={"body": "Just in time"}, headers=headers)
    with app.app_context():
        db.session.scalar(select(Thread)).status = ThreadStatus.CLOSED
        db.session.commit()
    again = client.post(POST, json={"body": "Just in time"}, headers=headers)
    assert again.status_code == 200 and again.json == first.json
    fresh = client.post(POST, json={"body": "Too late"}, headers={**bearer, "Idempotency-Key": "n"})
    assert fresh.status_code == 409


def test_the_replay_matches_the_openapi_document(client, bearer):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/threads/{key}/comments"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= operation["parameters"][1].items()
    headers = {**bearer, "Idempotency-Key": "documented"}
    client.post(POST, json={"body": "Documented"}, headers=headers)
    replay = client.post(POST, json={"body": "Documented"}, headers=headers)
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    assert not list(validator.iter_errors(replay.json))
    assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"]


# -- races and old keys (the service) --------------------------------------------------


def test_a_lost_race_answers_with_the_winners_comment(app, reader, article):
    """Both requests found no key; the other committed first: this one's flush of
    the key fails, its comment is rolled back, and the winner's comment answers."""
    with app.app_context():
        thread = threads.thread_by_key("a-story")
        user = db.session.get(User, reader.id)

        def post():
            with app.app_context():  # the other request, in its own session
                other = comments.post_comment(
                    db.session.get(User, reader.id), threads.thread_by_key("a-story"), "Winner"
                )
                db.session.add(IdempotencyKey(user_id=reader.id, key="race", comment_id=other.id))
                db.session.commit()
            return comments.post_comment(user, thread, "Loser")

        comment, created = idempotency.post_once(user, "race", post)
        assert not created and comment.body == "Winner"
        db.session.commit()
    assert stored(app) == (1, 1, 1)


def test_old_keys_are_forgotten(app, reader, article, monkeypatch):
    with app.app_context():
        thread = threads.thread_by_key("a-story")
        user = db.session.get(User, reader.id)
        old = comments.post_comment(user, thread, "Yesterday's")
        db.session.add(
            IdempotencyKey(
                user_id=user.id,
                key="old",
                comment_id=old.id,
                created_at=utcnow() - timedelta(days=2),
            )
        )
        db.session.flush()
        assert idempotency.forget_old() == 1

        db.session.add(IdempotencyKey(user_id=user.id, key="old", comment_id=old.id))
        db.session.add(
            IdempotencyKey(
                user_id=user.id,
                key="older",
                comment_id=old.id,
                created_at=utcnow() - timedelta(hours=25),
            )
        )
        db.session.flush()
        # Now and then a stored key sweeps the expired ones away.
        monkeypatch.setattr(idempotency, "FORGET_EVERY", 1)
        idempotency.post_once(user, "new", lambda: comments.post_comment(user, thread, "Today"))
        keys = set(db.session.scalars(select(IdempotencyKey.key)))
        assert keys == {"old", "new"}
        db.session.rollback()


# -- the HTML forms ------------------------------------------------------------------


UUID4 = re.compile(r'name="idempotency_key" type="hidden" value="([0-9a-f-]{36})"')


def test_each_rendered_form_carries_a_fresh_key(reader_client, article):
    first = UUID4.findall(reader_client.get("/articles/a-story").get_data(as_text=True))
    second = UUID4.findall(reader_client.get("/articles/a-story").get_data(as_text=True))
    assert len(first) == len(second) == 1 and first != second
    page = reader_client.get("/articles/a-story").get_data(as_text=True)
    # The inline reply box is a template: thread.js gives each copy its own key.
    template = page.split('<template id="reply-template">')[1].split("</template>")[0]
    assert '<input type="hidden" name="idempotency_key" value="">' in template


def test_the_reply_page_carries_a_key(app, reader_client, make, reader, article):
    cid = make.comment(reader, "a-story", "Reply to me")
    page = reader_client.get(f"/comments/{cid}/reply").get_data(as_text=True)
    assert len(UUID4.findall(page)) == 1


def test_a_double_submitted_form_makes_one_comment(app, reader_client, article):
    form = {"body": "Clicked twice", "idempotency_key": "0d4c5e2a-7a43-4a3e-9d3a-5b8a1f6c2e10"}
    first = reader_client.post("/articles/a-story/comments", data=form)
    second = reader_client.post("/articles/a-story/comments", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert re.fullmatch(r"/articles/a-story\?comment=\d+#c\d+", second.headers["Location"])
    page = reader_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "That comment was already posted; here it is." in page
    assert stored(app) == (1, 1, 1)


def test_a_double_submitted_form_with_javascript(app, reader_client, article):
    form = {"body": "Sent by script", "idempotency_key": "k-js"}
    fragment = {"X-Forum-Fragment": "1"}
    first = reader_client.post("/articles/a-story/comments", data=form, headers=fragment)
    second = reader_client.post("/articles/a-story/comments", data=form, headers=fragment)
    assert first.status_code == 201 and "X-Forum-Replayed" not in first.headers
    assert second.status_code == 200 and second.headers["X-Forum-Replayed"] == "1"
    assert second.get_data() == first.get_data()
    assert second.headers["X-Forum-Comment-Count"] == "1"
    assert stored(app) == (1, 1, 1)


def test_a_reply_form_sent_twice(app, reader_client, make, reader, article):
    cid = make.comment(reader, "a-story", "Parent")
    form = {"body": "Answer", "parent_id": str(cid), "idempotency_key": "reply-1"}
    first = reader_client.post("/articles/a-story/comments", data=form)
    second = reader_client.post("/articles/a-story/comments", data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert stored(app) == (2, 2, 1)


def test_a_form_without_a_key_posts_as_before(app, reader_client, article):
    for body in ("old page", "old page, again"):
        assert (
            reader_client.post("/articles/a-story/comments", data={"body": body}).status_code == 302
        )
    assert stored(app) == (2, 2, 0)


def test_a_broken_key_in_a_form_is_explained(app, reader_client, article):
    form = {"body": "Tampered", "idempotency_key": "x" * 101}
    response = reader_client.post("/articles/a-story/comments", data=form)
    assert response.status_code == 422
    assert "idempotency key" in response.get_data(as_text=True)
    fragment = reader_client.post(
        "/articles/a-story/comments", data=form, headers={"X-Forum-Fragment": "1"}
    )
    assert fragment.status_code == 422 and "idempotency key" in fragment.json["error"]["message"]
    assert stored(app) == (0, 0, 0)

"""One way in for a new comment (forum.services.posting): the parent lookup, the
idempotency key and the post, the same for the article pages and the API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.errors import ValidationError
from forum.extensions import db
from forum.models import Comment, CommentStatus, IdempotencyKey, User
from forum.services import posting
from forum.services.discussion import threads
from tests.conftest import token_for

API = "/api/v1/threads/a-story/comments"


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def story(ctx, article, reader):
    return threads.thread_by_key(article), db.session.get(User, reader.id)


def test_a_comment_then_a_reply_by_parent_id(story):
    thread, alice = story
    top, created = posting.post_comment(alice, thread, "First!")
    assert created and top.parent_id is None
    reply, created = posting.post_comment(alice, thread, "And more.", top.id, "key-1")
    assert created and reply.parent_id == top.id and reply.root_id == top.id
    again, created = posting.post_comment(alice, thread, "And more.", top.id, "key-1")
    assert again.id == reply.id and not created
    assert count(Comment) == 2 and count(IdempotencyKey) == 1


def test_a_repeat_gets_its_comment_even_when_the_parent_has_gone(story):
    thread, alice = story
    top, _ = posting.post_comment(alice, thread, "Asking something.")
    reply, _ = posting.post_comment(alice, thread, "Answering it.", top.id, "once")
    top.status = CommentStatus.REJECTED
    db.session.flush()
    again, created = posting.post_comment(alice, thread, "Answering it.", top.id, "once")
    assert (again.id, created) == (reply.id, False)


def test_a_parent_the_author_may_not_open_is_refused(story, make):
    thread, alice = story
    bob = db.session.get(User, make.user("bob").id)
    held, _ = posting.post_comment(bob, thread, "Mine, held.")
    held.status = CommentStatus.PENDING
    db.session.flush()
    for parent_id in (held.id, 10**9):
        with pytest.raises(ValidationError) as refused:
            posting.post_comment(alice, thread, "A reply.", parent_id, "k")
        assert refused.value.fields == {"parent_id": posting.NO_PARENT}
    assert count(Comment) == 1 and count(IdempotencyKey) == 0


def test_the_page_and_the_api_answer_alike(app, make, client, reader_client, article):
    """A reply to a held comment: refused with the same field by both doors, nothing
    stored; a reply to a shown one is stored once per key by both doors."""
    bob = make.user("bob")
    shown = make.comment(bob, article, "Shown.")
    held = make.comment(bob, article, "Held.")
    make.set_status(held, CommentStatus.PENDING)
    bearer = {"Authorization": f"Bearer {token_for(client, 'alice')}"}

    api = client.post(API, json={"body": "Hi", "parent_id": held}, headers=bearer)
    assert api.status_code == 422
    assert api.json["error"]["fields"] == {"parent_id": posting.NO_PARENT}
    page = reader_client.post(
        f"/articles/{article}/comments",
        data={"body": "Hi", "parent_id": str(held)},
        headers={"X-Forum-Fragment": "1"},
    )
    assert page.status_code == api.status_code
    assert posting.NO_PARENT in page.json["error"]["message"]

    for door in ("api", "page"):
        for _ in range(2):
            if door == "api":
                headers = {**bearer, "Idempotency-Key": "api-key"}
                json = {"body": "Via the API", "parent_id": shown}
                client.post(API, json=json, headers=headers)
            else:
                data = {"body": "Via the page", "parent_id": str(shown), "idempotency_key": "k2"}
                reader_client.post(f"/articles/{article}/comments", data=data)
    with app.app_context():
        replies = db.session.scalars(select(Comment.body).where(Comment.parent_id == shown))
        assert sorted(replies) == ["Via the API", "Via the page"]

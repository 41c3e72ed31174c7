"""Votes: the rules, the ranking, and exact scores under concurrent voting."""

import threading

import pytest

from forum import create_app
from forum.extensions import db
from forum.models import Comment, Role, User, Vote
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads, votes
from forum.services.discussion.votes import wilson_rank
from tests.conftest import _empty_tables, _test_config, token_for


def vote(client, headers, cid, value):
    return client.post(f"/api/v1/comments/{cid}/votes", json={"value": value}, headers=headers)


@pytest.fixture
def setup(client, make, article):
    author = make.user("author")
    cid = make.comment(author, "a-story", "vote on me")
    make.user("alice")
    headers = {"Authorization": f"Bearer {token_for(client, 'alice')}"}
    return cid, headers, author


def test_vote_change_and_retract(client, setup, make):
    cid, alice, _ = setup
    assert vote(client, alice, cid, 1).json == {"score": 1, "my_vote": 1}
    assert vote(client, alice, cid, 1).json == {"score": 1, "my_vote": 1}  # once only
    assert vote(client, alice, cid, -1).json == {"score": -1, "my_vote": -1}
    assert vote(client, alice, cid, 0).json == {"score": 0, "my_vote": 0}
    stored = make.get(Comment, cid)
    assert (stored.upvotes, stored.downvotes, stored.score, stored.rank) == (0, 0, 0, 0)


def test_vote_rules(client, setup, make):
    cid, alice, author = setup
    own = vote(client, {"Authorization": f"Bearer {token_for(client, 'author')}"}, cid, 1)
    assert own.status_code == 403 and "own comment" in own.json["error"]["message"]
    assert vote(client, {}, cid, 1).status_code == 401
    for bad in (2, "1", True, None, 0.5):
        assert vote(client, alice, cid, bad).status_code == 422, bad
    assert vote(client, alice, 999999, 1).status_code == 404


def test_banned_readers_cannot_vote(client, setup, make):
    cid, alice, _ = setup
    make.user("mona", role=Role.MODERATOR)
    mona = {"Authorization": f"Bearer {token_for(client, 'mona')}"}
    client.post("/api/v1/moderation/users/alice/ban", json={"reason": "x"}, headers=mona)
    refused = vote(client, alice, cid, 1)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "banned"


def test_score_shows_in_the_thread(client, setup):
    cid, alice, _ = setup
    vote(client, alice, cid, 1)
    comment = client.get("/api/v1/threads/a-story/comments").json["comments"][0]
    assert comment["score"] == 1


@pytest.mark.parametrize(
    ("up", "down", "expected"),
    [(0, 0, 0), (0, 1, 0), (1, 0, 206_543), (3, 1, 300_636), (40, 10, 669_626), (100, 0, 963_005)],
)
def test_wilson_rank(up, down, expected):
    assert wilson_rank(up, down) == expected


def test_rank_prefers_many_good_votes_over_one():
    assert wilson_rank(40, 10) > wilson_rank(1, 0)
    assert wilson_rank(0, 0) == wilson_rank(0, 5)  # new comments are not buried


def test_concurrent_votes_are_all_counted(database):
    """Twelve readers vote at once, each in its own thread, connection and
    transaction, against the test database (SQLite or PostgreSQL)."""
    app = create_app(_test_config(database))
    voters = 12
    with app.app_context():
        author = accounts.register("author", "author@example.org", "long password!")
        thread = threads.save_article("race", "Race", "Body.").thread
        comment = comments.post_comment(author, thread, "contested")
        users = [
            accounts.register(f"voter{i}", f"voter{i}@example.org", "long password!")
            for i in range(voters)
        ]
        db.session.commit()
        cid, user_ids = comment.id, [u.id for u in users]
    barrier = threading.Barrier(voters)
    errors = []

    def cast(user_id, value):
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                target = db.session.get(Comment, cid)
                barrier.wait(10)
                votes.vote(user, target, value)
                db.session.commit()
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))

    workers = [
        threading.Thread(target=cast, args=(uid, 1 if i % 3 else -1))
        for i, uid in enumerate(user_ids)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    try:
        assert errors == []
        with app.app_context():
            stored = db.session.get(Comment, cid)
            assert db.session.query(Vote).count() == voters
            assert (stored.upvotes, stored.downvotes) == (8, 4)
            assert stored.score == 4
            assert stored.rank == wilson_rank(8, 4)
    finally:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()

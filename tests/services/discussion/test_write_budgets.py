"""Every write has a budget (security review, round two, finding 2): edits share
the posting budget (one account editing one comment in a loop once took an
anonymous read from 3 ms to 1 s), profile changes have their own, every other
write a default one; one comment notifies at most ten mentioned readers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Notification, NotificationKind, User
from forum.services.accounts import accounts
from forum.services.discussion import threads
from forum.services.notify.notifications import MENTIONS_NOTIFIED
from tests.conftest import PASSWORD, AuthActions, token_for


@pytest.fixture
def limited(app_with):
    app = app_with(FORUM_RATELIMIT="on", FORUM_EDIT_WINDOW_MINUTES=60)
    with app.app_context():
        threads.save_article("a-story", "A story", "Text.")
        accounts.register("alice", "alice@example.org", PASSWORD)
        db.session.commit()
    return app


def bearer(app, name="alice") -> dict:
    return {"Authorization": f"Bearer {token_for(app.test_client(), name)}"}


def test_edits_spend_the_posting_budget(limited):
    headers = bearer(limited)
    client = limited.test_client()
    made = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "First take"}, headers=headers
    )
    assert made.status_code == 201
    comment_id = made.json["comment"]["id"]
    edits = [
        client.patch(f"/api/v1/comments/{comment_id}", json={"body": f"Take {n}"}, headers=headers)
        for n in range(10)
    ]
    assert [e.status_code for e in edits] == [200] * 9 + [429]
    assert edits[-1].json["error"]["code"] == "rate_limited"
    # The same budget holds for new comments and for the page's edit form.
    more = client.post("/api/v1/threads/a-story/comments", json={"body": "x"}, headers=headers)
    assert more.status_code == 429
    page = limited.test_client()
    AuthActions(page).login("alice")
    assert page.get(f"/comments/{comment_id}/edit").status_code == 200  # the form is free
    assert page.post(f"/comments/{comment_id}/edit", data={"body": "again"}).status_code == 429


def test_page_edits_count_against_the_api_budget(limited):
    headers = bearer(limited)
    client = limited.test_client()
    comment_id = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "First take"}, headers=headers
    ).json["comment"]["id"]
    page = limited.test_client()
    AuthActions(page).login("alice")
    statuses = [
        page.post(f"/comments/{comment_id}/edit", data={"body": f"Edit {n}"}).status_code
        for n in range(9)
    ]
    assert statuses == [302] * 9
    last = client.patch(f"/api/v1/comments/{comment_id}", json={"body": "no"}, headers=headers)
    assert last.status_code == 429


def test_profile_changes_have_a_budget(limited):
    page = limited.test_client()
    AuthActions(page).login("alice")
    statuses = [
        page.post("/account/profile", data={"display_name": f"Alice {n}"}).status_code
        for n in range(31)
    ]
    assert 429 not in statuses[:30] and statuses[30] == 429


def test_writes_without_a_limit_of_their_own_get_the_default(limited):
    page = limited.test_client()
    AuthActions(page).login("alice")
    statuses = [
        page.post("/articles/a-story/follow", data={"follow": str(n % 2)}).status_code
        for n in range(121)
    ]
    assert 429 not in statuses[:120] and statuses[120] == 429
    assert page.get("/articles/a-story").status_code == 200  # reads are never limited


def test_one_comment_notifies_at_most_ten_mentioned_readers(app, make, client):
    names = [f"named{n:02d}" for n in range(15)]
    for name in names:
        make.user(name)
    make.user("writer")
    make.article("a-story")
    mentions = " ".join(f"@{name}" for name in ["nobody_here", *reversed(names)])
    headers = {"Authorization": f"Bearer {token_for(client, 'writer')}"}
    posted = client.post(
        "/api/v1/threads/a-story/comments", json={"body": f"Look {mentions}"}, headers=headers
    )
    assert posted.status_code == 201
    with app.app_context():
        told = db.session.scalars(
            select(User.username)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.kind == NotificationKind.MENTION)
        ).all()
        assert db.session.scalar(select(func.count(Notification.id))) == MENTIONS_NOTIFIED
    # The first ten accounts the comment names, in its order (unknown names skipped).
    assert sorted(told) == sorted(list(reversed(names))[:MENTIONS_NOTIFIED])


def test_the_composer_says_how_many_mentions_count(app, make, client):
    make.user("alice")
    make.article("a-story")
    AuthActions(client).login("alice")
    assert "the first 10 you mention" in client.get("/articles/a-story").text

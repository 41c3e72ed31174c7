"""A new comment tells every follower of its thread in a fixed number of
statements, however many follow (a finale's thread may have thousands)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Follow, Notification, NotificationKind, OutboxMessage, User
from forum.services.accounts import people
from forum.services.discussion import threads
from forum.services.notify import notifications
from tests.conftest import count_statements, token_for


def followers(app, make, slug: str, how_many: int) -> list[int]:
    ids = [make.user().id for _ in range(how_many)]
    with app.app_context():
        thread = threads.thread_by_key(slug)
        for user_id in ids:
            notifications.follow(db.session.get(User, user_id), thread)
        db.session.commit()
    return ids


def post(client, token: str, slug: str, body: str):
    return client.post(
        f"/api/v1/threads/{slug}/comments",
        json={"body": body},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )


def test_posting_costs_the_same_with_three_followers_or_thirty(app, make, reader):
    make.article("quiet")
    make.article("busy")
    followers(app, make, "quiet", 3)
    many = followers(app, make, "busy", 30)
    client = app.test_client()
    token = token_for(client, reader.username)
    counts = {}
    for slug in ("quiet", "busy"):
        post(client, token, slug, f"Warming up in {slug}: the author follows from here on.")
        with count_statements(app) as seen:
            assert post(client, token, slug, f"Live from the {slug} thread.").status_code == 201
        counts[slug] = len(seen)
    assert counts["quiet"] == counts["busy"], counts

    with app.app_context():
        unread = dict(
            db.session.execute(select(User.id, User.unread_count).where(User.id.in_(many))).all()
        )
        told = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.kind == NotificationKind.THREAD_REPLY,
                Notification.user_id.in_(many),
                Notification.actor_id == reader.id,
            )
        )
    assert (set(unread.values()), told) == ({2}, 60)  # each follower heard of both


def test_followers_who_muted_the_author_or_chose_email_are_treated_as_before(app, make, reader):
    make.article("story")
    quiet, muting, emailed = followers(app, make, "story", 3)
    with app.app_context():
        people.mute(db.session.get(User, muting), db.session.get(User, reader.id))
        db.session.get(User, emailed).email_kinds = [NotificationKind.THREAD_REPLY.value]
        db.session.commit()
    client = app.test_client()
    assert post(client, token_for(client, reader.username), "story", "Hello.").status_code == 201
    with app.app_context():
        unread = dict(db.session.execute(select(User.id, User.unread_count)).all())
        mails = db.session.scalars(select(OutboxMessage.to_address)).all()
        author_follows = db.session.scalar(
            select(func.count(Follow.id)).where(Follow.user_id == reader.id)
        )
    assert (unread[quiet], unread[muting], unread[emailed], unread[reader.id]) == (1, 0, 1, 0)
    assert mails == [f"{db_name(app, emailed)}@example.org"]
    assert author_follows == 1


def db_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).username.lower()

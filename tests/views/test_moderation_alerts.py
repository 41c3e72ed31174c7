"""What moderators see of the alerts: the count on the header's Moderation link,
their choice of alert emails on the notifications page, the webhook settings
on the admins' settings page and in the API, and a guest's comment alerting."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    OUTBOX_WEBHOOK,
    AlertFrequency,
    Comment,
    ModeratorAlert,
    OutboxMessage,
    Role,
    User,
)
from forum.services import settings
from forum.services.moderation import flags, queues
from tests.conftest import AuthActions, count_statements, token_for

SUSPECT = "zeppelin"
BADGE = re.compile(
    r'<span class="unread-count" data-waiting-badge><span data-queue-count="waiting">(\d+)</span>'
    r'<span class="visually-hidden"> waiting</span></span>'
)


def configure(app, **values):
    with app.app_context():
        settings.save(settings.parse(settings.as_form(values)))
        db.session.commit()


def badge(client, path="/") -> int | None:
    """The number on the header's Moderation link; None when it shows none."""
    page = client.get(path).get_data(as_text=True)
    found = BADGE.search(page)
    return int(found.group(1)) if found else None


def flag(app, reporter: User, comment_id: int) -> None:
    with app.app_context():
        flags.flag(db.session.get(User, reporter.id), db.session.get(Comment, comment_id), "abuse")
        db.session.commit()


# -- the count in the header -----------------------------------------------------------


def test_the_header_counts_what_waits_for_moderators(
    app, make, article, reader, moderator_client, reader_client
):
    configure(app, suspect_words=[SUSPECT])
    assert badge(moderator_client) is None  # nothing waits: no badge
    assert ">Moderation</a>" in moderator_client.get("/").get_data(as_text=True)

    held = make.comment(reader, article, f"The {SUSPECT} again")
    assert badge(moderator_client) == 1
    assert badge(moderator_client, "/moderation/queue/pending") == 1  # on every page

    # A published comment with a report waits in Reported: counted.
    reported = make.comment(reader, article, "A fine remark.")
    flag(app, make.user("reporter1"), reported)
    assert badge(moderator_client) == 2
    # One that readers' reports hid waits in Pending and Reported: counted once.
    hidden = make.comment(reader, article, "A remark readers dislike.")
    for n in range(3):
        flag(app, make.user(f"hider{n}"), hidden)
    assert badge(moderator_client) == 3
    # Spam is reviewed at leisure: not counted.
    configure(app, suspect_words=[SUSPECT], banned_words=["tidebreaker"], banned_action="spam")
    make.comment(reader, article, "tidebreaker")
    assert badge(moderator_client) == 3

    # Readers see neither the link nor a count.
    page = reader_client.get("/").get_data(as_text=True)
    assert "data-waiting-badge" not in page and "/moderation/" not in page

    # Deciding brings it down, and the in-place answer says so for the script.
    answer = moderator_client.post(
        f"/moderation/comments/{held}",
        data={"action": "approve"},
        headers={"X-Forum-Fragment": "1"},
    )
    assert answer.json["counts"]["waiting"] == 2
    assert badge(moderator_client) == 2


def test_two_moderator_pages_cost_the_same_statements_whatever_waits(
    app, make, article, reader, moderator_client
):
    configure(app, suspect_words=[SUSPECT])
    make.comment(reader, article, f"one {SUSPECT}")
    moderator_client.get("/")  # warm: the session's first page
    with count_statements(app) as few:
        assert moderator_client.get("/").status_code == 200
    for n in range(40):
        make.comment(reader, article, f"{SUSPECT} {n}")
    with count_statements(app) as many:
        assert moderator_client.get("/").status_code == 200
    assert len(few) == len(many)
    assert sum("count(" in s.lower() for s in many) >= 1
    with app.app_context(), count_statements(app) as seen:
        assert queues.waiting_count() == 41
    assert len(seen) == 1  # the badge is one statement


# -- the moderator's choice of emails -------------------------------------------------------


def test_a_moderator_chooses_how_often_to_hear(app, moderator, moderator_client):
    page = moderator_client.get("/account/notifications").get_data(as_text=True)
    assert 'id="moderation-alerts"' in page
    assert re.search(
        r'<input checked id="frequency-\d" name="frequency" type="radio" value="daily">', page
    )
    for text in (
        "As they happen",
        "An hourly digest",
        "A daily digest",
        "Never (the count in the header only)",
    ):
        assert text in page

    response = moderator_client.post(
        "/account/notifications/moderation", data={"frequency": "hourly"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/notifications#moderation-alerts"
    with app.app_context():
        assert db.session.get(User, moderator.id).moderation_alerts == AlertFrequency.HOURLY
    page = moderator_client.get("/account/notifications").get_data(as_text=True)
    assert "We will email you an hourly digest of comments waiting for moderation." in page
    assert re.search(
        r'<input checked id="frequency-\d" name="frequency" type="radio" value="hourly">', page
    )


@pytest.mark.parametrize("sent", [{"frequency": "weekly"}, {"frequency": ""}, {}])
def test_a_bad_choice_is_refused_with_a_reason(app, moderator, moderator_client, sent):
    response = moderator_client.post("/account/notifications/moderation", data=sent)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose one of: immediate, hourly, daily, off." in page
    assert 'id="frequency-error"' in page
    with app.app_context():
        assert db.session.get(User, moderator.id).moderation_alerts == AlertFrequency.DAILY


def test_readers_have_no_such_choice(app, reader, reader_client, client):
    page = reader_client.get("/account/notifications").get_data(as_text=True)
    assert "moderation-alerts" not in page
    refused = reader_client.post("/account/notifications/moderation", data={"frequency": "off"})
    assert refused.status_code == 403
    anonymous = client.post("/account/notifications/moderation", data={"frequency": "off"})
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_the_choice_needs_the_forms_token(app_with):
    app = app_with(WTF_CSRF_ENABLED=True)
    from tests.conftest import Factory

    Factory(app).user("mona", role=Role.MODERATOR)
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    login = {"username": "mona", "password": "correct horse battery", "csrf_token": token}
    assert client.post("/auth/login", data=login).status_code == 302
    refused = client.post("/account/notifications/moderation", data={"frequency": "off"})
    assert refused.status_code == 400
    page = client.get("/account/notifications").get_data(as_text=True)
    section = page[page.index('id="moderation-alerts"') :]
    token = re.search(r'name="csrf_token" value="([^"]+)"', section).group(1)
    accepted = client.post(
        "/account/notifications/moderation", data={"frequency": "off", "csrf_token": token}
    )
    assert accepted.status_code == 302


# -- the admins' settings -----------------------------------------------------------------


def test_the_settings_page_sets_up_the_webhook(app, make):
    make.user("ada", role=Role.ADMIN)
    client = app.test_client()
    AuthActions(client).login("ada")
    page = client.get("/moderation/settings").get_data(as_text=True)
    for name in ("alert_webhook_url", "alert_webhook_format", "alert_webhook_secret"):
        assert f'name="{name}"' in page
    assert '<option value="slack">Slack</option>' in page

    form = {f.key: "" for f in settings.FIELDS}
    form.update(
        {
            k: "\n".join(v) if isinstance(v, list) else str(v)
            for k, v in settings.public(_current(app)).items()
            if not isinstance(v, bool)
        }
    )
    bad = client.post(
        "/moderation/settings", data={**form, "alert_webhook_url": "javascript:alert(1)"}
    )
    assert bad.status_code == 422
    assert "Use an http:// or https:// address, or leave it empty." in bad.get_data(as_text=True)
    saved = client.post(
        "/moderation/settings",
        data={
            **form,
            "alert_webhook_url": "https://hooks.slack.example/services/T/B/x",
            "alert_webhook_format": "slack",
            "alert_webhook_secret": "s3cret",
        },
    )
    assert saved.status_code == 302
    values = _current(app)
    assert values["alert_webhook_format"] == "slack"
    assert values["alert_webhook_secret"] != "s3cret"  # sealed at rest
    page = client.get("/moderation/settings").get_data(as_text=True)
    assert "s3cret" not in page


def _current(app) -> dict:
    with app.test_request_context():
        return dict(settings.current())


def test_the_api_shows_and_checks_the_webhook_settings(app, make, client):
    make.user("ada", role=Role.ADMIN)
    headers = {"Authorization": f"Bearer {token_for(client, 'ada')}"}
    shown = client.get("/api/v1/moderation/settings", headers=headers).json["settings"]
    assert shown["alert_webhook_url"] == "" and shown["alert_webhook_format"] == "generic"
    assert shown["alert_webhook_secret"] is False
    for field, value in (
        ("alert_webhook_url", "ftp://x.example/"),
        ("alert_webhook_format", "teams"),
    ):
        refused = client.patch("/api/v1/moderation/settings", json={field: value}, headers=headers)
        assert refused.status_code == 422
        assert refused.json["error"]["code"] == "validation_error"
        assert set(refused.json["error"]["fields"]) == {field}
    changed = client.patch(
        "/api/v1/moderation/settings",
        json={"alert_webhook_url": "https://hooks.example/a", "alert_webhook_secret": "k"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json["settings"]["alert_webhook_secret"] is True  # never echoed


# -- a guest's comment ------------------------------------------------------------------------


def test_a_guests_comment_alerts_the_moderators_and_the_webhook(app_with):
    app = app_with(
        FORUM_GUESTS="on",
        FORUM_BASE_URL="https://forum.example",
        FORUM_SETTINGS_DEFAULTS={"guest_proof_bits": 8, "guest_min_seconds": 0},
    )
    from forum.services.accounts import proof
    from tests.conftest import Factory

    make = Factory(app)
    make.user("mona", role=Role.MODERATOR)
    slug = make.article("guest-story")
    configure(app, alert_webhook_url="https://hooks.example/alerts")
    client = app.test_client()
    challenge = client.get("/api/v1/guest-challenge").json
    solved = {
        "challenge": challenge["challenge"],
        "nonce": proof.solve(challenge["challenge"], challenge["bits"]),
    }
    answer = client.post(
        f"/api/v1/threads/{slug}/comments",
        json={"body": "A guest's guess.", "guest_name": "Wren", "guest_proof": solved},
        # A request by another host name: the links still say FORUM_BASE_URL.
        base_url="http://localhost",
    )
    assert answer.status_code == 201 and answer.json["comment"]["status"] == "pending"
    cid = answer.json["comment"]["id"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(ModeratorAlert.id)).where(ModeratorAlert.comment_id == cid)
            )
            == 1
        )
        hook = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.channel == OUTBOX_WEBHOOK)
        )
        assert hook.comment_id == cid and hook.target_url == "https://hooks.example/alerts"
        assert '"guest": true' in hook.body
        assert "https://forum.example/moderation/queue/pending#item-" in hook.body
        assert "localhost" not in hook.body

"""Links the forum writes for later (emails, feeds, the API's thread address)
never come from the request: an attacker who asks for a password reset with
`Host: attacker.example` must not get the victim's token mailed to their host.

Security review, round two, finding 1 (account takeover).
"""

import logging

import pytest
from sqlalchemy import select

from forum import create_app
from forum.extensions import db
from forum.models import OutboxMessage
from tests.conftest import _test_config

ATTACKER = "attacker.example"
BASE = "https://comments.example.org"


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        db.session.expunge_all()
        return messages


def ask_for_reset(client, **headers):
    return client.post("/auth/reset", data={"email": "alice@example.org"}, headers=headers)


def test_a_reset_asked_for_by_a_foreign_host_is_refused_and_mails_nothing(app, make, client):
    make.user("alice")
    answer = ask_for_reset(client, Host=ATTACKER)
    assert answer.status_code == 400
    assert outbox(app) == []
    # The same request by a loopback name (make run's) goes through.
    assert ask_for_reset(client, Host="127.0.0.1:5000").status_code == 302
    [message] = outbox(app)
    assert "http://127.0.0.1:5000/auth/reset/" in message.body
    assert ATTACKER not in message.body


def test_behind_a_proxy_a_forwarded_host_cannot_choose_the_links(app_with, make):
    proxied = app_with(FORUM_PROXY_HOPS=1)
    type(make)(proxied).user("alice")
    client = proxied.test_client()
    answer = ask_for_reset(client, **{"X-Forwarded-Host": ATTACKER, "X-Forwarded-For": "1.2.3.4"})
    assert answer.status_code == 400
    assert outbox(proxied) == []


def test_with_a_base_url_every_link_comes_from_it(app_with, make):
    configured = app_with(FORUM_BASE_URL=BASE + "/", FORUM_TRUSTED_HOSTS="10.0.0.5")
    type(make)(configured).user("alice")
    client = configured.test_client()
    # A host the operator lets in (a health check's, say) still does not make links.
    assert ask_for_reset(client, Host="10.0.0.5:8000").status_code == 302
    assert ask_for_reset(client, Host="comments.example.org").status_code == 302
    assert ask_for_reset(client, Host=ATTACKER).status_code == 400
    bodies = [message.body for message in outbox(configured)]
    assert len(bodies) == 2
    for body in bodies:
        assert f"{BASE}/auth/reset/" in body
        assert "10.0.0.5" not in body and ATTACKER not in body


def test_feeds_and_the_api_name_the_configured_site(app_with, make):
    configured = app_with(FORUM_BASE_URL=BASE)
    maker = type(make)(configured)
    writer = maker.user("writer")
    slug = maker.article("tv-story")
    maker.comment(writer, slug, "First!")
    client = configured.test_client()
    feed = client.get(f"/articles/{slug}/comments.atom", headers={"Host": "localhost"}).text
    assert f'href="{BASE}/articles/{slug}"' in feed
    assert "tag:comments.example.org," in feed
    assert "localhost" not in feed
    thread = client.get(f"/api/v1/threads/{slug}").json
    assert thread["url"] == f"{BASE}/articles/{slug}"
    for path in (f"/articles/{slug}/comments.atom", f"/api/v1/threads/{slug}"):
        assert client.get(path, headers={"Host": ATTACKER}).status_code == 400


@pytest.mark.parametrize(
    "value",
    ["comments.example.org", "ftp://comments.example.org", f"{BASE}/?next=x", f"{BASE}#top"],
)
def test_a_base_url_that_cannot_work_is_refused_at_start(database, value):
    with pytest.raises(ValueError, match="FORUM_BASE_URL"):
        create_app({**_test_config(database), "FORUM_BASE_URL": value})


def test_starting_without_a_base_url_says_so(database, caplog):
    with caplog.at_level(logging.WARNING):
        create_app({**_test_config(database), "TESTING": False})
    assert "FORUM_BASE_URL is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app({**_test_config(database), "TESTING": False, "FORUM_BASE_URL": BASE})
    assert "FORUM_BASE_URL" not in caplog.text

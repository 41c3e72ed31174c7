"""Signing in by an emailed link: once, for 15 minutes, a button rather than a
GET, and the same answer (and about the same time) whether or not the address
has an account here."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import OutboxMessage, SpentToken, User, utcnow
from forum.services.accounts import accounts
from tests.conftest import PASSWORD
from tests.services.accounts.test_account_security import median_times

SUBJECT = "Your sign-in link"
SENTENCE = "If an account uses that address, a sign-in link is on its way."


def signed_in_as(client) -> str | None:
    user = client.get("/api/v1/session").json["user"]
    return user["username"] if user else None


def ask(client, address):
    return client.post("/auth/email-link", data={"email": address})


def mails(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject == SUBJECT).order_by(OutboxMessage.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def links_in(message: OutboxMessage) -> list[str]:
    return re.findall(r"https?://[^/\s]+(/auth/email-link/\S+)", message.body)


def test_the_login_page_offers_the_link(client):
    page = client.get("/auth/login").text
    assert "Email me a sign-in link" in page and 'action="/auth/email-link"' in page


def test_a_link_signs_in_once_after_a_confirmation(app, make, client):
    make.user("alice")
    answer = ask(client, "ALICE@example.org")
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/login"
    (message,) = mails(app)
    assert message.to_address == "alice@example.org"
    (link,) = links_in(message)

    # Opening it (as a mail scanner would) signs nobody in.
    page = client.get(link)
    assert page.status_code == 200 and "Sign in as @alice?" in page.text
    assert signed_in_as(client) is None
    done = client.post(link)
    assert done.status_code == 302 and signed_in_as(client) == "alice"
    with app.app_context():
        assert db.session.scalar(select(User.email_verified_at)) is not None
        assert db.session.scalar(select(SpentToken.purpose)) == "sign-in"
    # Once only, in any browser.
    other = app.test_client()
    assert other.get(link).status_code == 400
    again = other.post(link)
    assert again.status_code == 400 and "does not work any more" in again.text
    assert signed_in_as(other) is None


def test_a_link_expires_after_15_minutes(app, make, client, monkeypatch):
    make.user("alice")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 15 * 60 - 1)
    ask(client, "alice@example.org")
    monkeypatch.undo()
    (link,) = links_in(mails(app)[0])
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400 and signed_in_as(client) is None


def test_a_link_at_14_minutes_still_works(app, make, client, monkeypatch):
    make.user("alice")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 14 * 60)
    ask(client, "alice@example.org")
    monkeypatch.undo()
    (link,) = links_in(mails(app)[0])
    assert client.post(link).status_code == 302 and signed_in_as(client) == "alice"


@pytest.mark.parametrize("token", ["garbage", "x" * 600, "WzEsImFiYyJd.abc.def"])
def test_forged_links_are_refused(client, token):
    assert client.get(f"/auth/email-link/{token}").status_code == 400
    assert client.post(f"/auth/email-link/{token}").status_code == 400


def test_a_reset_link_is_not_a_sign_in_link(app, make, client):
    make.user("alice")
    client.post("/auth/reset", data={"email": "alice@example.org"})
    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body))
    token = re.search(r"/auth/reset/(\S+)", body).group(1)
    assert client.post(f"/auth/email-link/{token}").status_code == 400


def test_the_answer_is_the_same_for_unknown_addresses(app, make, client):
    make.user("alice")
    known = ask(client, "alice@example.org")
    known_page = client.get(known.headers["Location"]).text
    stranger = app.test_client()
    unknown = ask(stranger, "nobody@example.org")
    unknown_page = stranger.get(unknown.headers["Location"]).text
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert SENTENCE in known_page and SENTENCE in unknown_page
    invalid = ask(app.test_client(), "not an address")
    assert (invalid.status_code, invalid.headers["Location"]) == (302, "/auth/login")
    assert len(mails(app)) == 1


def test_one_address_with_two_accounts_lets_the_reader_choose(app, make, client):
    make.user("alice")
    with app.app_context():
        accounts.register("alice2", "alice@example.org", PASSWORD)
        db.session.commit()
    ask(client, "alice@example.org")
    (message,) = mails(app)
    assert "@alice:" in message.body and "@alice2:" in message.body
    first, second = links_in(message)
    assert client.post(second).status_code == 302 and signed_in_as(client) == "alice2"
    # The other account's link still works (each link is its own).
    other = app.test_client()
    assert other.post(first).status_code == 302 and signed_in_as(other) == "alice"


def test_closed_and_moved_accounts_get_no_link_that_works(app, make, client):
    make.user("alice")
    ask(client, "alice@example.org")
    (link,) = links_in(mails(app)[0])
    with app.app_context():
        user = db.session.scalar(select(User))
        user.email, user.email_key = "new@example.org", "new@example.org"
        db.session.commit()
    assert client.post(link).status_code == 400  # sent to an address it no longer has
    with app.app_context():
        db.session.scalar(select(User)).deleted_at = utcnow()
        db.session.commit()
    ask(client, "new@example.org")
    assert len(mails(app)) == 1  # nothing for a deleted account


def test_emails_to_one_address_are_capped_without_changing_the_answer(app_with):
    app = app_with(FORUM_RATELIMIT="on")
    with app.app_context():
        accounts.register("alice", "alice@example.org", PASSWORD)
        db.session.commit()
    answers = [ask(app.test_client(), "alice@example.org").status_code for _ in range(7)]
    assert answers == [302] * 7
    assert len(mails(app)) == 5


def test_the_switch_turns_it_off(app_with):
    client = app_with(FORUM_EMAIL_SIGN_IN="off").test_client()
    assert "Email me a sign-in link" not in client.get("/auth/login").text
    assert ask(client, "alice@example.org").status_code == 404


def test_timings_do_not_tell_which_addresses_have_accounts(app, make):
    make.user("alice")
    client = app.test_client()
    for _ in range(3):
        ask(client, "warm@example.org")
    known, unknown = median_times(
        lambda: ask(client, "alice@example.org"), lambda: ask(client, "nobody@example.org"), 21
    )
    assert abs(known - unknown) < 0.01, (known, unknown)  # under 10 ms apart


def test_sign_in_requests_are_rate_limited(app_with):
    app = app_with(FORUM_RATELIMIT="on")
    client = app.test_client()
    answers = [ask(client, f"n{n}@example.org").status_code for n in range(11)]
    assert answers == [302] * 10 + [429]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

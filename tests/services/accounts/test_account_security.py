"""Sessions, password changes and resets, email confirmation, the growing wait
after failed sign-ins, and answers that tell nobody which accounts exist."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from forum.extensions import db, limiter
from forum.models import ApiToken, OutboxMessage, User, UserSession
from forum.services.accounts import accounts, throttle
from forum.services.discussion import comments, threads
from tests.conftest import PASSWORD, AuthActions, token_for

NEW_PASSWORD = "a brand new passphrase"


def signed_in_as(client) -> str | None:
    user = client.get("/api/v1/session").json["user"]
    return user["username"] if user else None


def emails(app, subject: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject == subject).order_by(OutboxMessage.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def link_in(message: OutboxMessage) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


# -- sessions -----------------------------------------------------------------------


def test_signing_in_starts_a_fresh_session(app, make, client):
    make.user("alice")
    with client.session_transaction() as planted:
        planted["planted"] = "by someone else"
        planted["sid"] = "a key an attacker chose for the victim"
    AuthActions(client).login("alice")
    with client.session_transaction() as current:
        assert "planted" not in current
        first = current["sid"]
    assert signed_in_as(client) == "alice"
    AuthActions(client).login("alice")
    with client.session_transaction() as current:
        assert current["sid"] != first


def test_logging_out_ends_the_session_even_for_a_copied_cookie(app, make, client):
    make.user("alice")
    AuthActions(client).login("alice")
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert signed_in_as(thief) == "alice"
    AuthActions(client).logout()
    assert signed_in_as(client) is None
    assert signed_in_as(thief) is None  # the copy died with the session


def test_the_api_session_is_recorded_and_ended_the_same_way(app, make, client):
    make.user("alice")
    assert (
        client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert signed_in_as(copy) == "alice"
    csrf = client.get("/api/v1/session").json["csrf_token"]
    assert client.delete("/api/v1/session", headers={"X-CSRFToken": csrf}).status_code == 204
    assert signed_in_as(copy) is None


def test_changing_the_password_ends_every_other_session_and_token(app, make):
    make.user("alice")
    here, elsewhere = app.test_client(), app.test_client()
    AuthActions(here).login("alice")
    AuthActions(elsewhere).login("alice")
    token = token_for(app.test_client(), "alice")

    response = here.post(
        "/account/security/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in_as(here) == "alice"
    assert signed_in_as(elsewhere) is None
    assert (
        app.test_client()
        .get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )
    assert AuthActions(app.test_client()).login("alice", PASSWORD).status_code == 401
    assert AuthActions(app.test_client()).login("alice", NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing(app, make, client):
    make.user("alice")
    AuthActions(client).login("alice")
    response = client.post(
        "/account/security/password",
        data={"current_password": "not it at all", "password": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "That is not your current password." in response.text
    assert AuthActions(app.test_client()).login("alice", PASSWORD).status_code == 302


def test_signing_out_everywhere_else(app, make):
    make.user("alice")
    here, elsewhere = app.test_client(), app.test_client()
    AuthActions(here).login("alice")
    AuthActions(elsewhere).login("alice")
    assert here.post("/account/security/sessions").status_code == 302
    assert (signed_in_as(here), signed_in_as(elsewhere)) == ("alice", None)
    with app.app_context():
        live = db.session.scalar(
            select(db.func.count(UserSession.id)).where(UserSession.revoked_at.is_(None))
        )
        assert live == 1


def test_the_security_page(app, make, client):
    make.user("alice")
    AuthActions(client).login("alice")
    page = client.get("/account/security")
    assert page.status_code == 200
    assert "alice@example.org</strong> is not confirmed yet" in page.text
    assert app.test_client().get("/account/security").status_code == 302  # to log in


# -- password reset --------------------------------------------------------------------


def request_reset(client, address):
    return client.post("/auth/reset", data={"email": address})


def test_a_reset_link_works_once_and_ends_other_sessions(app, make, client):
    make.user("alice")
    elsewhere = app.test_client()
    AuthActions(elsewhere).login("alice")
    answer = request_reset(client, "ALICE@example.org")
    assert answer.status_code == 302
    (message,) = emails(app, "Reset your password")
    assert message.to_address == "alice@example.org"
    link = link_in(message)

    form = client.get(link)
    assert form.status_code == 200 and "@alice" in form.text
    assert client.post(link, data={"password": "short"}).status_code == 422
    done = client.post(link, data={"password": NEW_PASSWORD})
    assert done.status_code == 302
    assert signed_in_as(client) == "alice"
    assert signed_in_as(elsewhere) is None
    # Once only.
    again = app.test_client().get(link)
    assert again.status_code == 400 and "does not work any more" in again.text
    assert AuthActions(app.test_client()).login("alice", NEW_PASSWORD).status_code == 302
    with app.app_context():  # the link reached the inbox: the address is confirmed
        assert db.session.scalar(select(User.email_verified_at)) is not None


def test_a_reset_link_expires_after_an_hour(app, make, client, monkeypatch):
    make.user("alice")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 3601)
    request_reset(client, "alice@example.org")
    monkeypatch.undo()
    link = link_in(emails(app, "Reset your password")[0])
    assert client.get(link).status_code == 400
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 400


@pytest.mark.parametrize("token", ["garbage", "x" * 600, "WzEsImFiYyJd.abc.def"])
def test_forged_reset_links_are_refused(client, token):
    assert client.get(f"/auth/reset/{token}").status_code == 400


def test_a_reset_request_answers_the_same_for_unknown_addresses(app, make, client):
    make.user("alice")
    known = request_reset(client, "alice@example.org")
    known_flash = client.get(known.headers["Location"]).text
    unknown_client = app.test_client()
    unknown = request_reset(unknown_client, "nobody@example.org")
    unknown_flash = unknown_client.get(unknown.headers["Location"]).text
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    sentence = "If an account uses that address, a link to choose a new password is on its way."
    assert sentence in known_flash and sentence in unknown_flash
    assert len(emails(app, "Reset your password")) == 1


def test_one_address_with_two_accounts_gets_a_link_for_each(app, make, client):
    make.user("alice")
    second = client.post(
        "/api/v1/users",
        json={"username": "alice2", "email": "alice@example.org", "password": PASSWORD},
    )
    assert second.status_code == 201  # the address being in use is not revealed
    request_reset(client, "alice@example.org")
    bodies = [m.body for m in emails(app, "Reset your password")]
    assert len(bodies) == 2 and "@alice " in bodies[0] and "@alice2 " in bodies[1]


def median_times(first, second, rounds: int) -> tuple[float, float]:
    """Median durations of two calls, taken turn about so that whatever else
    the machine does slows both alike."""
    times: tuple[list, list] = ([], [])
    for _ in range(rounds):
        for call, bucket in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            call()
            bucket.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def test_timings_do_not_tell_which_accounts_exist(app_with):
    # A realistic Argon2 cost, so the verify dominates as in production.
    app = app_with(FORUM_ARGON2_TIME_COST=2, FORUM_ARGON2_MEMORY_KIB=16 * 1024)
    with app.app_context():
        accounts.register("alice", "alice@example.org", PASSWORD)
        db.session.commit()
    client = app.test_client()

    def login(name):
        return lambda: client.post(
            "/api/v1/session", json={"username": name, "password": "wrong password!"}
        )

    def reset(address):
        return lambda: client.post("/auth/reset", data={"email": address})

    for _ in range(3):  # warm up
        login("alice")(), login("nobody")(), reset("a@example.org")()
    known, unknown = median_times(login("alice"), login("nobody"), 21)
    assert abs(known - unknown) < 0.25 * max(known, unknown), (known, unknown)
    known, unknown = median_times(reset("alice@example.org"), reset("nobody@example.org"), 21)
    assert abs(known - unknown) < 0.01, (known, unknown)  # under 10 ms apart


# -- email confirmation ------------------------------------------------------------------


def register(client, name="newbie", address="newbie@example.org"):
    return client.post(
        "/auth/register", data={"username": name, "email": address, "password": PASSWORD}
    )


def post_comment(client, slug):
    return client.post(f"/articles/{slug}/comments", data={"body": "My first comment"})


def test_required_confirmation_holds_posting_until_the_link_is_opened(app_with):
    app = app_with(FORUM_EMAIL_VERIFICATION="required")
    client = app.test_client()
    with app.app_context():
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    assert register(client).status_code == 302
    page = client.get("/articles/a-story")
    assert "Confirm your email address to join in" in page.text
    assert 'id="new-comment"' not in page.text
    refused = post_comment(client, "a-story")
    assert refused.status_code == 403
    token = client.get("/api/v1/session").json  # still signed in, can read
    assert token["user"]["username"] == "newbie"
    api = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "Through the API"},
        headers={"X-CSRFToken": token["csrf_token"]},
    )
    assert api.status_code == 403 and api.json["error"]["code"] == "email_unverified"

    (message,) = emails(app, "Confirm your email address")
    assert client.get(link_in(message)).status_code == 302
    assert post_comment(client, "a-story").status_code == 302
    assert "My first comment" in client.get("/articles/a-story").text


def test_optional_confirmation_sends_the_link_but_does_not_wait(app, client, article):
    assert register(client).status_code == 302
    assert len(emails(app, "Confirm your email address")) == 1
    assert post_comment(client, article).status_code == 302


def test_the_link_can_be_sent_again_and_stale_links_fail(app_with):
    app = app_with(FORUM_EMAIL_VERIFICATION="required")
    client = app.test_client()
    register(client)
    assert client.post("/account/security/verify").status_code == 302
    first, second = emails(app, "Confirm your email address")
    with app.app_context():  # the address changes: links for the old one stop working
        user = db.session.scalar(select(User))
        user.email, user.email_key = "new@example.org", "new@example.org"
        db.session.commit()
    assert client.get(link_in(second)).status_code == 400
    assert client.get("/auth/verify/not-a-token").status_code == 400


def test_registering_with_an_address_in_use_looks_like_any_registration(app, make, client):
    make.user("alice")
    fresh = register(app.test_client(), "someone", "someone@example.org")
    reused = register(client, "another", "alice@example.org")
    assert (fresh.status_code, fresh.headers["Location"]) == (
        reused.status_code,
        reused.headers["Location"],
    )
    assert signed_in_as(client) == "another"


# -- the growing wait after failed sign-ins ---------------------------------------------------


@pytest.fixture
def limited(app_with):
    app = app_with(FORUM_RATELIMIT="on")
    with app.app_context():
        for name in ("alice", "bob"):
            accounts.register(name, f"{name}@example.org", PASSWORD)
        db.session.commit()
    return app


def attempt(client, name, password="wrong password!"):
    return client.post("/auth/login", data={"username": name, "password": password})


def test_failed_sign_ins_make_the_account_name_wait(limited):
    client = limited.test_client()
    assert [attempt(client, "alice").status_code for _ in range(5)] == [401] * 5
    blocked = attempt(client, "alice", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in blocked.text
    assert "<html" in blocked.text  # a readable page
    # Another account from the same address is not held up by alice's failures.
    assert attempt(client, "bob", PASSWORD).status_code == 302
    api = limited.test_client().post(
        "/api/v1/tokens", json={"username": "alice", "password": PASSWORD}
    )
    assert api.status_code == 429 and api.json["error"]["code"] == "rate_limited"


def test_failures_from_one_address_never_lock_the_owner_out_elsewhere(limited):
    attacker = limited.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [attempt(attacker, "alice").status_code for _ in range(30)]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429  # the guesser waits
    owner = limited.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert attempt(owner, "alice", PASSWORD).status_code == 302
    api = limited.test_client()
    api.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    token = api.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    assert token.status_code == 201
    # A second guesser elsewhere starts from nothing, and meets its own wait.
    other = limited.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert [attempt(other, "alice").status_code for _ in range(6)] == [401] * 5 + [429]


def test_a_successful_sign_in_clears_the_count(limited):
    client = limited.test_client()
    for _ in range(4):
        attempt(client, "alice")
    assert attempt(client, "alice", PASSWORD).status_code == 302
    assert [attempt(client, "alice").status_code for _ in range(4)] == [401] * 4


def test_the_wait_grows_with_more_failures(limited, monkeypatch):
    client = limited.test_client()
    for _ in range(5):
        attempt(client, "alice")
    first = int(attempt(client, "alice").headers["Retry-After"])
    # A minute later the first window is free, but ten failures in ten minutes
    # fill the second: the next wait is longer.
    real = time.time
    monkeypatch.setattr(throttle.time, "time", lambda: real() + 61)
    with limited.app_context():
        for item in throttle.PER_NAME[:1]:
            limiter.limiter.clear(item, "signin-name", "alice@127.0.0.1")
        for _ in range(5):
            throttle.failed("alice", "127.0.0.1")
    second = int(attempt(client, "alice").headers["Retry-After"])
    assert second > first


def test_turning_limits_off_turns_the_wait_off(app, make, client):
    make.user("alice")
    assert [attempt(client, "alice").status_code for _ in range(8)] == [401] * 8
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_tokens_made_before_a_reset_stop_working(app, make, client):
    make.user("alice")
    token = token_for(client, "alice")
    request_reset(client, "alice@example.org")
    client.post(link_in(emails(app, "Reset your password")[0]), data={"password": NEW_PASSWORD})
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    assert (
        client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(app_with, make):
    for https, secure in (("0", False), ("1", True)):
        app = app_with(FORUM_HTTPS=https)
        type(make)(app).user(f"user{https}")
        response = app.test_client().post(
            "/auth/login", data={"username": f"user{https}", "password": PASSWORD}
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_posting_is_limited_per_account_across_pages_and_api(limited):
    with limited.app_context():
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    client = limited.test_client()
    AuthActions(client).login("alice")
    pages = [
        client.post("/articles/a-story/comments", data={"body": f"Comment {n}"}).status_code
        for n in range(6)
    ]
    token = token_for(limited.test_client(), "alice")
    api = [
        limited.test_client()
        .post(
            "/api/v1/threads/a-story/comments",
            json={"body": f"API comment {n}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
        for n in range(5)
    ]
    assert pages == [302] * 6
    assert api == [201] * 4 + [429]  # one budget for both ways of posting


def test_posting_is_limited_per_address_whatever_the_account(limited):
    with limited.app_context():
        threads.save_article("a-story", "A story", "Text.")
        for n in range(4):
            accounts.register(f"fresh{n}", f"fresh{n}@example.org", PASSWORD)
        db.session.commit()
    statuses = []
    for n in range(4):
        token = token_for(limited.test_client(), f"fresh{n}")
        for m in range(9):
            statuses.append(
                limited.test_client()
                .post(
                    "/api/v1/threads/a-story/comments",
                    json={"body": f"From account {n}, comment {m}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                .status_code
            )
    assert statuses[:30] == [201] * 30
    assert statuses[30:] == [429] * 6


def test_votes_flags_and_reset_requests_are_limited(limited):
    with limited.app_context():
        threads.save_article("a-story", "A story", "Text.")
        thread = threads.thread_by_key("a-story")
        bob = accounts.find_user("bob")
        made = [
            comments.post_comment(bob, thread, f"Comment number {n} by bob").id for n in range(31)
        ]
        db.session.commit()
    token = token_for(limited.test_client(), "alice")
    bearer = {"Authorization": f"Bearer {token}"}
    client = limited.test_client()

    votes = [
        client.post(f"/api/v1/comments/{made[0]}/votes", json={"value": n % 2}, headers=bearer)
        for n in range(121)
    ]
    assert [v.status_code for v in votes[:120]] == [200] * 120
    assert votes[120].status_code == 429 and votes[120].headers["Retry-After"]

    flags = [
        client.post(f"/api/v1/comments/{cid}/flags", json={"reason": "spam"}, headers=bearer)
        for cid in made
    ]
    assert [f.status_code for f in flags[:30]] == [201] * 30
    assert flags[30].status_code == 429

    resets = [
        limited.test_client().post("/auth/reset", data={"email": "alice@example.org"})
        for _ in range(4)
    ]
    # The fourth is answered as the others, but no fourth email goes out.
    assert [r.status_code for r in resets] == [302] * 4
    assert len(emails(limited, "Reset your password")) == 3


def test_someone_elses_resets_never_keep_the_owner_from_a_working_link(limited):
    attacker = limited.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    asked = [
        attacker.post("/auth/reset", data={"email": "alice@example.org"}).status_code
        for _ in range(11)
    ]
    assert asked == [302] * 10 + [429]  # the asker's own address has its limit
    assert len(emails(limited, "Reset your password")) == 3  # alice's inbox is not flooded
    owner = limited.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    answer = owner.post("/auth/reset", data={"email": "alice@example.org"})
    assert answer.status_code == 302  # never a refusal for her own address
    # The links she has are live: the newest sets her password.
    link = link_in(emails(limited, "Reset your password")[-1])
    changed = owner.post(link, data={"password": NEW_PASSWORD})
    assert changed.status_code == 302
    fresh = limited.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert attempt(fresh, "alice", NEW_PASSWORD).status_code == 302


def test_stepping_through_ones_own_ipv6_network_buys_no_more_guesses(limited):
    statuses = []
    for n in range(1, 9):
        guesser = limited.test_client()
        guesser.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n:x}"  # one /64
        statuses.append(attempt(guesser, "alice").status_code)
    assert statuses == [401] * 5 + [429] * 3
    neighbour = limited.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"  # another subscriber's /64
    assert attempt(neighbour, "alice", PASSWORD).status_code == 302


def test_a_reset_for_the_longest_address_is_sent(limited):
    # 254 characters: the longest an address may be; its counter's key is longer
    # than the column and is kept by its digest.
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".org"
    assert len(address) <= 254
    with limited.app_context():
        accounts.register("longmail", address, PASSWORD)
        db.session.commit()
    answers = [
        limited.test_client().post("/auth/reset", data={"email": address}).status_code
        for _ in range(4)
    ]
    assert answers == [302] * 4
    sent = [m for m in emails(limited, "Reset your password") if m.to_address == address]
    assert len(sent) == 3

"""Guests (FORUM_GUESTS=on): visitors without an account post with a name, through
the API (as the contract's §6 says), the article page's form and the embed's frame,
and a moderator decides; with guests off nothing changes."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, CommentStatus, OutboxMessage, Role, Thread, User
from forum.services.accounts import proof
from forum.services.discussion import sites
from tests.conftest import AuthActions, _serial

ORIGIN = "https://publisher.example"
# Fast proofs (8 bits, the least) and no writing-time hold unless a test asks for them.
EASY = {"new_account_comments": 10**4, "guest_proof_bits": 8, "guest_min_seconds": 0}


@pytest.fixture
def site(app_with):
    def build(guests="on", **settings):
        return app_with(
            FORUM_GUESTS=guests,
            FORUM_EMBED_ORIGINS=ORIGIN,
            FORUM_SETTINGS_DEFAULTS={**EASY, **settings},
        )

    return build


def article(app, slug=None) -> str:
    from forum.services.discussion import threads

    slug = slug or f"story-{next(_serial)}"
    with app.app_context():
        threads.save_article(slug, "A story", "Some text.")
        db.session.commit()
    return slug


def solved(client) -> dict:
    """A proof of work for the challenge the API hands out, solved as a browser would."""
    answer = client.get("/api/v1/guest-challenge")
    assert answer.status_code == 200, answer.json
    challenge, bits = answer.json["challenge"], answer.json["bits"]
    return {"challenge": challenge, "nonce": proof.solve(challenge, bits)}


def guest_post(client, slug, name="Wren", **extra):
    body = {"body": extra.pop("body", "What a twist that would be."), "guest_name": name, **extra}
    return client.post(f"/api/v1/threads/{slug}/comments", json=body)


def stored(app, comment_id) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.refresh(comment)
        _ = comment.author.display_name, comment.author.is_guest
        db.session.expunge_all()
        return comment


# -- off and on ----------------------------------------------------------------------------


def test_with_guests_off_a_visitor_still_gets_401(site):
    app = site(guests="off")
    slug = article(app)
    client = app.test_client()
    response = guest_post(client, slug)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/guest-challenge").status_code == 404
    page = client.get(f"/articles/{slug}").text
    assert 'name="guest_name"' not in page and "to join the discussion" in page


def test_a_guest_posts_through_the_api_and_waits_in_pending(site):
    app = site()
    slug = article(app)
    client = app.test_client()
    response = guest_post(client, slug, "Wren Marlow", guest_proof=solved(client))
    assert response.status_code == 201, response.json
    comment = response.json["comment"]
    assert comment["status"] == "pending"
    assert comment["author"]["display_name"] == "Wren Marlow"
    assert comment["author"]["guest"] is True
    assert "role" not in comment["author"]
    # Readers do not see it until a moderator approves it.
    listed = client.get(f"/api/v1/threads/{slug}/comments").json["comments"]
    assert listed == []
    held = stored(app, comment["id"])
    assert [r["rule"] for r in held.hold_reasons] == ["guest"]
    assert held.author.is_guest


def test_a_moderator_approves_a_guest_and_readers_see_the_guest_mark(site):
    app = site()
    slug = article(app)
    guest = app.test_client()
    posted = guest_post(guest, slug, "Wren", guest_proof=solved(guest)).json["comment"]
    with app.app_context():
        from forum.services.accounts import accounts

        accounts.register("mona", "mona@example.org", "a long password", Role.MODERATOR)
        db.session.commit()
    moderator = app.test_client()
    AuthActions(moderator).login("mona", "a long password")
    queue = moderator.get("/api/v1/moderation/queue/pending").json["items"]
    assert [item["id"] for item in queue] == [posted["id"]]
    assert queue[0]["author"]["guest"] is True
    decided = moderator.post(
        f"/api/v1/moderation/comments/{posted['id']}", json={"action": "approve"}
    )
    assert decided.status_code == 200, decided.json
    reader = app.test_client()
    listed = reader.get(f"/api/v1/threads/{slug}/comments").json["comments"]
    assert [(c["id"], c["author"]) for c in listed] == [
        (
            posted["id"],
            {"username": posted["author"]["username"], "display_name": "Wren", "guest": True},
        )
    ]
    page = reader.get(f"/articles/{slug}").text
    mark = re.search(
        r'<span class="author" dir="auto">Wren</span><span class="author-mark"[^>]*>guest</span>',
        page,
    )
    assert mark, "the article page marks the guest"
    assert f'href="/users/{posted["author"]["username"]}"' not in page  # no profile link


def test_under_post_moderation_a_proven_guest_is_published_at_once(site):
    app = site(guest_moderation="post")
    slug = article(app)
    client = app.test_client()
    answer = guest_post(client, slug, guest_proof=solved(client)).json["comment"]
    assert answer["status"] == "approved"
    # ...but without the proof, or with a spent one, the comment waits.
    reused = solved(client)
    assert (
        guest_post(client, slug, body="First", guest_proof=reused).json["comment"]["status"]
        == "approved"
    )
    again = guest_post(client, slug, body="Second", guest_proof=reused).json["comment"]
    assert again["status"] == "pending"
    assert "used before" in stored(app, again["id"]).hold_reasons[0]["detail"]
    bare = guest_post(client, slug, body="Third").json["comment"]
    assert bare["status"] == "pending"
    assert stored(app, bare["id"]).hold_reasons[0]["rule"] == "guest_unproven"
    wrong = {"challenge": reused["challenge"], "nonce": "1"}
    forged = guest_post(client, slug, body="Fourth", guest_proof=wrong).json["comment"]
    assert forged["status"] == "pending"


def test_a_guest_sending_the_form_within_seconds_waits(site):
    app = site(guest_moderation="post", guest_min_seconds=600)
    slug = article(app)
    client = app.test_client()
    answer = guest_post(client, slug, guest_proof=solved(client)).json["comment"]
    assert answer["status"] == "pending"
    assert stored(app, answer["id"]).hold_reasons[0]["rule"] == "guest_fast"


def test_the_trap_field_sends_robots_to_spam_quietly(site):
    app = site(guest_moderation="post")
    slug = article(app)
    client = app.test_client()
    response = guest_post(
        client, slug, guest_proof=solved(client), guest_website="http://spam.example"
    )
    assert response.status_code == 201
    assert response.json["comment"]["status"] == "pending"  # spam is not announced
    assert stored(app, response.json["comment"]["id"]).status == CommentStatus.SPAM


def test_the_challenge_is_hard_enough_and_checked(site):
    app = site(guest_proof_bits=12)
    client = app.test_client()
    answer = client.get("/api/v1/guest-challenge").json
    assert answer["bits"] == 12 and answer["expires_at"].endswith("Z")
    with app.app_context():
        nonce = proof.solve(answer["challenge"], 12)
        assert proof.check({"challenge": answer["challenge"], "nonce": nonce}).valid
        # Weaker than asked: refused (a nonce good for fewer bits).
        weak = next(
            str(n)
            for n in range(100000)
            if proof.leading_zero_bits(
                hashlib.sha256(f"{answer['challenge']}:{n}".encode()).digest()
            )
            in range(4, 12)
        )
        assert not proof.check({"challenge": answer["challenge"], "nonce": weak}).valid
        assert not proof.check({"challenge": answer["challenge"] + "x", "nonce": nonce}).valid
        db.session.rollback()


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ada", "ADA", "Ada Lovelace", "ada_lovelace", "Ada-Lovelace", "Adá Lövelace",
     "4da L0velace", "Аda", "ɑda", "Forum Staff", "Moderator Jane", "jane (mod)",
     "Moderator", "admin", " a ", "x" * 51, "!!!"],
)  # fmt: skip
def test_a_guest_name_cannot_pass_for_a_reader_or_the_staff(site, name):
    app = site()
    slug = article(app)
    with app.app_context():
        from forum.services.accounts import accounts

        ada = accounts.register("ada_lovelace", "ada@example.org", "a long password")
        ada.display_name = "Ada Lovelace"
        accounts.register("ada", "ada2@example.org", "a long password")
        db.session.commit()
    response = guest_post(app.test_client(), slug, name)
    assert response.status_code == 422, response.json
    assert "guest_name" in response.json["error"]["fields"]


def test_guest_name_and_address_are_checked_and_nothing_is_half_written(site):
    app = site()
    slug = article(app)
    client = app.test_client()
    bad_email = guest_post(client, slug, "Wren", guest_email="not an address")
    assert bad_email.status_code == 422 and "guest_email" in bad_email.json["error"]["fields"]
    empty_body = client.post(
        f"/api/v1/threads/{slug}/comments", json={"body": " ", "guest_name": "Wren"}
    )
    assert empty_body.status_code == 422
    wrong_type = client.post(
        f"/api/v1/threads/{slug}/comments", json={"body": "x", "guest_name": 5}
    )
    assert wrong_type.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(User).where(User.is_guest)) is None
        assert db.session.scalar(select(OutboxMessage)) is None


def test_a_cookie_client_needs_the_csrf_header_and_a_cookieless_one_json(app_with):
    app = app_with(FORUM_GUESTS="on", WTF_CSRF_ENABLED=True, FORUM_SETTINGS_DEFAULTS=EASY)
    slug = article(app)
    client = app.test_client()
    token = client.get("/api/v1/session").json["csrf_token"]  # the session cookie is set now
    refused = guest_post(client, slug)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    ok = client.post(
        f"/api/v1/threads/{slug}/comments",
        json={"body": "Hello", "guest_name": "Wren"},
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 201, ok.json
    # Without any cookie (the embed's frame): no ambient identity to abuse, but only JSON.
    bare = app.test_client()
    form = bare.post(
        f"/api/v1/threads/{slug}/comments",
        data="body=hi&guest_name=Wren",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415
    assert guest_post(bare, slug, body="From the frame").status_code == 201
    assert "Set-Cookie" not in guest_post(bare, slug, body="Again from the frame").headers


def test_guests_have_their_own_budget_per_address(app_with):
    app = app_with(FORUM_GUESTS="on", FORUM_RATELIMIT="on", FORUM_SETTINGS_DEFAULTS=EASY)
    slug = article(app)
    client = app.test_client()
    answers = [guest_post(client, slug, body=f"Comment {n}").status_code for n in range(4)]
    assert answers == [201, 201, 201, 429]
    assert guest_post(client, slug, body="Later").headers["Retry-After"]


def test_a_thread_or_its_site_can_turn_guests_away(site):
    app = site()
    slug = article(app)
    with app.app_context():
        thread = db.session.scalar(select(Thread).where(Thread.key == slug))
        thread.allow_guests = False
        db.session.commit()
    assert guest_post(app.test_client(), slug).status_code == 401
    with app.app_context():
        from forum.services.discussion import threads

        embedded, _ = threads.thread_for_embed("page-1", ORIGIN, "A page", f"{ORIGIN}/1")
        db.session.commit()
        key = embedded.key
    assert guest_post(app.test_client(), key, body="On the page").status_code == 201
    with app.app_context():
        from forum.services.accounts import accounts

        accounts.register("ada", "ada@example.org", "a long password", Role.ADMIN)
        db.session.commit()
    admin = app.test_client()
    AuthActions(admin).login("ada", "a long password")
    listing = admin.get("/moderation/embedding/").text
    assert "guests welcome" in listing and "Turn guests away" in listing
    done = admin.post(
        "/moderation/embedding/origins/guests",
        data={"origin": ORIGIN, "guests": "0"},
        follow_redirects=True,
    )
    assert f"Guests are turned away on {ORIGIN}." in done.text
    assert guest_post(app.test_client(), key, body="Turned away").status_code == 401
    frame = app.test_client().get(f"/embed/threads/{key}?origin={ORIGIN}").text
    assert 'data-guests="off"' in frame
    with app.app_context():
        assert sites.site_for(ORIGIN).allow_guests is False


# -- the article page ---------------------------------------------------------------------------


def test_a_guest_posts_from_the_article_page(site):
    app = site()
    slug = article(app)
    client = app.test_client()
    page = client.get(f"/articles/{slug}").text
    assert 'name="guest_name"' in page and 'class="trap"' in page
    assert 'data-challenge="/api/v1/guest-challenge"' in page
    challenge = solved(client)
    response = client.post(
        f"/articles/{slug}/comments",
        data={
            "body": "From the page",
            "guest_name": "Wren",
            "guest_email": "wren@example.org",
            "proof_challenge": challenge["challenge"],
            "proof_nonce": challenge["nonce"],
        },
    )
    assert response.status_code == 302
    followed = client.get(response.location.split("#")[0])
    assert "awaiting moderation" in followed.text
    with app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.body == "From the page"))
        assert comment.author.is_guest and comment.author.display_name == "Wren"
        assert [r["rule"] for r in comment.hold_reasons] == ["guest"]
        mail = db.session.scalar(select(OutboxMessage))
        assert mail.to_address == "wren@example.org" and "/guests/confirm/" in mail.body
    # The same browser posting again under the same name is the same guest.
    client.post(
        f"/articles/{slug}/comments",
        data={"body": "Second", "guest_name": "Wren", "guest_email": "wren@example.org"},
    )
    with app.app_context():
        assert len(db.session.scalars(select(User).where(User.is_guest)).all()) == 1
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 1  # one link is enough


def test_a_signed_out_page_without_guests_still_sends_visitors_to_sign_in(site):
    app = site(guests="off")
    slug = article(app)
    response = app.test_client().post(
        f"/articles/{slug}/comments", data={"body": "x", "guest_name": "Wren"}
    )
    assert response.status_code == 302 and "/auth/login" in response.location


# -- the address, and claiming ----------------------------------------------------------------


def confirm_link(app) -> str:
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        return re.search(r"/guests/confirm/\S+", mail.body).group(0)


def test_the_address_is_confirmed_once_by_a_button_then_replies_are_mailed(site, make):
    app = site(guest_moderation="post")
    slug = article(app)
    guest = app.test_client()
    posted = guest_post(guest, slug, guest_email="wren@example.org", guest_proof=solved(guest))
    assert posted.status_code == 201
    link = confirm_link(app)
    with app.app_context():
        wren = db.session.scalar(select(User).where(User.is_guest))
        assert wren.email_verified_at is None and wren.email_kinds == []
    shown = guest.get(link)
    assert shown.status_code == 200 and "Confirm my address" in shown.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.is_guest)).email_verified_at is None
    assert guest.post(link).status_code == 200
    assert guest.post(link).status_code == 400  # once
    with app.app_context():
        wren = db.session.scalar(select(User).where(User.is_guest))
        assert wren.email_verified_at is not None and wren.email_kinds == ["reply"]
    # A reader answers: the reply reaches the guest's confirmed address.
    ben = make.user("ben")
    make.comment(ben, slug, "The keeper was never there.", parent_id=posted.json["comment"]["id"])
    with app.app_context():
        mailed = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.to_address == "wren@example.org")
        ).all()
    assert len(mailed) == 2, mailed  # the confirmation, then the reply


def test_a_reader_with_the_same_confirmed_address_takes_over_guest_comments(site):
    app = site(guest_moderation="post")
    slug = article(app)
    guest = app.test_client()
    first = guest_post(guest, slug, guest_email="Wren@Example.org", guest_proof=solved(guest)).json[
        "comment"
    ]
    guest.post(confirm_link(app))
    with app.app_context():
        from forum.models import utcnow
        from forum.services.accounts import accounts

        accounts.register("wren", "wren@example.org", "a long password")
        other = accounts.register("mallory", "mallory@example.org", "a long password")
        other.email_verified_at = utcnow()
        db.session.commit()
    reader = app.test_client()
    AuthActions(reader).login("wren", "a long password")
    # Not before the reader's own address is confirmed.
    assert "Comments you wrote as a guest" not in reader.get("/account/security").text
    reader.post("/account/guest-comments")
    assert stored(app, first["id"]).author.is_guest
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "wren")).email_verified_at = utcnow()
        db.session.commit()
    assert "Comments you wrote as a guest" in reader.get("/account/security").text
    done = reader.post("/account/guest-comments", follow_redirects=True)
    assert "1 comment you wrote as a guest now show" in done.text
    assert stored(app, first["id"]).author.username == "wren"
    listed = app.test_client().get(f"/api/v1/threads/{slug}/comments").json["comments"]
    assert listed[0]["author"] == {"username": "wren", "display_name": "wren"}
    # Someone else cannot take them, nor can the same reader twice.
    mallory = app.test_client()
    AuthActions(mallory).login("mallory", "a long password")
    mallory.post("/account/guest-comments")
    assert stored(app, first["id"]).author.username == "wren"


def test_moderators_turn_guests_away_from_a_thread_by_page_and_api(site):
    app = site()
    slug = article(app)
    with app.app_context():
        from forum.services.accounts import accounts

        accounts.register("mona", "mona@example.org", "a long password", Role.ADMIN)
        db.session.commit()
    moderator = app.test_client()
    AuthActions(moderator).login("mona", "a long password")
    page = moderator.get(f"/articles/{slug}").text
    assert 'name="guests"' in page
    moderator.post(
        f"/moderation/threads/{slug}", data={"guests": "off", "next": f"/articles/{slug}"}
    )
    assert guest_post(app.test_client(), slug).status_code == 401
    assert 'name="guest_name"' not in app.test_client().get(f"/articles/{slug}").text
    answer = moderator.patch(f"/api/v1/moderation/threads/{slug}", json={"guests": True})
    assert answer.status_code == 200
    assert guest_post(app.test_client(), slug).status_code == 201
    assert (
        moderator.patch(f"/api/v1/moderation/threads/{slug}", json={"guests": "yes"}).status_code
        == 422
    )
    log = moderator.get("/api/v1/moderation/log").json["entries"]
    assert any(e["before"].get("guests") is True and e["after"].get("guests") is False for e in log)


def test_the_moderation_hook_is_told_the_author_is_a_guest(site):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answer = b'{"action": "approve"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        app = site(hook_url=f"http://127.0.0.1:{server.server_port}/hook")
        slug = article(app)
        assert guest_post(app.test_client(), slug, "Wren").status_code == 201
    finally:
        server.shutdown()
        server.server_close()
    assert received[0]["author"]["guest"] is True
    assert received[0]["author"]["display_name"] == "Wren"


# -- marks beside every author ------------------------------------------------------------------


def test_staff_carry_their_role_and_readers_their_badges_everywhere(site):
    app = site()
    slug = article(app)
    with app.app_context():
        from forum.services.accounts import accounts
        from forum.services.discussion import comments, threads

        thread = threads.thread_by_key(slug)
        mona = accounts.register("mona", "mona@example.org", "a long password", Role.MODERATOR)
        sub = accounts.register("sub", "sub@example.org", "a long password")
        sub.badges = ["subscriber"]
        plain = accounts.register("plain", "plain@example.org", "a long password")
        ids = {
            user.username: comments.post_comment(user, thread, f"Said by {user.username}").id
            for user in (mona, sub, plain)
        }
        db.session.commit()
    client = app.test_client()
    listed = client.get(f"/api/v1/threads/{slug}/comments").json["comments"]
    authors = {c["id"]: c["author"] for c in listed}
    assert authors[ids["mona"]] == {"username": "mona", "display_name": "mona", "role": "moderator"}
    assert authors[ids["sub"]] == {
        "username": "sub",
        "display_name": "sub",
        "badges": ["subscriber"],
    }
    assert authors[ids["plain"]] == {"username": "plain", "display_name": "plain"}
    one = client.get(f"/api/v1/comments/{ids['mona']}").json["comment"]["author"]
    assert one["role"] == "moderator"
    page = client.get(f"/articles/{slug}").text
    mona_html = page[page.index(f'id="c{ids["mona"]}"') :][:2000]
    assert '<span class="author-mark staff">moderator</span>' in mona_html
    sub_html = page[page.index(f'id="c{ids["sub"]}"') :][:2000]
    assert '<span class="author-mark">subscriber</span>' in sub_html
    plain_html = page[page.index(f'id="c{ids["plain"]}"') :][:1500]
    assert "author-mark" not in plain_html.split("</header>")[0]


def test_a_guest_retrying_from_the_frame_gets_the_same_comment_back(site):
    """The embed's frame has no session to remember its guest by: the retry of a
    submission (same Idempotency-Key) finds its guest by the key and gets the
    first comment, not a second one."""
    app = site()
    slug = article(app)
    frame = app.test_client()  # never holds a cookie: nothing sets one for it
    send = lambda name, key: frame.post(  # noqa: E731
        f"/api/v1/threads/{slug}/comments",
        json={"body": "Lost in the tunnel?", "guest_name": name},
        headers={"Idempotency-Key": key},
    )
    first = send("Wren", "retry-1")
    again = send("Wren", "retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["comment"]["id"] == first.json["comment"]["id"]
    # Someone else who sends the same key under another name gets nothing of it.
    other = send("Juniper", "retry-1")
    assert other.status_code == 201 and other.json["comment"]["id"] != first.json["comment"]["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 2
        assert db.session.scalar(select(func.count(User.id)).where(User.is_guest)) == 2


def test_the_forum_cannot_be_made_to_mail_a_stranger_again_and_again(app_with):
    """Each comment from the embed's frame is its own guest; the confirmation
    mails to one address stop at three a day, whoever sends them."""
    app = app_with(FORUM_GUESTS="on", FORUM_RATELIMIT="on", FORUM_SETTINGS_DEFAULTS=EASY)
    slug = article(app)
    for n in range(5):
        client = app.test_client()
        answer = client.post(
            f"/api/v1/threads/{slug}/comments",
            json={"body": f"Hi {n}", "guest_name": "Visitor", "guest_email": "victim@example.org"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
        )
        assert answer.status_code == 201, answer.json
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert mails == ["victim@example.org"] * 3

"""Moderators are told what waits: the alerts a hold writes, each moderator's
digest email (immediate, hourly, daily or off) through the outbox and a real
SMTP server, and the alerts webhook (generic, Slack, Discord) to a real HTTP
receiver on 127.0.0.1, signed, retried, never sent twice."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import logging
import socket
import threading
from datetime import timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from forum.errors import ValidationError
from forum.extensions import db
from forum.models import (
    OUTBOX_WEBHOOK,
    AlertFrequency,
    AuditEntry,
    Comment,
    CommentStatus,
    ModeratorAlert,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from forum.services import settings
from forum.services.moderation import decisions, flags
from forum.services.notify import alerts, outbox

BASE = "https://forum.example"
SUSPECT = "zeppelin"  # a suspect word: a comment with it waits in Pending
SECRET = "alert-signing-secret"
HOOK_PATH = "/services/T000/B000/xoxb-path-token"  # a Slack-like address: a secret too


# -- a real SMTP server and a real webhook receiver on 127.0.0.1 ------------------------


class Mailbox:
    """aiosmtpd handler keeping each message."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    yield mailbox
    controller.stop()


@pytest.fixture
def dead_port():
    """A port bound but not listening: connecting is refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


class Receiver:
    """An HTTP server in a thread that keeps every POST and answers each with the
    next status of `answers` (200 once they run out)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}{HOOK_PATH}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def json(self, index: int = -1) -> dict:
        return json.loads(self.calls[index]["body"])


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture(autouse=True)
def mail_and_links(app, tmp_path):
    """Nothing written to the real instance/outbox; links from FORUM_BASE_URL."""
    app.config["FORUM_OUTBOX_DIR"] = str(tmp_path / "outbox")
    app.config["FORUM_SMTP_URL"] = None
    app.config["FORUM_BASE_URL"] = BASE


# -- helpers -------------------------------------------------------------------------------


def configure(app, **values):
    with app.app_context():
        settings.save(settings.parse(settings.as_form(values)))
        db.session.commit()


def choose(app, user: User, frequency: AlertFrequency) -> None:
    with app.app_context():
        db.session.get(User, user.id).moderation_alerts = frequency
        db.session.commit()


def hold(make, author: User, slug: str, words: str = "") -> int:
    """A comment the suspect-word rule holds in Pending; its id."""
    return make.comment(author, slug, f"The {SUSPECT} did it {words}".strip())


def alert_rows(app) -> list[tuple[str, int, str, bool]]:
    with app.app_context():
        rows = db.session.execute(
            select(User.username, ModeratorAlert.comment_id, ModeratorAlert.reason)
            .join(User, User.id == ModeratorAlert.user_id)
            .order_by(ModeratorAlert.id)
        ).all()
        return [tuple(row) for row in rows]


def alerted_at(app, comment_id: int, moment) -> None:
    with app.app_context():
        db.session.execute(
            update(ModeratorAlert)
            .where(ModeratorAlert.comment_id == comment_id)
            .values(created_at=moment)
        )
        db.session.commit()


def digests(app, now=None) -> int:
    with app.app_context():
        return alerts.queue_digests(now=now)


def emails(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "email").order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return found


def webhook_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == OUTBOX_WEBHOOK)
            .order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return found


def send(app) -> outbox.PassResult:
    with app.app_context():
        return outbox.send_due()


def make_due(app) -> None:
    """Time passes: every unsent message is due again (after a failure's backoff)."""
    with app.app_context():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


@pytest.fixture
def story(make):
    return make.article("the-lantern", "The Lantern Coast")


@pytest.fixture
def staff(make):
    """A moderator on each choice, an admin (who moderates too) and a reader."""
    people = {
        "mona": make.user("mona", role=Role.MODERATOR),  # daily, the default
        "otto": make.user("otto", role=Role.MODERATOR),
        "hazel": make.user("hazel", role=Role.MODERATOR),
        "quiet": make.user("quiet", role=Role.MODERATOR),
        "ada": make.user("ada", role=Role.ADMIN),
        "lena": make.user("lena"),
    }
    app = make.app
    choose(app, people["otto"], AlertFrequency.IMMEDIATE)
    choose(app, people["hazel"], AlertFrequency.HOURLY)
    choose(app, people["quiet"], AlertFrequency.OFF)
    choose(app, people["ada"], AlertFrequency.IMMEDIATE)
    configure(app, suspect_words=[SUSPECT])
    return people


# -- what a hold writes ------------------------------------------------------------------------


def test_a_hold_alerts_every_moderator_who_wants_email(app, make, story, staff):
    assert make.get(User, staff["mona"].id).moderation_alerts == AlertFrequency.DAILY  # default
    make.comment(staff["lena"], story, "Nothing to hold here.")
    assert alert_rows(app) == []  # published at once: nobody is told

    cid = hold(make, staff["lena"], story)
    told = sorted(name for name, _cid, _reason in alert_rows(app))
    assert told == ["ada", "hazel", "mona", "otto"]  # not "quiet" (off), not the reader
    assert {(c, r) for _n, c, r in alert_rows(app)} == {(cid, "held")}


def test_the_alerts_are_part_of_the_holds_transaction(app, story, staff):
    with app.app_context():
        from forum.services.discussion import comments, threads

        thread = threads.thread_by_key(story)
        comments.post_comment(db.session.get(User, staff["lena"].id), thread, f"a {SUSPECT}")
        assert db.session.scalar(select(func.count(ModeratorAlert.id))) == 4
        db.session.rollback()  # the request failed: nobody hears of it
    assert alert_rows(app) == []


def test_spam_and_edits_alert_too(app, make, story, staff):
    configure(app, banned_words=["tidebreaker"], banned_action="spam")
    spam = make.comment(staff["lena"], story, "tidebreaker tidebreaker")
    assert {(c, r) for _n, c, r in alert_rows(app)} == {(spam, "spam")}

    with app.app_context():
        from forum.services.discussion import comments

        clean = comments.post_comment(
            db.session.get(User, staff["lena"].id),
            db.session.scalar(select(Comment).where(Comment.id == spam)).thread,
            "An innocent remark.",
        )
        db.session.commit()
        clean_id = clean.id
        comments.edit_comment(
            db.session.get(User, staff["lena"].id),
            db.session.get(Comment, clean_id),
            f"An innocent {SUSPECT}.",
        )
        db.session.commit()
    assert (clean_id, "held") in {(c, r) for _n, c, r in alert_rows(app)}


def test_reports_that_hide_a_comment_alert_the_moderators(app, make, story, staff):
    cid = make.comment(staff["lena"], story, "A comment readers dislike.")
    readers = [make.user(f"reporter{i}") for i in range(3)]
    for reporter in readers:
        with app.app_context():
            flags.flag(db.session.get(User, reporter.id), db.session.get(Comment, cid), "abuse")
            db.session.commit()
    assert make.get(Comment, cid).status == CommentStatus.PENDING  # hidden by the third
    assert {(c, r) for _n, c, r in alert_rows(app)} == {(cid, "reported")}
    assert digests(app) == 2  # otto and ada, immediately
    body = emails(app)[0].body
    assert "Hidden by readers' reports on “The Lantern Coast”" in body
    assert "Why: Hidden after 3 reader reports" in body
    assert f"{BASE}/moderation/queue/reported#item-{cid}" in body


# -- the digests -------------------------------------------------------------------------------


def test_immediate_digest_groups_a_burst_and_is_sent_once(app, make, story, staff, smtp):
    ids = [hold(make, staff["lena"], story, f"number {n}") for n in range(3)]
    # Two passes at once find the same alerts; one digest each for otto and ada.
    assert digests(app) == 2
    assert digests(app) == 0  # nothing is told twice
    queued = emails(app)
    assert sorted(m.to_address for m in queued) == ["ada@example.org", "otto@example.org"]
    message = queued[0]
    assert message.subject == "3 comments wait for moderation"
    body = message.body
    for n, cid in enumerate(ids):
        assert f"“The {SUSPECT} did it number {n}”" in body
        assert f"{BASE}/moderation/queue/pending#item-{cid}" in body  # never a request's host
    assert body.count("Held for review on “The Lantern Coast”") == 3
    assert f"Why: Suspect words: {SUSPECT}" in body
    assert f"lena wrote: “The {SUSPECT} did it number 0”" in body
    assert f"{BASE}/account/notifications#moderation-alerts" in body
    assert "as they happen" in body

    app.config["FORUM_SMTP_URL"] = smtp.url
    assert send(app).sent == 2
    assert send(app).sent == 0
    assert len(smtp.messages) == 2
    received = {m["To"]: m for m in smtp.messages}["otto@example.org"]
    assert received["Subject"] == "3 comments wait for moderation"
    assert f"{BASE}/moderation/queue/pending#item-{ids[0]}" in received.get_content()


def test_hourly_and_daily_digests_wait_their_time(app, make, story, staff):
    choose(app, staff["otto"], AlertFrequency.OFF)
    choose(app, staff["ada"], AlertFrequency.OFF)
    first = hold(make, staff["lena"], story, "first")
    t0 = utcnow()
    assert digests(app, t0 + timedelta(minutes=30)) == 0  # hazel's hour has not passed
    second = hold(make, staff["lena"], story, "second")
    assert digests(app, t0 + timedelta(minutes=61)) == 1  # hazel: both, in one email
    hourly = emails(app)
    assert [m.to_address for m in hourly] == ["hazel@example.org"]
    assert f"#item-{first}" in hourly[0].body and f"#item-{second}" in hourly[0].body
    assert "an hourly digest" in hourly[0].body

    third = hold(make, staff["lena"], story, "third")
    alerted_at(app, third, t0 + timedelta(minutes=70))  # as if it came then
    # An hour after the first alert of the new batch, not after the last email.
    assert digests(app, t0 + timedelta(minutes=90)) == 0
    assert digests(app, t0 + timedelta(minutes=131)) == 1  # hazel: the third only
    assert f"#item-{third}" in emails(app)[-1].body
    assert f"#item-{first}" not in emails(app)[-1].body

    assert digests(app, t0 + timedelta(hours=25)) == 1  # mona's day: all three
    daily = emails(app)[-1]
    assert daily.to_address == "mona@example.org"
    assert all(f"#item-{cid}" in daily.body for cid in (first, second, third))
    assert "a daily digest" in daily.body
    assert digests(app, t0 + timedelta(days=3)) == 0  # and never again


def test_a_digest_lists_only_what_still_waits(app, make, story, staff):
    decided = hold(make, staff["lena"], story, "decided")
    waiting = hold(make, staff["lena"], story, "waiting")
    with app.app_context():
        decisions.act(
            db.session.get(User, staff["mona"].id), db.session.get(Comment, decided), "approve"
        )
        db.session.commit()
    assert digests(app) == 2
    body = emails(app)[0].body
    assert f"#item-{waiting}" in body and f"#item-{decided}" not in body
    assert emails(app)[0].subject == "1 comment waits for moderation"

    # Everything decided before the next digest: no email at all.
    gone = hold(make, staff["lena"], story, "gone")
    with app.app_context():
        decisions.act(
            db.session.get(User, staff["mona"].id), db.session.get(Comment, gone), "reject"
        )
        db.session.commit()
    assert digests(app) == 0
    assert len(emails(app)) == 2
    with app.app_context():  # and those alerts are done with
        assert (
            db.session.scalar(
                select(func.count(ModeratorAlert.id)).where(
                    ModeratorAlert.comment_id == gone,
                    ModeratorAlert.queued_at.is_(None),
                    ModeratorAlert.user_id == staff["otto"].id,
                )
            )
            == 0
        )


def test_a_digest_speaks_the_moderators_language(app, make, story, staff):
    with app.app_context():
        db.session.get(User, staff["otto"].id).locale = "es"
        db.session.commit()
    hold(make, staff["lena"], story)
    assert digests(app) == 2
    by_address = {m.to_address: m.body for m in emails(app)}
    assert f"Palabras sospechosas: {SUSPECT}" in by_address["otto@example.org"]
    assert f"Suspect words: {SUSPECT}" in by_address["ada@example.org"]


def test_the_long_digest_counts_the_rest(app, make, story, staff):
    ids = [hold(make, staff["lena"], story, f"n{n}") for n in range(alerts.DIGEST_ITEMS + 2)]
    assert digests(app) == 2
    body = emails(app)[0].body
    assert "…and 2 more." in body
    assert f"#item-{ids[0]}" in body and f"#item-{ids[-1]}" not in body
    assert f"{BASE}/moderation/" in body


def test_concurrent_passes_write_each_digest_once(app, make, story, staff):
    for n in range(5):
        hold(make, staff["lena"], story, f"n{n}")
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            with app.app_context():
                barrier.wait(5)
                alerts.queue_digests()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    assert sorted(m.to_address for m in emails(app)) == ["ada@example.org", "otto@example.org"]


def test_a_failed_digest_is_retried_and_sent_once(app, make, story, staff, smtp, dead_port):
    hold(make, staff["lena"], story)
    assert digests(app) == 2
    app.config["FORUM_SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    result = send(app)
    assert (result.sent, result.failed) == (0, 1)  # the server is down: the pass stops
    failed = [m for m in emails(app) if m.last_error]
    assert failed and failed[0].next_attempt_at > utcnow() + timedelta(minutes=1)
    assert send(app).sent == 0  # backing off

    app.config["FORUM_SMTP_URL"] = smtp.url
    make_due(app)
    assert send(app).sent == 2
    assert digests(app) == 0 and send(app).sent == 0
    assert sorted(m["To"] for m in smtp.messages) == ["ada@example.org", "otto@example.org"]


def test_off_and_demoted_moderators_hear_nothing(app, make, story, staff):
    hold(make, staff["lena"], story)
    with app.app_context():
        alerts.set_frequency(db.session.get(User, staff["hazel"].id), "off")
        db.session.get(User, staff["ada"].id).role = Role.READER  # no longer staff
        db.session.commit()
    assert digests(app, utcnow() + timedelta(days=2)) == 2  # otto and mona
    assert sorted(m.to_address for m in emails(app)) == ["mona@example.org", "otto@example.org"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(ModeratorAlert.id)).where(ModeratorAlert.queued_at.is_(None))
            )
            == 0
        )


def test_choosing_checks_the_value_and_the_role(app, staff):
    with app.app_context():
        with pytest.raises(ValidationError) as refused:
            alerts.set_frequency(db.session.get(User, staff["mona"].id), "weekly")
        assert "immediate, hourly, daily, off" in refused.value.fields["frequency"]
        from forum.errors import Forbidden

        with pytest.raises(Forbidden):
            alerts.set_frequency(db.session.get(User, staff["lena"].id), "hourly")


def test_old_queued_alerts_are_cleared_away(app, make, story, staff):
    hold(make, staff["lena"], story)
    assert digests(app) == 2
    with app.app_context():
        kept = db.session.scalar(select(func.count(ModeratorAlert.id)))
    assert kept == 4  # queued (otto, ada) and waiting (mona, hazel)
    hold(make, staff["lena"], story, "later")
    digests(app, utcnow() + alerts.KEEP + timedelta(days=1))
    with app.app_context():
        # Everything is queued by then, and the first pass's rows are past KEEP.
        assert (
            db.session.scalar(
                select(func.count(ModeratorAlert.id)).where(ModeratorAlert.queued_at.is_(None))
            )
            == 0
        )


def test_mail_send_command_writes_the_due_digests(app, make, story, staff, runner, smtp):
    hold(make, staff["lena"], story)
    app.config["FORUM_SMTP_URL"] = smtp.url
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Queued 2 moderators' digest(s)." in result.output
    assert "Sent 2, failed 0." in result.output
    assert "Sent 0, failed 0." in runner.invoke(args=["mail", "send"]).output


# -- the webhook ----------------------------------------------------------------------------


def signature(body: bytes, key: str = SECRET) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_generic_webhook_is_signed_sent_once_from_the_outbox(app, make, story, staff, receiver):
    configure(app, alert_webhook_url=receiver.url, alert_webhook_secret=SECRET)
    cid = hold(make, staff["lena"], story)
    queued = webhook_rows(app)
    assert len(queued) == 1 and queued[0].comment_id == cid
    assert receiver.calls == []  # nothing is sent inside the request

    result = send(app)
    assert (result.sent, result.failed) == (1, 0)
    assert send(app).sent == 0  # never twice
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call["path"] == HOOK_PATH
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["X-Forum-Signature"] == signature(call["body"])
    assert call["headers"]["X-Forum-Event"] == "comment.held"
    assert call["headers"]["X-Forum-Delivery"] == str(queued[0].id)
    data = receiver.json()
    assert data["event"] == "comment.held" and data["status"] == "pending"
    assert data["reasons"] == [{"rule": "suspect_word", "detail": f"Suspect: {SUSPECT}"}]
    assert data["comment"]["id"] == cid
    assert data["comment"]["excerpt"] == f"The {SUSPECT} did it"
    assert data["comment"]["author"] == {"username": "lena", "display_name": "lena", "guest": False}
    assert data["comment"]["url"] == f"{BASE}/comments/{cid}"
    assert data["thread"] == {
        "key": story,
        "title": "The Lantern Coast",
        "url": f"{BASE}/articles/{story}",
    }
    assert data["queue_url"] == f"{BASE}/moderation/queue/pending#item-{cid}"
    assert data["created_at"].endswith("Z")
    assert "Held for review on “The Lantern Coast”" in data["text"]


def test_the_webhook_is_part_of_the_holds_transaction(app, story, staff, receiver):
    configure(app, alert_webhook_url=receiver.url)
    with app.app_context():
        from forum.services.discussion import comments, threads

        thread = threads.thread_by_key(story)
        comments.post_comment(db.session.get(User, staff["lena"].id), thread, f"a {SUSPECT}")
        db.session.rollback()
    assert webhook_rows(app) == []
    assert send(app).sent == 0 and receiver.calls == []


@pytest.mark.parametrize("style", ["slack", "discord"])
def test_slack_and_discord_payloads(app, make, story, staff, receiver, style):
    configure(
        app, alert_webhook_url=receiver.url, alert_webhook_format=style, alert_webhook_secret=SECRET
    )
    # Words that would ping a whole channel, or a server, if passed on as they are.
    cid = make.comment(staff["lena"], story, f"<!channel> @everyone the {SUSPECT} <b>")
    assert send(app).sent == 1
    call = receiver.calls[0]
    assert call["headers"]["X-Forum-Signature"] == signature(call["body"])
    data = receiver.json()
    link = f"{BASE}/moderation/queue/pending#item-{cid}"
    if style == "slack":
        assert set(data) == {"text"}
        text = data["text"]
        assert "&lt;!channel&gt; @everyone" in text and "<!channel>" not in text
        assert f"<{link}|Review it in the queue>" in text
    else:
        assert set(data) == {"content", "allowed_mentions", "flags"}
        assert data["allowed_mentions"] == {"parse": []}  # no @everyone
        text = data["content"]
        assert f"Review it in the queue: {link}" in text
        assert len(text) <= 2000
    assert "Held for review on “The Lantern Coast”" in text
    assert f"Why: Suspect words: {SUSPECT}" in text


def test_a_long_comment_fits_discords_limit(app, make, story, staff, receiver):
    configure(app, alert_webhook_url=receiver.url, alert_webhook_format="discord")
    make.comment(staff["lena"], story, f"{SUSPECT} " + "word " * 1500)
    assert send(app).sent == 1
    assert len(receiver.json()["content"]) <= 2000
    assert "X-Forum-Signature" not in receiver.calls[0]["headers"]  # no secret: unsigned


def test_a_failed_webhook_is_retried_with_backoff_and_logged_without_secrets(
    app, make, story, staff, receiver, caplog
):
    configure(app, alert_webhook_url=receiver.url, alert_webhook_secret=SECRET)
    hold(make, staff["lena"], story)
    receiver.answers = [503]
    with caplog.at_level(logging.WARNING):
        result = send(app)
    assert (result.sent, result.failed) == (0, 1)
    row = webhook_rows(app)[0]
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error == "WebhookError: webhook to 127.0.0.1: HTTP 503"
    assert row.next_attempt_at > utcnow() + timedelta(minutes=1)
    logged = caplog.text
    assert "webhook to 127.0.0.1: HTTP 503" in logged
    assert HOOK_PATH not in logged and "xoxb" not in logged and SECRET not in logged
    assert send(app).sent == 0  # backing off

    make_due(app)
    assert send(app).sent == 1
    assert send(app).sent == 0
    assert len(receiver.calls) == 2  # the failed call and the one retry
    assert receiver.calls[0]["body"] == receiver.calls[1]["body"]
    assert (
        receiver.calls[0]["headers"]["X-Forum-Delivery"]
        == receiver.calls[1]["headers"]["X-Forum-Delivery"]
    )


def test_an_unreachable_webhook_does_not_hold_back_the_mail(
    app, make, story, staff, smtp, dead_port, caplog
):
    url = f"http://127.0.0.1:{dead_port}{HOOK_PATH}"
    configure(app, alert_webhook_url=url)
    hold(make, staff["lena"], story)
    hold(make, staff["lena"], story, "again")
    assert digests(app) == 2
    app.config["FORUM_SMTP_URL"] = smtp.url
    with caplog.at_level(logging.WARNING):
        result = send(app)
    # The first call is refused, the second waits for the next pass; the mail goes.
    assert (result.sent, result.failed) == (2, 1)
    assert len(smtp.messages) == 2
    rows = webhook_rows(app)
    assert rows[0].last_error.startswith("WebhookError: webhook to 127.0.0.1: ")
    assert "Connection refused" in rows[0].last_error
    assert rows[1].attempts == 0
    assert HOOK_PATH not in caplog.text


def test_a_changed_webhook_address_is_not_called_with_old_alerts(app, make, story, staff, receiver):
    configure(app, alert_webhook_url=receiver.url)
    hold(make, staff["lena"], story)
    configure(app, alert_webhook_url="")
    result = send(app)
    assert (result.sent, result.gave_up) == (0, 1)
    assert receiver.calls == []
    assert "changed since this was queued" in webhook_rows(app)[0].last_error
    assert send(app).failed == 0  # given up, not retried


def test_webhook_settings_are_checked_and_the_secret_kept_hidden(app, staff):
    with app.app_context():
        with pytest.raises(ValidationError) as refused:
            settings.parse(
                settings.as_form(
                    {"alert_webhook_url": "ftp://example.org/x", "alert_webhook_format": "teams"}
                )
            )
        assert set(refused.value.fields) == {"alert_webhook_url", "alert_webhook_format"}
        from forum.services.moderation import controls

        controls.change_settings(
            db.session.get(User, staff["ada"].id),
            settings.as_form(
                {"alert_webhook_url": "https://hooks.example/x", "alert_webhook_secret": SECRET}
            ),
        )
        db.session.commit()
        shown = settings.public(settings.current())
        assert shown["alert_webhook_secret"] is True
        assert shown["alert_webhook_url"] == "https://hooks.example/x"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings"))
        assert SECRET not in json.dumps([entry.before, entry.after])
        assert settings.secret(settings.current(), "alert_webhook_secret") == SECRET


def test_a_moderators_own_comment_is_never_an_alert_to_them(app, make, story, staff):
    # A moderator's comment skips the rules; readers' reports can still hide it.
    cid = make.comment(staff["mona"], story, "Staff remark.")
    for n in range(3):
        reporter = make.user(f"flagger{n}")
        with app.app_context():
            flags.flag(db.session.get(User, reporter.id), db.session.get(Comment, cid), "spam")
            db.session.commit()
    told = {name for name, _c, _r in alert_rows(app)}
    assert "mona" not in told and told == {"otto", "hazel", "ada"}

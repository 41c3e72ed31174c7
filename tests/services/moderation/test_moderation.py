"""Moderation through the JSON API and the services: decisions, conflicts,
flags, bans, notes, thread settings, modes and the queues."""

import threading
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import AuditEntry, Comment, CommentStatus, Role, User, utcnow
from forum.services import settings
from forum.services.moderation import decisions
from tests.conftest import token_for


def bearer(client, username):
    return {"Authorization": f"Bearer {token_for(client, username)}"}


@pytest.fixture
def people(client, make, article):
    make.user("alice")
    make.user("bob")
    make.user("mona", role=Role.MODERATOR)
    make.user("ada", role=Role.ADMIN)
    return {name: bearer(client, name) for name in ("alice", "bob", "mona", "ada")}


def post(client, headers, body, **extra):
    response = client.post(
        "/api/v1/threads/a-story/comments", json={"body": body, **extra}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json["comment"]


def act(client, headers, cid, action, **extra):
    return client.post(
        f"/api/v1/moderation/comments/{cid}", json={"action": action, **extra}, headers=headers
    )


def listing(client, headers=None):
    return client.get("/api/v1/threads/a-story/comments", headers=headers or {}).json


def queue(client, headers, name, **params):
    response = client.get(f"/api/v1/moderation/queue/{name}", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def audit_actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


# -- decisions -----------------------------------------------------------------------------


def test_pre_moderation_approve_flow(app, client, people):
    app.config["FORUM_MODERATION"] = "pre"
    cid = post(client, people["alice"], "Please approve me")["id"]
    assert listing(client)["comments"] == []
    item = queue(client, people["mona"], "pending")["items"][0]
    assert item["id"] == cid
    assert item["hold_reasons"] == [
        {"rule": "pre_moderation", "detail": "This thread is pre-moderated"}
    ]
    assert item["author_record"]["pending"] == 1
    response = act(client, people["mona"], cid, "approve")
    assert response.status_code == 200 and response.json["comment"]["status"] == "approved"
    assert [c["id"] for c in listing(client)["comments"]] == [cid]
    assert listing(client)["thread"]["comment_count"] == 1
    assert queue(client, people["mona"], "pending")["items"] == []
    assert audit_actions(app) == ["approve"]


def test_reject_with_reason_is_shown_to_the_author_only(app, client, people):
    cid = post(client, people["alice"], "Something rude")["id"]
    response = act(client, people["mona"], cid, "reject", reason="Please keep it civil.")
    assert response.json["comment"]["status"] == "rejected"
    mine = listing(client, people["alice"])["comments"][0]
    assert mine["status"] == "rejected" and mine["moderation_reason"] == "Please keep it civil."
    assert listing(client, people["bob"])["comments"] == []
    assert listing(client)["thread"]["comment_count"] == 0
    assert queue(client, people["mona"], "rejected")["items"][0]["id"] == cid
    # The text is kept for the record.
    with app.app_context():
        assert db.session.get(Comment, cid).body == "Something rude"


def test_spam_looks_pending_to_its_author_and_restore_brings_it_back(app, client, people):
    cid = post(client, people["alice"], "Buy my stuff")["id"]
    assert act(client, people["mona"], cid, "spam").status_code == 200
    assert listing(client, people["alice"])["comments"][0]["status"] == "pending"
    assert queue(client, people["mona"], "spam")["items"][0]["status"] == "spam"
    assert act(client, people["mona"], cid, "restore").json["comment"]["status"] == "approved"
    assert listing(client)["thread"]["comment_count"] == 1


def test_second_moderator_sees_it_was_already_handled(client, people):
    cid = post(client, people["alice"], "Borderline")["id"]
    assert act(client, people["mona"], cid, "reject").status_code == 200
    again = act(client, people["ada"], cid, "reject")
    assert again.status_code == 409
    assert "Already handled: mona marked it rejected" in again.json["error"]["message"]


def test_concurrent_decisions_on_one_comment_one_wins(app, database, client, people):
    """Two moderators in two threads, each with its own connection and transaction."""
    cid = post(client, people["alice"], "Contested")["id"]
    with app.app_context():
        revision = db.session.get(Comment, cid).revision
    barrier = threading.Barrier(2)
    results = []

    def decide(username, action):
        with app.app_context():
            actor = db.session.scalar(db.select(User).where(User.username == username))
            comment = db.session.get(Comment, cid)
            comment.status  # noqa: B018  (load it before the other commits)
            barrier.wait()
            try:
                decisions.act(actor, comment, action)
                db.session.commit()
                results.append("ok")
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                results.append(type(error).__name__)

    workers = [
        threading.Thread(target=decide, args=("mona", "reject")),
        threading.Thread(target=decide, args=("ada", "spam")),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(results) == ["Conflict", "ok"], results
    with app.app_context():
        comment = db.session.get(Comment, cid)
        assert comment.status in (CommentStatus.REJECTED, CommentStatus.SPAM)
        assert comment.revision == revision + 1  # exactly one decision was written
        assert len(db.session.scalars(db.select(AuditEntry)).all()) == 1


def test_feature_and_editors_picks(client, people):
    cid = post(client, people["alice"], "A thoughtful take")["id"]
    assert act(client, people["mona"], cid, "feature").json["comment"]["featured"] is True
    assert act(client, people["mona"], cid, "feature").status_code == 409
    assert act(client, people["mona"], cid, "unfeature").json["comment"]["featured"] is False


def test_spoiler_and_theory_actions(client, people):
    cid = post(client, people["alice"], "The keeper is her sister", theory_title="Sisters")["id"]
    assert act(client, people["mona"], cid, "mark_spoiler").json["comment"]["spoiler"] is True
    confirmed = act(
        client, people["mona"], cid, "confirm_theory", note="Episode 8", link="https://e.org/recap"
    )
    assert confirmed.json["comment"]["theory_status"] == "confirmed"
    assert act(client, people["mona"], cid, "confirm_theory").status_code == 409
    assert (
        act(client, people["mona"], cid, "reopen_theory").json["comment"]["theory_status"] == "open"
    )
    plain = post(client, people["bob"], "not a theory")["id"]
    assert act(client, people["mona"], plain, "debunk_theory").status_code == 409
    bad_link = act(client, people["mona"], cid, "debunk_theory", link="javascript:alert(1)")
    assert bad_link.status_code == 422 and "link" in bad_link.json["error"]["fields"]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"action": "obliterate"}, 422),
        ({}, 422),
        ({"action": "reject", "reason": 5}, 422),
        ({"action": "reject", "reason": "x" * 501}, 422),
    ],
)
def test_bad_actions(client, people, payload, status):
    cid = post(client, people["alice"], "target")["id"]
    response = client.post(
        f"/api/v1/moderation/comments/{cid}", json=payload, headers=people["mona"]
    )
    assert response.status_code == status


# -- flags ---------------------------------------------------------------------------------


def flag(client, headers, cid, reason="abuse", note=None):
    return client.post(
        f"/api/v1/comments/{cid}/flags", json={"reason": reason, "note": note}, headers=headers
    )


def test_flags_rules(client, make, people):
    cid = post(client, people["alice"], "Flag bait")["id"]
    response = flag(client, people["bob"], cid, "spam", "obvious ad")
    assert response.status_code == 201
    assert response.json["flag"]["reason"] == "spam"
    assert flag(client, people["bob"], cid).status_code == 409  # once per reader
    own = flag(client, people["alice"], cid)
    assert own.status_code == 403 and "own comment" in own.json["error"]["message"]
    assert flag(client, people["bob"], cid, "boring").status_code == 422
    assert flag(client, {}, cid).status_code == 401
    reported = queue(client, people["mona"], "reported")["items"][0]
    assert reported["flags"][0]["reason"] == "spam"
    assert reported["flags"][0]["note"] == "obvious ad"
    assert reported["flags"][0]["user"] == "bob"


def test_enough_flags_hide_until_reviewed_and_old_flags_do_not_rehide(app, client, make, people):
    cid = post(client, people["alice"], "Contested words")["id"]
    readers = [bearer(client, make.user(f"flagger{i}").username) for i in range(5)]
    for headers in readers[:2]:
        assert flag(client, headers, cid).status_code == 201
    assert [c["id"] for c in listing(client)["comments"]] == [cid]  # two flags: still shown
    assert flag(client, readers[2], cid).status_code == 201
    assert listing(client)["comments"] == []  # the third hides it
    assert listing(client)["thread"]["comment_count"] == 0
    item = queue(client, people["mona"], "reported")["items"][0]
    assert len(item["flags"]) == 3 and item["status"] == "pending"
    assert item["hold_reasons"][-1]["rule"] == "flags"
    assert queue(client, people["mona"], "pending")["items"][0]["id"] == cid

    assert act(client, people["mona"], cid, "approve").status_code == 200
    assert [c["id"] for c in listing(client)["comments"]] == [cid]
    assert queue(client, people["mona"], "reported")["items"] == []
    # One new flag after the review does not hide it again; three new ones do.
    assert flag(client, readers[3], cid).status_code == 201
    assert [c["id"] for c in listing(client)["comments"]] == [cid]
    assert len(queue(client, people["mona"], "reported")["items"][0]["flags"]) == 1
    assert flag(client, readers[4], cid).status_code == 201
    assert flag(client, people["bob"], cid).status_code == 201
    assert listing(client)["comments"] == []


def test_flags_do_not_hide_in_pre_moderated_threads(app, client, people, make):
    cid = post(client, people["alice"], "Already approved")["id"]
    client.patch(
        "/api/v1/moderation/threads/a-story", json={"moderation": "pre"}, headers=people["mona"]
    )
    for i in range(3):
        flag(client, bearer(client, make.user(f"flag{i}").username), cid)
    assert [c["id"] for c in listing(client)["comments"]] == [cid]
    assert len(queue(client, people["mona"], "reported")["items"]) == 1


# -- bans and notes ------------------------------------------------------------------------


def test_ban_stops_posting_flagging_and_editing_but_not_reading(client, people):
    cid = post(client, people["bob"], "before the ban")["id"]
    response = client.post(
        "/api/v1/moderation/users/alice/ban",
        json={"reason": "Repeated abuse", "until": "2999-01-01T00:00:00Z"},
        headers=people["mona"],
    )
    assert response.status_code == 200
    assert response.json["banned"] is True
    assert response.json["banned_until"] == "2999-01-01T00:00:00Z"
    refused = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "hello"}, headers=people["alice"]
    )
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "banned"
    assert "Repeated abuse" in refused.json["error"]["message"]
    assert flag(client, people["alice"], cid).json["error"]["code"] == "banned"
    assert (
        client.get("/api/v1/threads/a-story/comments", headers=people["alice"]).status_code == 200
    )

    assert (
        client.delete("/api/v1/moderation/users/alice/ban", headers=people["mona"]).status_code
        == 204
    )
    post(client, people["alice"], "back again")
    assert audit_actions(client.application) == ["ban", "unban"]


def test_permanent_ban_and_who_may_ban_whom(client, people):
    response = client.post(
        "/api/v1/moderation/users/alice/ban", json={"reason": "Spam bot"}, headers=people["mona"]
    )
    assert response.json["banned"] is True and response.json["banned_until"] is None

    def ban(who, target):
        return client.post(
            f"/api/v1/moderation/users/{target}/ban", json={"reason": "x"}, headers=people[who]
        ).status_code

    assert ban("mona", "ada") == 403  # nobody bans an admin
    assert ban("mona", "mona") == 403  # nor themselves
    assert ban("ada", "mona") == 200  # admins may ban moderators
    assert ban("bob", "alice") == 403
    assert ban("mona", "bob") == 403  # a banned moderator has no powers left
    assert ban("ada", "nobody-here") == 404
    missing_reason = client.post("/api/v1/moderation/users/bob/ban", json={}, headers=people["ada"])
    assert missing_reason.status_code == 422
    past = client.post(
        "/api/v1/moderation/users/bob/ban",
        json={"reason": "x", "until": "2001-01-01T00:00:00Z"},
        headers=people["ada"],
    )
    assert past.status_code == 422
    naive = client.post(
        "/api/v1/moderation/users/bob/ban",
        json={"reason": "x", "until": "2999-01-01T00:00:00"},
        headers=people["ada"],
    )
    assert naive.status_code == 422 and "zone" in naive.json["error"]["fields"]["until"]


def test_notes_are_for_moderators(client, people):
    added = client.post(
        "/api/v1/moderation/users/alice/notes",
        json={"body": "Warned about spoilers in May."},
        headers=people["mona"],
    )
    assert added.status_code == 201
    record = client.get("/api/v1/moderation/users/alice", headers=people["ada"]).json
    assert record["notes"][0]["body"] == "Warned about spoilers in May."
    assert record["notes"][0]["author"] == "mona"
    assert client.get("/api/v1/moderation/users/alice", headers=people["bob"]).status_code == 403


# -- threads and modes ------------------------------------------------------------------------


def test_close_reopen_and_mode(client, people):
    closed = client.patch(
        "/api/v1/moderation/threads/a-story", json={"status": "closed"}, headers=people["mona"]
    )
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    refused = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "hi"}, headers=people["alice"]
    )
    assert refused.status_code == 409 and refused.json["error"]["code"] == "thread_closed"
    reopened = client.patch(
        "/api/v1/moderation/threads/a-story",
        json={"status": "open", "moderation": "pre"},
        headers=people["mona"],
    )
    assert reopened.json["status"] == "open" and reopened.json["moderation"] == "pre"
    assert post(client, people["alice"], "held")["status"] == "pending"
    bad = client.patch(
        "/api/v1/moderation/threads/a-story", json={"moderation": "never"}, headers=people["mona"]
    )
    assert bad.status_code == 422
    assert (
        client.patch(
            "/api/v1/moderation/threads/a-story", json={"status": "open"}, headers=people["alice"]
        ).status_code
        == 403
    )


def test_trusted_mode_counts_approvals_and_a_rejection_resets(app, client, people):
    app.config["FORUM_MODERATION"] = "trusted"
    app.config["FORUM_TRUSTED_AFTER"] = 2
    first = post(client, people["alice"], "one")
    assert first["status"] == "pending"
    second = post(client, people["alice"], "two")
    assert second["status"] == "pending"  # pending ones do not count
    act(client, people["mona"], first["id"], "approve")
    assert post(client, people["alice"], "three")["status"] == "pending"
    act(client, people["mona"], second["id"], "approve")
    trusted = post(client, people["alice"], "four")
    assert trusted["status"] == "approved"
    act(client, people["mona"], trusted["id"], "reject")
    assert post(client, people["alice"], "five")["status"] == "pending"


# -- queues ------------------------------------------------------------------------------------


def test_queue_paging_and_bad_arguments(app, client, people):
    app.config["FORUM_MODERATION"] = "pre"
    ids = [post(client, people["alice"], f"held {i}")["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        page = queue(
            client, people["mona"], "pending", limit=3, **({"cursor": cursor} if cursor else {})
        )
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids  # first come, first served
    for query in ({"limit": "0"}, {"limit": "x"}, {"cursor": "nope"}):
        response = client.get(
            "/api/v1/moderation/queue/pending", query_string=query, headers=people["mona"]
        )
        assert response.status_code == 422
    assert (
        client.get("/api/v1/moderation/queue/elsewhere", headers=people["mona"]).status_code == 404
    )


def test_item_context_parent_and_author_record(app, client, people):
    parent = post(client, people["bob"], "the parent")["id"]
    app.config["FORUM_MODERATION"] = "pre"
    post(client, people["alice"], "a reply", parent_id=parent)
    act(client, people["mona"], post(client, people["alice"], "rude")["id"], "reject")
    item = queue(client, people["mona"], "pending")["items"][0]
    assert item["parent_id"] == parent
    assert item["thread_title"] == "A story"
    assert item["author_record"] == {
        "approved": 0,
        "pending": 1,
        "rejected": 1,
        "spam": 0,
        "notes": 0,
    }


# -- the authorization matrix ---------------------------------------------------------------------

API_ENDPOINTS = [
    ("get", "/api/v1/moderation/queue/pending", None),
    ("post", "/api/v1/moderation/comments/1", {"action": "approve"}),
    ("post", "/api/v1/moderation/users/bob/ban", {"reason": "x"}),
    ("delete", "/api/v1/moderation/users/bob/ban", None),
    ("get", "/api/v1/moderation/users/bob", None),
    ("post", "/api/v1/moderation/users/bob/notes", {"body": "x"}),
    ("patch", "/api/v1/moderation/threads/a-story", {"status": "open"}),
]


@pytest.mark.parametrize(("method", "path", "payload"), API_ENDPOINTS)
def test_api_authorization_matrix(client, people, method, path, payload):
    post(client, people["bob"], "comment one")
    call = getattr(client, method)
    anonymous = call(path, json=payload)
    assert anonymous.status_code == 401, path
    reader = call(path, json=payload, headers=people["alice"])
    assert reader.status_code == 403, path
    moderator = call(path, json=payload, headers=people["mona"])
    assert moderator.status_code < 400 or moderator.status_code == 409, (path, moderator.json)


def test_edits_run_the_rules_again(app, client, people):
    with app.app_context():
        settings.save({"suspect_words": ["lighthouse"]})
        db.session.commit()
    cid = post(client, people["alice"], "innocent words")["id"]
    edited = client.patch(
        f"/api/v1/comments/{cid}", json={"body": "the LIGHTHOUSE keeper"}, headers=people["alice"]
    )
    assert edited.json["comment"]["status"] == "pending"
    assert listing(client)["thread"]["comment_count"] == 0


def test_moderated_at_and_audit_before_after(app, client, people):
    cid = post(client, people["alice"], "x marks")["id"]
    act(client, people["mona"], cid, "reject", reason="off topic")
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry)).one()
        assert entry.before["status"] == "approved" and entry.after["status"] == "rejected"
        assert entry.reason == "off topic" and entry.actor.username == "mona"
        comment = db.session.get(Comment, cid)
        assert utcnow() - comment.moderated_at < timedelta(minutes=1)


def test_a_moderator_deleting_a_comment_is_on_the_record(app, client, people):
    cid = post(client, people["alice"], "remove me")["id"]
    own = post(client, people["alice"], "my own to delete")["id"]
    assert client.delete(f"/api/v1/comments/{cid}", headers=people["mona"]).status_code == 204
    assert client.delete(f"/api/v1/comments/{own}", headers=people["alice"]).status_code == 204
    assert audit_actions(app) == ["delete"]  # the author's own deletion is theirs alone


def test_a_decision_on_text_the_moderator_never_saw_is_refused(app, client, people):
    comment = post(client, people["alice"], "harmless")
    seen = queue(client, people["mona"], "reported")  # nothing; read the revision directly
    assert seen["items"] == []
    with app.app_context():
        revision = db.session.get(Comment, comment["id"]).revision
    edited = client.patch(
        f"/api/v1/comments/{comment['id']}",
        json={"body": "something nobody reviewed"},
        headers=people["alice"],
    )
    assert edited.status_code == 200
    stale = act(client, people["mona"], comment["id"], "feature", revision=revision)
    assert (
        stale.status_code == 409 and "changed since you opened it" in stale.json["error"]["message"]
    )
    with app.app_context():
        current = db.session.get(Comment, comment["id"]).revision
    assert (
        act(client, people["mona"], comment["id"], "feature", revision=current).status_code == 200
    )
    assert act(client, people["mona"], comment["id"], "unfeature", revision="7").status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "/api/v1/comments/{cid}/flags", {"reason": ["spam"]}),
        ("post", "/api/v1/comments/{cid}/flags", {"reason": {"a": 1}}),
        ("patch", "/api/v1/moderation/threads/a-story", {"status": {}}),
        ("patch", "/api/v1/moderation/threads/a-story", {"moderation": []}),
        (
            "post",
            "/api/v1/moderation/users/alice/ban",
            {"reason": "x", "until": "9999-12-31T23:59:59-01:00"},
        ),
        ("post", "/api/v1/moderation/comments/{cid}", {"action": ["approve"]}),
    ],
)
def test_odd_moderation_input_is_a_clear_422(client, people, method, path, payload):
    cid = post(client, people["alice"], "target")["id"]
    headers = people["bob"] if "flags" in path else people["mona"]
    response = getattr(client, method)(path.format(cid=cid), json=payload, headers=headers)
    assert response.status_code == 422, response.json


def test_moderator_deletion_keeps_the_words_for_the_record(app, client, people):
    cid = post(client, people["alice"], "evidence")["id"]
    assert client.delete(f"/api/v1/comments/{cid}", headers=people["mona"]).status_code == 204
    with app.app_context():
        stored = db.session.get(Comment, cid)
        assert stored.status == CommentStatus.DELETED and stored.body == "evidence"
    assert listing(client)["comments"] == []


def test_authors_cannot_erase_a_removed_comment(client, people):
    cid = post(client, people["alice"], "removed words")["id"]
    act(client, people["mona"], cid, "reject", reason="no")
    refused = client.delete(f"/api/v1/comments/{cid}", headers=people["alice"])
    assert refused.status_code == 403


def test_thread_mode_can_return_to_the_site_default(app, client, people):
    set_mode = lambda mode: client.patch(  # noqa: E731
        "/api/v1/moderation/threads/a-story", json={"moderation": mode}, headers=people["mona"]
    )
    assert set_mode("pre").json["moderation"] == "pre"
    assert set_mode("default").json["moderation"] == "post"  # the site's FORUM_MODERATION
    app.config["FORUM_MODERATION"] = "pre"
    assert post(client, people["alice"], "follows the site")["status"] == "pending"
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.after["moderation"] for e in entries] == ["pre", "default"]


def test_automatic_changes_are_audited(app, client, people, make):
    cid = post(client, people["alice"], "popular opinion")["id"]
    for i in range(3):
        flag(client, bearer(client, make.user(f"critic{i}").username), cid)
    with app.app_context():
        settings.save({"suspect_words": ["forbidden"]})
        db.session.commit()
    other = post(client, people["alice"], "clean at first")["id"]
    client.patch(
        f"/api/v1/comments/{other}", json={"body": "now forbidden"}, headers=people["alice"]
    )
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_id, e.target_id) for e in entries] == [
            ("auto_hide", None, cid),
            ("auto_hold", None, other),
        ]


def test_banned_moderators_cannot_moderate(client, people):
    cid = post(client, people["bob"], "x marks")["id"]
    client.post("/api/v1/moderation/users/mona/ban", json={"reason": "x"}, headers=people["ada"])
    assert act(client, people["mona"], cid, "reject").status_code == 403


def test_settings_log_and_history_through_the_api(client, people):
    got = client.get("/api/v1/moderation/settings", headers=people["ada"])
    assert got.status_code == 200 and got.json["settings"]["max_links"] == 2
    assert got.json["settings"]["hook_secret"] is False
    changed = client.patch(
        "/api/v1/moderation/settings",
        json={"suspect_words": ["lighthouse"], "max_links": 4, "hook_secret": "s3cret"},
        headers=people["ada"],
    )
    assert changed.status_code == 200
    assert changed.json["settings"]["suspect_words"] == ["lighthouse"]
    assert changed.json["settings"]["hook_secret"] is True  # never echoed back
    for bad in (
        {"max_links": "four"},
        {"suspect_words": "one"},
        {"no_such": 1},
        {"max_links": -1},
        {"hook_url": "ftp://x"},
    ):
        response = client.patch("/api/v1/moderation/settings", json=bad, headers=people["ada"])
        assert response.status_code == 422, bad
    assert client.get("/api/v1/moderation/settings", headers=people["mona"]).status_code == 403
    assert (
        client.patch("/api/v1/moderation/settings", json={}, headers=people["mona"]).status_code
        == 403
    )

    cid = post(client, people["alice"], "the lighthouse again")["id"]  # held: suspect word
    assert act(client, people["mona"], cid, "approve").status_code == 200
    log = client.get("/api/v1/moderation/log", headers=people["ada"]).json
    assert [e["action"] for e in log["entries"]] == ["approve", "settings"]
    assert log["entries"][1]["after"]["hook_secret"] == "…"  # secrets stay out of the log
    only = client.get("/api/v1/moderation/log?action=approve&actor=mona", headers=people["ada"])
    assert [e["target_id"] for e in only.json["entries"]] == [cid]
    assert client.get("/api/v1/moderation/log", headers=people["mona"]).status_code == 403
    history = client.get("/api/v1/moderation/history", headers=people["mona"]).json
    assert history["entries"][0]["before"]["status"] == "pending"
    assert client.get("/api/v1/moderation/history", headers=people["alice"]).status_code == 403

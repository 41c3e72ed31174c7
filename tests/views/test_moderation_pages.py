"""The moderation pages through the test client: who may see them, and that
each form does what it says."""

import re

import pytest

from forum.extensions import db
from forum.models import AuditEntry, Comment, CommentStatus, Role, Setting, User
from forum.services import settings
from tests.conftest import AuthActions, count_statements


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def staff(app, make, article):
    make.user("alice")
    make.user("bob")
    make.user("mona", role=Role.MODERATOR)
    make.user("ada", role=Role.ADMIN)
    clients = {}
    for name in ("alice", "mona", "ada"):
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
    return clients


def pending_comment(app, make, author="alice", body="waiting"):
    app.config["FORUM_MODERATION"] = "pre"
    user = make.get(User, 1 if author == "alice" else 2)
    cid = make.comment(user, "a-story", body)
    app.config["FORUM_MODERATION"] = "post"
    return cid


MODERATOR_PAGES = [
    "/moderation/",
    "/moderation/queue/pending",
    "/moderation/queue/reported",
    "/moderation/queue/spam",
    "/moderation/queue/rejected",
    "/moderation/history",
    "/moderation/users/alice",
]
ADMIN_PAGES = ["/moderation/settings", "/moderation/log"]
MODERATOR_POSTS = [
    "/moderation/comments/1",
    "/moderation/bulk",
    "/moderation/users/bob/ban",
    "/moderation/users/bob/unban",
    "/moderation/users/bob/notes",
    "/moderation/threads/a-story",
]


@pytest.mark.parametrize("path", MODERATOR_PAGES + ADMIN_PAGES)
def test_pages_refuse_anonymous_and_readers(client, staff, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/auth/login?next=")
    assert staff["alice"].get(path).status_code == 403


@pytest.mark.parametrize("path", MODERATOR_POSTS + ["/moderation/settings"])
def test_actions_refuse_anonymous_and_readers(client, staff, path):
    assert client.post(path, data={"action": "approve"}).status_code == 302
    assert staff["alice"].post(path, data={"action": "approve"}).status_code == 403


@pytest.mark.parametrize("path", MODERATOR_PAGES)
def test_moderators_see_their_pages(staff, path):
    response = staff["mona"].get(path, follow_redirects=True)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_refuse_moderators(staff, path):
    assert staff["mona"].get(path).status_code == 403
    assert staff["ada"].get(path).status_code == 200
    assert f'href="{path}"' not in html(staff["mona"].get("/moderation/queue/pending"))


def test_queue_shows_context_and_highlights_suspect_words(app, make, staff):
    with app.app_context():
        settings.save({"suspect_words": ["keeper"]})
        db.session.commit()
    parent = make.comment(make.get(User, 2), "a-story", "the parent comment")
    make.comment(make.get(User, 1), "a-story", "The Keeper did it", parent_id=parent)
    page = html(staff["mona"].get("/moderation/queue/pending"))
    assert "<mark>Keeper</mark>" in page
    assert "In reply to bob" in page and "the parent comment" in page
    assert "suspect word" in page
    assert re.search(r"0 approved · 1 pending · 0 rejected · 0 spam", page)
    assert 'data-queue-count="pending">1<' in page


def test_act_by_form_and_second_moderator_conflict(app, make, staff):
    cid = pending_comment(app, make)
    response = staff["mona"].post(
        f"/moderation/comments/{cid}",
        data={
            "action": "reject",
            "reason": "Off topic",
            "seen": "pending",
            "next": "/moderation/queue/pending",
        },
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/moderation/queue/pending"
    )
    assert make.get(Comment, cid).moderation_reason == "Off topic"
    # Ada was still looking at it as pending.
    late = staff["ada"].post(
        f"/moderation/comments/{cid}",
        data={"action": "approve", "seen": "pending"},
        follow_redirects=True,
    )
    assert "Already handled: mona marked it rejected" in html(late)
    assert make.get(Comment, cid).status == CommentStatus.REJECTED
    fragment = staff["ada"].post(
        f"/moderation/comments/{cid}",
        data={"action": "approve", "seen": "pending"},
        headers={"X-Forum-Fragment": "1"},
    )
    assert fragment.status_code == 409 and fragment.json["counts"]["rejected"] == 1


def test_fragment_answer_carries_new_counts(app, make, staff):
    cid = pending_comment(app, make)
    response = staff["mona"].post(
        f"/moderation/comments/{cid}", data={"action": "approve"}, headers={"X-Forum-Fragment": "1"}
    )
    assert response.json == {
        "status": "approved",
        "status_label": "approved",
        # The tabs' counts, and "waiting": the header's badge.
        "counts": {"pending": 0, "reported": 0, "spam": 0, "rejected": 0, "waiting": 0},
    }


def test_bulk_reject(app, make, staff):
    ids = [pending_comment(app, make, body=f"held {i}") for i in range(3)]
    response = staff["mona"].post(
        "/moderation/bulk",
        data={
            "bulk_action": "reject",
            "ids": [str(ids[0]), str(ids[2]), "junk"],
            f"seen_{ids[0]}": "pending",
            f"seen_{ids[2]}": "pending",
        },
        follow_redirects=True,
    )
    assert "2 comment(s) rejected." in html(response)
    statuses = [make.get(Comment, i).status for i in ids]
    assert statuses == [CommentStatus.REJECTED, CommentStatus.PENDING, CommentStatus.REJECTED]


def test_ban_notes_and_unban_by_form(app, make, staff):
    page = staff["mona"].post(
        "/moderation/users/alice/ban",
        data={"reason": "Spoiler bombing", "until": "2999-02-03"},
        follow_redirects=True,
    )
    assert "alice is banned until 2999-02-03." in html(page)
    article = html(staff["alice"].get("/articles/a-story"))
    assert "Your account is banned from posting until Feb 3, 2999" in article
    assert "Spoiler bombing" in article and 'id="new-comment"' not in article
    refused = staff["alice"].post("/articles/a-story/comments", data={"body": "let me in"})
    assert refused.status_code == 403
    staff["mona"].post("/moderation/users/alice/notes", data={"body": "Second warning."})
    assert "Second warning." in html(staff["mona"].get("/moderation/users/alice"))
    bad = staff["mona"].post(
        "/moderation/users/alice/ban", data={"reason": "x", "until": "soon"}, follow_redirects=True
    )
    assert "Pick a date" in html(bad)
    staff["mona"].post("/moderation/users/alice/unban")
    assert 'id="new-comment"' in html(staff["alice"].get("/articles/a-story"))
    assert staff["mona"].get("/moderation/users/nobody").status_code == 404


def test_thread_panel_closes_and_sets_mode(app, make, staff):
    page = html(staff["mona"].get("/articles/a-story"))
    assert 'action="/moderation/threads/a-story"' in page
    assert '<option value="default" selected>site default (post-moderation)</option>' in page
    assert 'action="/moderation/threads/a-story"' not in html(
        staff["alice"].get("/articles/a-story")
    )
    response = staff["mona"].post(
        "/moderation/threads/a-story",
        data={"status": "closed", "moderation": "pre", "next": "/articles/a-story"},
    )
    assert response.headers["Location"] == "/articles/a-story"
    reader_view = html(staff["alice"].get("/articles/a-story"))
    assert "This discussion is closed" in reader_view and 'id="new-comment"' not in reader_view
    evil = staff["mona"].post(
        "/moderation/threads/a-story", data={"status": "open", "next": "https://evil.example/"}
    )
    assert evil.headers["Location"] == "/moderation/"


def test_settings_form_validates_saves_and_audits(app, staff):
    form = {
        "banned_words": "scam\nfree money\n",
        "banned_action": "spam",
        "suspect_words": "",
        "banned_email_domains": "",
        "premoderated_email_domains": "",
        "max_links": "5",
        "duplicate_hours": "24",
        "new_account_minutes": "30",
        "new_account_comments": "3",
        "rejection_threshold": "0.5",
        "rejection_window": "10",
        "flag_threshold": "4",
        "trusted_after": "3",
        "guest_moderation": "pre",
        "guest_proof_bits": "16",
        "guest_min_seconds": "3",
        "hook_url": "",
        "hook_secret": "",
        "alert_webhook_url": "",
        "alert_webhook_format": "generic",
        "alert_webhook_secret": "",
    }
    bad = staff["ada"].post(
        "/moderation/settings", data={**form, "max_links": "many", "hook_url": "ftp://x"}
    )
    assert bad.status_code == 422
    assert "Enter a number." in html(bad) and "http:// or https://" in html(bad)
    ok = staff["ada"].post("/moderation/settings", data=form, follow_redirects=True)
    assert "Saved" in html(ok)
    with app.app_context():
        assert db.session.get(Setting, "banned_words").value == ["free money", "scam"]
        assert db.session.get(Setting, "flag_threshold").value == 4
        entry = db.session.scalars(db.select(AuditEntry)).one()
        assert entry.action == "settings" and entry.after["max_links"] == 5
    again = staff["ada"].post("/moderation/settings", data=form, follow_redirects=True)
    assert "Nothing changed." in html(again)


def test_log_lists_and_filters(app, make, staff):
    cid = make.comment(make.get(User, 1), "a-story", "logged")
    staff["mona"].post(f"/moderation/comments/{cid}", data={"action": "reject", "reason": "rude"})
    staff["mona"].post("/moderation/users/alice/notes", data={"body": "noted"})
    page = html(staff["ada"].get("/moderation/log"))
    assert "reject" in page and "note" in page and "status: approved → rejected" in page
    only_notes = html(staff["ada"].get("/moderation/log?action=note"))
    assert "noted" in only_notes and "approved → rejected" not in only_notes
    by_mona = html(staff["ada"].get("/moderation/log?actor=mona"))
    assert "rude" in by_mona
    assert staff["ada"].get("/moderation/log?actor=ghost").status_code == 404
    assert staff["ada"].get("/moderation/log?cursor=bogus").status_code == 422


def test_history_lists_approvals(app, make, staff):
    """Each decision with the comment's words and who wrote them, not "comment 22"."""
    cid = pending_comment(app, make, body="The keeper ||lit it|| himself.")
    staff["mona"].post(f"/moderation/comments/{cid}", data={"action": "approve"})
    page = html(staff["mona"].get("/moderation/history"))
    assert "(was pending)" in page
    assert f'href="/comments/{cid}" dir="auto">The keeper [spoiler] himself.</a>' in page
    assert '<a href="/moderation/users/alice"><bdi>alice</bdi></a>' in page
    assert "on <bdi>A story</bdi>" in page
    assert f"comment {cid} in a-story" not in page


def test_report_page(app, make, staff):
    cid = make.comment(make.get(User, 2), "a-story", "report me")
    article = html(staff["alice"].get("/articles/a-story"))
    assert f'href="/comments/{cid}/flag"' in article
    form = html(staff["alice"].get(f"/comments/{cid}/flag"))
    assert "An unmarked spoiler" in form
    response = staff["alice"].post(
        f"/comments/{cid}/flag", data={"reason": "spoiler", "note": "ep 9"}
    )
    assert response.status_code == 302
    again = staff["alice"].post(f"/comments/{cid}/flag", data={"reason": "spoiler"})
    assert again.status_code == 409
    missing = staff["alice"].post(f"/comments/{cid}/flag", data={})
    assert missing.status_code == 422
    own = make.comment(make.get(User, 1), "a-story", "mine")
    assert staff["alice"].get(f"/comments/{own}/flag").status_code == 403
    reported = html(staff["mona"].get("/moderation/queue/reported"))
    assert "spoiler" in reported and "ep 9" in reported


def test_editors_picks_and_author_sees_rejection_reason(app, make, staff):
    pick = make.comment(make.get(User, 2), "a-story", "A wonderful close reading")
    staff["mona"].post(f"/moderation/comments/{pick}", data={"action": "feature"})
    page = html(staff["alice"].get("/articles/a-story"))
    assert "Editors’ picks" in page and "A wonderful close reading" in page
    gone = make.comment(make.get(User, 1), "a-story", "something rude")
    staff["mona"].post(
        f"/moderation/comments/{gone}", data={"action": "reject", "reason": "Be kind"}
    )
    mine = html(staff["alice"].get("/articles/a-story"))
    assert "removed by a moderator" in mine and "The moderators’ reason: Be kind" in mine
    assert "something rude" not in html(staff["mona"].get("/"))


def test_queue_page_statements_are_constant(app, make, staff):
    for i in range(3):
        pending_comment(app, make, body=f"few {i}")
    with count_statements(app) as few:
        assert staff["mona"].get("/moderation/queue/pending").status_code == 200
    for i in range(30):
        pending_comment(app, make, body=f"many {i}", author="bob" if i % 2 else "alice")
    with count_statements(app) as many:
        assert staff["mona"].get("/moderation/queue/pending").status_code == 200
    # queue page, parents, flags, author counts, notes, queue counts (2), session user,
    # and what waits (the header's count for moderators)
    assert len(few) == len(many) <= 10

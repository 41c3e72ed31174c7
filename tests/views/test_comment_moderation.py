"""The moderator's menu on each comment of the article page and the embed, and
a comment's edit history: plain forms without JavaScript, JSON for the pages'
scripts, and nothing of it for readers."""

import re

import pytest

from forum.extensions import db
from forum.models import Comment, CommentRevision, CommentStatus, Role, TheoryStatus, User
from tests.conftest import AuthActions, count_statements, token_for

HOST = "https://publisher.example"


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def staff(app, make, article):
    make.user("alice")
    make.user("bob")
    make.user("mona", role=Role.MODERATOR)
    make.user("ada", role=Role.ADMIN)
    clients = {}
    for name in ("alice", "bob", "mona", "ada"):
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
    return clients


def user(make, name):
    with make.app.app_context():
        found = db.session.scalar(db.select(User).where(User.username == name))
        db.session.expunge(found)
        return found


def theory(make, body="The butler did it, in the library."):
    return make.comment(user(make, "alice"), "a-story", body, theory_title="The butler")


def revision_of(make, cid):
    return make.get(Comment, cid).revision


def menu_of(page, cid):
    """The menu of comment cid on a page ("" if it has none)."""
    start = page.find(f'id="c{cid}"')
    if start == -1:
        return ""
    end = page.find("</article>", start)
    found = re.search(r'<details class="mod-menu">.*?</details>', page[start:end], re.S)
    return found.group(0) if found else ""


def test_the_menu_is_for_moderators_and_admins_only(app, make, staff, client):
    cid = theory(make)
    for name in ("mona", "ada"):
        menu = menu_of(html(staff[name].get("/articles/a-story")), cid)
        assert 'Moderate<span class="visually-hidden"> the comment by alice</span>' in menu
        assert f'action="/moderation/comments/{cid}/decide"' in menu
        assert 'value="confirm_theory"' in menu and 'value="debunk_theory"' in menu
        assert 'value="feature"' in menu and 'value="mark_spoiler"' in menu
        assert 'value="reject"' in menu and 'action="/moderation/users/alice/ban"' in menu
        assert 'href="/moderation/users/alice"' in menu
        assert (
            'name="csrf_token"' in menu
            and f'name="revision" value="{revision_of(make, cid)}"' in menu
        )
    for who in (staff["alice"], staff["bob"], client):
        page = html(who.get("/articles/a-story"))
        assert "mod-menu" not in page and "/decide" not in page and "Author record" not in page


def test_the_menu_offers_what_fits_the_comment(app, make, staff):
    plain = make.comment(user(make, "bob"), "a-story", "Just a comment.")
    staff_comment = make.comment(user(make, "ada"), "a-story", "Staff here.")
    menu = menu_of(html(staff["mona"].get("/articles/a-story")), plain)
    assert "confirm_theory" not in menu  # not a theory
    assert "Restore" not in menu and 'value="approve"' not in menu
    assert "Edit history" not in menu  # never edited
    page = html(staff["mona"].get("/articles/a-story"))
    # Staff keep their badge; a moderator cannot ban an admin, so no ban form there.
    assert re.search(rf'id="c{staff_comment}".*?author-mark staff">admin<', page, re.S)
    assert "/moderation/users/ada/ban" not in menu_of(page, staff_comment)
    # A held comment waits for approval; a rejected one can be restored.
    app.config["FORUM_MODERATION"] = "pre"
    held = make.comment(user(make, "bob"), "a-story", "Held for review.")
    app.config["FORUM_MODERATION"] = "post"
    menu = menu_of(html(staff["mona"].get("/articles/a-story")), held)
    assert 'value="approve"' in menu and 'value="feature"' not in menu


def test_confirming_a_theory_by_the_plain_form(app, make, staff):
    cid = theory(make)
    response = staff["mona"].post(
        f"/moderation/comments/{cid}/decide",
        data={
            "action": "confirm_theory",
            "note": "Episode 9 proved it.",
            "link": "https://example.org/ep9",
            "revision": revision_of(make, cid),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/a-story?comment={cid}#c{cid}"
    page = html(staff["mona"].get(response.headers["Location"]))
    assert "Theory confirmed: it shows as confirmed on the theories page" in page
    assert "Confirmed theory" in page and "Episode 9 proved it." in page
    comment = make.get(Comment, cid)
    assert comment.theory_status == TheoryStatus.CONFIRMED
    assert comment.theory_link == "https://example.org/ep9"
    for path in ("/theories", "/users/alice"):
        listed = html(staff["bob"].get(path))
        assert re.search(r'theory-confirmed">Confirmed</span>', listed), path
        assert "The butler" in listed and "Episode 9 proved it." in listed
    # The menu now offers the other ways, the note kept in its field.
    menu = menu_of(page, cid)
    assert 'value="confirm_theory"' not in menu and 'value="reopen_theory"' in menu
    assert 'value="Episode 9 proved it."' in menu


def test_each_decision_of_the_menu(app, make, staff):
    cid = make.comment(user(make, "bob"), "a-story", "Nice episode.")
    said = {
        "feature": "Featured among the editors’ picks.",
        "mark_spoiler": "Marked as a spoiler: readers see it covered.",
        "unmark_spoiler": "No longer covered as a spoiler.",
        "unfeature": "No longer among the editors’ picks.",
        "reject": "Rejected: readers no longer see this comment",
        "restore": "Restored: readers see this comment again.",
    }
    for action, sentence in said.items():
        response = staff["mona"].post(
            f"/moderation/comments/{cid}/decide",
            data={"action": action, "reason": "Be kind", "revision": revision_of(make, cid)},
            follow_redirects=True,
        )
        assert sentence in html(response), action
    comment = make.get(Comment, cid)
    assert comment.status == CommentStatus.APPROVED and not comment.featured
    assert not comment.spoiler


def test_the_pages_script_gets_the_comment_as_it_now_shows(app, make, staff):
    cid = make.comment(user(make, "bob"), "a-story", "Off topic rant.")
    response = staff["mona"].post(
        f"/moderation/comments/{cid}/decide",
        data={"action": "reject", "reason": "Off topic", "revision": revision_of(make, cid)},
        headers={"X-Forum-Fragment": "1"},
    )
    assert response.status_code == 200
    answer = response.json
    assert answer["message"].startswith("Rejected: readers no longer see this comment")
    fragment = answer["html"]
    assert fragment.startswith(f'<article id="c{cid}"')
    assert "removed by a moderator" in fragment and "The moderators’ reason: Off topic" in fragment
    assert 'value="restore"' in fragment and 'value="reject"' not in fragment
    assert f'name="revision" value="{revision_of(make, cid)}"' in fragment


def test_a_decision_on_words_that_changed_is_refused(app, make, staff):
    """The author edited it after the moderator's page was made: the old page's
    form is refused rather than deciding on words nobody reviewed."""
    cid = make.comment(user(make, "alice"), "a-story", "Original words.")
    seen = revision_of(make, cid)
    staff["alice"].post(f"/comments/{cid}/edit", data={"body": "Different words."})
    late = staff["mona"].post(
        f"/moderation/comments/{cid}/decide",
        data={"action": "feature", "revision": seen},
        headers={"X-Forum-Fragment": "1"},
    )
    assert late.status_code == 409 and late.json["error"]["code"] == "conflict"
    plain = staff["mona"].post(
        f"/moderation/comments/{cid}/decide",
        data={"action": "feature", "revision": seen},
        follow_redirects=True,
    )
    assert "This comment changed since you opened it" in html(plain)
    assert not make.get(Comment, cid).featured


def test_bad_input_is_a_clear_refusal(app, make, staff):
    cid = theory(make)
    bad_link = staff["mona"].post(
        f"/moderation/comments/{cid}/decide",
        data={"action": "confirm_theory", "link": "javascript:alert(1)"},
        headers={"X-Forum-Fragment": "1"},
    )
    assert bad_link.status_code == 422
    assert bad_link.json["error"]["message"] == "Give a full http:// or https:// address."
    for data in ({"action": "explode"}, {}, {"action": "feature", "revision": "x" * 5000}):
        response = staff["mona"].post(f"/moderation/comments/{cid}/decide", data=data)
        assert response.status_code == 302, data
    assert staff["mona"].post("/moderation/comments/999999/decide").status_code == 404
    assert make.get(Comment, cid).theory_status == TheoryStatus.OPEN


def test_readers_and_visitors_are_refused(app, make, staff, client):
    cid = theory(make)
    for path in (f"/moderation/comments/{cid}/decide",):
        assert staff["alice"].post(path, data={"action": "confirm_theory"}).status_code == 403
        visitor = client.post(path, data={"action": "confirm_theory"})
        assert visitor.status_code == 302 and visitor.headers["Location"].startswith("/auth/login")
    history = f"/moderation/comments/{cid}/history"
    assert staff["alice"].get(history).status_code == 403
    assert client.get(history).status_code == 302
    assert make.get(Comment, cid).theory_status == TheoryStatus.OPEN


def test_banning_the_author_from_the_menu(app, make, staff):
    cid = make.comment(user(make, "bob"), "a-story", "Spoiler bomb.")
    back = f"/articles/a-story?comment={cid}#c{cid}"
    menu = menu_of(html(staff["mona"].get("/articles/a-story")), cid)
    assert f'name="next" value="{back}"' in menu
    assert f'id="ban-reason-{cid}"' in menu and 'id="ban-reason"' not in menu
    response = staff["mona"].post(
        "/moderation/users/bob/ban",
        data={"reason": "Spoiler bombing", "until": "2999-02-03", "next": back},
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    menu = menu_of(html(staff["mona"].get(back)), cid)
    assert "Banned until" in menu and "Lift the ban" in menu
    lifted = staff["mona"].post(
        "/moderation/users/bob/unban", data={"next": back}, headers={"X-Forum-Fragment": "1"}
    )
    assert lifted.json == {"message": "bob may post again."}
    again = staff["mona"].post(
        "/moderation/users/bob/ban",
        data={"reason": "", "next": back},
        headers={"X-Forum-Fragment": "1"},
    )
    assert again.status_code == 422 and again.json["error"]["message"] == (
        "Say why; the reader will see it."
    )
    banned = staff["mona"].post(
        "/moderation/users/bob/ban",
        data={"reason": "Third strike"},
        headers={"X-Forum-Fragment": "1"},
    )
    assert banned.json == {"message": "bob is banned for good."}
    assert make.get(User, user(make, "bob").id).ban_reason == "Third strike"


def test_edit_history_shows_each_edit_as_a_diff_to_moderators_only(app, make, staff):
    cid = make.comment(user(make, "alice"), "a-story", "The red door <b>opens</b>.")
    staff["alice"].post(f"/comments/{cid}/edit", data={"body": "The blue door <b>opens</b>."})
    staff["alice"].post(f"/comments/{cid}/edit", data={"body": "The blue door stays shut."})
    page = html(staff["mona"].get("/articles/a-story"))
    link = f'href="/moderation/comments/{cid}/history"'
    assert link in menu_of(page, cid)
    history = staff["mona"].get(f"/moderation/comments/{cid}/history")
    assert history.status_code == 200
    text = html(history)
    assert "2 edits" in text and "Edit 2, by" in text and "Edit 1, by" in text
    assert '<del><span class="visually-hidden">[removed:] </span>red </del>' in text
    assert '<ins><span class="visually-hidden">[added:] </span>blue </ins>' in text
    # The readers' words are text: escaped in the diff, never markup.
    assert "&lt;b&gt;opens&lt;/b&gt;" in text and "<b>opens</b>" not in text
    # Neither the author nor the API ever gives the earlier words away.
    assert "red door" not in html(staff["alice"].get("/articles/a-story"))
    api = staff["mona"].get("/api/v1/threads/a-story/comments").get_data(as_text=True)
    assert "red door" not in api and "The blue door stays shut." in api
    export = staff["alice"].get("/account/export").get_data(as_text=True)
    assert "red door" not in export


def test_history_of_a_comment_never_edited_or_deleted_by_its_author(app, make, staff):
    cid = make.comment(user(make, "alice"), "a-story", "As posted.")
    page = html(staff["mona"].get(f"/moderation/comments/{cid}/history"))
    assert "0 edits" in page and "Never edited" in page and "As posted." in page
    staff["alice"].post(f"/comments/{cid}/edit", data={"body": "Regret."})
    staff["alice"].post(f"/comments/{cid}/delete")
    page = html(staff["mona"].get(f"/moderation/comments/{cid}/history"))
    assert "Its author deleted it" in page and "As posted." not in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(CommentRevision)) == 0
    assert staff["mona"].get("/moderation/comments/999999/history").status_code == 404


def test_the_moderators_page_costs_the_same_statements_at_any_size(app, make, staff):
    bob = user(make, "bob")
    make.comment(bob, "a-story", "one")
    with count_statements(app) as few:
        assert staff["mona"].get("/articles/a-story").status_code == 200
    for i in range(25):
        parent = make.comment(bob, "a-story", f"theory {i}", theory_title=f"Theory {i}")
        make.comment(user(make, "alice"), "a-story", f"reply {i}", parent_id=parent)
    with count_statements(app) as many:
        page = staff["mona"].get("/articles/a-story")
    assert page.status_code == 200 and html(page).count('class="mod-menu"') == 51
    assert len(few) == len(many)


# -- the embedded frame ---------------------------------------------------------------


@pytest.fixture
def frame(app_with):
    return app_with(FORUM_EMBED_ORIGINS=HOST)


def test_the_frames_menu_goes_through_the_api_with_the_token(frame):
    from tests.conftest import Factory

    make = Factory(frame)
    make.article("a-story")
    make.user("alice")
    make.user("mona", role=Role.MODERATOR)
    cid = theory(make)
    client = frame.test_client()
    mona = {"Authorization": f"Bearer {token_for(client, 'mona')}"}
    alice = {"Authorization": f"Bearer {token_for(client, 'alice')}"}
    listing = client.get("/embed/threads/a-story/comments", headers=mona).json["html"]
    menu = menu_of(listing, cid)
    assert f'data-api="/api/v1/moderation/comments/{cid}"' in menu
    assert 'data-api="/api/v1/moderation/users/alice/ban"' in menu
    assert "csrf_token" not in menu  # the frame has no session
    assert (
        "mod-menu" not in client.get("/embed/threads/a-story/comments", headers=alice).json["html"]
    )
    # What embed-frame.js does: the API's decision, then the comment as it now shows.
    decided = client.post(
        f"/api/v1/moderation/comments/{cid}",
        json={"action": "confirm_theory", "note": "Called it.", "revision": revision_of(make, cid)},
        headers=mona,
    )
    assert decided.status_code == 200
    one = client.get(f"/embed/threads/a-story/comments/{cid}", headers=mona)
    assert one.status_code == 200 and one.headers["Cache-Control"] == "no-store"
    fresh = one.json["html"]
    assert fresh.startswith(f'<article id="c{cid}"') and "Confirmed theory" in fresh
    assert 'value="reopen_theory"' in fresh
    as_reader = client.get(f"/embed/threads/a-story/comments/{cid}", headers=alice).json["html"]
    assert "Confirmed theory" in as_reader and "mod-menu" not in as_reader
    assert client.get(f"/embed/threads/a-story/comments/{cid + 99}").json["error"]["code"] == (
        "not_found"
    )
    assert client.get("/embed/threads/nope/comments/1").status_code == 404
    expired = client.get(
        f"/embed/threads/a-story/comments/{cid}", headers={"Authorization": "Bearer nope"}
    )
    assert expired.status_code == 401

"""Admins managing people: find a reader, promote them (page, API, CLI), ban,
delete on their behalf; the last admin stays; everything on the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum import cli
from forum.extensions import db
from forum.models import AuditEntry, Role, User
from forum.services.accounts import accounts
from tests.conftest import PASSWORD, AuthActions, token_for
from tests.views.test_openapi import check


@pytest.fixture
def people(make):
    make.user("ada", role=Role.ADMIN)
    make.user("mona", role=Role.MODERATOR)
    alice = make.user("alice")
    rosalind = make.user("rosalind")
    with make.app.app_context():
        user = db.session.get(User, rosalind.id)
        user.display_name = "Rosalind Franklin"
        db.session.commit()
    return {"alice": alice, "rosalind": rosalind}


def bearer(client, name):
    return {"Authorization": f"Bearer {token_for(client, name)}"}


def role_of(app, name):
    with app.app_context():
        return db.session.scalar(select(User.role).where(User.username_key == name))


def last_audit(app):
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        return entry.action, entry.target_label, entry.before, entry.after


def test_the_api_finds_and_promotes_a_reader(app, client, people):
    spec = client.get("/api/v1/openapi.json").json
    ada = bearer(client, "ada")
    found = client.get("/api/v1/admin/users", query_string={"q": "frank"}, headers=ada)
    check(spec, "get", "/admin/users", found)
    assert [u["username"] for u in found.json["users"]] == ["rosalind"]
    assert found.json["users"][0]["email"] == "rosalind@example.org"  # admins see it
    by_email = client.get("/api/v1/admin/users", query_string={"q": "ROSA"}, headers=ada)
    assert [u["username"] for u in by_email.json["users"]] == ["rosalind"]
    literal = client.get("/api/v1/admin/users", query_string={"q": "%"}, headers=ada)
    assert literal.json["users"] == []

    promoted = client.patch("/api/v1/admin/users/rosalind", json={"role": "moderator"}, headers=ada)
    check(spec, "patch", "/admin/users/{username}", promoted)
    assert promoted.status_code == 200 and promoted.json["user"]["role"] == "moderator"
    assert role_of(app, "rosalind") == Role.MODERATOR
    assert last_audit(app) == ("set_role", "rosalind", {"role": "reader"}, {"role": "moderator"})


def test_the_api_refuses_others_unknowns_and_bad_roles(app, client, people):
    spec = client.get("/api/v1/openapi.json").json
    ada = bearer(client, "ada")
    for name in ("alice", "mona"):
        refused = client.patch(
            "/api/v1/admin/users/rosalind", json={"role": "admin"}, headers=bearer(client, name)
        )
        assert refused.status_code == 403
        check(spec, "patch", "/admin/users/{username}", refused)
    assert client.get("/api/v1/admin/users", headers=bearer(client, "mona")).status_code == 403
    assert client.patch("/api/v1/admin/users/rosalind", json={"role": "admin"}).status_code == 401
    unknown = client.patch("/api/v1/admin/users/nobody", json={"role": "admin"}, headers=ada)
    assert unknown.status_code == 404
    bad = client.patch("/api/v1/admin/users/rosalind", json={"role": "king"}, headers=ada)
    assert bad.status_code == 422 and "role" in bad.json["error"]["fields"]
    check(spec, "patch", "/admin/users/{username}", bad)
    assert role_of(app, "rosalind") == Role.READER


def test_the_api_deletes_on_the_persons_behalf(app, client, people, make):
    spec = client.get("/api/v1/openapi.json").json
    make.article("a-story")
    make.comment(people["alice"], "a-story", "Alice-API-Words-58")
    mona = client.delete(
        "/api/v1/admin/users/alice", json={"reason": "asked"}, headers=bearer(client, "mona")
    )
    assert mona.status_code == 403
    ada = bearer(client, "ada")
    no_reason = client.delete("/api/v1/admin/users/alice", json={"reason": ""}, headers=ada)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    check(spec, "delete", "/admin/users/{username}", no_reason)
    done = client.delete("/api/v1/admin/users/alice", json={"reason": "asked"}, headers=ada)
    check(spec, "delete", "/admin/users/{username}", done)
    assert done.status_code == 204 and role_of(app, "alice") is None
    assert "Alice-API-Words-58" not in client.get("/api/v1/threads/a-story/comments").get_data(
        as_text=True
    )
    assert last_audit(app)[0] == "delete_account"
    gone = client.delete("/api/v1/admin/users/alice", json={"reason": "again"}, headers=ada)
    assert gone.status_code == 404


def test_the_last_admin_cannot_step_down_or_leave(app, client, people):
    ada = bearer(client, "ada")
    alone = client.patch("/api/v1/admin/users/ada", json={"role": "reader"}, headers=ada)
    assert alone.status_code == 403
    assert (
        client.delete(
            "/api/v1/account", json={"password": "correct horse battery"}, headers=ada
        ).status_code
        == 403
    )
    client.patch("/api/v1/admin/users/rosalind", json={"role": "admin"}, headers=ada)
    stepped = client.patch("/api/v1/admin/users/ada", json={"role": "reader"}, headers=ada)
    assert stepped.status_code == 200 and role_of(app, "ada") == Role.READER


def admin_client(app):
    client = app.test_client()
    assert AuthActions(client).login("ada").status_code == 302
    return client


def test_the_page_finds_promotes_bans_and_deletes(app, people, make):
    admin = admin_client(app)
    listing = admin.get("/admin/people/?q=Frank").get_data(as_text=True)
    assert "Rosalind Franklin" in listing and "@alice" not in listing
    record = admin.get("/admin/people/rosalind")
    assert record.status_code == 200 and "rosalind@example.org" in record.get_data(as_text=True)

    done = admin.post("/admin/people/rosalind/role", data={"role": "moderator"})
    assert done.status_code == 302 and role_of(app, "rosalind") == Role.MODERATOR
    assert "is now moderator" in admin.get(done.headers["Location"]).get_data(as_text=True)

    make.article("a-story")
    make.comment(people["alice"], "a-story", "Alice-Unique-Words-31")
    # The record's ban form posts to the moderators' route and comes back here.
    banned = admin.post(
        "/moderation/users/alice/ban", data={"reason": "spam links", "next": "/admin/people/alice"}
    )
    assert banned.status_code == 302 and banned.headers["Location"] == "/admin/people/alice"
    assert "Banned for good" in admin.get("/admin/people/alice").get_data(as_text=True)
    mismatch = admin.post("/admin/people/alice/delete", data={"reason": "asked", "confirm": "x"})
    assert mismatch.status_code == 302 and role_of(app, "alice") is not None
    deleted = admin.post(
        "/admin/people/alice/delete", data={"reason": "Asked by email", "confirm": "alice"}
    )
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/admin/people/"
    assert role_of(app, "alice") is None
    assert "Alice-Unique-Words-31" not in admin.get("/articles/a-story").get_data(as_text=True)
    action, label, _, after = last_audit(app)
    assert action == "delete_account" and label.startswith("deleted.") and after == {"by": "admin"}


def test_only_admins_see_the_pages(app, people):
    mona = app.test_client()
    AuthActions(mona).login("mona")
    assert mona.get("/admin/people/").status_code == 403
    assert mona.post("/admin/people/alice/role", data={"role": "admin"}).status_code == 403
    assert app.test_client().get("/admin/people/").status_code == 302  # to the sign-in page


def test_the_cli_lists_promotes_and_deletes(app, runner, people, make, monkeypatch):
    listed = runner.invoke(args=["users", "list", "--search", "rosa"])
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "rosalind\treader\tRosalind Franklin\trosalind@example.org"
    ]
    admins = runner.invoke(args=["users", "list", "--role", "admin"])
    assert [line.split("\t")[0] for line in admins.output.splitlines()] == ["ada"]

    promoted = runner.invoke(args=["users", "set-role", "rosalind", "admin"])
    assert promoted.exit_code == 0 and promoted.output == "rosalind is now admin.\n"
    assert role_of(app, "rosalind") == Role.ADMIN
    assert last_audit(app)[0] == "set_role"

    unknown = runner.invoke(args=["users", "set-role", "nobody", "admin"])
    assert unknown.exit_code == 1
    assert unknown.output.strip().splitlines() == ["Error: There is no account named 'nobody'."]
    assert "Traceback" not in unknown.output

    make.article("a-story")
    make.comment(people["alice"], "a-story", "Alice-CLI-Words-77")
    # At a terminal it asks first (the runner's stdin stands in for one here).
    monkeypatch.setattr(cli, "at_terminal", lambda: True)
    unconfirmed = runner.invoke(args=["users", "delete", "alice"], input="n\n")
    assert unconfirmed.exit_code == 1 and role_of(app, "alice") is not None
    monkeypatch.undo()
    deleted = runner.invoke(args=["users", "delete", "alice", "--reason", "GDPR", "--yes"])
    assert deleted.exit_code == 0 and deleted.output == "Deleted alice.\n"
    assert role_of(app, "alice") is None
    assert "Alice-CLI-Words-77" not in app.test_client().get("/articles/a-story").get_data(
        as_text=True
    )
    again = runner.invoke(args=["users", "delete", "alice", "--yes"])
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1


def test_the_cli_keeps_one_admin(app, runner, people):
    demote = runner.invoke(args=["users", "set-role", "ada", "reader"])
    assert demote.exit_code == 1 and "only admin" in demote.output
    delete = runner.invoke(args=["users", "delete", "ada", "--yes"])
    assert delete.exit_code == 1 and "only admin" in delete.output
    assert role_of(app, "ada") == Role.ADMIN


def test_search_pages_through_every_match_once(app, client, people):
    with app.app_context():
        for i in range(60):
            name = f"pager{i:02d}"
            db.session.add(
                User(
                    username=name,
                    username_key=name,
                    email=f"{name}@example.org",
                    email_key=f"{name}@example.org",
                    # Half match by name only: the pages merge the two kinds in order.
                    display_name="Page Turner" if i % 2 else name,
                    password_hash="!",
                )
            )
        db.session.commit()
    ada = bearer(client, "ada")
    seen, after = [], None
    while True:
        query = {"q": "pager"} if after is None else {"q": "pager", "after": after}
        answer = client.get("/api/v1/admin/users", query_string=query, headers=ada).json
        seen += [user["username"] for user in answer["users"]]
        after = answer["next_after"]
        if after is None:
            break
    assert seen == [f"pager{i:02d}" for i in range(60)]
    turners = client.get("/api/v1/admin/users", query_string={"q": "turn"}, headers=ada).json
    assert len(turners["users"]) == 30 and turners["next_after"] is None


def test_a_search_with_a_nul_character_is_refused(client, people):
    ada = bearer(client, "ada")
    for query in ({"q": "ros\x00a"}, {"after": "a\x00"}):
        refused = client.get("/api/v1/admin/users", query_string=query, headers=ada)
        assert refused.status_code == 422, query


def test_the_cli_deletes_as_the_contract_writes_it_from_a_script(database, tmp_path):
    """`flask --app forum users delete USERNAME` from a script (no terminal, no
    --yes) does as told, in a real process, as CONTRACT.md §6 writes it."""
    import os
    import subprocess
    import sys

    if not database.startswith("sqlite"):
        pytest.skip("a process of its own on a SQLite file is enough to show it")
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "FORUM_DATABASE_URL": url, "FORUM_SECRET_KEY": "cli test"}
    flask = [sys.executable, "-m", "flask", "--app", "forum"]

    def run(*args):
        return subprocess.run(
            [*flask, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )

    assert run("db", "upgrade").returncode == 0
    made = run("users", "create", "wren", "--email", "wren@example.org", "--password", "x" * 12)
    assert made.returncode == 0, made.stderr
    gone = run("users", "delete", "wren")
    assert (gone.returncode, gone.stdout) == (0, "Deleted wren.\n"), gone.stderr
    again = run("users", "delete", "wren")
    assert again.returncode == 1 and "Traceback" not in again.stderr + again.stdout


def test_an_admin_deletes_their_own_account_only_from_its_own_page(app, client, people):
    """The admin tools ask no password: one's own account is refused there."""
    AuthActions(client).login("ada")
    assert client.patch("/api/v1/admin/users/alice", json={"role": "admin"}).status_code == 200
    refused = client.delete("/api/v1/admin/users/ada", json={"reason": "leaving"})
    assert refused.status_code == 403
    assert role_of(app, "ada") == "admin"


def test_a_guest_gets_no_role_and_never_counts_as_an_admin(app_with):
    from forum.services.discussion import threads

    app = app_with(FORUM_GUESTS="on")
    with app.app_context():
        accounts.register("solo", "solo@example.org", PASSWORD, Role.ADMIN)
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    posted = app.test_client().post(
        "/api/v1/threads/a-story/comments", json={"body": "Hello", "guest_name": "Wren"}
    )
    guest_name = posted.json["comment"]["author"]["username"]
    admin = app.test_client()
    AuthActions(admin).login("solo")
    refused = admin.patch(f"/api/v1/admin/users/{guest_name}", json={"role": "admin"})
    assert refused.status_code == 422 and "role" in refused.json["error"]["fields"]
    with app.app_context():
        guest = db.session.scalar(select(User).where(User.username == guest_name))
        guest.role = Role.ADMIN  # even made one by hand, a guest is nobody to hand over to
        db.session.commit()
    assert admin.patch("/api/v1/admin/users/solo", json={"role": "reader"}).status_code == 403

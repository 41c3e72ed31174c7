"""The admins' embedding pages (/moderation/embedding/...): publishers' origins,
their sign-on secrets, and the threads embeds created, renamed and merged
(forum.services.discussion.thread_admin)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from forum.errors import Forbidden, ValidationError
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    EmbedSite,
    Follow,
    Notification,
    Role,
    Thread,
    User,
    utcnow,
)
from forum.services.discussion import sites, thread_admin, threads
from forum.services.notify import notifications
from tests.conftest import PASSWORD, AuthActions, allowed_origins

NEWS = "https://news.example"
TWO = "https://two.example"


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=NEWS)


@pytest.fixture
def admin(make):
    return make.user("root", role=Role.ADMIN)


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    AuthActions(client).login("root")
    return client


def html(response) -> str:
    return response.get_data(as_text=True)


def embedded(app, key, origin=NEWS, title=None, age=None) -> int:
    """A thread as a publisher's first page view makes it; returns its id."""
    with app.app_context():
        thread = Thread(
            key=key,
            title=title or f"Story {key}",
            url=f"{origin}/{key}",
            origin=origin,
            created_at=utcnow() - (age or timedelta(0)),
        )
        db.session.add(thread)
        db.session.commit()
        return thread.id


def thread(app, key) -> Thread:
    with app.app_context():
        row = db.session.scalar(select(Thread).where(Thread.key == key))
        db.session.expunge(row)
        return row


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# -- the service: merge -----------------------------------------------------------------------


def merge(app, actor, source_key, target_key) -> int:
    with app.app_context():
        moved = thread_admin.merge_threads(
            db.session.get(User, actor.id),
            threads.thread_by_key(source_key),
            threads.thread_by_key(target_key),
        )
        db.session.commit()
        return moved


def test_merge_moves_every_comment_and_recounts(app, make, admin):
    alice, bob = make.user("alice"), make.user("bob")
    embedded(app, "keep")
    embedded(app, "dupe")
    make.comment(alice, "keep", "already here")
    top = make.comment(alice, "dupe", "first in the duplicate")
    reply = make.comment(bob, "dupe", "a reply", parent_id=top)
    deep = make.comment(alice, "dupe", "a reply to the reply", parent_id=reply)
    held = make.comment(bob, "dupe", "waiting")
    make.set_status(held, CommentStatus.PENDING)
    before_keep, before_dupe = thread(app, "keep"), thread(app, "dupe")

    assert merge(app, admin, "dupe", "keep") == 4

    keep, dupe = thread(app, "keep"), thread(app, "dupe")
    assert keep.comment_count == 4  # three approved moved in, the pending one does not count
    assert (dupe.comment_count, dupe.merged_into_id) == (0, keep.id)
    assert keep.version > before_keep.version and dupe.version > before_dupe.version
    with app.app_context():
        moved = {c.id: c for c in db.session.scalars(select(Comment).where(Comment.id >= top))}
        assert {c.thread_id for c in moved.values()} == {keep.id}
        assert (moved[reply].parent_id, moved[deep].root_id) == (top, top)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "thread_merged"))
        assert (entry.actor_id, entry.target_type, entry.target_label) == (
            admin.id,
            "thread",
            "dupe",
        )
        assert entry.after == {"merged_into": "keep", "moved_comments": 4}
    # The merged key shows the kept thread, as a publisher's page will.
    with app.app_context():
        shown, created = threads.thread_for_embed("dupe", NEWS)
        assert (shown.key, created) == ("keep", False)


def test_merge_keeps_follows_and_notifications(app, make, admin):
    alice, bob, carol = make.user("alice"), make.user("bob"), make.user("carol")
    embedded(app, "keep")
    embedded(app, "dupe")
    with app.app_context():
        dupe, keep = threads.thread_by_key("dupe"), threads.thread_by_key("keep")
        notifications.follow(db.session.get(User, bob.id), dupe)
        notifications.follow(db.session.get(User, carol.id), dupe)
        notifications.follow(db.session.get(User, carol.id), keep)
        db.session.commit()
    top = make.comment(alice, "dupe", "a question")
    answer = make.comment(bob, "dupe", "an answer", parent_id=top)

    merge(app, admin, "dupe", "keep")

    keep_id = thread(app, "keep").id
    with app.app_context():
        follows = sorted(db.session.execute(select(Follow.user_id, Follow.thread_id)).all())
        # alice and bob followed the duplicate (bob by hand, both by commenting),
        # carol both threads: each now follows the kept one, once.
        assert follows == [(alice.id, keep_id), (bob.id, keep_id), (carol.id, keep_id)]
        note = db.session.scalar(select(Notification).where(Notification.user_id == alice.id))
        assert note.comment_id == answer
        assert note.comment.thread.key == "keep"


def test_merge_refuses_what_makes_no_sense(app, make, admin):
    for key in ("a", "b", "c", "d"):
        embedded(app, key)
    make.article("an-article", "An article")
    merge(app, admin, "c", "d")  # c now shows d

    def refused(source, target, words):
        with pytest.raises(ValidationError) as caught:
            merge(app, admin, source, target)
        assert words in caught.value.fields["into"]

    refused("a", "a", "into itself")
    refused("a", "c", "c was itself merged into d: merge into d instead")
    refused("c", "a", "c was already merged into d")
    refused("an-article", "a", "one of this site's articles")
    # An article's thread may keep an embed's duplicate.
    assert merge(app, admin, "b", "an-article") == 0
    assert thread(app, "b").merged_into_id == thread(app, "an-article").id


def test_earlier_merges_point_straight_at_the_new_home(app, admin):
    for key in ("a", "b", "c"):
        embedded(app, key)
    merge(app, admin, "c", "b")
    merge(app, admin, "b", "a")
    a = thread(app, "a")
    assert thread(app, "b").merged_into_id == a.id
    assert thread(app, "c").merged_into_id == a.id  # no chain c -> b -> a


def test_only_admins_manage_threads(app, make):
    embedded(app, "a")
    embedded(app, "b")
    mona = make.user("mona", role=Role.MODERATOR)
    with app.app_context():
        actor = db.session.get(User, mona.id)
        a, b = threads.thread_by_key("a"), threads.thread_by_key("b")
        with pytest.raises(Forbidden):
            thread_admin.merge_threads(actor, a, b)
        with pytest.raises(Forbidden):
            thread_admin.rename_thread(actor, a, "New", None)
        with pytest.raises(Forbidden):
            thread_admin.embedded_threads(actor)


# -- the service: rename and list -------------------------------------------------------------


def rename(app, actor, key, title, url):
    with app.app_context():
        renamed = thread_admin.rename_thread(
            db.session.get(User, actor.id), threads.thread_by_key(key), title, url
        )
        db.session.commit()
        return renamed.title, renamed.url


def test_rename_sets_title_and_address(app, admin):
    embedded(app, "a")
    version = thread(app, "a").version
    assert rename(app, admin, "a", "  A better\ntitle ", " https://news.example/better ") == (
        "A better title",
        "https://news.example/better",
    )
    assert thread(app, "a").version == version + 1
    assert rename(app, admin, "a", "A better title", "") == ("A better title", None)
    assert rename(app, admin, "a", "A better title", None) == ("A better title", None)
    assert audit_actions(app) == ["thread_renamed", "thread_renamed"]  # the last changed nothing


@pytest.mark.parametrize(
    ("title", "url", "field"),
    [
        ("", "https://news.example/x", "title"),
        ("  \n ", None, "title"),
        ("x" * 301, None, "title"),
        (None, None, "title"),
        ("Fine", "javascript:alert(1)", "url"),
        ("Fine", "ftp://news.example/x", "url"),
        ("Fine", "news.example/x", "url"),
        ("Fine", "https://", "url"),
        ("Fine", "https://news.example:99999/", "url"),
        ("Fine", "https://news example/", "url"),
        ("Fine", "https://news.example/" + "x" * 2000, "url"),
        ("Fine", ["https://news.example/"], "url"),
    ],
)
def test_rename_refuses_bad_titles_and_addresses(app, admin, title, url, field):
    embedded(app, "a")
    with pytest.raises(ValidationError) as caught:
        rename(app, admin, "a", title, url)
    assert field in caught.value.fields
    assert thread(app, "a").title == "Story a"


def test_embedded_threads_newest_first_in_pages_without_offset(app, admin):
    for n in range(5):
        embedded(app, f"t{n}", age=timedelta(minutes=10 - n))
    embedded(app, "other", origin=TWO)
    embedded(app, "same-time-1", age=timedelta(minutes=20))
    with app.app_context():
        db.session.execute(
            Thread.__table__.update()
            .where(Thread.key == "same-time-1")
            .values(created_at=thread(app, "t0").created_at)
        )
        db.session.commit()
    with app.app_context():
        actor = db.session.get(User, admin.id)
        seen, cursor, statements = [], None, []

        def record(conn, cursor_, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            while True:
                rows, cursor = thread_admin.embedded_threads(
                    actor, origin=NEWS, limit=2, cursor=cursor
                )
                seen += [row.key for row in rows]
                if cursor is None:
                    break
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert seen == ["t4", "t3", "t2", "t1", "same-time-1", "t0"]
        assert len(statements) == 3  # three pages of two, one statement each
        for statement, parameters in statements:
            # SQLite always writes "LIMIT ? OFFSET ?"; the offset must stay 0.
            assert "OFFSET" not in statement or parameters[-1] == 0
        everything, _ = thread_admin.embedded_threads(actor)
        assert [row.key for row in everything][:2] == ["other", "t4"]
        with pytest.raises(ValidationError):
            thread_admin.embedded_threads(actor, cursor="nonsense")


# -- the pages: who may see them --------------------------------------------------------------

PAGES = [
    "/moderation/embedding/",
    "/moderation/embedding/threads",
    "/moderation/embedding/threads/a",
]
POSTS = [
    ("/moderation/embedding/origins", {"origin": TWO}),
    ("/moderation/embedding/origins/allowed", {"origin": NEWS, "allowed": "0"}),
    ("/moderation/embedding/origins/secret", {"origin": NEWS}),
    ("/moderation/embedding/origins/secret/delete", {"origin": NEWS}),
    ("/moderation/embedding/origins/roles", {"origin": NEWS, "sso_roles": "1"}),
    ("/moderation/embedding/origins/guests", {"origin": NEWS, "guests": "0"}),
    ("/moderation/embedding/threads/a/rename", {"title": "x", "url": ""}),
    ("/moderation/embedding/threads/a/merge", {"into": "b"}),
]


@pytest.mark.parametrize("role", [Role.READER, Role.MODERATOR])
def test_readers_and_moderators_are_refused(app, make, role):
    embedded(app, "a")
    embedded(app, "b")
    make.user("someone", role=role)
    client = app.test_client()
    AuthActions(client).login("someone")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path, data in POSTS:
        assert client.post(path, data=data).status_code == 403, path
    with app.app_context():
        assert db.session.scalar(select(EmbedSite)) is None
        assert db.session.scalar(select(Thread).where(Thread.key == "a")).merged_into_id is None


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    embedded(app, "a")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.location
    assert client.post("/moderation/embedding/origins", data={"origin": TWO}).status_code == 302


def test_only_admins_see_the_links(app, make, admin_client, moderator_client):
    assert "Embedding" in html(admin_client.get("/moderation/queue/pending"))
    assert "Embedded threads" in html(admin_client.get("/moderation/queue/pending"))
    assert "Embedding" not in html(moderator_client.get("/moderation/queue/pending"))


# -- the pages: sites -------------------------------------------------------------------------


def test_sites_page_shows_the_effective_origins(admin_client):
    page = html(admin_client.get("/moderation/embedding/"))
    assert "<h1>Embedding</h1>" in page
    assert NEWS in page and "from FORUM_EMBED_ORIGINS" in page
    assert '<label for="new-origin">Origin</label>' in page


def test_adding_allowing_and_refusing_origins(app, admin_client):
    response = admin_client.post(
        "/moderation/embedding/origins", data={"origin": "HTTPS://Two.Example/"}
    )
    assert response.status_code == 302 and response.location == "/moderation/embedding/"
    with app.app_context():
        assert allowed_origins() == sorted([NEWS, TWO])
    assert f"{TWO} may embed discussions." in html(admin_client.get("/moderation/embedding/"))

    refuse = {"origin": NEWS, "allowed": "0"}
    assert (
        admin_client.post("/moderation/embedding/origins/allowed", data=refuse).status_code == 302
    )
    with app.app_context():
        assert allowed_origins() == sorted([TWO])
    allow = {"origin": NEWS, "allowed": "1"}
    admin_client.post("/moderation/embedding/origins/allowed", data=allow)
    with app.app_context():
        assert allowed_origins() == sorted([NEWS, TWO])
    assert audit_actions(app) == [
        "embed_origin_allowed",
        "embed_origin_refused",
        "embed_origin_allowed",
    ]


@pytest.mark.parametrize(
    "origin", ["news", "https://news.example/path", "ftp://news.example", "", "x" * 300, "\x00"]
)
def test_a_malformed_origin_is_a_form_error(app, admin_client, origin):
    response = admin_client.post("/moderation/embedding/origins", data={"origin": origin})
    assert response.status_code == 422
    page = html(response)
    assert "Give an origin like https://news.example (no path)." in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(select(EmbedSite)) is None


def test_a_secret_is_shown_once_and_never_again(app, admin_client):
    response = admin_client.post("/moderation/embedding/origins/secret", data={"origin": NEWS})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        secret = sites.sso_secret_of(sites.site_for(NEWS))
    page = html(response)
    assert secret in page and "shown only this once" in page
    assert f'<label for="sso-secret">Secret for {NEWS}</label>' in page

    later = html(admin_client.get("/moderation/embedding/"))
    assert secret not in later and "Replace sign-on secret" in later
    cookie = admin_client.get_cookie("session")
    assert cookie is None or secret not in cookie.value
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry)).all()
        assert [e.action for e in entries] == ["sso_secret_generated"]
        assert all(secret not in str(e.before) + str(e.after) for e in entries)

    # Replacing it makes a new one; removing turns sign-on off.
    again = html(admin_client.post("/moderation/embedding/origins/secret", data={"origin": NEWS}))
    with app.app_context():
        replaced = sites.sso_secret_of(sites.site_for(NEWS))
    assert replaced != secret and replaced in again and secret not in again
    removed = admin_client.post(
        "/moderation/embedding/origins/secret/delete", data={"origin": NEWS}
    )
    assert removed.status_code == 302
    with app.app_context():
        assert sites.site_for(NEWS).sso_secret is None


def test_odd_site_posts_are_messages_not_errors(admin_client):
    for path, data in [
        ("/moderation/embedding/origins/secret", {"origin": "nonsense"}),
        ("/moderation/embedding/origins/secret/delete", {"origin": TWO}),
        ("/moderation/embedding/origins/allowed", {}),
    ]:
        response = admin_client.post(path, data=data)
        assert response.status_code == 302, path
    page = html(admin_client.get("/moderation/embedding/"))
    assert "That origin is not on the list." in page


# -- the pages: threads -----------------------------------------------------------------------


def test_threads_page_lists_filters_and_pages(app, make, admin_client):
    alice = make.user("alice")
    embedded(app, "old", age=timedelta(days=1))
    embedded(app, "new", title="The newest story")
    embedded(app, "theirs", origin=TWO, age=timedelta(hours=1))
    make.comment(alice, "new")
    make.article("ours")
    page = html(admin_client.get("/moderation/embedding/threads"))
    assert page.index("The newest story") < page.index("Story theirs") < page.index("Story old")
    assert "ours" not in re.findall(r"<code>([^<]+)</code>", page)
    assert "1 comment ·" in re.sub(r"\s+", " ", page)

    mine = html(admin_client.get("/moderation/embedding/threads", query_string={"origin": TWO}))
    assert "Story theirs" in mine and "Story old" not in mine
    bad = admin_client.get("/moderation/embedding/threads", query_string={"origin": "nope"})
    assert bad.status_code == 422 and "Give an origin like" in html(bad)
    odd = admin_client.get("/moderation/embedding/threads", query_string={"cursor": "x"})
    assert odd.status_code == 302


def test_threads_page_pages_by_cursor(app, admin_client):
    for n in range(thread_admin.PAGE_SIZE + 1):
        embedded(app, f"t{n}", age=timedelta(minutes=n))
    first = html(admin_client.get("/moderation/embedding/threads"))
    older = re.search(r'href="(/moderation/embedding/threads\?cursor=[^"]+)"', first)
    assert older and "Story t50" not in first
    second = html(admin_client.get(older.group(1).replace("&amp;", "&")))
    assert "Story t50" in second and "Story t49" not in second


def test_rename_through_the_page(app, admin_client):
    embedded(app, "a")
    form = html(admin_client.get("/moderation/embedding/threads/a"))
    assert '<label for="t-title">Title</label>' in form and "<h1>Story a</h1>" in form
    response = admin_client.post(
        "/moderation/embedding/threads/a/rename",
        data={"title": "Renamed", "url": "https://news.example/renamed"},
    )
    assert response.status_code == 302 and response.location == "/moderation/embedding/threads/a"
    assert (thread(app, "a").title, thread(app, "a").url) == (
        "Renamed",
        "https://news.example/renamed",
    )

    bad = admin_client.post(
        "/moderation/embedding/threads/a/rename", data={"title": "", "url": "javascript:x"}
    )
    assert bad.status_code == 422
    page = html(bad)
    assert "Give the thread a title" in page and "Give a full http:// or https:// address" in page
    assert 'value="javascript:x"' in page  # what was typed stays for correcting
    assert thread(app, "a").title == "Renamed"


def test_merge_through_the_page(app, make, admin_client):
    embedded(app, "keep")
    embedded(app, "dupe")
    make.comment(make.user("alice"), "dupe", "moved")
    # The same site's other threads are offered as keys to merge into.
    offered = html(admin_client.get("/moderation/embedding/threads/dupe"))
    assert '<option value="keep">Story keep</option>' in offered
    assert '<option value="dupe">' not in offered
    for into, words in [
        ("", "Give the key of the thread to keep."),
        ("missing", "There is no thread with the key missing."),
        ("dupe", "cannot be merged into itself"),
        ("bad key/", "There is no thread with the key"),
    ]:
        response = admin_client.post(
            "/moderation/embedding/threads/dupe/merge", data={"into": into}
        )
        assert response.status_code == 422, into
        assert words in html(response)
    response = admin_client.post("/moderation/embedding/threads/dupe/merge", data={"into": "keep"})
    assert response.status_code == 302 and response.location == "/moderation/embedding/threads/keep"
    assert "Merged dupe into keep: 1 comment(s) moved." in html(admin_client.get(response.location))
    merged = html(admin_client.get("/moderation/embedding/threads/dupe"))
    assert "Merged into" in merged and "Key of the thread to keep" not in merged
    listed = html(admin_client.get("/moderation/embedding/threads"))
    assert "merged into" in listed
    again = admin_client.post("/moderation/embedding/threads/dupe/merge", data={"into": "keep"})
    assert again.status_code == 422 and "already merged into keep" in html(again)


def test_unknown_thread_is_404(admin_client):
    assert admin_client.get("/moderation/embedding/threads/nope").status_code == 404
    assert admin_client.post("/moderation/embedding/threads/nope/rename").status_code == 404


# -- the audit log ----------------------------------------------------------------------------


def test_the_log_filters_site_entries(app, admin_client):
    admin_client.post("/moderation/embedding/origins", data={"origin": TWO})
    embedded(app, "a")
    admin_client.post("/moderation/embedding/threads/a/rename", data={"title": "New", "url": ""})
    page = html(admin_client.get("/moderation/log"))
    assert '<option value="site">site</option>' in page
    sites_only = html(admin_client.get("/moderation/log", query_string={"target": "site"}))
    assert TWO in sites_only and "<td>thread renamed</td>" not in sites_only
    assert "<td>thread renamed</td>" in html(admin_client.get("/moderation/log"))


# -- CSRF stays on here -----------------------------------------------------------------------


def test_posts_without_a_csrf_token_are_refused(app_with, make):
    app = app_with(FORUM_EMBED_ORIGINS=NEWS, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.session.add(Thread(key="a", title="A", origin=NEWS))
        db.session.commit()
    make = type(make)(app)
    make.user("root", role=Role.ADMIN)
    client = app.test_client()

    def token(path):
        page = html(client.get(path))
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    login = {"username": "root", "password": PASSWORD, "csrf_token": token("/auth/login")}
    assert client.post("/auth/login", data=login).status_code == 302
    for path, data in POSTS:
        refused = client.post(path, data=data)
        assert refused.status_code == 400, path
    with app.app_context():
        assert db.session.scalar(select(EmbedSite)) is None
    good = token("/moderation/embedding/")
    accepted = client.post(
        "/moderation/embedding/origins", data={"origin": "https://two.example", "csrf_token": good}
    )
    assert accepted.status_code == 302
    with app.app_context():
        assert allowed_origins() == sorted([NEWS, "https://two.example"])

"""Thread pages through the API: ETags from the thread's version, 304 while
nothing changed, and cached bytes that are never stale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from forum import create_app
from forum.extensions import db
from forum.models import Article, CommentStatus, Thread, User, utcnow
from forum.services.accounts import people
from forum.services.discussion import threads, trees
from forum.views.api.serializers import comment_json
from tests.conftest import (
    PASSWORD,
    TEST_REDIS,
    _test_config,
    count_statements,
    empty_redis,
    token_for,
)

PAGE = "/api/v1/threads/a-story/comments"


def listed(response) -> list[dict]:
    """Every comment of a page, depth first."""
    found, stack = [], list(reversed(response.json["comments"]))
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node["replies"]))
    return found


def test_a_page_carries_a_strong_etag_and_answers_304_while_unchanged(
    client, make, reader, article
):
    make.comment(reader, article, "First thoughts on the premiere.")
    first = client.get(PAGE)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and not tag.startswith("W/")
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Authorization" in first.headers["Vary"] and "Cookie" in first.headers["Vary"]

    again = client.get(PAGE, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag

    make.comment(reader, article, "A second thought: the lighthouse keeper knows.")
    changed = client.get(PAGE, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert "lighthouse keeper" in changed.json["comments"][1]["html"]


def test_a_cached_page_costs_one_statement_and_follows_every_change(
    app, client, make, reader, moderator, article
):
    kept = make.comment(reader, article, "Kept comment.")
    doomed = make.comment(reader, article, "This one will be removed.")
    client.get(PAGE)
    with count_statements(app) as seen:
        hit = client.get(PAGE)
    assert len(seen) == 1  # the thread's version; the page itself came from the cache
    assert [c["id"] for c in hit.json["comments"]] == [kept, doomed]

    mod = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(mod, moderator.username)}"}
    decided = mod.post(
        f"/api/v1/moderation/comments/{doomed}", json={"action": "reject"}, headers=headers
    )
    assert decided.status_code == 200, decided.json
    assert [c["id"] for c in client.get(PAGE).json["comments"]] == [kept]

    make.vote(moderator, kept, 1)
    assert client.get(PAGE).json["comments"][0]["score"] == 1


def test_readers_never_get_each_others_view(app, client, make, reader, moderator, article):
    app.config["FORUM_MODERATION"] = "pre"  # comments wait for a moderator
    held = make.comment(reader, article, "Held until a moderator looks.")
    anonymous = client.get(PAGE)
    assert anonymous.json["comments"] == []

    author = app.test_client()
    author_headers = {"Authorization": f"Bearer {token_for(author, reader.username)}"}
    own = author.get(PAGE, headers=author_headers)
    assert [(c["id"], c["status"]) for c in own.json["comments"]] == [(held, "pending")]
    assert own.json["comments"][0]["body"] == "Held until a moderator looks."
    assert own.headers["Cache-Control"] == "private, no-cache"
    assert own.headers["ETag"] != anonymous.headers["ETag"]
    # The reader's tag gets no 304 for anyone else, and the reverse.
    assert client.get(PAGE, headers={"If-None-Match": own.headers["ETag"]}).status_code == 200
    refused = author.get(
        PAGE, headers={**author_headers, "If-None-Match": anonymous.headers["ETag"]}
    )
    assert refused.status_code == 200 and refused.json["comments"][0]["id"] == held

    assert client.get(PAGE).json["comments"] == []  # still nothing cached for the public


def test_a_new_display_name_reaches_cached_pages(app, client, make, reader, article):
    make.comment(reader, article, "Who is the stranger in episode two?")
    before = client.get(PAGE)
    assert before.json["comments"][0]["author"]["display_name"] == "alice"
    with app.app_context():
        people.update_profile(db.session.get(User, reader.id), "Alice the Theorist", "")
        db.session.commit()
    after = client.get(PAGE, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.json["comments"][0]["author"]["display_name"] == "Alice the Theorist"


def test_a_retitled_article_reaches_cached_pages(app, client, make, article):
    assert client.get(PAGE).json["thread"]["title"] == "A story"
    with app.app_context():
        threads.save_article(article, "A story, retitled", "Some text.")
        db.session.commit()
    assert client.get(PAGE).json["thread"]["title"] == "A story, retitled"


def test_each_page_of_a_thread_is_cached_apart(client, make, reader, article):
    ids = [make.comment(reader, article, f"Top-level comment {i}.") for i in range(5)]
    first = client.get(f"{PAGE}?limit=2")
    second = client.get(f"{PAGE}?limit=2&cursor={first.json['next_cursor']}")
    newest = client.get(f"{PAGE}?sort=newest&limit=2")
    assert [c["id"] for c in first.json["comments"]] == ids[:2]
    assert [c["id"] for c in second.json["comments"]] == ids[2:4]
    assert [c["id"] for c in newest.json["comments"]] == ids[:2:-1][:2]


def test_the_page_says_exactly_what_the_comment_serializer_says(app, make, reader, moderator):
    """The fast row path must agree with comment_json() for every viewer and
    status: tombstones, held replies, spam, deleted comments, theories."""
    make.article("mixed")
    other = make.user("bob")
    root = make.comment(reader, "mixed", "A theory about the ferry.", theory_title="The ferry")
    reply = make.comment(other, "mixed", "Reply that gets removed.", parent_id=root)
    make.comment(reader, "mixed", "Reply under a removed one.", parent_id=reply)
    spam = make.comment(other, "mixed", "Buy now.")
    pending = make.comment(reader, "mixed", "Waiting for a look.", parent_id=root)
    deleted = make.comment(other, "mixed", "Deleted by its author.")
    make.comment(reader, "mixed", "Still here under a deleted one.", parent_id=deleted)
    make.set_status(reply, CommentStatus.REJECTED)
    make.set_status(spam, CommentStatus.SPAM)
    make.set_status(pending, CommentStatus.PENDING)
    make.set_status(deleted, CommentStatus.DELETED)

    for viewer_id in (None, reader.id, other.id, moderator.id):
        with app.test_request_context("/"):
            viewer = db.session.get(User, viewer_id) if viewer_id else AnonymousUserMixin()
            thread = threads.thread_by_key("mixed")
            page = trees.load_page(thread, viewer, "oldest", 50, None)

            def expected(node, viewer=viewer):
                replies = [expected(r) for r in node.replies]
                return comment_json(node.comment, "mixed", viewer, node.tombstone, replies)

            want = [expected(node) for node in page.roots]
        client = app.test_client()
        headers = {}
        if viewer_id:
            name = db_name(app, viewer_id)
            headers = {"Authorization": f"Bearer {token_for(client, name)}"}
        got = client.get("/api/v1/threads/mixed/comments", headers=headers).json["comments"]
        assert got == want, f"viewer {viewer_id}"


def db_name(app, user_id) -> str:
    with app.app_context():
        return db.session.get(User, user_id).username


def test_with_the_cache_off_every_read_is_built(app_with, make):
    app = app_with(FORUM_CACHE="off")
    with app.app_context():
        threads.save_article("off-story", "Off", "Text.")
        db.session.commit()
    client = app.test_client()
    client.get("/api/v1/threads/off-story/comments")
    with count_statements(app) as seen:
        assert client.get("/api/v1/threads/off-story/comments").status_code == 200
    assert len(seen) == 2  # the thread and its (empty) page of top-level comments


def test_a_cache_that_does_not_answer_costs_nothing_but_time(app_with, caplog):
    # Nothing listens on port 1: every cache call fails at once.
    app = app_with(
        FORUM_CACHE_REDIS_URL="redis://127.0.0.1:1/0",
        FORUM_BASE_URL="http://localhost",
        FORUM_RATELIMIT="off",
    )
    with app.app_context():
        threads.save_article("cacheless", "Cacheless", "Text.")
        db.session.commit()
    response = app.test_client().get("/api/v1/threads/cacheless/comments")
    assert response.status_code == 200 and response.json["comments"] == []
    assert "page cache unavailable" in caplog.text
    assert "127.0.0.1:1" not in caplog.text  # the address (with any password) is not logged


@pytest.mark.parametrize("value", ["maybe", "redis"])
def test_a_cache_setting_that_cannot_work_is_refused(database, value):
    with pytest.raises(ValueError, match="FORUM_CACHE must be on or off"):
        create_app({**_test_config(database), "FORUM_CACHE": value})


def test_the_database_pool_is_sized_per_process(database):
    app = create_app({**_test_config(database), "FORUM_DB_POOL_SIZE": 3})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    if database.startswith("sqlite"):
        assert "pool_size" not in options  # SQLite opens a file, not a connection pool
    else:
        assert options["pool_size"] == 3
        with app.app_context():
            assert db.engine.pool.size() == 3
    with pytest.raises(ValueError, match="FORUM_DB_POOL_SIZE"):
        create_app({**_test_config("postgresql+psycopg://x@127.0.0.1/x"), "FORUM_DB_POOL_SIZE": 0})


def test_a_rebuilt_database_never_matches_an_old_tag(app, client, make, article):
    tag = client.get(PAGE).headers["ETag"]
    with app.app_context():
        thread = db.session.scalar(db.select(Thread).where(Thread.key == article))
        thread.created_at = thread.created_at.replace(
            microsecond=(thread.created_at.microsecond + 1) % 10**6
        )
        db.session.commit()
    assert client.get(PAGE, headers={"If-None-Match": tag}).status_code == 200


# -- the article page (HTML) ----------------------------------------------------


def comment_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="c(\d+)"', html)]


def test_the_public_page_is_cached_and_follows_every_change(app, client, make, reader):
    slug = make.article("html-story", "An HTML story")
    first = make.comment(reader, slug, "The first reply to the premiere.")
    client.get(f"/articles/{slug}")
    with count_statements(app) as seen:
        page = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert comment_ids(page) == [first]
    assert len(seen) == 1  # the article with its thread's version; the page is cached

    second = make.comment(reader, slug, "A second one, after the cache was filled.")
    assert comment_ids(client.get(f"/articles/{slug}").get_data(as_text=True)) == [first, second]
    make.set_status(second, CommentStatus.REJECTED)  # a moderator's decision, say
    with app.app_context():  # set_status() bypasses the service: bump as it would
        thread = threads.thread_by_key(slug)
        thread.version = Thread.version + 1
        db.session.commit()
    assert comment_ids(client.get(f"/articles/{slug}").get_data(as_text=True)) == [first]


def test_signed_in_readers_get_their_own_page_not_the_cached_one(app, client, make, reader):
    app.config["FORUM_MODERATION"] = "pre"
    slug = make.article("held-story", "A held story")
    held = make.comment(reader, slug, "Mine, waiting for a moderator.")
    assert comment_ids(client.get(f"/articles/{slug}").get_data(as_text=True)) == []
    author = app.test_client()
    author.post("/auth/login", data={"username": reader.username, "password": PASSWORD})
    own = author.get(f"/articles/{slug}").get_data(as_text=True)
    assert comment_ids(own) == [held] and "awaiting moderation" in own
    assert comment_ids(client.get(f"/articles/{slug}").get_data(as_text=True)) == []


def test_a_reader_who_opted_into_spoilers_is_not_served_the_covered_page(app, client, make, reader):
    slug = make.article("finale", "The finale")
    with app.app_context():
        article = db.session.scalar(db.select(Article).where(Article.slug == slug))
        article.spoiler_until = utcnow() + timedelta(days=1)
        db.session.commit()
    root = make.comment(reader, slug, "Top-level thoughts.")
    make.comment(reader, slug, "The twist is the lighthouse.", parent_id=root)
    covered = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert "Collapsed during the spoiler window" in covered

    opted = app.test_client()
    opted.get(f"/articles/{slug}")
    opted.post(f"/articles/{slug}/spoilers")  # CSRF is off in these tests
    shown = opted.get(f"/articles/{slug}").get_data(as_text=True)
    assert "The twist is the lighthouse." in shown
    assert "Collapsed during the spoiler window" not in shown
    assert "Collapsed during the spoiler window" in client.get(f"/articles/{slug}").get_data(
        as_text=True
    )


def test_reading_without_an_account_starts_no_session(client, make, reader):
    slug = make.article("cookieless", "No cookies")
    make.comment(reader, slug, "A comment to read.")
    for path in ("/", f"/articles/{slug}", f"/api/v1/threads/{slug}/comments"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


def test_with_csrf_on_a_reader_without_an_account_still_starts_no_session(app_with):
    app = app_with(WTF_CSRF_ENABLED=True)
    with app.app_context():
        threads.save_article("csrf-story", "With CSRF on", "Text.")
        db.session.commit()
    client = app.test_client()
    for path in ("/", "/articles/csrf-story", "/api/v1/threads/csrf-story/comments"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path
    # The sign-in page does need one: its form carries a token.
    assert "Set-Cookie" in client.get("/auth/login").headers


def test_shared_pages_in_redis_expire_soon_after_their_minute(app_with, make):
    url = f"{TEST_REDIS}/13"  # no other test uses database 13
    store = empty_redis(url)
    app = app_with(FORUM_CACHE_REDIS_URL=url, FORUM_BASE_URL="http://localhost")
    with app.app_context():
        threads.save_article("redis-story", "In Redis", "Text.")
        db.session.commit()
    client = app.test_client()
    try:
        assert client.get("/articles/redis-story").status_code == 200
        assert client.get("/api/v1/threads/redis-story/comments").status_code == 200
        ttls = {key.decode().split(":")[4]: store.ttl(key) for key in store.keys("forum:tp:*")}
        assert 0 < ttls["page"] <= 120  # keyed by the minute: gone two minutes later
        assert ttls["api"] > 3600  # keyed by the version alone: kept
    finally:
        store.flushdb()

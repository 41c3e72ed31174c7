"""Atom feeds: /articles/<slug>/comments.atom and /users/<username>/comments.atom."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Thread, User
from forum.services.discussion import comments, threads
from forum.views.feeds import excerpt, without_spoilers, xml_safe
from tests.conftest import Factory, count_statements

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(client, path, **kwargs):
    """GET a feed; check it is well-formed Atom; return (response, parsed feed)."""
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)  # strict XML parser: raises on anything broken
    assert root.tag == f"{ATOM}feed"
    parsed = feedparser.parse(
        response.data, response_headers={"content-type": response.headers["Content-Type"]}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return response, parsed


def entry_ids(parsed) -> list[int]:
    """The comment ids, in feed order, from each entry's permalink."""
    return [int(entry.link.rsplit("/", 1)[1]) for entry in parsed.entries]


def stored(app, comment_id) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def stored_user(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_many(app, slug, author_id, count, status=CommentStatus.APPROVED, start=None):
    """count comments, a minute apart (oldest first), straight through the service."""
    start = start or datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        thread = threads.thread_by_key(slug)
        author = db.session.get(User, author_id)
        made = [
            comments.add_comment(
                thread,
                author,
                None,
                f"Bulk comment {i}",
                status,
                created_at=start + timedelta(minutes=i),
            ).id
            for i in range(count)
        ]
        db.session.commit()
    return made


# -- the thread feed -----------------------------------------------------------------


def test_thread_feed_lists_approved_comments_newest_first(app, client, make, reader, article):
    bob = make.user("bob")
    first = make.comment(reader, article, "The first comment", age=timedelta(hours=3))
    second = make.comment(bob, article, "A *second* one", age=timedelta(hours=2))
    reply = make.comment(reader, article, "A reply", parent_id=first, age=timedelta(hours=1))

    response, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert entry_ids(parsed) == [reply, second, first]
    assert parsed.feed.title == "Comments on A story"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"http://localhost/articles/{article}/comments.atom"
    assert links["alternate"] == f"http://localhost/articles/{article}"
    assert parsed.feed.id.startswith("tag:localhost,")

    newest = stored(app, reply)
    # The feed's time is its newest entry's.
    assert ET.fromstring(response.data).findtext(f"{ATOM}updated") == iso(newest.created_at)

    entry = parsed.entries[1]
    comment = stored(app, second)
    assert entry.title == "bob: A second one"
    assert entry.author == "bob"
    assert entry.link == f"http://localhost/comments/{second}"
    assert entry.id == f"tag:localhost,{comment.created_at:%Y-%m-%d}:comment:{second}"
    assert entry.published == iso(comment.created_at)
    assert entry.updated == iso(comment.created_at)
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == comment.html == "<p>A <em>second</em> one</p>"


def test_the_permalink_leads_to_the_comment(client, make, reader, article):
    comment_id = make.comment(reader, article, "Find me")
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    response = client.get(parsed.entries[0].link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?comment={comment_id}#c{comment_id}")


def test_raw_document_has_the_atom_elements(client, make, reader, article):
    make.comment(reader, article, "Hello")
    response, _ = fetch(client, f"/articles/{article}/comments.atom")
    root = ET.fromstring(response.data)
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None
    entry = root.find(f"{ATOM}entry")
    for name in ("id", "title", "updated", "published", "content"):
        assert entry.find(f"{ATOM}{name}") is not None, name
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "alice"
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.find(f"{ATOM}link").get("rel") == "alternate"


def test_feed_holds_the_newest_fifty(app, client, make, reader, article):
    made = add_many(app, article, reader.id, 55)
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert entry_ids(parsed) == list(reversed(made))[:50]


def test_an_empty_thread_has_a_valid_feed_dated_by_the_thread(app, client, article):
    response, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert parsed.entries == []
    with app.app_context():
        created = threads.thread_by_key(article).created_at
    assert ET.fromstring(response.data).findtext(f"{ATOM}updated") == iso(created)


def test_an_edit_moves_the_entry_updated_time_but_not_its_id(app, client, make, reader, article):
    comment_id = make.comment(reader, article, "Before", age=timedelta(minutes=5))
    _, before = fetch(client, f"/articles/{article}/comments.atom")
    edited_at = datetime.now(UTC) + timedelta(minutes=1)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comments.edit_comment(db.session.get(User, reader.id), comment, "After", now=edited_at)
        db.session.commit()
    response, after = fetch(client, f"/articles/{article}/comments.atom")
    assert after.entries[0].id == before.entries[0].id
    assert after.entries[0].updated == iso(edited_at)
    assert after.entries[0].published == before.entries[0].published
    assert after.entries[0].content[0].value == "<p>After</p>"
    assert ET.fromstring(response.data).findtext(f"{ATOM}updated") == iso(edited_at)


def test_theories_are_titled_by_their_theory(client, make, reader, article):
    make.comment(reader, article, "Because of the clues.", theory_title="The butler did it")
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert parsed.entries[0].title == "alice: Theory: The butler did it"


def test_a_comment_without_an_author_is_by_an_unknown_reader(app, client, make, reader, article):
    comment_id = make.comment(reader, article, "Orphaned")
    with app.app_context():
        db.session.get(Comment, comment_id).author_id = None
        db.session.commit()
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert parsed.entries[0].author == "Unknown reader"
    assert parsed.entries[0].title == "Unknown reader: Orphaned"


# -- only approved content ---------------------------------------------------------------


@pytest.fixture
def mixed(app, make, reader, article):
    """One approved comment of alice's, and one in each other status (bodies say which)."""
    shown = make.comment(reader, article, "Approved and public")
    hidden = {}
    for status in (CommentStatus.PENDING, CommentStatus.REJECTED, CommentStatus.SPAM):
        hidden[status] = make.comment(reader, article, f"Secret {status.value} words")
        make.set_status(hidden[status], status)
    deleted = make.comment(reader, article, "Secret deleted words")
    with app.app_context():
        user = db.session.get(User, reader.id)
        comments.delete_comment(user, db.session.get(Comment, deleted))
        db.session.commit()
    hidden[CommentStatus.DELETED] = deleted
    return shown, hidden


@pytest.mark.parametrize("path", ["/articles/a-story/comments.atom", "/users/alice/comments.atom"])
def test_only_approved_comments_appear(client, mixed, path, moderator_client, reader_client):
    shown, hidden = mixed
    # The same document for everyone: neither the author nor a moderator sees more.
    for http in (client, reader_client, moderator_client):
        response, parsed = fetch(http, path)
        assert entry_ids(parsed) == [shown]
        assert b"Secret" not in response.data
        for comment_id in hidden.values():
            assert f"/comments/{comment_id}".encode() not in response.data


def test_a_comment_leaves_the_feed_when_removed(app, client, make, reader, article):
    comment_id = make.comment(reader, article, "Soon gone")
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert entry_ids(parsed) == [comment_id]
    make.set_status(comment_id, CommentStatus.REJECTED)
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert parsed.entries == []


# -- spoilers -------------------------------------------------------------------------------


def test_spoilers_are_withheld_with_a_link(client, make, reader, article):
    comment_id = make.comment(reader, article, "Rosebud was the sled", spoiler=True)
    response, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert b"Rosebud" not in response.data
    entry = parsed.entries[0]
    assert entry.title == "alice: (spoiler)"
    assert f"http://localhost/comments/{comment_id}" in entry.content[0].value


def test_replies_and_theories_are_withheld_in_the_spoiler_window(app, client, make, reader):
    slug = make.article("mystery")
    top = make.comment(reader, slug, "Plain top-level talk")
    reply = make.comment(reader, slug, "Reply with the twist", parent_id=top)
    theory = make.comment(reader, slug, "The twist, surely", theory_title="Twist theory")
    with app.app_context():
        article = db.session.scalar(db.select(Article).where(Article.slug == slug))
        article.spoiler_until = datetime.now(UTC) + timedelta(days=1)
        db.session.commit()
    response, parsed = fetch(client, f"/articles/{slug}/comments.atom")
    assert entry_ids(parsed) == [theory, reply, top]
    assert b"twist" not in response.data.lower()
    assert [e.title for e in parsed.entries] == [
        "alice: (spoiler)",
        "alice: (spoiler)",
        "alice: Plain top-level talk",
    ]
    # The reader's own feed withholds them too.
    response, _ = fetch(client, "/users/alice/comments.atom")
    assert b"twist" not in response.data.lower()

    with app.app_context():
        article = db.session.scalar(db.select(Article).where(Article.slug == slug))
        article.spoiler_until = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    response, _ = fetch(client, f"/articles/{slug}/comments.atom")
    assert b"Reply with the twist" in response.data


def test_inline_spoilers_are_hidden_behind_a_link(app, client, make, reader, article):
    comment_id = make.comment(
        reader,
        article,
        "I think ||she lit it|| herself, ||then ||hid|| the [key](https://k.example)||.",
    )
    assert "she lit it" in stored(app, comment_id).html
    response, parsed = fetch(client, f"/articles/{article}/comments.atom")
    for secret in (b"she lit it", b"hid", b"k.example", b"spoiler-text"):
        assert secret not in response.data
    entry = parsed.entries[0]
    placeholder = f'<a href="http://localhost/comments/{comment_id}">[spoiler]</a>'
    assert entry.content[0].value == f"<p>I think {placeholder} herself, {placeholder}.</p>"
    assert entry.title == "alice: I think [spoiler] herself, [spoiler]."


def test_without_spoilers_keeps_everything_else():
    plain = '<p>a <em>b</em> <a href="https://x.example/?q=%3Cspan%3E">c</a> &lt;span&gt;</p>'
    assert without_spoilers(plain, "[S]") == plain
    html = (
        '<p>x <span class="spoiler" tabindex="0"><span class="spoiler-text">a '
        '<span class="spoiler" tabindex="0"><span class="spoiler-text">b</span></span> c'
        "</span></span> y</p><p>stray </span>z</p>"
    )
    assert without_spoilers(html, "[S]") == "<p>x [S] y</p><p>stray z</p>"
    # Unbalanced: everything after the opening stays hidden, never shown.
    assert without_spoilers('<p>a <span class="spoiler">b</p>', "[S]") == "<p>a [S]"


# -- hostile text ---------------------------------------------------------------------------


HOSTILE = (
    "<script>alert(1)</script> ]]> <![CDATA[ x ]]> </content></entry></feed> "
    "&amp; &#0; &lt;b&gt; <?xml version='1.0'?> <!DOCTYPE feed>"
)


def test_hostile_text_cannot_break_the_xml(app, client, make, reader, article):
    comment_id = make.comment(reader, article, HOSTILE)
    response, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert entry_ids(parsed) == [comment_id]
    html = stored(app, comment_id).html
    assert parsed.entries[0].content[0].value == html
    assert "<script>" not in html  # escaped to text when it was written
    assert parsed.entries[0].title.startswith("alice: <script>alert(1)</script> ]]>")
    assert b"<script>" not in response.data
    assert len(ET.fromstring(response.data).findall(f"{ATOM}entry")) == 1


def test_control_characters_cannot_break_the_xml(app, client, make, reader, article):
    # Stored text is normalized on the way in; this is data from elsewhere (an
    # import, an older version) that was not: the feed must still parse.
    comment_id = make.comment(reader, article, "placeholder")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.html = "<p>bell\x07 esc\x1b vt\x0b ff\x0c del\x7f ]]> tab\tok</p>"
        comment.body = "bell\x07 esc\x1b"
        user = db.session.get(User, reader.id)
        user.display_name = "Eve\x01\x02 </name><script>"
        thread = threads.thread_by_key(article)
        thread.title = "Title\x08 ]]>"
        db.session.commit()
    for path in (f"/articles/{article}/comments.atom", "/users/alice/comments.atom"):
        response, parsed = fetch(client, path)
        entry = parsed.entries[0]
        assert entry.content[0].value == "<p>bell esc vt ff del\x7f ]]> tab\tok</p>"
        assert entry.author == "Eve </name><script>"
        assert entry.title == "Eve </name><script>: bell esc vt ff del\x7f ]]> tab ok"
    _, parsed = fetch(client, f"/articles/{article}/comments.atom")
    assert parsed.feed.title == "Comments on Title ]]>"


def test_xml_safe_drops_only_what_xml_cannot_hold():
    assert xml_safe("a\x00b\x08c\x0bd\x1fe") == "abcde"
    assert xml_safe("lone \ud800 surrogate \udfff") == "lone  surrogate "
    assert xml_safe("not \ufffe or \uffff") == "not  or "
    kept = "tab\t newline\n return\r é ✓ 𝄞 \ufffd ]]> <&>"
    assert xml_safe(kept) == kept


def test_excerpt_is_short_plain_text():
    assert excerpt("<p>One <strong>two</strong></p><p>three &amp; four</p>") == (
        "One two three & four"
    )
    assert excerpt("<ul><li>a</li><li>b</li></ul><pre><code>x &lt; y</code></pre>") == "a b x < y"
    long = "<p>" + "word " * 100 + "</p>"
    short = excerpt(long)
    assert len(short) <= 80 and short.endswith("word…")
    assert excerpt("<p>" + "x" * 5000 + "</p>").endswith("x…")
    assert excerpt("") == ""


# -- the reader's feed --------------------------------------------------------------------


def test_user_feed_spans_threads_and_only_that_user(app, client, make, reader):
    bob = make.user("bob")
    one, two = make.article("one", "One"), make.article("two", "Two")
    a1 = make.comment(reader, one, "Alice in one", age=timedelta(hours=2))
    make.comment(bob, one, "Bob in one", age=timedelta(hours=1, minutes=30))
    a2 = make.comment(reader, two, "Alice in two", age=timedelta(hours=1))
    make.comment(bob, two, "Bob in two")

    response, parsed = fetch(client, "/users/alice/comments.atom")
    assert entry_ids(parsed) == [a2, a1]
    assert parsed.feed.title == "Comments by alice"
    assert parsed.feed.author == "alice"
    assert {entry.author for entry in parsed.entries} == {"alice"}
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == "http://localhost/users/alice/comments.atom"
    assert links["alternate"] == "http://localhost/users/alice"
    newest = stored(app, a2)
    assert ET.fromstring(response.data).findtext(f"{ATOM}updated") == iso(newest.created_at)

    # The address is case-insensitive, like sign-in; the feed names itself canonically.
    _, same = fetch(client, "/users/ALICE/comments.atom")
    assert entry_ids(same) == [a2, a1]
    assert {link.rel: link.href for link in same.feed.links}["self"] == links["self"]


def test_user_feed_holds_the_newest_fifty(app, client, make, reader):
    one, two = make.article("one"), make.article("two")
    start = datetime.now(UTC) - timedelta(days=2)
    made = add_many(app, one, reader.id, 30, start=start)
    made += add_many(app, two, reader.id, 30, start=start + timedelta(hours=1))
    _, parsed = fetch(client, "/users/alice/comments.atom")
    assert entry_ids(parsed) == list(reversed(made))[:50]


def test_a_reader_without_comments_has_an_empty_feed(app, client, reader):
    response, parsed = fetch(client, "/users/alice/comments.atom")
    assert parsed.entries == []
    assert ET.fromstring(response.data).findtext(f"{ATOM}updated") == iso(
        stored_user(app, reader.id).created_at
    )


# -- conditional GET and caching ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/articles/a-story/comments.atom", "/users/alice/comments.atom"])
def test_a_repeat_poll_is_304_until_something_changes(client, make, reader, article, path):
    make.comment(reader, article, "First")
    first = client.get(path)
    etag = first.headers["ETag"]
    assert etag
    assert "public" in first.headers["Cache-Control"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    # Votes change nothing a feed shows: still 304.
    comment_id = make.comment(reader, article, "Second")
    latest = client.get(path)
    make.vote(make.user("bob"), comment_id, 1)
    assert client.get(path, headers={"If-None-Match": latest.headers["ETag"]}).status_code == 304

    # A new comment: the old ETag no longer matches.
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"Second" in changed.data


def test_a_signed_in_poll_sets_no_cookie(reader_client, make, reader, article):
    make.comment(reader, article, "Hello")
    response = reader_client.get(f"/articles/{article}/comments.atom")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# -- statements and 404s --------------------------------------------------------------------


def test_a_feed_costs_two_statements_at_any_size(app, client, make, reader):
    small, large = make.article("small"), make.article("large")
    add_many(app, small, reader.id, 1)
    add_many(app, large, reader.id, 120)
    counts = {}
    for path in (
        "/articles/small/comments.atom",
        "/articles/large/comments.atom",
        "/users/alice/comments.atom",
    ):
        with count_statements(app) as seen:
            response = client.get(path)
        assert response.status_code == 200
        counts[path] = len(seen)
    # The article with its thread (or the user), then the comments with everything joined.
    assert set(counts.values()) == {2}, counts


@pytest.mark.parametrize(
    "path",
    [
        "/articles/no-such-story/comments.atom",
        "/articles/Not_A_Slug/comments.atom",
        "/articles/%3Cscript%3E/comments.atom",
        "/users/nobody/comments.atom",
        "/users/no/comments.atom",  # too short to be a username
        "/users/bad%20name/comments.atom",
        "/users/%C3%A9t%C3%A9/comments.atom",
    ],
)
def test_unknown_articles_and_readers_are_404(client, reader, article, path):
    assert client.get(path).status_code == 404


def test_a_thread_without_an_article_has_no_article_feed(app, client):
    with app.app_context():
        db.session.add(Thread(key="bare-thread", title="Bare"))
        db.session.commit()
    assert client.get("/articles/bare-thread/comments.atom").status_code == 404


def test_entry_ids_use_the_configured_site_address(app_with):
    app = app_with(FORUM_BASE_URL="https://Comments.Example.org/")
    make = Factory(app)
    reader = make.user("alice")
    slug = make.article("a-story")
    comment_id = make.comment(reader, slug, "Hello")
    _, parsed = fetch(app.test_client(), f"/articles/{slug}/comments.atom")
    assert parsed.feed.id.startswith("tag:comments.example.org,")
    assert parsed.entries[0].id.startswith("tag:comments.example.org,")
    assert parsed.entries[0].id.endswith(f":comment:{comment_id}")

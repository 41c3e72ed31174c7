"""flask import disqus: Disqus's XML export into threads, comments and guest authors."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.markup import normalize, render_comment
from forum.models import Comment, CommentStatus, ImportRecord, Thread, ThreadStatus, User
from forum.ops.imports import disqus, guests, items, loader
from forum.ops.imports.disqus import message_to_markdown
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads, trees

HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    '<category dsq:id="1"><forum>news</forum><title>General</title>'
    "<isDefault>true</isDefault></category>\n"
)


def thread_xml(dsq_id, identifier="", link="", title="A story", closed=False, deleted=False):
    return (
        f'<thread dsq:id="{dsq_id}"><id>{escape(identifier)}</id><forum>news</forum>'
        f'<category dsq:id="1"/><link>{escape(link)}</link><title>{escape(title)}</title>'
        "<message/><createdAt>2012-12-31T09:00:00Z</createdAt>"
        "<author><name>Editor</name><isAnonymous>false</isAnonymous>"
        "<username>editor</username></author>"
        f"<isClosed>{str(closed).lower()}</isClosed>"
        f"<isDeleted>{str(deleted).lower()}</isDeleted></thread>\n"
    )


def post_xml(
    dsq_id,
    thread,
    message="<p>Hello</p>",
    parent=None,
    name="Ada",
    email="ada@example.org",
    created="2013-01-01T12:00:00Z",
    deleted=False,
    spam=False,
    extra="",
):
    parent_xml = f'<parent dsq:id="{parent}"/>' if parent is not None else ""
    email_xml = f"<email>{escape(email)}</email>" if email else ""
    return (
        f'<post dsq:id="{dsq_id}"><id/><message><![CDATA[{message}]]></message>'
        f"<createdAt>{created}</createdAt><isDeleted>{str(deleted).lower()}</isDeleted>"
        f"<isSpam>{str(spam).lower()}</isSpam>{extra}"
        f"<author>{email_xml}<name>{escape(name)}</name><isAnonymous>true</isAnonymous></author>"
        f'<ipAddress>127.0.0.1</ipAddress><thread dsq:id="{thread}"/>{parent_xml}</post>\n'
    )


def export(*parts) -> str:
    return HEAD + "".join(parts) + "</disqus>\n"


@pytest.fixture
def write(tmp_path):
    def write(text, name="export.xml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run(path):
    """The service as the CLI runs it, committing each batch (inside an app context)."""
    report = loader.run(disqus.SOURCE, disqus.LABEL, disqus.read(path), db.session.commit)
    db.session.commit()
    return report


def by_external(external_id) -> Comment:
    local = db.session.scalar(
        select(ImportRecord.local_id).where(
            ImportRecord.kind == "comment", ImportRecord.external_id == str(external_id)
        )
    )
    return db.session.get(Comment, local)


def approved_count(thread: Thread) -> int:
    return db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.thread_id == thread.id, Comment.status == CommentStatus.APPROVED
        )
    )


STORY = thread_xml(10, "story-1", "https://news.example/2013/01/story/", "A story")


# -- threads, nesting, dates, guests ----------------------------------------------------


def test_threads_comments_nesting_and_dates(ctx, write):
    path = write(
        export(
            STORY,
            thread_xml(11, "", "https://News.Example:443/other?p=2", "Other", closed=True),
            thread_xml(12, "nobody-came", "https://news.example/empty"),
            post_xml(1, 10, "<p>Top</p>", created="2013-01-01T12:00:00Z"),
            post_xml(2, 10, "<p>Reply</p>", parent=1, created="2013-01-01T12:30:00+01:00"),
            post_xml(3, 10, "<p>Deeper</p>", parent=2, created="2013-01-02T08:00:00"),
            post_xml(4, 10, "<p>Second top</p>", created="2013-01-03T00:00:00Z"),
            post_xml(5, 11, "<p>Elsewhere</p>", created="2014-05-06T07:08:09Z"),
        )
    )
    report = run(path)

    assert (report.threads_created, report.threads_existing, report.threads_empty) == (2, 0, 1)
    assert report.comments_imported == 5 and report.skipped_count == 0
    story = threads.thread_by_key("story-1")
    assert story.title == "A story"
    assert story.url == "https://news.example/2013/01/story/"
    assert story.origin == "https://news.example"
    assert story.comment_count == 4 == approved_count(story) and story.version >= 1
    other = db.session.scalar(select(Thread).where(Thread.title == "Other"))
    assert threads.is_valid_key(other.key) and other.key.startswith("News.Example:443-other-p-2-")
    assert other.origin == "https://news.example" and other.status == ThreadStatus.CLOSED
    assert db.session.scalar(select(Thread).where(Thread.key == "nobody-came")) is None

    top, reply, deeper, second = (by_external(i) for i in (1, 2, 3, 4))
    assert (top.parent_id, top.root_id, top.depth) == (None, None, 0)
    assert (reply.parent_id, reply.root_id, reply.depth) == (top.id, top.id, 1)
    assert (deeper.parent_id, deeper.root_id, deeper.depth) == (reply.id, top.id, 2)
    assert second.parent_id is None
    assert top.created_at == datetime(2013, 1, 1, 12, tzinfo=UTC)
    assert reply.created_at == datetime(2013, 1, 1, 11, 30, tzinfo=UTC)  # +01:00
    assert deeper.created_at == datetime(2013, 1, 2, 8, tzinfo=UTC)  # no zone: UTC
    assert by_external(5).thread_id == other.id

    # The reading code sees the same trees as for comments posted here.
    page = trees.load_page(story, None, "oldest", 10, None)
    assert [node.comment.id for node in page.roots] == [top.id, second.id]
    assert page.roots[0].replies[0].replies[0].comment.id == deeper.id


def test_authors_become_guests_nobody_can_sign_in_as(ctx, write):
    path = write(
        export(
            STORY,
            post_xml(1, 10, name="Ada Lovelace", email="ADA@example.org"),
            post_xml(2, 10, name="Ada Lovelace", email="ada@example.org "),
            post_xml(3, 10, name="Ada Lovelace", email="other@example.org"),
            post_xml(4, 10, name="  ", email=None),
            post_xml(5, 10, name="Zoë <b>" + "x" * 80, email=None),
            post_xml(6, 10, name="字" * 40, email=None),
        )
    )
    report = run(path)

    assert report.guests_created == 5
    assert by_external(6).author.username.startswith("guest-")
    assert by_external(6).author.display_name == "字" * 40
    first, second, third, anonymous, long = (by_external(i).author for i in range(1, 6))
    assert first.id == second.id != third.id  # same name and email: one guest
    assert first.display_name == third.display_name == "Ada Lovelace"
    assert anonymous.display_name == "Anonymous"
    assert long.display_name == ("Zoë <b>" + "x" * 80)[:50]
    for guest in (first, third, anonymous, long):
        assert guest.is_guest and guest.email is None and guest.email_key is None
        assert accounts.check_username(guest.username) is None
        assert guest.username_key == guest.username.lower()
        assert accounts.find_user(guest.username).id == guest.id
        for password in ("!", "", "correct horse battery", guest.password_hash):
            assert accounts.authenticate(guest.username, password) is None
    assert first.username.startswith("Ada-Lovelace-")
    assert long.username.startswith("Zoe-b-xxxx")
    # Addresses are never kept, not even inside the import records.
    records = db.session.scalars(select(ImportRecord.external_id)).all()
    assert not any("example.org" in record for record in records)
    assert db.session.scalar(select(func.count(User.id)).where(User.email.is_not(None))) == 0


def test_a_guest_name_taken_by_an_account_gets_another(ctx, write):
    taken = guests.username_for("Ada", guests.guest_id("Ada", "ada@example.org"))
    accounts.register(taken, "someone@example.org", "correct horse battery")
    db.session.commit()

    run(write(export(STORY, post_xml(1, 10, name="Ada"))))

    guest = by_external(1).author
    assert guest.is_guest and guest.username != taken
    assert accounts.check_username(guest.username) is None


# -- a big export -------------------------------------------------------------------------

PARAGRAPH = (
    "<p>I read this twice. The <b>second</b> half is where it gets interesting: "
    'see <a href="https://example.org/notes">the notes</a> &amp; the appendix.</p>'
)


def write_big_export(path, comments: int, threads: int = 200, filler: int = 0, words: int = 4):
    """An export of `comments` comments (a third of them replies, some to parents
    further down the file) over `threads` threads, plus `filler` spam posts of
    20 KB each that make the file big without costing database time."""
    spam = "<p>" + "cheap watches " * 1500 + "</p>"
    with open(path, "w", encoding="utf-8") as file:
        file.write(HEAD)
        for t in range(threads):
            file.write(thread_xml(t + 1, f"page-{t}", f"https://news.example/page-{t}"))
        for n in range(1, comments + 1):
            parent = None
            if n % 3 == 0:
                parent = n - 1
            elif n % 60 == 1 and n < comments:
                parent = n + 1  # a parent that comes later in the file
            file.write(
                post_xml(
                    n,
                    (n - 1) // 6 % threads + 1,  # six in a row share a thread
                    PARAGRAPH * words,
                    parent=parent,
                    name=f"Reader {n % 500}",
                    email=f"reader{n % 500}@example.org",
                )
            )
            for k in range((n - 1) * filler // comments, n * filler // comments):
                file.write(post_xml(f"s{k}", 1, spam, spam=True))
        file.write("</disqus>\n")


def test_a_big_export_is_streamed_in_bounded_memory(ctx, tmp_path):
    path = tmp_path / "big.xml"
    write_big_export(path, comments=2000, filler=1600, words=1)
    size = path.stat().st_size
    assert size > 30_000_000

    tracemalloc.start()
    try:
        started = time.monotonic()
        report = run(str(path))
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert report.comments_imported == 2000
    assert report.skipped["spam in Disqus"].count == 1600
    assert report.threads_created == 200
    # The whole file never sits in memory: a few batches' worth at most.
    assert peak < size / 5, f"peak {peak:,} bytes for a {size:,}-byte file"
    print(f"\n{size / 1e6:.1f} MB in {seconds:.1f} s (traced), peak {peak / 1e6:.1f} MB")
    story = threads.thread_by_key("page-0")
    assert story.comment_count == approved_count(story) == 12
    assert db.session.scalar(select(func.sum(Thread.comment_count))) == 2000
    first, second, third = by_external(1), by_external(2), by_external(3)
    assert second.parent_id is None
    assert (first.parent_id, first.depth) == (second.id, 1)  # its parent came after it
    assert (third.parent_id, third.depth) == (second.id, 1)


# -- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("one<br>two<br/>three", "one\ntwo\nthree"),
        ("plain\ntext  with   spaces", "plain text with spaces"),
        (
            "<b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em>",
            "**bold** **strong** *it* *em*",
        ),
        ("a<b> spaced </b>out", "a **spaced** out"),
        ("2*3*4 = 24_000 [x] &lt;y&gt; a|b ~", r"2\*3\*4 = 24\_000 \[x\] \<y\> a\|b \~"),
        ("&lt;b&gt;not bold&lt;/b&gt; &amp;copy;", r"\<b\>not bold\</b\> \&copy;"),
        ("<p>1. not a list</p><p>- nor this</p>", "1\\. not a list\n\n\\- nor this"),
        (
            '<a href="https://example.org/a b(c)">the site</a>',
            "[the site](https://example.org/a%20b%28c%29)",
        ),
        (
            '<a href="https://example.org/">https://example.org/</a>',
            "[https://example.org/](https://example.org/)",
        ),
        ('<a href="mailto:ed@example.org">mail</a>', "[mail](mailto:ed@example.org)"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href="/relative">here</a>', "here"),
        (
            '<a href="https://disq.us/url?url=https%3A%2F%2Fexample.org%2Fx%3AabcDEF123456xyz'
            '&amp;cuid=7" rel="nofollow noopener">example.org/x</a>',
            "[example.org/x](https://example.org/x)",
        ),
        (
            '<a href="http://disq.us/url?url=x" title="https://example.org/real">real</a>',
            "[real](https://example.org/real)",
        ),
        (
            "<blockquote><p>said</p><p>more</p></blockquote><p>reply</p>",
            "> said\n>\n> more\n\nreply",
        ),
        ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "- a\n- b\n  - c"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<p>use <code>a*b</code></p>", "use `a*b`"),
        ("<pre>x = 1\n  y = 2</pre>", "```\nx = 1\n  y = 2\n```"),
        ('<p>it was <span class="spoiler">the butler</span></p>', "it was ||the butler||"),
        (
            '<img src="https://example.org/cat.png" alt="a cat">',
            "[a cat](https://example.org/cat.png)",
        ),
        ('<img src="javascript:x" onerror="alert(1)">', ""),
        ("<script>alert(1)</script><style>p{}</style>ok", "ok"),
        ("<p>unclosed <b>bold", "unclosed **bold**"),
        ("</b></i></p>stray ends", "stray ends"),
    ],
)
def test_messages_become_markdown(html, markdown):
    assert message_to_markdown(html) == markdown


HOSTILE = (
    "<p>Hi <script>document.cookie</script>"
    '<a href="javascript:alert(1)" onclick="steal()">click</a> '
    '<a href="JaVaScRiPt:alert(2)">two</a> '
    '<img src=x onerror="alert(3)"><iframe src="https://evil.example"></iframe>'
    '<a href="data:text/html,&lt;script&gt;alert(4)&lt;/script&gt;">four</a>'
    "&lt;script&gt;alert(5)&lt;/script&gt;"
    '<span style="position:fixed" onmouseover="x()">styled</span></p>'
)


def tags(html: str) -> list[tuple[str, list]]:
    """Every start tag in html, with its attributes."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_imported_html_goes_through_the_sanitizer(ctx, write):
    run(write(export(STORY, post_xml(1, 10, HOSTILE))))

    comment = by_external(1)
    assert tags(comment.html) == [("p", [])]  # no link survives: none pointed anywhere safe
    lowered = comment.html.lower()
    for bad in (
        "<script",
        "javascript:",
        "onclick",
        "onerror",
        "onmouseover",
        "<iframe",
        "<img",
        "data:",
        "style=",
    ):
        assert bad not in lowered, bad
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in comment.html  # text, shown as typed
    assert "click" in comment.html and "styled" in comment.html
    # The same pipeline as a typed comment: re-rendering the stored source changes nothing.
    assert comment.html == render_comment(normalize(comment.body))


def test_links_survive_with_the_sites_rel(ctx, write):
    message = '<p>See <a href="https://example.org/notes" rel="dofollow">the notes</a></p>'
    run(write(export(STORY, post_xml(1, 10, message))))

    html = by_external(1).html
    assert html == (
        '<p>See <a href="https://example.org/notes" rel="nofollow ugc noopener">the notes</a></p>'
    )


# -- running again, interruptions, order ------------------------------------------------


def test_running_again_imports_nothing_twice(app, runner, write):
    path = write(
        export(
            STORY,
            post_xml(1, 10),
            post_xml(2, 10, parent=1, name="Bo", email="bo@example.org"),
            post_xml(3, 10, spam=True),
        )
    )

    first = runner.invoke(args=["import", "disqus", path])
    assert first.exit_code == 0, first.output
    assert "Threads: 1 created, 0 existing" in first.output
    assert "Comments: 2 imported; 0 already imported." in first.output
    assert "Guests: 2 created." in first.output
    assert "spam in Disqus: 1 (ids 3)" in first.output

    second = runner.invoke(args=["import", "disqus", path])
    assert second.exit_code == 0, second.output
    assert "Threads: 0 created, 1 existing" in second.output
    assert "Comments: 0 imported; 2 already imported." in second.output
    assert "Guests: 0 created." in second.output
    assert "spam in Disqus: 1 (ids 3)" in second.output

    with app.app_context():
        story = threads.thread_by_key("story-1")
        assert story.comment_count == 2 == approved_count(story)
        assert db.session.scalar(select(func.count(Comment.id))) == 2
        assert db.session.scalar(select(func.count(User.id))) == 2
        assert db.session.scalar(select(func.count(Thread.id))) == 1


def test_an_interrupted_import_resumes_where_it_stopped(ctx, write, monkeypatch):
    monkeypatch.setattr(loader, "BATCH", 3)
    posts = [post_xml(n, 10, parent=n - 1 if n % 2 == 0 else None) for n in range(1, 11)]
    path = write(export(STORY, *posts))
    batches = []

    def commit_then_fail():
        db.session.commit()
        batches.append(1)
        if len(batches) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, after two batches

    with pytest.raises(KeyboardInterrupt):
        loader.run("disqus", "Disqus", disqus.read(path), commit_then_fail)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Comment.id))) == 6

    report = run(path)

    assert (report.comments_imported, report.comments_already) == (4, 6)
    story = threads.thread_by_key("story-1")
    assert story.comment_count == 10 == approved_count(story)
    assert by_external(10).parent_id == by_external(9).id


def test_a_parent_after_its_reply_in_the_file(ctx, write, monkeypatch):
    monkeypatch.setattr(loader, "BATCH", 2)  # parents and replies in different batches
    path = write(
        export(
            STORY,
            post_xml(4, 10, "<p>great-grandchild</p>", parent=3),
            post_xml(3, 10, "<p>grandchild</p>", parent=2),
            post_xml(9, 10, "<p>unrelated</p>"),
            post_xml(2, 10, "<p>child</p>", parent=1),
            post_xml(8, 10, "<p>unrelated too</p>"),
            post_xml(1, 10, "<p>root</p>"),
        )
    )
    report = run(path)

    assert report.comments_imported == 6 and not report.notes and report.passes > 2
    root, child, grandchild, great = (by_external(n) for n in (1, 2, 3, 4))
    assert (child.parent_id, child.depth, child.root_id) == (root.id, 1, root.id)
    assert (grandchild.parent_id, grandchild.depth, grandchild.root_id) == (child.id, 2, root.id)
    assert (great.parent_id, great.depth, great.root_id) == (grandchild.id, 3, root.id)


def test_threads_after_their_posts_in_the_file(ctx, write):
    run(write(export(post_xml(1, 10), post_xml(2, 10, parent=1), STORY)))

    assert by_external(2).parent_id == by_external(1).id
    assert threads.thread_by_key("story-1").comment_count == 2


# -- what is skipped, and why -----------------------------------------------------------


def test_skipped_items_are_reported_with_reasons(app, runner, write):
    path = write(
        export(
            STORY,
            thread_xml(20, "gone", "https://news.example/gone", deleted=True),
            post_xml(1, 10, "<p>kept</p>"),
            post_xml(2, 10, "<p>buy now</p>", spam=True),
            post_xml(3, 10, "<p>regretted</p>", deleted=True),  # no replies: skipped
            post_xml(4, 10, "<p>said too much</p>", deleted=True),  # has a reply: tombstone
            post_xml(5, 10, "<p>answer to the deleted one</p>", parent=4),
            post_xml(6, 10, "<p>answer to spam</p>", parent=2),
            post_xml(7, 10, "<p>answer to nothing</p>", parent=999),
            post_xml(8, 20, "<p>in a deleted thread</p>"),
            post_xml(9, 77, "<p>in no thread at all</p>"),
            post_xml(10, 10, "<p>   </p>"),
            post_xml(11, 10, "<p>no date</p>", created="yesterday"),
            post_xml(12, 10, "<p>pending</p>", extra="<isApproved>false</isApproved>"),
        )
    )
    result = runner.invoke(args=["import", "disqus", path])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Comments: 6 imported, 1 held for moderation, 1 deleted kept for their replies;" in (
        result.output
    )
    assert "Skipped: 7." in lines
    assert "  spam in Disqus: 1 (ids 2)" in lines
    assert "  deleted in Disqus, no replies: 1 (ids 3)" in lines
    assert "  thread deleted in Disqus: 1 (ids 20)" in lines
    assert "  in a skipped thread (thread deleted in Disqus): 1 (ids 8)" in lines
    assert "  its thread is missing from the archive: 1 (ids 9)" in lines
    assert "  empty message, no replies: 1 (ids 10)" in lines
    assert "  no readable date: 1 (ids 11)" in lines
    assert "Imported with a change:" in lines
    assert "  reply to a skipped comment: imported as top-level: 1 (ids 6)" in lines
    assert "  reply to a comment missing from the archive: imported as top-level: 1 (ids 7)" in (
        lines
    )

    with app.app_context():
        tombstone, answer = by_external(4), by_external(5)
        assert tombstone.status == CommentStatus.DELETED and tombstone.deleted_at is not None
        assert tombstone.body == tombstone.html == "" and tombstone.author_id is None
        assert answer.parent_id == tombstone.id
        assert by_external(6).parent_id is None and by_external(7).parent_id is None
        pending = by_external(12)
        assert pending.status == CommentStatus.PENDING
        assert pending.hold_reasons == [
            {"rule": "import", "detail": "Held for moderation in Disqus"}
        ]
        story = threads.thread_by_key("story-1")
        assert story.comment_count == 4 == approved_count(story)  # 1, 5, 6, 7
        assert db.session.scalar(select(Thread).where(Thread.key == "gone")) is None
        # Readers see the tombstone holding its reply, as for a comment deleted here.
        page = trees.load_page(story, None, "oldest", 10, None)
        holder = next(node for node in page.roots if node.comment.id == tombstone.id)
        assert holder.tombstone and holder.replies[0].comment.id == answer.id


def test_replies_to_each_other_end_up_top_level(ctx, write):
    report = run(
        write(
            export(
                STORY,
                post_xml(1, 10, parent=2),
                post_xml(2, 10, parent=1),
                post_xml(3, 10, parent=3),
            )
        )
    )

    assert report.comments_imported == 3
    assert report.notes[loader.ORPHAN].count == 3
    assert all(by_external(n).parent_id is None for n in (1, 2, 3))


def test_replies_nested_past_the_limit_attach_one_level_up(ctx, write):
    chain = [post_xml(1, 10)]
    chain += [post_xml(n, 10, parent=n - 1) for n in range(2, comments.DEPTH_MAX + 4)]
    report = run(write(export(STORY, *chain)))

    deepest = by_external(comments.DEPTH_MAX + 3)
    assert deepest.depth == comments.DEPTH_MAX
    assert report.notes[loader.TOO_DEEP].count == 2


def test_into_a_thread_that_already_exists(ctx, write, make):
    slug = make.article("story-1", "Our own story")
    reader = make.user("regular")
    make.comment(reader, slug, "Posted here before the import")

    report = run(write(export(STORY, post_xml(1, 10), post_xml(2, 10, parent=1))))

    assert (report.threads_created, report.threads_existing) == (0, 1)
    story = threads.thread_by_key(slug)
    assert story.title == "Our own story" and story.origin is None  # an article keeps its own
    assert story.comment_count == 3 == approved_count(story)
    assert by_external(1).thread_id == story.id


def test_into_the_thread_a_merged_one_now_shows(ctx, write):
    target = Thread(key="the-target", title="Target")
    merged = Thread(key="story-1", title="Merged")
    db.session.add_all([target, merged])
    db.session.flush()
    merged.merged_into_id = target.id
    db.session.commit()

    run(write(export(STORY, post_xml(1, 10))))

    assert by_external(1).thread_id == target.id
    assert db.session.get(Thread, target.id).comment_count == 1


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("story-1", "story-1"),
        ("Post:42_a.b", "Post:42_a.b"),
        ("123 http://example.org/?p=123", "123-http:-example.org-p-123-"),
        ("/2013/01/story/", "2013-01-story-"),
        ("Ünïcödé title", "Unicode-title-"),
        ("???", "imported-"),
        ("x" * 250, "x" * 180 + "-"),
    ],
)
def test_thread_keys_from_foreign_identifiers(text, key):
    made = items.thread_key(text)
    assert threads.is_valid_key(made)
    assert made == key if not key.endswith("-") else made.startswith(key)
    assert items.thread_key(text) == made  # the same every time


def test_keys_that_fold_alike_stay_apart():
    assert items.thread_key("a b") != items.thread_key("a/b")
    assert items.key_for_url("https://news.example/a") == items.key_for_url(
        "http://news.example/a#comments"
    )


# -- files that are not what they claim ---------------------------------------------------


def test_a_malformed_file_writes_nothing(app, runner, write):
    text = export(STORY, post_xml(1, 10), post_xml(2, 10))
    path = write(text.replace("</post>", "</pots>", 2))  # the second post breaks

    result = runner.invoke(args=["import", "disqus", path])

    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "not a valid XML file (mismatched tag: line" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Thread.id))) == 0
        assert db.session.scalar(select(func.count(Comment.id))) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a valid XML file (no element found"),
        ("<rss><channel/></rss>", "not a Disqus export (its root element is <rss>)"),
        ("\x00\x01binary", "not a valid XML file"),
        (export(STORY).replace("</disqus>", ""), "not a valid XML file (no element found"),
        ("<disqus>&undefined;</disqus>", "undefined entity"),
    ],
)
def test_files_that_are_no_disqus_export(runner, write, text, message):
    result = runner.invoke(args=["import", "disqus", write(text)])

    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["import", "disqus", str(tmp_path / "nowhere.xml")])

    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nowhere.xml'}: no such file"

    result = runner.invoke(args=["import", "disqus", str(tmp_path)])

    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path}: not a file"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE disqus [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="10"><id>story-1</id><link>https://news.example/</link><title>&lol9;</title></thread>
<post dsq:id="1"><message>&lol9;</message><createdAt>2013-01-01T12:00:00Z</createdAt>
<thread dsq:id="10"/></post>
</disqus>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE disqus [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="10"><id>story-1</id><link>https://news.example/</link><title>t</title></thread>
<post dsq:id="1"><message>&secret;</message><createdAt>2013-01-01T12:00:00Z</createdAt>
<thread dsq:id="10"/></post>
</disqus>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE disqus SYSTEM "https://evil.example/x.dtd">
<disqus xmlns="http://disqus.com"/>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_entity_tricks_are_refused_before_anything_expands(app, runner, write, text):
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = runner.invoke(args=["import", "disqus", write(text)])
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result.exit_code == 1
    assert "a document type declaration (DTD) is not allowed in an import file" in result.output
    assert "root:" not in result.output  # nothing of /etc/passwd
    assert seconds < 5 and peak < 20_000_000
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0

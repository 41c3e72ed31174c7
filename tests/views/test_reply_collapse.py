"""Long reply trees on the HTML pages: the first FORUM_REPLIES_SHOWN replies of a
conversation, then "N more replies", which loads the rest in chunks by keyset
(JSON for thread.js, an HTML page without JavaScript), in a constant number of
statements, showing nobody what they may not see.  The API keeps whole trees."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import Comment, CommentStatus, User, utcnow
from forum.services.discussion import comments, cursors, threads, trees
from tests.conftest import AuthActions, count_statements

T0 = utcnow() - timedelta(days=3)
SHOWN = 10  # FORUM_REPLIES_SHOWN's default
CHUNK = trees.REPLIES_CHUNK


def conversation(app, slug, replies, author_id, *, statuses=None, root_status=None):
    """A top-level comment with `replies` replies, one a second apart: even ones
    answer the root, odd ones an earlier reply (so the tree has depth).
    statuses: {reply index: status}.  Returns [root id, reply ids...]."""
    statuses = statuses or {}
    with app.app_context():
        thread = threads.thread_by_key(slug)
        author = db.session.get(User, author_id)
        root = comments.add_comment(
            thread, author, None, "The root", root_status or CommentStatus.APPROVED, created_at=T0
        )
        made = [root]
        for i in range(replies):
            parent = made[(i + 1) // 2] if i % 2 else root
            made.append(
                comments.add_comment(
                    thread,
                    author,
                    parent,
                    f"Reply number {i}",
                    statuses.get(i, CommentStatus.APPROVED),
                    created_at=T0 + timedelta(seconds=i + 1),
                )
            )
        db.session.commit()
        return [c.id for c in made]


def article_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="c(\d+)"', page)]


def control(page: str, root_id: int) -> dict | None:
    """The "N more replies" link under root_id: its label, href and data-replies."""
    found = re.search(
        r'<p class="more-replies"><a href="([^"]+)" data-replies="([^"]+)" '
        rf'data-root="{root_id}" data-more="(\d+)" data-latest="(\d+)">'
        r'<span class="more-label">([^<]+)</span>',
        page,
    )
    if found is None:
        return None
    href, data, more, latest, label = found.groups()
    return {
        "href": html.unescape(href),
        "json": html.unescape(data),
        "more": int(more),
        "latest": int(latest),
        "label": label,
    }


def all_chunks(http, url):
    """Follow a conversation's JSON chunks to the end: every chunk's answer."""
    answers = []
    while url:
        response = http.get(url)
        assert response.status_code == 200, response.data
        answers.append(response.json)
        url = response.json["next"]
    return answers


@pytest.fixture
def thread300(app, make, reader):
    make.article("long")
    return conversation(app, "long", 300, reader.id)


def test_the_page_shows_the_first_ten_replies_and_290_more(client, thread300):
    root, *replies = thread300
    page = client.get("/articles/long").get_data(as_text=True)
    assert sorted(article_ids(page)) == [root, *replies[:SHOWN]]  # in tree order on the page
    assert "Reply number 9<" in page and "Reply number 10<" not in page
    more = control(page, root)
    assert more["label"] == "290 more replies" and more["more"] == 290
    assert more["latest"] == replies[-1]  # the live poll does not take them for new ones
    assert more["href"].startswith(f"/articles/long/comments/{root}/replies?after=")
    assert more["json"].startswith(f"/articles/long/comments/{root}/more-replies?after=")
    assert '<span class="visually-hidden"> to alice</span>' in page  # whose conversation

    # "Load more" (the next page of top-level comments) collapses the same way.
    fragment = client.get("/articles/long/comments").get_data(as_text=True)
    assert len(article_ids(fragment)) == 1 + SHOWN
    assert control(fragment, root)["label"] == "290 more replies"


def test_chunks_continue_in_order_after_the_last_reply_shown(client, thread300):
    root, *replies = thread300
    more = control(client.get("/articles/long").get_data(as_text=True), root)
    answers = all_chunks(client, more["json"])
    assert [len(a["items"]) for a in answers] == [50] * 5 + [40]
    assert [a["more"] for a in answers] == [240, 190, 140, 90, 40, 0]
    assert answers[0]["label"] == "240 more replies" and answers[-1]["next"] is None
    assert answers[0]["href"] == answers[0]["next"].replace("more-replies", "replies")
    ids = [item["id"] for a in answers for item in a["items"]]
    assert ids == replies[SHOWN:]  # oldest first, none twice, none skipped
    first = answers[0]["items"][0]
    assert first["parent_id"] == root
    assert f'id="c{first["id"]}"' in first["html"] and "Reply number 10" in first["html"]
    assert first["html"].lstrip().startswith('<li class="comment-item">')
    # the cursor is a keyset position: (created_at, id) of the chunk's last reply
    position = cursors.parse_replies_cursor(answers[0]["next"].split("after=")[1])
    assert position[2] == replies[SHOWN + 49]


def test_without_javascript_the_link_opens_the_replies_page(client, thread300):
    root, *replies = thread300
    more = control(client.get("/articles/long").get_data(as_text=True), root)
    response = client.get(more["href"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert article_ids(page) == [root, *replies[SHOWN : SHOWN + CHUNK]]
    assert "<h1>Replies to alice</h1>" in page and "Later replies" in page
    # every reply says whom it answers, linking to that comment
    cues = re.findall(r'<a class="cue" href="([^"]+)">replying to @alice</a>', page)
    assert len(cues) == CHUNK
    assert f"#c{root}" in cues and f"/comments/{replies[5]}" in cues  # on this page, or not
    assert 'href="/articles/long#discussion"' in page  # back to the discussion
    pages = [page]
    while nxt := re.search(r'<a class="button" rel="next" href="([^"]+)">Next replies', page):
        page = client.get(html.unescape(nxt.group(1))).get_data(as_text=True)
        pages.append(page)
    assert len(pages) == 6 and "Next replies (240 more)" in pages[0]
    seen = [i for p in pages for i in article_ids(p)[1:]]
    assert seen == replies[SHOWN:]
    # From the start, without a cursor: the first fifty.
    start = client.get(f"/articles/long/comments/{root}/replies").get_data(as_text=True)
    assert article_ids(start)[1:] == replies[:CHUNK] and "Later replies" not in start


def test_statements_do_not_grow_with_the_conversation(app, make, reader, client, reader_client):
    make.article("small")
    make.article("huge")
    small = conversation(app, "small", 30, reader.id)
    huge = conversation(app, "huge", 3000, reader.id)
    for http, signed_in in ((client, False), (reader_client, True)):
        counts = {}
        for slug, ids in (("small", small), ("huge", huge)):
            page = http.get(f"/articles/{slug}").get_data(as_text=True)
            more = control(page, ids[0])
            paths = {
                "article": f"/articles/{slug}",
                "load more": f"/articles/{slug}/comments",
                "focus": f"/articles/{slug}?comment={ids[0]}",
                "chunk": more["json"],
                "replies page": more["href"],
                "first replies": f"/articles/{slug}/comments/{ids[0]}/replies",
            }
            for name, path in paths.items():
                with count_statements(app) as seen:
                    response = http.get(path)
                assert response.status_code == 200, (name, path)
                counts[slug, name] = len(seen)
            assert len(article_ids(page)) == 1 + SHOWN
        for name in paths:
            assert counts["small", name] == counts["huge", name], (name, signed_in, counts)
        # article + roots + collapsed trees + picks; the chunk: article, root, chunk;
        # signed in: the user, and their votes and mutes (and follow, on the article).
        # Without an account the article page was read just before, so it comes
        # from the cache: the article (with its thread's version) only.
        assert counts["huge", "article"] == (8 if signed_in else 1), counts
        assert counts["huge", "chunk"] == 3 + signed_in * 3, counts
        assert counts["huge", "replies page"] == 3 + signed_in * 3, counts


def test_held_comments_are_not_leaked(app, make, reader, moderator, client):
    make.article("held")
    bob = make.user("bob")
    statuses = {
        3: CommentStatus.PENDING,
        40: CommentStatus.PENDING,
        41: CommentStatus.SPAM,
        42: CommentStatus.REJECTED,
        4: CommentStatus.SPAM,
    }
    ids = conversation(app, "held", 60, bob.id, statuses=statuses)
    root = ids[0]
    hidden_words = [f"Reply number {i}<" for i in statuses]

    def everything(http) -> str:
        page = http.get("/articles/held").get_data(as_text=True)
        more = control(page, root)
        chunks = all_chunks(http, more["json"])
        texts = [page, *(item["html"] for a in chunks for item in a["items"])]
        replies_page = http.get(f"/articles/held/comments/{root}/replies").get_data(as_text=True)
        return "\n".join([*texts, replies_page]), more, chunks

    text, more, chunks = everything(client)
    for words in hidden_words:
        assert words not in text, words
    assert more["more"] == 55 - SHOWN  # 60 replies, 5 held: 55 shown, 10 on the page
    assert sum(len(a["items"]) for a in chunks) == 45

    bob_client = client.application.test_client()
    AuthActions(bob_client).login("bob")
    text, more, _ = everything(bob_client)  # the author sees his own, held or not
    for words in hidden_words:
        assert words in text, words
    assert more["more"] == 60 - SHOWN

    mod_client = client.application.test_client()
    AuthActions(mod_client).login(moderator.username)
    text, more, _ = everything(mod_client)  # moderators: pending, not spam or rejected
    assert "Reply number 3<" in text and "Reply number 40<" in text
    for i in (4, 41, 42):
        assert f"Reply number {i}<" not in text
    assert more["more"] == 57 - SHOWN


def test_tombstones_hold_the_place_of_hidden_comments_above_shown_replies(app, make, reader):
    make.article("gone")
    client = app.test_client()
    # Reply 0 (under the root) is deleted; 1 answers it.  Reply 20 (under the root)
    # is removed and 21 answers it; 40 is spam with no replies: nothing at all.
    ids = conversation(
        app,
        "gone",
        45,
        reader.id,
        statuses={
            0: CommentStatus.DELETED,
            20: CommentStatus.REJECTED,
            40: CommentStatus.SPAM,
        },
    )
    root = ids[0]
    # 21 answers 20, 23 answers 21 (a chain under a tombstone); 25 (deleted)
    # answers 3, which is on the page, and 27 answers 25.
    with app.app_context():
        db.session.get(Comment, ids[1 + 25]).status = CommentStatus.DELETED
        for child, parent in ((21, 20), (23, 21), (25, 3), (27, 25)):
            reply, above = (
                db.session.get(Comment, ids[1 + child]),
                db.session.get(Comment, ids[1 + parent]),
            )
            reply.parent_id, reply.depth = above.id, above.depth + 1
        db.session.commit()
    page = client.get("/articles/gone").get_data(as_text=True)
    shown = article_ids(page)
    assert shown[:2] == [root, ids[1]]  # the tombstone stands where reply 0 was
    assert page.count('class="comment tombstone"') == 1 and "[deleted]" in page
    assert "Reply number 0<" not in page
    # 45 replies, 4 hidden: 41 shown; 10 on the page
    assert control(page, root)["more"] == 41 - SHOWN

    chunk = all_chunks(client, control(page, root)["json"])[0]
    items = [(i["id"], i["parent_id"]) for i in chunk["items"]]
    removed = ids[1 + 20]
    assert (removed, root) in items  # the removed comment comes as a tombstone ...
    at = items.index((removed, root))
    assert items[at + 1] == (ids[1 + 21], removed)  # ... right before its reply
    tombstone = chunk["items"][at]["html"]
    assert "tombstone" in tombstone and "Reply number 20" not in tombstone
    assert ids[1 + 40] not in [i for i, _ in items]  # spam without replies: nothing
    deleted, on_page = ids[1 + 25], ids[1 + 3]  # a tombstone under a reply the page has
    assert on_page in shown
    at = items.index((deleted, on_page))
    assert items[at + 1] == (ids[1 + 27], deleted)
    assert all("Reply number 40<" not in i["html"] for i in chunk["items"])
    # Without JavaScript the tombstone is not listed; its reply has no "replying to".
    page = client.get(f"/articles/gone/comments/{root}/replies").get_data(as_text=True)
    assert removed not in article_ids(page) and ids[1 + 21] in article_ids(page)
    # A root deleted over shown replies stands as a tombstone there too.
    with app.app_context():
        db.session.get(Comment, root).status = CommentStatus.DELETED
        db.session.commit()
    page = client.get(f"/articles/gone/comments/{root}/replies").get_data(as_text=True)
    assert "<h1>Replies</h1>" in page and "[deleted]" in page and "The root" not in page


def test_only_conversations_this_reader_may_see(app, make, reader, client, thread300):
    root, *replies = thread300
    make.article("other")
    base = "/articles/{}/comments/{}/more-replies"
    assert client.get(base.format("long", replies[0])).status_code == 404  # not top-level
    assert client.get(base.format("other", root)).status_code == 404  # another discussion
    assert client.get(base.format("long", 10**12)).status_code == 404
    assert client.get(base.format("long", root) + "?after=nonsense").status_code == 422
    assert client.get(f"/articles/long/comments/{root}/replies?after=x").status_code == 422
    wrong_kind = cursors.encode_cursor("oldest", 0, T0, replies[3])
    assert client.get(base.format("long", root) + f"?after={wrong_kind}").status_code == 422
    held = dict.fromkeys(range(3), CommentStatus.SPAM)
    spam = conversation(app, "other", 3, reader.id, statuses=held, root_status=CommentStatus.SPAM)
    assert client.get(base.format("other", spam[0])).status_code == 404
    assert client.get(f"/articles/other/comments/{spam[0]}/replies").status_code == 404


def test_a_link_to_one_comment_shows_it(client, thread300):
    root, *replies = thread300
    # The conversation of the root or of an early reply: collapsed like the page.
    page = client.get(f"/articles/long?comment={replies[2]}").get_data(as_text=True)
    assert len(article_ids(page)) == 1 + SHOWN and control(page, root)["more"] == 290
    # A reply the collapsed view leaves out: the whole conversation, so it is there.
    page = client.get(f"/articles/long?comment={replies[250]}").get_data(as_text=True)
    assert replies[250] in article_ids(page) and len(article_ids(page)) == 301
    assert control(page, root) is None


def test_the_api_keeps_whole_trees(client, thread300):
    data = client.get("/api/v1/threads/long/comments").json
    total, stack = 0, list(data["comments"][0]["replies"])
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node["replies"])
    assert total == 300


def test_live_updates_name_the_conversation(app, client, make, reader, thread300):
    root, *replies = thread300
    items = client.get(f"/articles/long/updates?after={replies[-2]}").json["items"]
    assert [(item["id"], item["root_id"]) for item in items] == [(replies[-1], root)]


def test_a_reply_older_than_its_parent_is_left_out_not_misplaced(app, make, reader, client):
    make.article("odd")
    ids = conversation(app, "odd", 30, reader.id)
    root = ids[0]
    late_parent, orphan = ids[1 + 25], ids[1 + 2]
    with app.app_context():  # imported data: reply 2 answers reply 25, which came later
        db.session.get(Comment, orphan).parent_id = late_parent
        db.session.commit()
    page = client.get("/articles/odd").get_data(as_text=True)
    # The first ten but reply 2, and reply 5, which answers it; nothing out of turn.
    assert sorted(article_ids(page)) == [root, *(ids[1 + i] for i in (0, 1, 3, 4, 6, 7, 8, 9))]
    answers = all_chunks(client, control(page, root)["json"])
    ids_brought = [i["id"] for a in answers for i in a["items"]]
    assert ids_brought == ids[1 + SHOWN :]  # each once, the late parent in its turn

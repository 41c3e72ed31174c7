"""Long conversations in the embedded frame collapse as on the article pages: a
top-level comment's first FORUM_REPLIES_SHOWN replies, then "N more replies",
whose chunks come from the frame's own route (keyed by the thread's key, seen
anonymously or as the bearer of a token sees them, rendered for the frame), in
a number of statements that does not grow with the conversation."""

from __future__ import annotations

import html
import re

import pytest

from forum.models import CommentStatus
from forum.services.discussion import cursors
from tests.conftest import count_statements, token_for

# The same conversations as the article pages' tests, built the same way.
from tests.views.test_reply_collapse import T0, article_ids, conversation

HOST = "https://news.example"
KEY = "ep-1"
SHOWN = 10  # FORUM_REPLIES_SHOWN's default


@pytest.fixture
def embed_app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=HOST)


@pytest.fixture
def host(embed_app):
    return embed_app.test_client()


@pytest.fixture
def make_(embed_app, make):
    return type(make)(embed_app)


def frame(client, key=KEY, **params):
    query = {"origin": HOST, "title": "Episode one", "url": f"{HOST}/tv/{key}", **params}
    # From the publisher's page, as a browser sends it (a new thread needs that).
    return client.get(f"/embed/threads/{key}", query_string=query, headers={"Referer": f"{HOST}/"})


def control(page: str, root_id: int) -> dict | None:
    """The frame's "N more replies" under root_id: a button, or a link for a
    thread of one of our articles."""
    found = re.search(
        r'<p class="more-replies"><(button type="button" class="link-button"|a href="[^"]+")'
        rf' data-replies="([^"]+)" data-root="{root_id}" data-more="(\d+)" data-latest="(\d+)">'
        r'<span class="more-label">([^<]+)</span>',
        page,
    )
    if found is None:
        return None
    tag, data, more, latest, label = found.groups()
    href = re.match(r'a href="([^"]+)"', tag)
    return {
        "href": html.unescape(href.group(1)) if href else None,
        "json": html.unescape(data),
        "more": int(more),
        "latest": int(latest),
        "label": label,
    }


def all_chunks(http, url, headers=None):
    answers = []
    while url:
        response = http.get(url, headers=headers)
        assert response.status_code == 200, response.data
        answers.append(response.json)
        url = response.json["next"]
    return answers


@pytest.fixture
def writer(embed_app, host, make_):
    frame(host)  # the thread, made by its first view
    return make_.user("writer")


def test_the_frame_shows_ten_replies_and_50_more(embed_app, host, writer):
    root, *replies = conversation(embed_app, KEY, 60, writer.id)
    page = frame(host).text
    assert sorted(article_ids(page)) == [root, *replies[:SHOWN]]
    assert "Reply number 9<" in page and "Reply number 10<" not in page
    more = control(page, root)
    assert more["label"] == "50 more replies" and more["more"] == 50
    assert more["latest"] == replies[-1]
    assert more["href"] is None  # a button: the thread has no article of ours
    assert more["json"].startswith(f"/embed/threads/{KEY}/comments/{root}/more-replies?after=")
    assert 'name="csrf_token"' not in page

    # The reader's view, which the frame swaps in, and "Load more" collapse alike.
    view = host.get(f"/embed/threads/{KEY}/comments").json["html"]
    assert len(article_ids(view)) == 1 + SHOWN
    assert control(view, root)["label"] == "50 more replies"

    # A link to a reply the collapsed view leaves out: its whole conversation.
    focused = frame(host, comment=str(replies[45])).text
    assert len(article_ids(focused)) == 61 and control(focused, root) is None


def test_chunks_continue_in_order_rendered_for_the_frame(embed_app, host, writer):
    root, *replies = conversation(embed_app, KEY, 130, writer.id)
    more = control(frame(host).text, root)
    assert more["label"] == "120 more replies"
    answers = all_chunks(host, more["json"])
    assert [len(a["items"]) for a in answers] == [50, 50, 20]
    assert [a["more"] for a in answers] == [70, 20, 0]
    assert [a["label"] for a in answers] == ["70 more replies", "20 more replies", "0 more replies"]
    assert answers[0]["next"].startswith(f"/embed/threads/{KEY}/comments/{root}/more-replies?")
    assert answers[-1]["next"] is None
    assert all(a["href"] is None for a in answers)  # no page of ours to open
    ids = [item["id"] for a in answers for item in a["items"]]
    assert ids == replies[SHOWN:]  # oldest first, none twice, none skipped
    first = answers[0]["items"][0]
    assert first["parent_id"] == root
    assert first["html"].lstrip().startswith('<li class="comment-item">')
    assert f'href="{HOST}/tv/{KEY}#c{first["id"]}"' in first["html"]  # the publisher's page
    assert all('name="csrf_token"' not in i["html"] for a in answers for i in a["items"])
    position = cursors.parse_replies_cursor(answers[0]["next"].split("after=")[1])
    assert position[2] == replies[SHOWN + 49]


def test_an_article_of_ours_links_to_its_replies_page(embed_app, host, make_, article):
    reader = make_.user("writer")
    root, *replies = conversation(embed_app, article, 70, reader.id)
    page = frame(host, key=article).text
    more = control(page, root)
    assert more["href"].startswith(f"/articles/{article}/comments/{root}/replies?after=")
    assert more["json"].startswith(f"/embed/threads/{article}/comments/{root}/more-replies?")
    chunk = host.get(more["json"]).json
    assert chunk["href"] == chunk["next"].replace(
        f"/embed/threads/{article}/comments/{root}/more-replies",
        f"/articles/{article}/comments/{root}/replies",
    )
    assert host.get(chunk["href"]).status_code == 200
    first = chunk["items"][0]["html"]
    assert f'href="http://localhost/articles/{article}#c{replies[SHOWN]}"' in first


def test_statements_do_not_grow_with_the_conversation(embed_app, host, make_):
    frame(host, key="small")
    frame(host, key="huge")
    writer = make_.user("writer")
    small = conversation(embed_app, "small", 30, writer.id)
    huge = conversation(embed_app, "huge", 3000, writer.id)
    bearer = {"Authorization": f"Bearer {token_for(host, 'writer')}"}
    counts = {}
    for who, headers in (("anonymous", {}), ("bearer", bearer)):
        for key, ids in (("small", small), ("huge", huge)):
            more = control(frame(host, key=key).text, ids[0])
            paths = {
                "reader's view": f"/embed/threads/{key}/comments",
                "chunk": more["json"],
                "first chunk": f"/embed/threads/{key}/comments/{ids[0]}/more-replies",
            }
            if who == "anonymous":
                paths["frame"] = None
            for name, path in paths.items():
                with count_statements(embed_app) as seen:
                    if path is None:
                        response = frame(host, key=key)
                        assert len(article_ids(response.text)) == 1 + SHOWN
                    else:
                        response = host.get(path, headers=headers)
                assert response.status_code == 200, (name, path)
                counts[who, key, name] = len(seen)
    for (who, key, name), count in counts.items():
        if key == "huge":
            assert count == counts[who, "small", name], (who, name, counts)
    # The frame: the allowed origin, the thread (looked up twice on the way in),
    # its roots, the collapsed trees.  A chunk: the thread, the root, the chunk;
    # with a token also the token with its user, the reader's votes and mutes.
    assert counts["anonymous", "huge", "frame"] == 5, counts
    assert counts["anonymous", "huge", "reader's view"] == 3, counts
    assert counts["anonymous", "huge", "chunk"] == 3, counts
    assert counts["bearer", "huge", "chunk"] == 6, counts
    assert counts["bearer", "huge", "reader's view"] == 6, counts


def test_held_comments_are_not_leaked_and_the_author_sees_their_own(embed_app, host, make_, writer):
    bob = make_.user("bob")
    statuses = {
        3: CommentStatus.PENDING,
        40: CommentStatus.PENDING,
        41: CommentStatus.SPAM,
        42: CommentStatus.REJECTED,
        4: CommentStatus.SPAM,
    }
    root, *_ = conversation(embed_app, KEY, 60, bob.id, statuses=statuses)
    hidden = [f"Reply number {i}<" for i in statuses]

    def everything(headers):
        view = host.get(f"/embed/threads/{KEY}/comments", headers=headers).json["html"]
        more = control(view, root)
        chunks = all_chunks(host, more["json"], headers)
        texts = [view, *(item["html"] for a in chunks for item in a["items"])]
        return "\n".join(texts), more, chunks

    text, more, chunks = everything({})
    assert all(words not in text for words in hidden)
    assert all(words not in frame(host).text for words in hidden)
    assert more["more"] == 55 - SHOWN and sum(len(a["items"]) for a in chunks) == 45

    # Another reader's token shows no more than the anonymous view.
    other = {"Authorization": f"Bearer {token_for(host, 'writer')}"}
    text, more, _ = everything(other)
    assert all(words not in text for words in hidden) and more["more"] == 55 - SHOWN

    # Bob, through his token, sees his own held replies, in the chunk too.
    mine = {"Authorization": f"Bearer {token_for(host, 'bob')}"}
    text, more, chunks = everything(mine)
    assert all(words in text for words in hidden)
    assert more["more"] == 60 - SHOWN
    chunk_text = "\n".join(item["html"] for a in chunks for item in a["items"])
    assert "Reply number 40<" in chunk_text and "awaiting moderation" in chunk_text


def test_bad_cursors_unknown_keys_and_others_conversations(embed_app, host, make_, writer):
    root, *replies = conversation(embed_app, KEY, 20, writer.id)
    frame(host, key="ep-2")
    base = "/embed/threads/{}/comments/{}/more-replies"
    refused = host.get(base.format(KEY, root) + "?after=nonsense")
    assert refused.status_code == 422
    assert "cursor is not valid" in refused.json["error"]["fields"]["after"]  # the frame says why
    wrong_kind = cursors.encode_cursor("oldest", 0, T0, replies[3])
    assert host.get(base.format(KEY, root) + f"?after={wrong_kind}").status_code == 422
    assert host.get(base.format("no-such-key", root)).status_code == 404
    assert host.get(base.format("bad key!", root)).status_code == 404
    assert host.get(base.format(KEY, replies[0])).status_code == 404  # not top-level
    assert host.get(base.format("ep-2", root)).status_code == 404  # another discussion
    assert host.get(base.format(KEY, 10**12)).status_code == 404
    refused = host.get(base.format(KEY, root), headers={"Authorization": "Bearer fpt_nope"})
    # (The error pages are HTML: forum.errors.wants_json() knows the reader's
    # view's path only; the frame then says "Something went wrong (401)".)
    assert refused.status_code == 401


def test_headers_are_those_of_the_readers_view(embed_app, host, writer):
    root, *_ = conversation(embed_app, KEY, 20, writer.id)
    chunk = host.get(f"/embed/threads/{KEY}/comments/{root}/more-replies")
    view = host.get(f"/embed/threads/{KEY}/comments")
    assert chunk.status_code == view.status_code == 200
    assert chunk.mimetype == "application/json"
    for name in ("Cache-Control", "Vary", "Content-Security-Policy", "X-Frame-Options"):
        assert chunk.headers.get(name) == view.headers.get(name), name
    assert chunk.headers["Cache-Control"] == "no-store"  # it may hold the reader's own
    assert "Authorization" in chunk.headers["Vary"]
    assert "Set-Cookie" not in chunk.headers
    assert "Access-Control-Allow-Origin" not in chunk.headers  # the frame's own origin
    # The frame itself keeps its framing policy.
    assert frame(host).headers["Content-Security-Policy"].endswith(f"frame-ancestors {HOST}")


def test_a_reply_just_posted_comes_back_to_be_placed(embed_app, host, make_, writer):
    root, *replies = conversation(embed_app, KEY, 30, writer.id)
    make_.user("bob")
    bearer = {"Authorization": f"Bearer {token_for(host, 'bob')}"}
    posted = host.post(
        f"/api/v1/threads/{KEY}/comments",
        json={"body": "Late to this one", "parent_id": replies[20]},
        headers=bearer,
    )
    assert posted.status_code == 201
    new_id = posted.json["comment"]["id"]
    view = host.get(f"/embed/threads/{KEY}/comments?posted={new_id}", headers=bearer).json
    assert new_id not in article_ids(view["html"])  # collapsed behind "N more replies"
    assert view["posted"]["id"] == new_id and view["posted"]["parent_id"] == replies[20]
    assert "Late to this one" in view["posted"]["html"]
    assert 'name="csrf_token"' not in view["posted"]["html"]
    # Only for its thread, and only for readers who may see it.
    assert host.get(f"/embed/threads/{KEY}/comments").json["posted"] is None
    make_.set_status(new_id, CommentStatus.PENDING)
    assert host.get(f"/embed/threads/{KEY}/comments?posted={new_id}").json["posted"] is None
    assert host.get(f"/embed/threads/{KEY}/comments?posted=nonsense").json["posted"] is None

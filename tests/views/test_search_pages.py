"""Search through the pages: readers' search (site-wide and one article's), and the
moderation queues' search and filters, with History showing text and author."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, User
from forum.services.accounts import people
from forum.services.discussion import search
from forum.services.moderation import flags
from tests.conftest import AuthActions, count_statements


def page_of(response) -> str:
    return response.get_data(as_text=True)


def hits(response) -> list[str]:
    """The excerpts a results page shows, tags and all."""
    return re.findall(r'<p class="excerpt"[^>]*><a [^>]*>(.*?)</a></p>', page_of(response), re.S)


@pytest.fixture
def people_(make, article):
    alice = make.user("alice")
    bob = make.user("bob")
    make.user("mona", role=Role.MODERATOR)
    return alice, bob


# -- readers ----------------------------------------------------------------------------


def test_the_article_page_has_a_search_box_for_its_comments(client, article):
    page = page_of(client.get("/articles/a-story"))
    form = re.search(r'<form class="thread-search".*?</form>', page, re.S).group(0)
    assert 'action="/search"' in form and 'method="get"' in form
    assert '<input type="hidden" name="article" value="a-story">' in form
    assert 'name="csrf_token"' not in form  # the page stays the same for everyone


def test_an_empty_search_page_asks_for_words(client):
    response = client.get("/search")
    assert response.status_code == 200
    assert "Words to look for" in page_of(response)
    assert "search-hit" not in page_of(response)


def test_readers_find_approved_comments_only(app, client, make, people_, article):
    alice, bob = people_
    shown = make.comment(alice, article, "The lighthouse keeper knew.", age=timedelta(minutes=5))
    for status in (
        CommentStatus.PENDING,
        CommentStatus.REJECTED,
        CommentStatus.SPAM,
        CommentStatus.DELETED,
    ):
        comment_id = make.comment(bob, article, f"The lighthouse {status.value} words.")
        make.set_status(comment_id, status)
    # Not even their own held comment: search shows what every reader sees.
    reader = app.test_client()
    AuthActions(reader).login("bob")
    for viewer in (client, reader):
        response = viewer.get("/search?q=lighthouse")
        assert response.status_code == 200
        assert hits(response) == ["The <mark>lighthouse</mark> keeper knew."]
        assert f'href="/comments/{shown}"' in page_of(response)


def test_excerpts_are_escaped_marked_and_keep_spoilers_covered(client, make, people_, article):
    alice, _ = people_
    make.comment(alice, article, "Café <b>bold</b> & ||the keeper did it|| at the café.")
    make.comment(alice, article, "The whole café thing is a spoiler.", spoiler=True)
    response = client.get("/search?q=cafe")
    assert hits(response) == [
        "<em>covered: open it in the discussion</em>",
        "<mark>Café</mark> &lt;b&gt;bold&lt;/b&gt; &amp; [spoiler] at the <mark>café</mark>.",
    ]
    assert "keeper" not in page_of(response)
    assert "whole" not in page_of(response)


def test_a_muted_readers_comments_stay_covered(app, make, people_, article):
    alice, bob = people_
    make.comment(bob, article, "Bob's heron sighting.")
    with app.app_context():
        people.mute(db.session.get(User, alice.id), db.session.get(User, bob.id))
        db.session.commit()
    client = app.test_client()
    AuthActions(client).login("alice")
    assert hits(client.get("/search?q=heron")) == ["<em>covered: open it in the discussion</em>"]


def test_one_articles_search_stays_in_it(client, make, people_, article):
    alice, _ = people_
    make.article("another", "Another story")
    make.comment(alice, article, "Kestrel here.")
    make.comment(alice, "another", "Kestrel there.")
    everywhere = client.get("/search?q=kestrel")
    assert hits(everywhere) == ["<mark>Kestrel</mark> there.", "<mark>Kestrel</mark> here."]
    here = client.get("/search?q=kestrel&article=a-story")
    assert hits(here) == ["<mark>Kestrel</mark> here."]
    assert "Search the discussion of <bdi>A story</bdi>" in page_of(here)
    assert 'href="/search?q=kestrel">Search every article' in page_of(here)
    assert client.get("/search?q=kestrel&article=no-such-article").status_code == 404


def test_results_come_a_page_at_a_time(client, make, people_, article):
    alice, _ = people_
    for n in range(search.PAGE_SIZE + 3):
        make.comment(alice, article, f"Gannet {n:02}", age=timedelta(minutes=60 - n))
    first = client.get("/search?q=gannet")
    assert len(hits(first)) == search.PAGE_SIZE
    more = re.search(r'href="(/search\?q=gannet&amp;cursor=[^"]+)"', page_of(first)).group(1)
    second = client.get(more.replace("&amp;", "&"))
    assert hits(second) == [
        "<mark>Gannet</mark> 02",
        "<mark>Gannet</mark> 01",
        "<mark>Gannet</mark> 00",
    ]
    assert "Older comments" not in page_of(second)


def test_a_page_of_results_costs_the_same_statements_however_many(app, client, make, people_):
    alice, _ = people_

    def statements(count: int) -> int:
        slug = make.article()
        for n in range(count):
            make.comment(alice, slug, f"Puffin{count} number {n}")
        with count_statements(app) as seen:
            assert client.get(f"/search?q=puffin{count}").status_code == 200
        return len(seen)

    assert statements(1) == statements(12)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 201, "Search for at most 200 characters (this is 201)."),
        (" ".join(["word"] * 9), "Search for at most 8 words at a time."),
    ],
)
def test_queries_past_the_limits_are_refused_plainly(client, query, message):
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 400
    assert message in page_of(response)


def test_a_stale_cursor_is_a_plain_400(client):
    response = client.get("/search?q=anything&cursor=bogus")
    assert response.status_code == 400
    assert "This cursor is not valid here; search again." in page_of(response)


def test_searches_are_rate_limited_but_the_empty_form_is_not(app_with, make):
    app = app_with(FORUM_RATELIMIT="on")
    client = app.test_client()
    for _ in range(40):
        assert client.get("/search").status_code == 200
    answers = [client.get(f"/search?q=word{n}").status_code for n in range(31)]
    assert answers == [200] * 30 + [429]


# -- moderators -----------------------------------------------------------------------------


@pytest.fixture
def mona(app, people_):
    client = app.test_client()
    AuthActions(client).login("mona")
    return client


def held(app, make, author, slug, body, **kwargs) -> int:
    """A comment posted into pre-moderation: it waits in Pending."""
    app.config["FORUM_MODERATION"] = "pre"
    try:
        return make.comment(author, slug, body, **kwargs)
    finally:
        app.config["FORUM_MODERATION"] = "post"


def items(response) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="mod-item" id="item-(\d+)"', page_of(response))]


def test_moderators_search_a_queue_by_words(app, make, people_, article, mona):
    alice, bob = people_
    zeppelin = held(app, make, alice, article, "A zeppelin over the lighthouse.")
    other = held(app, make, bob, article, "Nothing to see here.")
    assert items(mona.get("/moderation/queue/pending")) == [zeppelin, other]
    response = mona.get("/moderation/queue/pending?q=zeppelins")
    assert items(response) == []
    assert "Nothing in this queue matches." in page_of(response)
    response = mona.get("/moderation/queue/pending?q=ZEPP")
    assert items(response) == [zeppelin]
    assert "A <mark>zeppelin</mark> over the lighthouse." in page_of(response)
    assert 'value="ZEPP"' in page_of(response)


def test_moderators_filter_by_author_and_article(app, make, people_, article, mona):
    alice, bob = people_
    make.article("another", "Another story")
    first = held(app, make, alice, article, "One.")
    second = held(app, make, bob, article, "Two.")
    third = held(app, make, alice, "another", "Three.")
    assert items(mona.get("/moderation/queue/pending?author=alice")) == [first, third]
    assert items(mona.get("/moderation/queue/pending?author=@Alice")) == [first, third]
    assert items(mona.get("/moderation/queue/pending?article=another")) == [third]
    assert items(mona.get("/moderation/queue/pending?author=alice&article=a-story")) == [first]
    page = page_of(mona.get("/moderation/queue/pending"))
    # The article filter offers the discussions with items waiting, most first.
    assert '<option value="a-story">A story (2)</option>' in page
    assert '<option value="another">Another story (1)</option>' in page
    assert second


def test_moderators_filter_by_why_it_is_held_or_reported(app, make, people_, article, mona):
    alice, bob = people_
    linked = make.comment(alice, article, "See http://a.example http://b.example http://c.example")
    with app.app_context():
        comment = db.session.get(Comment, linked)
        comment.status = CommentStatus.PENDING
        comment.hold_reasons = [{"rule": "links", "detail": "3 links", "args": {"num": 3}}]
        db.session.commit()
    plain = held(app, make, bob, article, "Plain words.")
    reported = make.comment(bob, article, "Reported words.")
    with app.app_context():
        flags.flag(db.session.get(User, alice.id), db.session.get(Comment, reported), "abuse")
        db.session.commit()
    assert items(mona.get("/moderation/queue/pending?reason=rule:links")) == [linked]
    assert items(mona.get("/moderation/queue/pending?reason=rule:pre_moderation")) == [plain]
    assert items(mona.get("/moderation/queue/reported?reason=report:abuse")) == [reported]
    assert items(mona.get("/moderation/queue/reported?reason=report:spam")) == []
    # Dismissed, the abuse report is closed; a later report is the one that counts.
    assert (
        mona.post(f"/moderation/comments/{reported}", data={"action": "approve"}).status_code == 302
    )
    carol = make.user("carol")
    with app.app_context():
        flags.flag(db.session.get(User, carol.id), db.session.get(Comment, reported), "spam")
        db.session.commit()
    assert items(mona.get("/moderation/queue/reported?reason=report:spam")) == [reported]
    assert items(mona.get("/moderation/queue/reported?reason=report:abuse")) == []


def test_filters_that_name_nothing_say_so(app, make, people_, article, mona):
    for query, message in [
        ("author=nobody", "No account has that username."),
        ("article=no-such", "There is no discussion with that key."),
        ("reason=rule:made_up", "Choose a reason from the list."),
        ("q=" + "x" * 201, "Search for at most 200 characters (this is 201)."),
    ]:
        response = mona.get(f"/moderation/queue/pending?{query}")
        assert response.status_code == 400, query
        assert message in page_of(response)
        assert 'role="alert"' in page_of(response)
    assert mona.get("/moderation/queue/nowhere?q=x").status_code == 404


def test_filtered_pages_follow_one_another(app, make, people_, article, mona):
    alice, bob = people_
    ids = [held(app, make, alice, article, f"Tern {n}") for n in range(52)]
    held(app, make, bob, article, "Tern by bob")
    first = mona.get("/moderation/queue/pending?q=tern&author=alice")
    assert items(first) == ids[:50]
    link = re.search(r'href="(/moderation/queue/pending\?cursor=[^"]+)"', page_of(first)).group(1)
    assert "q=tern" in link and "author=alice" in link
    assert items(mona.get(link.replace("&amp;", "&"))) == ids[50:]


def test_a_filtered_queue_costs_the_same_statements_however_many(app, make, people_, mona):
    alice, _ = people_

    def statements(count: int) -> int:
        slug = make.article()
        for n in range(count):
            held(app, make, alice, slug, f"Shearwater{count} {n}")
        with count_statements(app) as seen:
            url = f"/moderation/queue/pending?q=shearwater{count}&author=alice"
            url += "&reason=rule:pre_moderation"
            assert len(items(mona.get(url))) == count
        return len(seen)

    assert statements(1) == statements(9)


def test_the_shortcuts_list_names_the_number_keys(mona):
    page = page_of(mona.get("/moderation/queue/pending"))
    assert "<kbd>1</kbd> – <kbd>4</kbd>" in page
    assert 'data-queue="reported" aria-keyshortcuts="2"' in page

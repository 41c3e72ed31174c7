"""Full-text search through the service, on whichever database the suite runs on
(SQLite's FTS5 by default, PostgreSQL's text search with FORUM_TEST_DATABASE_URL):
the same questions get the same answers on both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from forum.errors import ValidationError
from forum.extensions import db
from forum.models import Comment, CommentStatus, User
from forum.services.accounts import erasure
from forum.services.discussion import comments, search, threads
from forum.services.moderation import decisions


def found(query: str, slug: str | None = None) -> list[str]:
    """The bodies a reader's search finds, newest first."""
    thread = threads.thread_by_key(slug) if slug else None
    results = search.search_comments(search.parse(query), thread=thread, limit=50)
    return [comment.body for comment in results.comments]


@pytest.fixture
def texts(make, article):
    """A thread in several languages and scripts, oldest first."""
    alice = make.user("alice")
    bodies = [
        "The tide tables are the key to the whole season.",
        "Un café crème au phare, s'il vous plaît.",
        "CAFE owners in town never talk about the lighthouse.",
        "Spoilers ahead: ||Marguerite lit the lighthouse herself||.",
        "مَرْحَبًا بِالعَالَم، المنارة مضاءة",
        "東京タワーから灯台が見える。",
        "灯台守は京都にいた。東にある島だ。",
        "Ｆｕｌｌ-width letters and the word tidewater.",
        "Straße und Leuchtturm: die Gezeiten-Tabellen.",
    ]
    for n, body in enumerate(bodies):
        make.comment(alice, article, body, age=timedelta(minutes=len(bodies) - n))
    return bodies


def test_words_match_whole_or_as_a_beginning(ctx, texts):
    assert found("tide tables") == [texts[0]]
    assert found("TIDE") == [texts[7], texts[0]]  # tidewater: "tide" is a prefix
    assert found("tidewater") == [texts[7]]
    assert found("tables lighthouse") == []  # every term must match
    assert found("lighthouse") == [texts[3], texts[2]]
    assert found("light") == [texts[3], texts[2]]


def test_accents_and_case_fold_away(ctx, texts):
    assert found("cafe") == [texts[2], texts[1]]
    assert found("Café") == [texts[2], texts[1]]
    assert found("creme plait") == [texts[1]]
    assert found("strasse") == [texts[8]]
    assert found("full width") == [texts[7]]  # full-width Latin is Latin


def test_phrases_keep_their_order(ctx, texts):
    assert found('"tide tables"') == [texts[0]]
    assert found('"tables tide"') == []
    assert found("gezeiten-tabellen") == [texts[8]]
    assert found("tabellen-gezeiten") == []


def test_arabic_with_or_without_its_vowel_marks(ctx, texts):
    assert found("مرحبا") == [texts[4]]
    assert found("مَرْحَبًا") == [texts[4]]
    assert found("المنارة") == [texts[4]]


def test_japanese_is_found_inside_a_sentence(ctx, texts):
    # No spaces between Japanese words: each character is a word of its own, and
    # a run of them is a phrase, so 東京 is found only where the two stand together.
    assert found("東京") == [texts[5]]
    assert found("灯台") == [texts[6], texts[5]]
    assert found("京都") == [texts[6]]
    assert found("タワー") == [texts[5]]
    assert found("京東") == []


def test_inline_spoilers_are_indexed(ctx, texts):
    assert found("marguerite") == [texts[3]]


def test_only_approved_comments_are_found_by_readers(ctx, make, article):
    alice = make.user("alice")
    mona = db.session.get(User, make.user("mona", role="moderator").id)
    ids = {
        status: make.comment(alice, article, f"zephyr comment {status.value}")
        for status in CommentStatus
    }
    for status, comment_id in ids.items():
        db.session.get(Comment, comment_id).status = status
    db.session.commit()
    assert found("zephyr") == ["zephyr comment approved"]
    # A moderator's approval brings it in; a rejection takes it out again.
    pending = db.session.get(Comment, ids[CommentStatus.PENDING])
    decisions.act(mona, pending, "approve")
    db.session.commit()
    assert found("zephyr") == ["zephyr comment pending", "zephyr comment approved"]
    decisions.act(mona, pending, "reject")
    db.session.commit()
    assert found("zephyr") == ["zephyr comment approved"]


def test_edits_and_deletions_reach_the_index(ctx, make, article, app):
    alice = make.user("alice")
    comment_id = make.comment(alice, article, "The first words: albatross.")
    comment = db.session.get(Comment, comment_id)
    user = db.session.get(User, alice.id)
    comments.edit_comment(user, comment, "The second words: cormorant.")
    db.session.commit()
    assert found("albatross") == []
    assert found("cormorant") == ["The second words: cormorant."]
    comments.delete_comment(user, comment)
    db.session.commit()
    assert found("cormorant") == []
    assert db.session.scalar(db.select(Comment.search_text).filter_by(id=comment_id)) == ""


def test_theory_titles_are_searched(ctx, make, article):
    alice = make.user("alice")
    make.comment(alice, article, "Because of the clock.", theory_title="The keeper's secret")
    assert found("keeper secret") == ["Because of the clock."]


def test_an_erased_account_leaves_nothing_to_find(ctx, make, article):
    alice = make.user("alice")
    make.comment(alice, article, "Quetzalcoatl was here.")
    user = db.session.get(User, alice.id)
    erasure.delete_account(user, actor=user)
    db.session.commit()
    assert found("quetzalcoatl") == []
    assert db.session.scalars(db.select(Comment.search_text)).all() == [""]


def test_bulk_updates_keep_the_index_in_step(ctx, make, article):
    alice = make.user("alice")
    comment_id = make.comment(alice, article, "Original words.")
    db.session.execute(
        update(Comment).where(Comment.id == comment_id).values(search_text="replaced words")
    )
    db.session.commit()
    assert found("original") == []
    assert found("replaced") == ["Original words."]


def test_one_thread_or_the_whole_site(ctx, make, article):
    alice = make.user("alice")
    other = make.article("another", "Another")
    make.comment(alice, article, "Kestrel in the first story.")
    make.comment(alice, other, "Kestrel in another story.")
    assert found("kestrel") == ["Kestrel in another story.", "Kestrel in the first story."]
    assert found("kestrel", article) == ["Kestrel in the first story."]


def test_pages_follow_one_another(ctx, make, article):
    alice = make.user("alice")
    for n in range(5):
        make.comment(alice, article, f"Heron number {n}", age=timedelta(minutes=10 - n))
    query = search.parse("heron")
    first = search.search_comments(query, limit=2)
    assert [c.body for c in first.comments] == ["Heron number 4", "Heron number 3"]
    second = search.search_comments(query, cursor=first.next_cursor, limit=2)
    assert [c.body for c in second.comments] == ["Heron number 2", "Heron number 1"]
    last = search.search_comments(query, cursor=second.next_cursor, limit=2)
    assert [c.body for c in last.comments] == ["Heron number 0"]
    assert last.next_cursor is None
    with pytest.raises(ValidationError):
        search.search_comments(query, cursor="not-a-cursor")


def test_queries_are_bounded(ctx):
    assert search.parse("") is None
    assert search.parse("  ?!  ") is None  # nothing to search for
    with pytest.raises(ValidationError) as error:
        search.parse("x" * (search.QUERY_MAX + 1))
    assert "q" in error.value.fields
    with pytest.raises(ValidationError):
        search.parse(" ".join(f"w{n}" for n in range(search.TERMS_MAX + 1)))
    with pytest.raises(ValidationError):
        search.parse(["not", "text"])


@pytest.mark.parametrize(
    "typed",
    ['"', '" OR "', "NEAR(a b)", "a:*", "!a | b", "'", "(", "a & !b", "*", "-a", "\\"],
)
def test_query_syntax_is_never_the_engines(ctx, make, article, typed):
    """Whatever is typed becomes words, never FTS5 or tsquery syntax."""
    alice = make.user("alice")
    make.comment(alice, article, "a b c")
    query = search.parse(typed)
    if query is not None:
        search.search_comments(query)  # no error from the database


def test_queries_in_each_engines_syntax():
    query = search.Query("x", (("tide", "tables"), ("東", "京"), ("ab",)))
    assert search.fts5_query(query) == '"tide tables"* AND "東 京" AND "ab"'
    assert search.tsquery(query) == "(tide <-> tables:*) & (東 <-> 京) & (ab)"

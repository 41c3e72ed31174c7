"""Full-text search over comments, in the database's own engine: SQLite's FTS5 or
PostgreSQL's text search (forum.models.search_index), asked the same question.

What is indexed and how a query becomes words is forum.markup.words: case and
accents folded, Chinese and Japanese characters one word each.  A query is
terms, all of which must match (AND): a word, a "quoted phrase", or a run like
tide-tables (the phrase "tide tables").  A term's last word also matches longer
words that start with it once it has PREFIX_MIN letters ("spoil" finds
"spoilers").  Results come newest first, in keyset pages.

Readers search approved comments only (visibility.shown_clause for a viewer
who is neither signed in nor a moderator: not even their own held ones);
moderators search their queues through forum.services.moderation.queues, with
matching() below.

Cost is bounded before the database is asked: at most QUERY_MAX characters,
TERMS_MAX terms and WORDS_MAX words, and PAGE_SIZE results a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import column, func, literal_column, select, table
from sqlalchemy.orm import joinedload, selectinload

from forum.errors import ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.markup.words import is_prefix, query_terms
from forum.models import Comment, Thread
from forum.models.search_index import FTS_TABLE
from forum.services.discussion import visibility
from forum.services.discussion.cursors import decode_cursor, encode_cursor

QUERY_MAX = 200
TERMS_MAX = 8
WORDS_MAX = 24
PAGE_SIZE = 20
CURSOR_KIND = "search"

# The FTS5 table as queries see it (not in the models' metadata: see search_index).
_FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))


@dataclass(frozen=True)
class Query:
    text: str  # as typed, normalized
    terms: tuple[tuple[str, ...], ...]  # folded words, term by term


def parse(raw, field: str = "q") -> Query | None:
    """The query in raw, or None when there is nothing to search for (empty, or
    no letter or digit in it).  Raises ValidationError (on field) past the limits."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationError(fields={field: gettext("Search for words, as text.")})
    text = " ".join(normalize(raw).split())
    if len(text) > QUERY_MAX:
        raise ValidationError(
            fields={
                field: gettext(
                    "Search for at most %(max)s characters (this is %(length)s).",
                    max=QUERY_MAX,
                    length=len(text),
                )
            }
        )
    terms = query_terms(text)
    if not terms:
        return None
    if len(terms) > TERMS_MAX or sum(map(len, terms)) > WORDS_MAX:
        raise ValidationError(
            fields={field: gettext("Search for at most %(max)s words at a time.", max=TERMS_MAX)}
        )
    return Query(text, tuple(tuple(term) for term in terms))


def matching(query: Query):
    """SQL over Comment: the comments whose words match every term of query, in
    the session's database (its own full-text index)."""
    if db.session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), Comment.search_text)
        asked = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery(query))
        return vector.op("@@")(asked)
    return Comment.id.in_(
        select(_FTS.c.rowid).where(_FTS.c[FTS_TABLE].op("MATCH")(fts5_query(query)))
    )


def fts5_query(query: Query) -> str:
    """FTS5's query syntax: each term a quoted phrase, "*" after one whose last
    word is a prefix, all joined by AND.  Words hold letters and digits only, so
    nothing in them can be read as syntax."""
    return " AND ".join(
        '"' + " ".join(term) + '"' + ("*" if is_prefix(term[-1]) else "") for term in query.terms
    )


def tsquery(query: Query) -> str:
    """PostgreSQL's to_tsquery syntax for the same thing: words of a phrase joined
    by <-> (next to each other), ":*" for a prefix, terms by &."""
    return " & ".join(
        "(" + " <-> ".join(term[:-1] + (term[-1] + (":*" if is_prefix(term[-1]) else ""),)) + ")"
        for term in query.terms
    )


# -- readers ---------------------------------------------------------------------------


@dataclass
class Results:
    query: Query | None
    comments: list[Comment]
    next_cursor: str | None
    thread: Thread | None = None


def search_comments(
    query: Query | None, thread: Thread | None = None, cursor=None, limit: int = PAGE_SIZE
) -> Results:
    """One page of the approved comments matching query, newest first, on the
    whole site or in one thread, with their authors, threads and articles: two
    statements (one without a query).  Raises ValidationError for a bad cursor."""
    if query is None:
        return Results(None, [], None, thread)
    position = None
    if cursor:
        position = decode_cursor(cursor, CURSOR_KIND)
        if position is None:
            raise ValidationError(
                fields={"cursor": gettext("This cursor is not valid here; search again.")}
            )
    readers_see = visibility.shown_clause(Comment, moderator=False, signed_in=False)
    statement = select(Comment).where(readers_see, matching(query))
    if thread is not None:
        statement = statement.where(Comment.thread_id == thread.id)
    if position is not None:
        _, created_at, comment_id = position
        statement = statement.where(
            (Comment.created_at < created_at)
            | ((Comment.created_at == created_at) & (Comment.id < comment_id))
        )
    rows = db.session.scalars(
        statement.options(
            joinedload(Comment.author),
            selectinload(Comment.thread).joinedload(Thread.article),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(CURSOR_KIND, 0, rows[-1].created_at, rows[-1].id)
    return Results(query, rows, next_cursor, thread)

"""The full-text index over comments.search_text, in each database's own engine.

- SQLite: an FTS5 table with external content (comments_search: it stores only
  the index, and reads the text from comments), kept in step by three triggers
  on comments, so that every write, ORM or bulk UPDATE, reaches it.
- PostgreSQL: a GIN index on to_tsvector('simple', search_text) (the 'simple'
  configuration: no stemming and no stop words, right for any language).

search_text is already folded into plain words (forum.markup.words), so both
engines split and match it the same way; forum.services.discussion.search asks
them.  Neither object is a SQLAlchemy table or index: they are made here when
the schema is (create_all, for the tests) and by the migration
0015_search, and Alembic's autogenerate is told to look past them
(include_name, passed to it by create_app and by the migrations test).

A migration that makes SQLite copy the comments table (batch mode dropping or
altering a column) drops the triggers with the old table: it must run
SQLITE_TRIGGERS again.  tests/services/discussion/test_search_index.py checks,
at the head of the migrations, that the index follows a new comment.
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from forum.models.discussion import Comment

FTS_TABLE = "comments_search"
PG_INDEX = "ix_comments_search"

SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_text, content='comments', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
)
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON comments BEGIN
  INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON comments BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_text ON comments BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
  INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
END""",
)
# Fills the index from what comments holds (after a restore, or once made).
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
POSTGRESQL_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON comments "
    "USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def include_name(name, type_, parent_names) -> bool:
    """Alembic's filter: leave the search objects out of autogenerate's comparison
    (they are not in the models' metadata; FTS5 also makes shadow tables)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "index":
        return name != PG_INDEX
    return True


# With create_all and drop_all (the tests' schema): made after comments, gone
# before it.  A leftover FTS table would point at another table's rows.
for statement in (f"DROP TABLE IF EXISTS {FTS_TABLE}", SQLITE_TABLE, *SQLITE_TRIGGERS):
    event.listen(Comment.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
event.listen(
    Comment.__table__,
    "before_drop",
    DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"),
)
event.listen(
    Comment.__table__,
    "after_create",
    DDL(POSTGRESQL_INDEX).execute_if(dialect="postgresql"),
)

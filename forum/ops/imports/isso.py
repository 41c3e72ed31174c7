"""Reading an Isso database (Isso keeps its comments in one SQLite file).

Its tables, as Isso creates them:

    threads(id, uri, title)
    comments(tid, id, parent, created, modified, mode, remote_addr, text, author,
             email, website, likes, dislikes, voters, notification)

`uri` is the page's path on the publisher's site, `created` and `modified` are
Unix times, `text` is Markdown, and `mode` is 1 (accepted), 2 (waiting for a
moderator) or 4 (deleted; Isso keeps such a row only while it has replies, with
its text and author already wiped).

The file may come from anyone, so it is read defensively: read-only (mode=ro,
query_only), with trusted_schema off; only the two tables above are read, and
only if they are plain stored tables (a view or virtual table of that name could
run anything, or never end); no value longer than VALUE_BYTES; and each read of
the file (the importer reads it more than once) gives up after READ_SECONDS
spent inside SQLite.  Any of these raises ArchiveError, whose message is one
line.  Other objects in the file (Isso's own trigger, indexes, ...) are never
touched: a trigger cannot fire on a SELECT.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

from forum.models import CommentStatus
from forum.ops.imports.items import (
    ArchiveError,
    Item,
    PostItem,
    ThreadItem,
    check_file,
    key_for_url,
)

SOURCE, LABEL = "isso", "Isso"
MODES = {1: CommentStatus.APPROVED, 2: CommentStatus.PENDING, 4: CommentStatus.DELETED}
UNKNOWN_MODE = "unknown Isso mode {mode}"
_COLUMNS = {
    "threads": ("id", "uri", "title"),
    "comments": (
        *("tid", "id", "parent", "created", "modified", "mode", "text", "author", "email"),
        *("likes", "dislikes"),
    ),
}
_THREADS = "SELECT id, uri, title FROM main.threads ORDER BY id"
_COMMENTS = (
    "SELECT id, tid, parent, created, modified, mode, text, author, email,"
    " coalesce(likes, 0), coalesce(dislikes, 0) FROM main.comments ORDER BY id"
)

# Seconds inside SQLite allowed for one read of the file.  A real Isso database
# (Isso serves small sites from it) is read in well under a second.
READ_SECONDS = 60.0
# Isso refuses comments over 65,535 characters; no value it stores comes near this.
VALUE_BYTES = 1_000_000
_TICKS = 1000  # SQLite instructions between two looks at the clock
_FETCH = 100  # rows per call into SQLite (at most _FETCH * VALUE_BYTES held)


def read(
    path: str, site: str | None = None, seconds: float | None = None
) -> Callable[[], Iterator[Item]]:
    """The database's items, afresh on each call.  site (an origin such as
    https://blog.example) turns Isso's paths into the pages' addresses; seconds
    bounds each read of the file (default READ_SECONDS).

    Raises ArchiveError if the file is missing, not SQLite, or not Isso's (also:
    a view or virtual table where a table should be, a computed column, a value
    over VALUE_BYTES, a read over the time bound), here or while the items are read.
    """
    check_file(path)
    limit = READ_SECONDS if seconds is None else seconds
    # Checked now, so a bad file fails before the import starts, and again on each read.
    _open(path, _Clock(limit)).close()
    return lambda: _items(path, site, limit)


class _Clock:
    """The time one read of the file spends inside SQLite, against a limit.

    Only calls into SQLite count (running()), not the importer storing what it
    read between them: a large import writes for longer than it reads.  SQLite
    calls expired() every _TICKS instructions, and stops the statement when it
    says so.
    """

    def __init__(self, limit: float):
        self.limit = limit
        self.spent = 0.0
        self.since: float | None = None
        self.ran_out = False

    @contextmanager
    def running(self) -> Iterator[None]:
        self.since = time.monotonic()
        try:
            yield
        finally:
            self.spent += time.monotonic() - self.since
            self.since = None

    def expired(self) -> bool:
        if self.since is not None and self.spent + time.monotonic() - self.since > self.limit:
            self.ran_out = True
        return self.ran_out


def _open(path: str, clock: _Clock) -> sqlite3.Connection:
    """A read-only connection to an Isso database whose tables were checked.

    Raises ArchiveError.
    """
    try:
        # mode=ro: an import never changes the archive (nor creates a missing file).
        # Not immutable=1: that would skip locks and the WAL, and misread a
        # database Isso is still writing.
        connection = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _failure(path, error, clock, "not a readable SQLite database") from None
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_BYTES)
        connection.set_progress_handler(clock.expired, _TICKS)
        with clock.running():
            connection.execute("PRAGMA query_only = ON")
            connection.execute("PRAGMA trusted_schema = OFF")
            for table, columns in _COLUMNS.items():
                _check_table(path, connection, table, columns)
    except sqlite3.Error as error:
        connection.close()
        raise _failure(path, error, clock, "not a readable SQLite database") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _check_table(
    path: str, connection: sqlite3.Connection, table: str, columns: tuple[str, ...]
) -> None:
    """Raises ArchiveError unless table is a plain stored table with those columns."""
    not_isso = f"{path}: not an Isso database"
    # SQLite builds each object from its `sql` in sqlite_master (and calls the file
    # malformed when `type` disagrees), and writes a table's as "CREATE TABLE ...":
    # anything else under that type is a virtual table, whatever its rootpage says.
    # (Not PRAGMA table_list: it compiles every view in the file first, which a
    # hostile file can make take minutes where nothing can interrupt it.)
    row = connection.execute(
        "SELECT type, sql FROM main.sqlite_master"
        " WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
        (table,),
    ).fetchone()
    if row is None:
        raise ArchiveError(f"{not_isso} (no usable {table} table)")
    kind, sql = row
    if kind == "view":
        raise ArchiveError(f"{not_isso} ({table} is a view, not a table)")
    if not isinstance(sql, str) or not sql.startswith("CREATE TABLE "):
        raise ArchiveError(f"{not_isso} ({table} is not a plain table)")
    # table_xinfo's last field: 0 for a stored column, 2 or 3 for a computed one.
    found = {
        str(name).lower(): hidden
        for _, name, *_, hidden in connection.execute(f"PRAGMA main.table_xinfo({table})")
    }
    if not set(columns) <= found.keys():
        raise ArchiveError(f"{not_isso} (no usable {table} table)")
    for column in columns:
        if found[column]:
            raise ArchiveError(f"{not_isso} ({table}.{column} is computed, not stored)")


def _items(path: str, site: str | None, limit: float) -> Iterator[Item]:
    clock = _Clock(limit)
    connection = _open(path, clock)
    try:
        for thread_id, uri, title in _rows(connection, clock, _THREADS):
            uri = str(uri or "")
            yield ThreadItem(
                external_id=str(thread_id),
                key=key_for_url(uri) if uri else f"isso-{thread_id}",
                title=str(title or uri),
                url=urljoin(site, uri) if site and uri else None,
            )
        for row in _rows(connection, clock, _COMMENTS):
            yield _post(*row)
    except sqlite3.Error as error:
        raise _failure(path, error, clock, "cannot read it") from None
    finally:
        connection.close()


def _rows(connection: sqlite3.Connection, clock: _Clock, sql: str) -> Iterator[tuple]:
    with clock.running():
        cursor = connection.execute(sql)
    while True:
        with clock.running():
            rows = cursor.fetchmany(_FETCH)
        if not rows:
            return
        yield from rows


def _failure(path: str, error: sqlite3.Error, clock: _Clock, doing: str) -> ArchiveError:
    """The one-line ArchiveError for an error from SQLite."""
    if clock.ran_out:
        return ArchiveError(
            f"{path}: gave up reading it after {clock.limit:g} s (a huge or hostile database?)"
        )
    if getattr(error, "sqlite_errorname", None) == "SQLITE_TOOBIG":
        return ArchiveError(f"{path}: {doing} (a value longer than {VALUE_BYTES:,} bytes)")
    return ArchiveError(f"{path}: {doing} ({_one_line(str(error))})")


def _one_line(text: str, limit: int = 200) -> str:
    # SQLite's messages can quote names and values from the file: no line breaks,
    # no terminal escapes, not too long.
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _post(id, tid, parent, created, modified, mode, text, author, email, likes, dislikes):
    status = MODES.get(mode)
    return PostItem(
        external_id=str(id),
        thread_id=str(tid),
        parent_id=str(parent) if parent is not None else None,
        author_name=str(author or ""),
        author_email=str(email) if email else None,
        body=str(text or ""),
        created_at=_time(created),
        edited_at=_time(modified),
        status=status or CommentStatus.APPROVED,
        upvotes=_count(likes),
        downvotes=_count(dislikes),
        skip=None if status else UNKNOWN_MODE.format(mode=mode),
    )


def _time(value) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _count(value) -> int:
    return value if isinstance(value, int) and 0 <= value < 2**31 else 0

"""Reading an Isso database (Isso keeps its comments in one SQLite file).

Its tables, as Isso creates them:

    threads(id, uri, title)
    comments(tid, id, parent, created, modified, mode, remote_addr, text, author,
             email, website, likes, dislikes, voters, notification)

`uri` is the page's path on the publisher's site, `created` and `modified` are
Unix times, `text` is Markdown, and `mode` is 1 (accepted), 2 (waiting for a
moderator) or 4 (deleted; Isso keeps such a row only while it has replies, with
its text and author already wiped).  The file is opened read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

from forum.models import CommentStatus
from forum.services.import_items import (
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
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "modified", "mode", "text", "author", "email"},
}


def read(path: str, site: str | None = None) -> Callable[[], Iterator[Item]]:
    """The database's items, afresh on each call.  site (an origin such as
    https://blog.example) turns Isso's paths into the pages' addresses.

    Raises ArchiveError if the file is missing, not SQLite, or not Isso's.
    """
    check_file(path)
    try:
        with closing(_connect(path)) as connection:
            for table, wanted in _COLUMNS.items():
                found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
                if not wanted <= found:
                    raise ArchiveError(f"{path}: not an Isso database (no usable {table} table)")
    except sqlite3.Error as error:
        raise ArchiveError(f"{path}: not a readable SQLite database ({error})") from None
    return lambda: _items(path, site)


def _connect(path: str) -> sqlite3.Connection:
    # Read-only: an import never changes the archive (nor creates a missing file).
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)


def _items(path: str, site: str | None) -> Iterator[Item]:
    connection = _connect(path)
    try:
        threads = connection.execute("SELECT id, uri, title FROM threads ORDER BY id")
        for thread_id, uri, title in threads:
            uri = str(uri or "")
            yield ThreadItem(
                external_id=str(thread_id),
                key=key_for_url(uri) if uri else f"isso-{thread_id}",
                title=str(title or uri),
                url=urljoin(site, uri) if site and uri else None,
            )
        comments = connection.execute(
            "SELECT id, tid, parent, created, modified, mode, text, author, email,"
            " coalesce(likes, 0), coalesce(dislikes, 0) FROM comments ORDER BY id"
        )
        for row in comments:
            yield _post(*row)
    except sqlite3.Error as error:
        raise ArchiveError(f"{path}: cannot read it ({error})") from None
    finally:
        connection.close()


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

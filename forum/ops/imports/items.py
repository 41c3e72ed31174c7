"""What an archive reader hands to forum.ops.imports.loader: its threads and
comments as ThreadItem and PostItem, and the thread keys for them; and what an
import reports back."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from forum.models import CommentStatus
from forum.services.discussion.threads import THREAD_KEY

EXAMPLES = 5  # ids shown per reason in a report


class ArchiveError(Exception):
    """The archive cannot be read; the message is one line for the operator."""


def check_file(path: str) -> None:
    """Raises ArchiveError unless path names a file."""
    if not os.path.exists(path):
        raise ArchiveError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ArchiveError(f"{path}: not a file")


@dataclass(slots=True)
class ThreadItem:
    external_id: str
    key: str  # from thread_key()
    title: str
    url: str | None = None
    created_at: datetime | None = None
    closed: bool = False
    skip: str | None = None  # the reason not to import it


@dataclass(slots=True)
class PostItem:
    external_id: str
    thread_id: str  # the external ids of its thread and parent
    parent_id: str | None
    author_name: str
    author_email: str | None
    body: str  # Markdown, or whatever `convert` turns into Markdown
    created_at: datetime | None
    status: CommentStatus = CommentStatus.APPROVED  # APPROVED, PENDING or DELETED
    edited_at: datetime | None = None
    upvotes: int = 0
    downvotes: int = 0
    skip: str | None = None  # the reason not to import it (spam, ...)
    # Called only when the comment is stored, so reading the archive stays cheap.
    convert: Callable[[str], str] | None = None


Item = ThreadItem | PostItem


@dataclass
class Tally:
    """Items counted under one reason, with the first few ids as examples."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, external_id: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(external_id)


@dataclass
class ImportReport:
    source: str
    threads_created: int = 0
    threads_existing: int = 0  # imported before, or already here (an embed's, an article's)
    threads_empty: int = 0  # in the archive without comments: not created
    comments_imported: int = 0
    comments_pending: int = 0  # of those imported: held for moderation
    comments_tombstones: int = 0  # ... and deleted ones kept for their replies
    comments_already: int = 0
    guests_created: int = 0
    skipped: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    notes: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    passes: int = 0
    seconds: float = 0.0

    @property
    def skipped_count(self) -> int:
        return sum(tally.count for tally in self.skipped.values())


# -- thread keys -----------------------------------------------------------------------


def thread_key(text: str) -> str:
    """A valid thread key for a foreign thread identifier (or a page address).

    A valid key is kept as it is, so a page that passes its old identifier to the
    embed finds its discussion.  Anything else is folded into the allowed
    characters, with a short hash of the original so that two identifiers that
    fold alike ("a b" and "a-b") stay apart.
    """
    text = text.strip()
    if THREAD_KEY.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]
    folded = re.sub(r"[^A-Za-z0-9_.:-]+", "-", ascii_fold(text))
    folded = re.sub(r"^[^A-Za-z0-9]+", "", folded)[:180].rstrip("-_.:")
    return f"{folded}-{digest}" if folded else f"imported-{digest}"


def key_for_url(url: str) -> str:
    """thread_key() of a page address, without its scheme and fragment."""
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip()).split("#")[0]
    return thread_key(url)


def ascii_fold(text: str) -> str:
    """The text in ASCII letters, accents dropped ("Zoë" -> "Zoe")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()

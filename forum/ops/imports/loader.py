"""Importing the discussions of another comment system (Disqus, Isso).

A reader (forum.ops.imports.disqus, forum.ops.imports.isso) turns an
archive into a stream of ThreadItem and PostItem (forum.ops.imports.items);
run() stores them.

How a run goes, and why:

- Pass 1 reads the whole archive and writes nothing.  A malformed file fails
  before anything is stored, and the pass learns the few facts that need the
  whole file: which comments have replies (a deleted one is kept as a tombstone
  only then, so the tree keeps its shape) and which threads have comments (the
  others are not created).
- Pass 2 stores threads and comments in batches of BATCH, each flushed and then
  handed to on_batch (the CLI commits there): a huge archive never makes one
  giant transaction.  Every thread, comment and guest author that an import
  creates gets an ImportRecord, and a run finds those instead of creating them
  again, so running an import twice, or again after an interruption, duplicates
  nothing.
- A reply whose parent comes later in the archive waits: only its id is kept,
  and one more pass picks it up once the parent is stored.  Memory stays bounded
  by a few sets of ids, never by the size of the archive.

Imported text goes through forum.markup like any comment typed here; the
automatic moderation rules and notifications do not run on it (it was published
long ago).  Authors become guest users (forum.ops.imports.guests): a display
name nobody can sign in as.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select

from forum.extensions import db
from forum.markup import normalize, render_comment
from forum.models import Comment, CommentStatus, Thread, utcnow
from forum.ops.imports import guests
from forum.ops.imports.items import ImportReport, Item, PostItem, ThreadItem
from forum.ops.imports.thread_store import (
    ThreadStore,
    compact_id,
    external_id_stored,
)
from forum.services.discussion.comments import DEPTH_MAX
from forum.services.discussion.votes import wilson_rank

BATCH = 1000  # threads or comments per transaction
BATCH_CHARS = 2_000_000  # ... or fewer comments, when they are long
# Longer than anything Disqus or Isso accept; what is longer is not a comment.
BODY_LIMIT = 50_000

# Why an item was not imported, or imported differently.
DELETED = "deleted in {label}, no replies"
EMPTY = "empty message, no replies"
TOO_LONG = f"longer than {BODY_LIMIT:,} characters"
NO_DATE = "no readable date"
NO_THREAD = "its thread is missing from the archive"
ORPHAN = "reply to a comment missing from the archive: imported as top-level"
PARENT_SKIPPED = "reply to a skipped comment: imported as top-level"
PARENT_REMOVED = "reply to a comment removed here since an earlier import: imported as top-level"
OTHER_THREAD = "reply to a comment in another thread: imported as top-level"
TOO_DEEP = f"reply nested deeper than {DEPTH_MAX}: attached one level up"


# -- running ---------------------------------------------------------------------------


class _Spot(NamedTuple):
    """Where a stored comment sits in its tree: all a reply needs to know of it."""

    id: int
    thread_id: int
    parent_id: int | None
    root_id: int | None
    depth: int


@dataclass(slots=True)
class _Ready:
    """A comment about to be stored."""

    post: PostItem
    ext: str
    thread_id: int
    body: str
    status: CommentStatus
    parent: str | None  # external id of the parent
    guest: str | None = None  # the author's external id
    author_id: int | None = None


FIRST, RETRY, ORPHANS, FORCE = "first", "retry", "orphans", "force"


def run(
    source: str,
    label: str,
    items: Callable[[], Iterable[Item]],
    on_batch: Callable[[], None] = lambda: None,
    progress: Callable[[ImportReport], None] = lambda report: None,
) -> ImportReport:
    """Import an archive; items() must give the archive's items afresh on each call.

    source names the system in ImportRecord ("disqus"), label in messages ("Disqus").
    Raises ArchiveError when the archive cannot be read: in the first pass before
    anything is written; later (the file changed meanwhile), after the batches
    already handed to on_batch, with the current batch not flushed.
    """
    return _Run(source, label, items, on_batch, progress).run()


class _Run(ThreadStore):
    def __init__(self, source, label, items, on_batch, progress):
        self.source, self.label, self.items = source, label, items
        self.on_batch, self.progress = on_batch, progress
        self.report = ImportReport(source=source)
        self.batch = BATCH  # read at each run, so a test may make batches small
        self.has_replies: set = set()
        self.threads_declared: set = set()
        self.threads_used: set = set()
        # Thread external id -> the local thread id, or why its comments are skipped.
        self.thread_map: dict[int | str, int | str] = {}
        self.deferred: set = set()  # replies waiting for their parent
        self.skipped_parents: set = set()  # skipped comments that have replies
        self.mode = FIRST
        self.threads: list[ThreadItem] = []
        self.queued: set = set()
        self.posts: list[PostItem] = []
        self.chars = 0

    def run(self) -> ImportReport:
        start = time.monotonic()
        self._scan()
        self._store_pass()
        self.mode = RETRY
        while self.deferred:
            waiting = len(self.deferred)
            self._store_pass()
            if len(self.deferred) < waiting:
                self.mode = RETRY
            elif self.mode == RETRY:
                self.mode = ORPHANS  # no parent turned up: promote the orphans next
            elif self.mode == ORPHANS:
                self.mode = FORCE  # only replies to each other are left (a cycle)
            else:
                break  # the archive changed under us; what is left stays out
        self.report.seconds = time.monotonic() - start
        return self.report

    def _scan(self) -> None:
        with _reading(self.items()) as items:
            self._note(items)
        self.report.passes = 1

    def _note(self, items: Iterable[Item]) -> None:
        for item in items:
            if isinstance(item, ThreadItem):
                self.threads_declared.add(compact_id(item.external_id))
            elif item.skip is None:
                if item.parent_id is not None:
                    self.has_replies.add(compact_id(item.parent_id))
                if item.status != CommentStatus.DELETED:
                    self.threads_used.add(compact_id(item.thread_id))

    def _store_pass(self) -> None:
        self.report.passes += 1
        first = self.report.passes == 2
        with _reading(self.items()) as items:
            for item in items:
                if isinstance(item, ThreadItem):
                    if first:
                        self._queue_thread(item)
                elif first or compact_id(item.external_id) in self.deferred:
                    self.posts.append(item)
                    self.chars += len(item.body)
                    if len(self.posts) >= self.batch or self.chars >= BATCH_CHARS:
                        self._store_posts()
        self._store_posts()

    # -- comments

    def _store_posts(self) -> None:
        self._store_threads()
        posts, self.posts, self.chars = self.posts, [], 0
        if not posts:
            return
        known = self._records("comment", (external_id_stored(p.external_id) for p in posts))
        ready: list[_Ready] = []
        seen = set()
        for post in posts:
            ext = external_id_stored(post.external_id)
            if ext in known or ext in seen:
                self.report.comments_already += 1
                self.deferred.discard(compact_id(ext))
                continue
            seen.add(ext)
            prepared = self._prepare(post, ext)
            if prepared is not None:
                ready.append(prepared)
        self._guests(ready)
        self._place(ready)
        db.session.flush()
        self.on_batch()
        self.progress(self.report)

    def _prepare(self, post: PostItem, ext: str) -> _Ready | None:
        """The comment to store, or None (skipped, with its reason, or deferred)."""
        compact = compact_id(ext)
        reason = post.skip
        status = post.status
        body = ""
        if reason is None and status != CommentStatus.DELETED:
            body = normalize(post.convert(post.body) if post.convert else post.body)
            if len(body) > BODY_LIMIT:
                reason = TOO_LONG
            elif not body:
                status = CommentStatus.DELETED  # nothing to show: a tombstone at most
                if compact not in self.has_replies:
                    reason = EMPTY
        if reason is None and status == CommentStatus.DELETED and compact not in self.has_replies:
            reason = DELETED.format(label=self.label)
        if reason is None and post.created_at is None:
            reason = NO_DATE
        thread = None
        if reason is None:
            thread_ext = compact_id(post.thread_id)
            thread = self.thread_map.get(thread_ext)
            if isinstance(thread, str):
                reason = thread
            elif thread is not None:
                pass
            elif thread_ext not in self.threads_declared:
                reason = NO_THREAD
            elif thread_ext not in self.threads_used:
                # Only deleted comments name it (a tombstone without anything to hold).
                reason = DELETED.format(label=self.label)
            elif self.mode == FIRST:
                self.deferred.add(compact)  # its thread comes later in the file
                return None
            else:
                reason = NO_THREAD
        if reason is not None:
            self._skip(reason, post.external_id)
            self.deferred.discard(compact)
            if compact in self.has_replies:
                self.skipped_parents.add(compact)
            return None
        parent = external_id_stored(post.parent_id) if post.parent_id is not None else None
        return _Ready(post, ext, thread, body, status, parent)

    def _guests(self, ready: list[_Ready]) -> None:
        """The guest author of each comment (tombstones have none)."""
        names = {}
        for item in ready:
            if item.status != CommentStatus.DELETED:
                name = guests.display_name(item.post.author_name)
                item.guest = guests.guest_id(name, item.post.author_email)
                names[item.guest] = name
        ids, created = guests.find_or_create(self.source, names)
        self.report.guests_created += created
        for item in ready:
            if item.guest is not None:
                item.author_id = ids[item.guest]

    def _place(self, ready: list[_Ready]) -> None:
        """Store the comments, parents before their replies, in as few flushes as
        the batch's own reply chains need."""
        here = {item.ext for item in ready}
        outside = {item.parent for item in ready if item.parent and item.parent not in here}
        known = self._records("comment", outside)
        spots = {
            spot.id: spot
            for spot in db.session.execute(
                select(
                    Comment.id, Comment.thread_id, Comment.parent_id, Comment.root_id, Comment.depth
                ).where(Comment.id.in_(set(known.values())))
            )
        }
        waiting: dict[str, list[_Ready]] = defaultdict(list)
        wave: list[tuple[_Ready, _Spot | None]] = []
        for item in ready:
            if item.parent is None:
                wave.append((item, None))
            elif item.parent in here:
                waiting[item.parent].append(item)
            elif item.parent in known:
                spot = spots.get(known[item.parent])
                if spot is None:
                    self.report.notes[PARENT_REMOVED].add(item.post.external_id)
                wave.append((item, _Spot(*spot) if spot else None))
            elif self._promote(item):
                wave.append((item, None))
        counts: dict[int, int] = defaultdict(int)
        while wave or waiting:
            if not wave:
                # Replies whose parent in this batch was not stored (it waits too,
                # or, in the last resort, they answer each other in a cycle).
                left = [item for children in waiting.values() for item in children]
                waiting.clear()
                wave = [(item, None) for item in left if self._promote(item)]
                if not wave:
                    break
            made = [(item, self._comment(item, spot)) for item, spot in wave]
            db.session.flush()
            wave = []
            for item, comment in made:
                self._record("comment", item.ext, comment.id)
                self.deferred.discard(compact_id(item.ext))
                counts[comment.thread_id] += comment.status == CommentStatus.APPROVED
                spot = _Spot(
                    comment.id, comment.thread_id, comment.parent_id, comment.root_id, comment.depth
                )
                wave.extend((child, spot) for child in waiting.pop(item.ext, []))
        for thread_id, approved in counts.items():
            thread = db.session.get(Thread, thread_id)
            # SQL arithmetic, as comments._touch does: a reader posting meanwhile loses nothing.
            thread.version = Thread.version + 1
            if approved:
                thread.comment_count = Thread.comment_count + approved

    def _promote(self, item: _Ready) -> bool:
        """Whether a reply whose parent is not stored goes in now as top-level;
        if not, it waits for another pass."""
        parent = compact_id(item.parent)
        if parent in self.skipped_parents:
            self.report.notes[PARENT_SKIPPED].add(item.post.external_id)
            return True
        if self.mode == FORCE or (self.mode == ORPHANS and parent not in self.deferred):
            self.report.notes[ORPHAN].add(item.post.external_id)
            return True
        self.deferred.add(compact_id(item.ext))
        return False

    def _comment(self, item: _Ready, parent: _Spot | None) -> Comment:
        """A new comment under parent, as comments.add_comment() makes one (without
        its per-comment flush and thread update, which _place does per batch)."""
        parent_id = root_id = None
        depth = 0
        if parent is not None and parent.thread_id != item.thread_id:
            self.report.notes[OTHER_THREAD].add(item.post.external_id)
        elif parent is not None and parent.depth >= DEPTH_MAX:
            self.report.notes[TOO_DEEP].add(item.post.external_id)
            parent_id, root_id, depth = parent.parent_id, parent.root_id, parent.depth
        elif parent is not None:
            parent_id, root_id, depth = parent.id, parent.root_id or parent.id, parent.depth + 1
        post = item.post
        deleted = item.status == CommentStatus.DELETED
        comment = Comment(
            thread_id=item.thread_id,
            parent_id=parent_id,
            root_id=root_id,
            depth=depth,
            author_id=item.author_id,
            body=item.body,
            html=render_comment(item.body) if item.body else "",
            status=item.status,
            created_at=post.created_at,
            edited_at=post.edited_at,
            deleted_at=utcnow() if deleted else None,
            upvotes=post.upvotes,
            downvotes=post.downvotes,
            score=post.upvotes - post.downvotes,
            rank=wilson_rank(post.upvotes, post.downvotes),
            hold_reasons=(
                [{"rule": "import", "detail": f"Held for moderation in {self.label}"}]
                if item.status == CommentStatus.PENDING
                else []
            ),
        )
        db.session.add(comment)
        self.report.comments_imported += 1
        self.report.comments_pending += item.status == CommentStatus.PENDING
        self.report.comments_tombstones += deleted
        return comment


@contextmanager
def _reading(items: Iterable[Item]) -> Iterator[Iterable[Item]]:
    """The items, with the archive closed at once if storing them fails midway."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()

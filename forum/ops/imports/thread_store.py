"""The loader's threads and record-keeping: which archive ids an earlier run
stored (ImportRecord), the archive's threads queued and stored in batches, and
the addresses and titles they are given.  forum.ops.imports.loader mixes this
into its run and adds the comments."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select

from forum.addresses import origin_of, web_address
from forum.extensions import db
from forum.markup import normalize
from forum.models import ImportRecord, Thread, ThreadStatus, utcnow
from forum.ops.imports.items import ThreadItem

URL_MAX = 2000
TITLE_MAX = 300
IN_SKIPPED_THREAD = "in a skipped thread ({reason})"
THREAD_REMOVED = "its thread was removed here after an earlier import"


def external_id_stored(external_id: str) -> str:
    """How an external id is stored: as it is, or hashed if it is too long for the column."""
    if len(external_id) <= 255:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8", "replace")).hexdigest()


def compact_id(external_id: str) -> int | str:
    # Most ids are numbers, and an int costs half of a str in the sets we keep
    # ("007" stays a str, or it would be taken for "7").
    digits = external_id.isascii() and external_id.isdigit() and len(external_id) < 19
    if digits and (external_id == "0" or not external_id.startswith("0")):
        return int(external_id)
    return external_id_stored(external_id)


def clean_url(url: str | None) -> str | None:
    """An absolute http(s) address that fits the column, or None."""
    if not url:
        return None
    url = web_address(url.strip(), URL_MAX)
    return url if origin_of(url) else None


class ThreadStore:
    """Record-keeping and the threads of one run (a mixin: the run holds batch,
    source, report, thread_map, threads, queued and threads_used)."""

    def _skip(self, reason: str, external_id: str) -> None:
        self.report.skipped[reason].add(external_id)

    def _records(self, kind: str, external_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(set(external_ids))
        found = {}
        for start in range(0, len(wanted), self.batch):
            rows = db.session.execute(
                select(ImportRecord.external_id, ImportRecord.local_id).where(
                    ImportRecord.source == self.source,
                    ImportRecord.kind == kind,
                    ImportRecord.external_id.in_(wanted[start : start + self.batch]),
                )
            )
            found.update({external_id: local_id for external_id, local_id in rows})
        return found

    def _record(self, kind: str, external_id: str, local_id: int) -> None:
        db.session.add(
            ImportRecord(source=self.source, kind=kind, external_id=external_id, local_id=local_id)
        )

    def _queue_thread(self, item: ThreadItem) -> None:
        ext = compact_id(item.external_id)
        if ext in self.thread_map or ext in self.queued:
            return  # the same thread twice in one archive
        if ext not in self.threads_used:
            self.report.threads_empty += 1
        elif item.skip:
            self._skip(item.skip, item.external_id)
            self.thread_map[ext] = IN_SKIPPED_THREAD.format(reason=item.skip)
        else:
            self.threads.append(item)
            self.queued.add(ext)
            if len(self.threads) >= self.batch:
                self._store_threads()

    def _store_threads(self) -> None:
        items, self.threads = self.threads, []
        self.queued.clear()
        if not items:
            return
        known = self._records("thread", (external_id_stored(t.external_id) for t in items))
        alive = set(db.session.scalars(select(Thread.id).where(Thread.id.in_(set(known.values())))))
        by_key = {
            t.key: t
            for t in db.session.scalars(
                select(Thread).where(Thread.key.in_({t.key for t in items}))
            )
        }
        new = []
        for item in items:
            ext = external_id_stored(item.external_id)
            if ext in known:
                self.report.threads_existing += 1
                local = known[ext]
                self.thread_map[compact_id(ext)] = (
                    follow_merges(local) if local in alive else THREAD_REMOVED
                )
                continue
            thread = by_key.get(item.key)
            if thread is None:
                url = clean_url(item.url)
                thread = Thread(
                    key=item.key,
                    title=thread_title(item),
                    url=url,
                    origin=origin_of(url),
                    status=ThreadStatus.CLOSED if item.closed else ThreadStatus.OPEN,
                    created_at=item.created_at or utcnow(),
                )
                db.session.add(thread)
                by_key[item.key] = thread
                self.report.threads_created += 1
            else:
                # An embed's or an article's thread, or one the archive names twice.
                self.report.threads_existing += 1
                if thread.url is None and thread.article_id is None:
                    thread.url = clean_url(item.url)
                    thread.origin = thread.origin or origin_of(thread.url)
            new.append((ext, thread))
        db.session.flush()
        for ext, thread in new:
            self._record("thread", ext, thread.id)
            merged = thread.merged_into_id is not None
            self.thread_map[compact_id(ext)] = follow_merges(thread.id) if merged else thread.id
        db.session.flush()


def follow_merges(thread_id: int) -> int:
    """The thread that now shows this one's comments (an admin may have merged it)."""
    for _ in range(10):  # merges chain rarely; never loop forever on a bad one
        target = db.session.scalar(select(Thread.merged_into_id).where(Thread.id == thread_id))
        if target is None:
            break
        thread_id = target
    return thread_id


def thread_title(item: ThreadItem) -> str:
    title = normalize(item.title or "")
    return (title or item.url or item.key)[:TITLE_MAX]

"""Load bench/speed.py's dataset into an Isso database. Runs in Isso's venv.

    python isso_load.py DATASET.json ISSO.sqlite [EMPTY_THREAD_URI]

Isso creates its own schema (isso.db.SQLite3); the rows are inserted directly in
one transaction, as Isso's own add() would write them: mode 1 (accepted), the
anonymized address, a voters Bloom filter holding it. Isso keeps one level of
nesting (its add() moves a reply to its top-level comment), so every reply's
parent here is its thread's top-level comment. With EMPTY_THREAD_URI only that
thread is made, with no comments (the posting benchmark's).
"""

import json
import sqlite3
import sys

from isso import config
from isso.db import SQLite3
from isso.utils import Bloomfilter

ADDRESS = "127.0.0.0"


def main() -> None:
    dataset, dbpath = sys.argv[1], sys.argv[2]
    conf = config.load(config.default_file())
    SQLite3(dbpath, conf)  # the schema, at Isso's current version
    connection = sqlite3.connect(dbpath)
    if len(sys.argv) > 3:
        uri = sys.argv[3]
        connection.execute("INSERT INTO threads (uri, title) VALUES (?, ?)", (uri, uri))
        connection.commit()
        return
    with open(dataset) as handle:
        data = json.load(handle)
    voters = memoryview(Bloomfilter(iterable=[ADDRESS]).array)
    authors = data["authors"]
    for thread in data["threads"]:
        uri = "/" + thread["slug"]
        tid = connection.execute(
            "INSERT INTO threads (uri, title) VALUES (?, ?)", (uri, thread["title"])
        ).lastrowid
        ids = []
        for c in thread["comments"]:
            parent = ids[c["root"]] if c["root"] is not None else None
            author = authors[c["author"]]
            ids.append(
                connection.execute(
                    "INSERT INTO comments (tid, parent, created, modified, mode, remote_addr,"
                    " text, author, email, website, voters, notification)"
                    " VALUES (?, ?, ?, NULL, 1, ?, ?, ?, ?, NULL, ?, 0)",
                    (
                        tid,
                        parent,
                        data["start"] + c["offset"],
                        ADDRESS,
                        c["body"],
                        author,
                        f"{author}@example.org",
                        voters,
                    ),
                ).lastrowid
            )
    connection.commit()


if __name__ == "__main__":
    main()

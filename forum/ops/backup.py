"""The whole site as one JSON file (`flask export`), restored into an empty
database by `flask import-backup`.

The file is plain JSON (json.load and jq read it), written table by table in
foreign-key order with one row per line, so neither side holds more than a
batch of rows in memory:

    {"format":"forum-backup","version":1,"schema":"0008","created_at":"…",
    "with_secrets":false,"left_out":{"outbox":"…",…},
    "tables":{
    "articles":{"columns":["id","slug",…],"rows":[
    [1,"a-story",…],
    [2,"another",…]
    ]},
    …
    },
    "counts":{"articles":2,…}}

Rows are arrays in the order of their table's "columns", in primary-key order.
Times are ISO 8601 in UTC with the zone ("2026-01-02T03:04:05.123456+00:00"),
JSON columns are JSON, enums are the strings the database stores. "schema" is
the Alembic revision: a file restores only into a database of the same one.

Every table of the models is in the file unless EXCLUDED gives the reason, so
a table added later is backed up without anyone remembering to add it here.
Secrets (SECRET_TABLES, SECRET_COLUMNS, secret settings) are in it only when
asked for; without them the restore leaves those tables empty and puts
SECRET_COLUMNS' stand-ins in those columns.

The sign-on and hook secrets are in a backup as the database holds them: sealed
with a key derived from SECRET_KEY (forum.secretbox), never in the clear. A
restore onto a server with the same SECRET_KEY (FORUM_SECRET_KEY, or the old
instance/secret_key copied over) goes on using them; with another SECRET_KEY
they cannot be opened: single sign-on refuses every token until an admin makes
each site a new secret (Moderation → Embedding), and the moderation hook gives
no opinion (logged) until its secret is entered again (Moderation → Settings).
The file itself is created 0600, like the database.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Enum,
    Integer,
    String,
    Table,
    bindparam,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from forum.extensions import db
from forum.models import utcnow
from forum.services import settings
from forum.services.accounts.accounts import UNUSABLE_PASSWORD

FORMAT = "forum-backup"
VERSION = 1
BATCH = 1000  # rows per INSERT and per fetch
ROW_MAX = 64 * 2**20  # characters of JSON one row may take; past it the file is damaged

# Never in a backup, with the reason (tests/services/ops/test_backup.py fails for a table of
# the models that is neither backed up nor here).
EXCLUDED = {
    "outbox": "queued and sent notification emails: a delivery queue, not content (every "
    "notification is kept in notifications); restoring it would send stale or repeated mail",
    "rate_counters": "rate-limit windows of the last minutes to a day: they run out on their own",
}
# Only with --with-secrets.
SECRET_TABLES = {
    "api_tokens": "API bearer tokens (their hashes): apps and scripts ask for new ones",
    "user_sessions": "signed-in browsers: everyone signs in again",
    "sso_token_uses": "single-sign-on tokens already used: they matter only while the "
    "sign-on secret, also left out, is in force",
    "spent_tokens": "single-use links and guests' challenges already used: they matter only "
    "while the links, signed with the secret key (not in the backup either), still work",
    "idempotency_keys": "keys that answer a client's retried submission: they matter for a "
    "day at most, and a client retrying across a restore gets a second comment at worst",
}
# (table, column): (the value a restore without secrets puts there, why it is left out)
SECRET_COLUMNS: dict[tuple[str, str], tuple[Any, str]] = {
    ("users", "password_hash"): (
        UNUSABLE_PASSWORD,
        "password hashes: the accounts cannot sign in with a password until they set a new one",
    ),
    ("embed_sites", "sso_secret"): (
        None,
        "single-sign-on secrets: set sign-on up again for each site (Moderation → Embedding)",
    ),
    ("embed_sites", "sso_secret_set_at"): (
        None,
        "goes with the secret, so the site shows single sign-on as off",
    ),
}


def secret_settings() -> dict[str, str]:
    """Settings rows that are secrets ("settings.<key>": why), from the settings' own kinds."""
    return {
        f"settings.{f.key}": f"{f.label.lower()}: enter it again under Moderation → Settings"
        for f in settings.FIELDS
        if f.kind == "secret"
    }


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why, in one line."""


@dataclass
class Summary:
    schema: str
    with_secrets: bool
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, in file order
    left_out: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def left_out(with_secrets: bool) -> dict[str, str]:
    """What a backup leaves out: {"table" or "table.column": why}."""
    reasons = dict(EXCLUDED)
    if not with_secrets:
        reasons.update(SECRET_TABLES)
        reasons.update({f"{t}.{c}": why for (t, c), (_, why) in SECRET_COLUMNS.items()})
        reasons.update(secret_settings())
    return reasons


def backed_up_tables(with_secrets: bool) -> list[Table]:
    """The tables a backup holds, parents before children."""
    skipped = set(EXCLUDED) | (set() if with_secrets else set(SECRET_TABLES))
    return [table for table in db.metadata.sorted_tables if table.name not in skipped]


# -- schema revisions ------------------------------------------------------------------


def code_revision() -> str:
    """The Alembic head of the migrations that came with this code."""
    migrate = current_app.extensions["migrate"]
    heads = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads()
    if len(heads) != 1:
        raise BackupError(f"The migrations have {len(heads)} heads; merge them first.")
    return heads[0]


def checked_revision(connection: Connection) -> str:
    """The revision the database is at, which must be this code's head: export
    and restore read and write the tables as the models describe them.
    Raises BackupError when it is not, or when the database has no forum tables."""
    missing = {t.name for t in db.metadata.sorted_tables} - set(
        inspect(connection).get_table_names()
    )
    if missing:
        raise BackupError(
            f"The database has no {sorted(missing)[0]} table: "
            "run `flask --app forum db upgrade` first."
        )
    head = code_revision()
    stamped = MigrationContext.configure(connection).get_current_heads()
    # No alembic_version table: made by create_all() from these models (the tests).
    current = stamped[0] if len(stamped) == 1 else (head if not stamped else ",".join(stamped))
    if current != head:
        raise BackupError(
            f"The database is at schema revision {current}, this code at {head}: they must "
            "match (`flask --app forum db upgrade` brings the database up to the code)."
        )
    return current


# -- export ----------------------------------------------------------------------------


def export_to(path: str, with_secrets: bool = False) -> Summary:
    """Write the backup to `path` (gzip-compressed when it ends in .gz).

    The file is created with mode 0600 and appears under its name only when
    complete: a failed export leaves any earlier file of that name alone.
    Raises BackupError, or OSError when the file cannot be written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, partial = tempfile.mkstemp(  # mode 0600
        prefix=f".{os.path.basename(path)}.", suffix=".partial", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as raw:
            packed = (
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6)
                if path.endswith(".gz")
                else None
            )
            out = io.TextIOWrapper(packed or raw, encoding="utf-8", newline="\n")
            summary = write(out, with_secrets)
            out.flush()
            out.detach()
            if packed is not None:
                packed.close()  # the gzip trailer; raw stays open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise
    return summary


def write(out: IO[str], with_secrets: bool = False) -> Summary:
    """Write the backup to a text stream, every table from one consistent
    snapshot of the database (the site may keep running). Raises BackupError."""
    started = time.perf_counter()
    with db.engine.connect() as connection:
        _read_snapshot(connection)
        summary = Summary(
            checked_revision(connection), with_secrets, left_out=left_out(with_secrets)
        )
        header = {
            "format": FORMAT,
            "version": VERSION,
            "schema": summary.schema,
            "created_at": utcnow().isoformat(),
            "with_secrets": with_secrets,
            "left_out": summary.left_out,
        }
        out.write(_dumps(header)[:-1] + ',\n"tables":{')
        secret_keys = [key.split(".", 1)[1] for key in secret_settings()]
        for index, table in enumerate(backed_up_tables(with_secrets)):
            columns = [
                column
                for column in table.columns
                if with_secrets or (table.name, column.name) not in SECRET_COLUMNS
            ]
            query = select(*columns).order_by(*table.primary_key.columns)
            if table.name == "settings" and not with_secrets:
                query = query.where(table.c.key.not_in(secret_keys))
            out.write(
                ("\n" if index == 0 else ",\n")
                + f'{_dumps(table.name)}:{{"columns":{_dumps([c.name for c in columns])},"rows":['
            )
            count = 0
            for row in connection.execution_options(yield_per=BATCH).execute(query):
                out.write(("\n" if count == 0 else ",\n") + _dumps(tuple(row)))
                count += 1
            out.write("\n]}")
            summary.counts[table.name] = count
        out.write(f'\n}},\n"counts":{_dumps(summary.counts)}}}\n')
        connection.rollback()
    summary.seconds = time.perf_counter() - started
    return summary


def _read_snapshot(connection: Connection) -> None:
    """Make every following read of `connection` see the same moment."""
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    elif connection.dialect.name == "sqlite":
        # pysqlite starts no transaction for reads; in WAL mode one read
        # transaction is a snapshot that writers do not disturb.
        connection.exec_driver_sql("BEGIN")


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a backup row")


def _dumps(value) -> str:
    # ASCII-only: any text the database holds (lone surrogates too) survives.
    return json.dumps(value, separators=(",", ":"), default=_encode)


# -- restore ---------------------------------------------------------------------------


def restore_from(path: str) -> Summary:
    """Restore the backup in `path` (plain or gzip-compressed); see restore()."""
    try:
        with open(path, "rb") as probe:
            packed = probe.read(2) == b"\x1f\x8b"
        binary = gzip.open(path, "rb") if packed else open(path, "rb")  # noqa: SIM115
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror or error}") from None
    with binary, io.TextIOWrapper(binary, encoding="utf-8") as text:
        try:
            return restore(text)
        except (OSError, EOFError, UnicodeDecodeError) as error:  # a damaged gzip stream
            raise BackupError(f"Cannot read {path}: {error}") from None


def restore(file: IO[str]) -> Summary:
    """Insert a backup into this (empty) database, in the caller's transaction:
    the caller commits, or rolls back after an error so that nothing is left.

    Raises BackupError when the file is not a backup of this schema, is damaged
    or incomplete, or when the database is not empty or refuses a row.
    """
    started = time.perf_counter()
    reader = _Reader(file)
    header = reader.header()
    with_secrets = _check_header(header)
    if reader.ended:
        raise BackupError("The backup has no tables.")
    connection = db.session.connection()
    schema = checked_revision(connection)
    if header["schema"] != schema:
        raise BackupError(
            f"The backup is of schema revision {header['schema']}, this database of {schema}: "
            "restore it with the version of the forum that wrote it, then upgrade."
        )
    _require_empty(connection)
    summary = Summary(schema, with_secrets, left_out=left_out(with_secrets))
    expected = [table.name for table in backed_up_tables(with_secrets)]
    for name, columns, rows in reader.tables():
        if name not in expected or name in summary.counts:
            raise BackupError(f"The backup has an unexpected table {name!r}.")
        summary.counts[name] = _restore_table(
            connection, db.metadata.tables[name], columns, rows, with_secrets
        )
    missing = [name for name in expected if name not in summary.counts]
    if missing:
        raise BackupError(f"The backup has no table {missing[0]}.")
    trailer = reader.trailer()
    if trailer.get("counts") != summary.counts:
        raise BackupError("The backup's counts do not match its rows: it was changed.")
    _reset_sequences(connection)
    summary.seconds = time.perf_counter() - started
    return summary


def _check_header(header: dict) -> bool:
    if header.get("format") != FORMAT:
        raise BackupError("This is not a forum backup (made by `flask --app forum export`).")
    if header.get("version") != VERSION:
        raise BackupError(
            f"This backup is in format version {header.get('version')!r}; "
            f"this forum reads version {VERSION}."
        )
    if not isinstance(header.get("schema"), str) or not isinstance(
        header.get("with_secrets"), bool
    ):
        raise BackupError("The backup's header is damaged (schema, with_secrets).")
    return header["with_secrets"]


def _require_empty(connection: Connection) -> None:
    for table in db.metadata.sorted_tables:
        if connection.scalar(select(literal(1)).select_from(table).limit(1)) is not None:
            raise BackupError(
                f"The database is not empty ({table.name} has rows): restore only into a new "
                "database (`flask --app forum db upgrade` on an empty one)."
            )


def _restore_table(
    connection: Connection, table: Table, names, rows: Iterator, with_secrets: bool
) -> int:
    if not isinstance(names, list) or len(set(names)) != len(names):
        raise BackupError(f"The backup's columns of {table.name} are damaged.")
    unknown = [name for name in names if name not in table.c]
    if unknown:
        raise BackupError(
            f"The backup's table {table.name} has a column {unknown[0]!r} unknown here."
        )
    # Secret columns left out of the file get their stand-ins.
    fill = {}
    for column in table.columns:
        if column.name not in names:
            secret = SECRET_COLUMNS.get((table.name, column.name))
            if secret is None or with_secrets:
                raise BackupError(f"The backup's table {table.name} lacks column {column.name}.")
            fill[column.name] = secret[0]
    converters = [_converter(table.c[name]) for name in names]
    refs, key = _self_references(table)
    deferred: list[tuple[str, int, int]] = []  # (column, row id, referenced id)
    batch: list[dict] = []
    count, last_key = 0, None

    def flush() -> None:
        try:
            connection.execute(table.insert(), batch)
        except SQLAlchemyError as error:
            raise BackupError(
                f"The database refused rows {count - len(batch) + 1}–{count} of {table.name}: "
                f"{_first_line(error).rstrip('.')}."
            ) from None
        batch.clear()

    for row in rows:
        count += 1
        if not isinstance(row, list) or len(row) != len(names):
            raise BackupError(f"Row {count} of {table.name} does not match its columns.")
        values = dict(fill)
        for name, convert, value in zip(names, converters, row, strict=True):
            try:
                values[name] = value if value is None or convert is None else convert(value)
            except (TypeError, ValueError) as error:
                raise BackupError(f"Row {count} of {table.name}, column {name}: {error}") from None
        if refs:
            # Rows come in id order, so a reference to a smaller id is to a row
            # already inserted; a larger one (a thread merged into a newer thread)
            # is set once the whole table is in.
            row_id = values[key]
            if last_key is not None and row_id <= last_key:
                raise BackupError(f"Rows of {table.name} are not in id order (row {count}).")
            last_key = row_id
            for ref in refs:
                target = values[ref]
                if target is not None and target >= row_id:
                    deferred.append((ref, row_id, target))
                    values[ref] = None
        batch.append(values)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    for ref in refs:
        pairs = [{"_id": row_id, "_to": to} for column, row_id, to in deferred if column == ref]
        if pairs:
            try:
                connection.execute(
                    update(table)
                    .where(table.c[key] == bindparam("_id"))
                    .values({ref: bindparam("_to")}),
                    pairs,
                )
            except SQLAlchemyError as error:
                raise BackupError(
                    f"The database refused a {ref} of {table.name}: "
                    f"{_first_line(error).rstrip('.')}."
                ) from None
    return count


def _self_references(table: Table) -> tuple[list[str], str | None]:
    """The columns of `table` that point at its own rows, and its id column."""
    refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    if not refs:
        return [], None
    (key,) = table.primary_key.columns  # one integer id, checked by the tests
    return refs, key.name


def _converter(column) -> Callable[[Any], Any] | None:
    """JSON value -> the value to insert; raises ValueError or TypeError for one
    that does not fit (SQLite would store it anyway; PostgreSQL would refuse it)."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return _time
    if isinstance(kind, Boolean):
        return _typed(bool)
    if isinstance(kind, Integer):
        return _integer
    if isinstance(kind, Enum):
        allowed = frozenset(kind.enums)

        def enum_value(value):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
            return value

        return enum_value
    if isinstance(kind, String):
        length = kind.length

        def text(value):
            if not isinstance(value, str):
                raise TypeError(f"expected text, found {type(value).__name__}")
            if length is not None and len(value) > length:
                raise ValueError(f"longer than {length} characters")
            return value

        return text
    if isinstance(kind, JSON):
        return None
    raise NotImplementedError(f"backups do not know the type of {column}")


def _time(value) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 time, found {type(value).__name__}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _integer(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, found {type(value).__name__}")
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"{value} does not fit an INTEGER column")
    return value


def _typed(kind: type) -> Callable[[Any], Any]:
    def check(value):
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, found {type(value).__name__}")
        return value

    return check


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: the next id of every table follows the largest restored one."""
    if connection.dialect.name != "postgresql":
        return  # SQLite takes max(rowid) + 1 by itself
    for table in db.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0]
        connection.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table.name, key.name),
                    func.coalesce(func.max(key), 0) + 1,
                    False,
                )
            ).select_from(table)
        )


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


# -- reading the JSON incrementally ----------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")


class _Reader:
    """Reads the backup a JSON value at a time: whole rows, never the whole file.

    Any valid JSON of the backup's shape reads, whatever its whitespace (a file
    pretty-printed by jq, say); the keys must come in the order export writes them.
    """

    CHUNK = 1 << 16

    def __init__(self, file: IO[str]):
        self.file = file
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder()
        self.where = "at its start"
        self.ended = False  # no "tables"

    def header(self) -> dict:
        """The keys before "tables" (all of them, if there is no "tables")."""
        if self._peek() != "{":
            raise BackupError("This is not a forum backup (made by `flask --app forum export`).")
        self.pos += 1
        header = {}
        while self._peek() != "}":
            key = self._key()
            if key == "tables":
                return header
            header[key] = self._value()
            if self._expect(",}") == "}":
                break
        self.ended = True
        return header

    def tables(self) -> Iterator[tuple[str, Any, Iterator]]:
        """(name, columns, rows) per table; consume the rows before the next one."""
        self._expect("{")
        if self._peek() == "}":
            self.pos += 1
            return
        while True:
            name = self._key()
            self.where = f"in table {name}"
            self._expect("{")
            if self._key() != "columns":
                raise self._damaged('"columns" expected')
            columns = self._value()
            self._expect(",")
            if self._key() != "rows":
                raise self._damaged('"rows" expected')
            self._expect("[")
            yield name, columns, self._rows(name)
            self._expect("}")
            if self._expect(",}") == "}":
                self.where = "after the tables"
                return

    def _rows(self, name: str) -> Iterator:
        if self._peek() == "]":
            self.pos += 1
            return
        count = 0
        while True:
            yield self._value()
            count += 1
            self.where = f"in table {name} after row {count}"
            if self._expect(",]") == "]":
                return

    def trailer(self) -> dict:
        """The keys after "tables"; the file must end there."""
        rest = {}
        while self._expect(",}") == ",":
            key = self._key()
            rest[key] = self._value()
        if self._peek() != "":
            raise self._damaged("text after the end")
        return rest

    # -- the pieces

    def _key(self) -> str:
        key = self._value()
        if not isinstance(key, str):
            raise self._damaged("a key expected")
        self._expect(":")
        return key

    def _expect(self, chars: str) -> str:
        char = self._peek()
        if char == "":
            raise self._truncated()
        if char not in chars:
            raise self._damaged(f"{' or '.join(chars)} expected, found {char!r}")
        self.pos += 1
        return char

    def _peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def _value(self):
        if self._peek() == "":
            raise self._truncated()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                # Stopped by the end of what was read (a string runs on to it, or
                # the error is at it): the value may go on in the next chunk.
                cut = error.msg.startswith("Unterminated") or error.pos >= len(self.buffer) - 6
                if cut and len(self.buffer) - self.pos <= ROW_MAX and self._more():
                    continue
                if cut and self.eof:
                    raise self._truncated() from None
                raise self._damaged(error.msg) from None
            # A number at the end of what was read may go on in the next chunk.
            if end == len(self.buffer) and self._more():
                continue
            self.pos = end
            return value

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.file.read(max(self.CHUNK, len(self.buffer) - self.pos))
        if not chunk:
            self.eof = True
            return False
        if self.pos:
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        self.buffer += chunk
        return True

    def _damaged(self, detail: str) -> BackupError:
        return BackupError(f"The backup is damaged {self.where}: {detail}.")

    def _truncated(self) -> BackupError:
        return BackupError(f"The backup ends too early, {self.where}: it is incomplete.")

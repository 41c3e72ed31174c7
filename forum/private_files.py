"""Files that only the forum's own system user may open.

The instance folder, the SQLite database with its -wal and -shm files, the
outbox of .eml files and backups hold password hashes, sealed secrets and live
password-reset links. Folders are made 0700 and files 0600 whatever the umask;
the instance folder and a SQLite database found open to other users (made by an
older version) are tightened, with a warning in the log.

Other folders the operator names (FORUM_OUTBOX_DIR, a backup's folder) keep the
mode they have: they may be shared on purpose, and the files in them are 0600.
This module imports nothing from `forum`.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # every permission bit of the group and of everyone else
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path, tighten: bool = True) -> None:
    """Create `path` (and any missing parents) with mode 0700; if it exists and
    `tighten`, take away what its group and others may do. Raises OSError."""
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True)
    except FileExistsError:
        if tighten:
            _tighten(path)
    else:
        path.chmod(FOLDER_MODE)  # the umask may have taken bits away from the owner too


def private_instance_folder(path: Path) -> None:
    """The instance folder, made or tightened to 0700; only logged when that
    cannot be done (a read-only disk is fine while nothing is kept there)."""
    try:
        private_folder(path)
    except OSError as error:
        log.warning("cannot make the instance folder %s private: %s", path, error)


def private_file(path: Path) -> int:
    """A new file at `path` open for writing, mode 0600 (fails if it exists):
    an os.open() descriptor. Raises OSError."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)


def before_sqlite_connect(dialect, connection_record, cargs, cparams) -> None:
    """Engine "do_connect" listener: a SQLite database file is created 0600
    before SQLite opens it, since SQLite gives its -wal, -shm and -journal files
    the database file's mode; ones left open to others are tightened.
    In-memory and URI (file:…?uri=true) databases are left alone."""
    if dialect.name != "sqlite" or cparams.get("uri") or not cargs:
        return
    database = cargs[0]
    if not isinstance(database, str) or database in ("", ":memory:"):
        return
    path = Path(database)
    try:
        os.close(private_file(path))
    except FileExistsError:
        pass
    except OSError:
        return  # no such folder, say: SQLite's own error says it better
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        try:
            _tighten(file)
        except FileNotFoundError:
            continue
        except OSError as error:  # not ours to change
            log.warning("cannot make %s private: %s", file, error)


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & OTHERS:
        path.chmod(mode & ~OTHERS)
        log.warning(
            "%s was open to other users (mode %o); it is now %o", path, mode, mode & ~OTHERS
        )

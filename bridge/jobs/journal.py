"""Every job's life, queued to done/failed/cancelled, in SQLite, so a crash never makes the server forget one.

After a crash or a kill, `recover()` marks the jobs that were queued or running as failed; the server then
reconciles them with the drop folder (`osc/recovery.py`: a job whose clips were all placed is done after all)
and tells their clients at start-up and once more at each client's next `hello`.

One server owns a journal: the connection holds SQLite's exclusive lock (WAL in exclusive locking mode)
from opening to closing, so a second server with the same journal refuses to start instead of telling
the first one's clients that their live jobs were lost. The OS drops the lock when a server dies.

A journal is never lost silently. A new one is made whole under a temporary name and then placed, so a journal
file is never rightly empty. One that is empty, not a database, damaged or without the jobs table is moved
aside (`<name>.corrupt-<time>`, its `-wal` with it) with a warning in the log that names both files, and the
server goes on with a fresh one. A journal path that is not a file (a folder, a pipe), or cannot be opened,
stops the server instead (`JournalError`: `serve` exits 2 with an error starting `journal:`).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...engine.errors import FieldError
from ...engine.files import PART, place_exclusive

log = logging.getLogger("sonocanvas.journal")

RESTART_MESSAGE = "server restarted while this job ran; it did not finish"
BUSY_TIMEOUT = 2.0
"""Seconds a write waits for SQLite's lock before failing; long enough for a slow disk, short enough that a
failed write is reported while its client still waits."""
KEEP_FINISHED = 10_000
"""Finished jobs (done, failed, cancelled) kept; older ones are pruned at open and as new ones come."""
PRUNE_EVERY = 256
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    client_host TEXT NOT NULL,
    client_port INTEGER NOT NULL,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    message TEXT NOT NULL DEFAULT '',
    tell_on_hello INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_client ON jobs (client_host, client_port, tell_on_hello);
"""


@dataclass(frozen=True)
class Entry:
    id: int
    job_id: str
    client_host: str
    client_port: int
    kind: str
    state: str
    message: str
    created: float  # when it was journalled (this machine's clock): no clip of it is older


class JournalError(FieldError):
    """The journal cannot be opened or written; the message (field `journal`) names the file and the reason."""


class JournalInUse(JournalError):
    """Another server holds this journal."""


class _Damaged(Exception):
    """An existing journal that cannot be one: it is moved aside and a fresh one made."""


SIDECARS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database: they belong to it, and go where it goes."""


class Journal:
    """A thread-safe journal in one SQLite file; each change is committed before the call returns."""

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT, keep: int = KEEP_FINISHED):
        self.path = path
        self.keep = keep
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _check_is_file(path)
            try:
                self._db = _open(path, busy_timeout)
            except _Damaged as damage:
                aside = _move_aside(path)
                log.warning("journal: %s %s; moved it to %s and started a fresh journal. Jobs it held are "
                            "forgotten: their clients are not told that they did not finish", path, damage, aside)
                self._db = _open(path, busy_timeout)
        except OSError as error:  # its folder cannot be made or written, say
            raise JournalError("journal", f"cannot open {path}: {error.strerror or error}") from None
        self._lock = threading.Lock()
        self._adds = 0
        self.prune()

    def add(self, job_id: str, client: tuple[str, int], kind: str, request: dict) -> int:
        """Record a newly queued job; returns its journal id."""
        now = time.time()
        with self._lock, self._writing(f"job {job_id!r}"):
            cursor = self._db.execute(
                "INSERT INTO jobs (job_id, client_host, client_port, kind, request, state, created, updated)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, client[0], client[1], kind, json.dumps(request, default=str), now, now),
            )
            self._adds += 1
        if self._adds % PRUNE_EVERY == 0:
            self.prune()
        assert cursor.lastrowid is not None  # set by the INSERT above
        return cursor.lastrowid

    def prune(self) -> int:
        """Forget all but the newest `keep` finished jobs (unfinished and untold ones stay); returns how many."""
        with self._lock, self._writing("the pruning of old jobs"):
            cursor = self._db.execute(
                "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND tell_on_hello = 0 AND id NOT IN"
                " (SELECT id FROM jobs WHERE state IN ('done', 'failed', 'cancelled') ORDER BY id DESC LIMIT ?)",
                (self.keep,),
            )
            return cursor.rowcount

    def set_state(self, id: int, state: str, message: str = "") -> None:
        with self._lock, self._writing(f"job {id} as {state}"):
            self._db.execute(
                "UPDATE jobs SET state = ?, message = ?, updated = ? WHERE id = ?", (state, message, time.time(), id)
            )

    def recover(self) -> list[Entry]:
        """Mark the jobs a dead server left queued or running as failed, to be told at their client's next hello."""
        with self._lock, self._writing("the jobs a dead server left"), self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._select("state IN ('queued', 'running')", ())
            self._db.execute(
                "UPDATE jobs SET state = 'failed', message = ?, tell_on_hello = 1, updated = ?"
                " WHERE state IN ('queued', 'running')",
                (RESTART_MESSAGE, time.time()),
            )
        return [dataclasses.replace(r, state="failed", message=RESTART_MESSAGE) for r in rows]

    def take_untold(self, client: tuple[str, int]) -> list[Entry]:
        """The recovered failures of one client not yet told at a hello; they are told now, so forget them."""
        with self._lock, self._writing(f"the jobs told to {client[0]}:{client[1]}"), self._db:
            self._db.execute("BEGIN IMMEDIATE")
            where = "client_host = ? AND client_port = ? AND tell_on_hello = 1"
            rows = self._select(where, client)
            self._db.execute(f"UPDATE jobs SET tell_on_hello = 0 WHERE {where}", client)
        return rows

    def entries(self) -> list[Entry]:
        with self._lock:
            return self._select("1", ())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """SQLite's failure (the disk full, the file locked by another program) as a JournalError saying what
        could not be recorded, and where."""
        try:
            yield
        except sqlite3.Error as error:
            raise JournalError("journal", f"could not record {what} in {self.path}: {error}") from error

    def _select(self, where: str, params: tuple) -> list[Entry]:
        rows = self._db.execute(
            f"SELECT id, job_id, client_host, client_port, kind, state, message, created FROM jobs WHERE {where}"
            " ORDER BY id",
            params,
        ).fetchall()
        return [Entry(*row) for row in rows]


def _check_is_file(path: Path) -> None:
    """A journal path that exists must be a regular file: a folder or a pipe is a mistake to fix, not damage."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise JournalError("journal", f"{path} is a folder, not a journal file; move it away, or set journal: in the "
                                      "config to a file's path")
    if not stat.S_ISREG(mode):
        raise JournalError("journal", f"{path} is not a regular file; set journal: in the config to a file's path")


def _open(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """The journal at `path`, made first if there is none, checked, with its lock held from now on. `_Damaged`
    for a file that is not a whole journal; JournalInUse or JournalError for one that cannot be opened."""
    if not path.exists():
        _create(path)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")  # takes the lock, held from now on; checked before anything is written
        problems = [" ".join(str(row[0]).split()) for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _Damaged(f"is damaged ({'; '.join(problems[:3])})")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone() is None:
            raise _Damaged("was empty (0 bytes)" if path.stat().st_size == 0 else "holds no jobs table")
        db.execute("COMMIT")  # nothing written: the lock stays (exclusive locking mode)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN EXCLUSIVE")
        db.executescript(_SCHEMA)  # commits, keeping the lock
    except sqlite3.Error as error:
        db.close()
        if "locked" in str(error) or "busy" in str(error):
            raise JournalInUse("journal", f"{path} is in use by another sonocanvas server; stop it, or give "
                               "this one its own config (a journal of its own)") from None
        name = getattr(error, "sqlite_errorname", "")  # Python 3.11+; the message says it too
        if name == "SQLITE_NOTADB" or "not a database" in str(error):
            raise _Damaged(f"is not a database ({error})") from None
        if name == "SQLITE_CORRUPT" or "malformed" in str(error):
            raise _Damaged(f"is damaged ({error})") from None
        raise JournalError("journal", f"cannot open {path}: {error}") from None
    except BaseException:
        db.close()
        raise
    return db


def _create(path: Path) -> None:
    """A new, empty journal, made under a temporary name and then placed: a journal file is never rightly
    empty, so an empty one is known to be damaged. A `-wal` left beside the name belongs to a journal that is
    gone and must not be replayed into this one: it is moved aside first."""
    if any(path.with_name(path.name + sidecar).exists() for sidecar in SIDECARS):
        log.warning("journal: %s is missing but its SQLite files are there; moved them to %s", path, _move_aside(path))
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART, dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(temp, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
        finally:
            db.close()
        try:
            place_exclusive(Path(temp), path)
        except FileExistsError:
            pass  # another server made it first: open that one
    finally:
        Path(temp).unlink(missing_ok=True)


def _move_aside(path: Path) -> Path:
    """Rename `path` (and its SQLite files) to `<name>.corrupt-<time>[-n]` beside it; returns the new path."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        aside = path.with_name(f"{path.name}.corrupt-{stamp}" + (f"-{n}" if n > 1 else ""))
        if not any(aside.with_name(aside.name + s).exists() for s in ("", *SIDECARS)):
            break
    else:
        raise JournalError("journal", f"{path} is damaged, and 999 damaged journals are already beside it; "
                                      "remove them")
    for sidecar in ("", *SIDECARS):
        try:
            os.rename(path.with_name(path.name + sidecar), aside.with_name(aside.name + sidecar))
        except FileNotFoundError:
            pass
    return aside

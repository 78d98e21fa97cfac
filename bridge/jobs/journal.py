"""Every job's life, queued to done/failed/cancelled, in SQLite, so a crash never makes the server forget one.

After a crash or a kill, `recover()` marks the jobs that were queued or running as failed; the
server tells their clients at start-up and once more at each client's next `hello`.

One server owns a journal: the connection holds SQLite's exclusive lock (WAL in exclusive locking mode)
from opening to closing, so a second server with the same journal refuses to start instead of telling
the first one's clients that their live jobs were lost. The OS drops the lock when a server dies.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...engine.errors import FieldError

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


class JournalInUse(FieldError):
    """Another server holds this journal."""


class Journal:
    """A thread-safe journal in one SQLite file; each change is committed before the call returns."""

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT, keep: int = KEEP_FINISHED):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.keep = keep
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
        try:
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN EXCLUSIVE")  # takes the lock, held from now on
            self._db.executescript(_SCHEMA)  # commits, keeping the lock
        except sqlite3.OperationalError as error:
            self._db.close()
            if "locked" in str(error) or "busy" in str(error):
                raise JournalInUse("journal", f"{path} is in use by another sonocanvas server; stop it, or give "
                                   "this one its own config (a journal of its own)") from None
            raise FieldError("journal", f"cannot open {path}: {error}") from None
        self._lock = threading.Lock()
        self._adds = 0
        self.prune()

    def add(self, job_id: str, client: tuple[str, int], kind: str, request: dict) -> int:
        """Record a newly queued job; returns its journal id."""
        now = time.time()
        with self._lock:
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
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND tell_on_hello = 0 AND id NOT IN"
                " (SELECT id FROM jobs WHERE state IN ('done', 'failed', 'cancelled') ORDER BY id DESC LIMIT ?)",
                (self.keep,),
            )
            return cursor.rowcount

    def set_state(self, id: int, state: str, message: str = "") -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, message = ?, updated = ? WHERE id = ?", (state, message, time.time(), id)
            )

    def recover(self) -> list[Entry]:
        """Mark the jobs a dead server left queued or running as failed, to be told at their client's next hello."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._select("state IN ('queued', 'running')", ())
            self._db.execute(
                "UPDATE jobs SET state = 'failed', message = ?, tell_on_hello = 1, updated = ?"
                " WHERE state IN ('queued', 'running')",
                (RESTART_MESSAGE, time.time()),
            )
        return [Entry(r.id, r.job_id, r.client_host, r.client_port, r.kind, "failed", RESTART_MESSAGE) for r in rows]

    def take_untold(self, client: tuple[str, int]) -> list[Entry]:
        """The recovered failures of one client not yet told at a hello; they are told now, so forget them."""
        with self._lock, self._db:
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

    def _select(self, where: str, params: tuple) -> list[Entry]:
        rows = self._db.execute(
            f"SELECT id, job_id, client_host, client_port, kind, state, message FROM jobs WHERE {where} ORDER BY id",
            params,
        ).fetchall()
        return [Entry(*row) for row in rows]

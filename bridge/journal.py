"""Every job's life, queued to done/failed/cancelled, in SQLite, so a crash never makes the server forget one.

After a crash or a kill, `recover()` marks the jobs that were queued or running as failed; the
server tells their clients at start-up and once more at each client's next `hello`.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RESTART_MESSAGE = "server restarted while this job ran; it did not finish"
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


class Journal:
    """A thread-safe journal in one SQLite file; each change is committed before the call returns."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, job_id: str, client: tuple[str, int], kind: str, request: dict) -> int:
        """Record a newly queued job; returns its journal id."""
        now = time.time()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO jobs (job_id, client_host, client_port, kind, request, state, created, updated)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, client[0], client[1], kind, json.dumps(request, default=str), now, now),
            )
            return int(cursor.lastrowid)

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

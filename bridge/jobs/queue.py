"""A queue in front of the model worker threads (one, or one per Ray worker), so the OSC server never waits
for a model.

Jobs are cancelled while queued (taken out of the queue) or while running (the sampler's step
callback raises `JobCancelled`, so the job stops within one step). Once a job starts delivering its
last result a cancel is refused, so every accepted cancel ends in `cancelled`. A job that fails, out
of GPU memory included, fails alone: the worker goes on with the next one. So does a job whose listener
fails (the journal locked by another program, or the disk full): the worker survives any exception.

`close` (the server stopping) is bounded: a running job is asked to stop at its next step, and one that has not
ended CLOSE_GRACE seconds later (a wedged step, a stuck disk) is told ended anyway. Every job the stop cuts
short, queued or running, ends as failed with `JobInterrupted` (field `job`), never as a client's cancel; each
job's end is reported once, whichever of its worker and `close` comes first.
"""
from __future__ import annotations

import collections
import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...engine.errors import FieldError
from ..request.build import Request

log = logging.getLogger("sonocanvas.jobs")


CLOSE_GRACE = 3.0
"""Seconds `close` waits for running jobs to stop before it reports them interrupted and returns, so that
`serve` is gone within 5 s of SIGTERM whatever its jobs do."""


class JobCancelled(Exception):
    """Raised inside a running job (from its step callback) once it has been cancelled."""


class JobInterrupted(FieldError):
    """How a job cut short by the server's stop ends: told to its client, and journalled, as a failure."""

    def __init__(self, ran: bool):
        super().__init__("job", "interrupted: the server stopped while this job ran; it did not finish: send it again"
                         if ran else "interrupted: the server stopped before this job ran: send it again")


@dataclass(eq=False)
class Job:
    """One request in the queue. `owner` identifies the client; (owner, job_id) is unique while the job is
    active for its client: queued, or running until its last `done` is told (`told_done`), when the id is free."""

    owner: Hashable
    job_id: str
    request: Request
    peer: Any = None  # where its replies go (an osc.transport Peer: the layer above knows it)
    journal_id: int | None = None
    queued_at: float = field(default_factory=time.time)
    cancelled: threading.Event = field(default_factory=threading.Event)
    finishing: bool = False
    told_done: bool = False
    """Its client has heard its last `done` (set by whoever tells it): it waits on its worker's bookkeeping alone,
    and is ahead of nobody."""
    interrupted: bool = False  # cancelled by the server's stop, not by its client
    show_preview: Callable[[int, int, Any], None] | None = field(default=None, repr=False)
    """Where its previews go while it samples (step, total, a PIL picture): set by whoever tells its client;
    None: nobody watches."""
    _state: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ended: bool = field(default=False, repr=False)  # its end was reported: by its worker, or by the queue's close

    @property
    def key(self) -> tuple[Hashable, str]:
        return (self.owner, self.job_id)

    def check(self, last: bool = False) -> None:
        """Raise `JobCancelled` if the job was cancelled; called between sampler steps and before each result
        is delivered. `last`: the last result is about to be delivered, and from now on a cancel is refused."""
        with self._state:
            if self.cancelled.is_set():
                raise JobCancelled(self.job_id)
            self.finishing = self.finishing or last

    def cancel(self, interrupt: bool = False) -> bool:
        """Ask the job to stop (`interrupt`: because the server stops); False once it is delivering its last
        result (it will finish)."""
        with self._state:
            if not self.finishing and not self.cancelled.is_set():  # a client's cancel stays one
                self.cancelled.set()
                self.interrupted = interrupt
            return not self.finishing

    def claim_end(self) -> bool:
        """True to the first caller only: whoever reports the job's end (its worker, or a stop that could not
        wait for it) does so once."""
        with self._state:
            first, self._ended = not self._ended, True
            return first


class Listener(Protocol):
    """What the queue tells the server about its jobs; called on the worker thread (cancel of a
    queued job: on the caller's thread)."""

    def started(self, job: Job) -> None: ...
    def progress(self, job: Job, step: int, total: int) -> None: ...
    def finished(self, job: Job) -> None: ...
    def failed(self, job: Job, error: BaseException) -> None: ...
    def cancelled(self, job: Job) -> None: ...


Runner = Callable[[Job, Callable[[int, int], None]], None]
"""Runs a job to the end; the second argument is the step callback to hand to the sampler."""


class Progress:
    """The one progress type: step reports thinned to every 5 % of the total (every step below 20), always the
    last, passed to `report` (an OSC reply for a job, a bar on the terminal for the command line)."""

    def __init__(self, report: Callable[[int, int], None] | None = None) -> None:
        self.last = 0
        self.report = report

    def __call__(self, step: int, total: int) -> None:
        if self.due(step, total) and self.report is not None:
            self.report(step, total)

    def due(self, step: int, total: int) -> bool:
        if step <= self.last:  # a new sampling run (e.g. the next variation) starts over
            self.last = 0
        if step >= total or step - self.last >= max(1, total // 20):
            self.last = step
            return True
        return False


def text_bar(label: str, width: int = 30) -> Callable[[int, int], None]:
    """A report for `Progress`: a bar on stderr, redrawn in place on a terminal, a line per report in a log."""
    live = sys.stderr.isatty()

    def draw(done: int, total: int) -> None:
        filled = width * done // total
        start, end = ("\r", "\n" if done == total else "") if live else ("", "\n")
        print(f"{start}{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end,
              file=sys.stderr, flush=True)

    return draw


@dataclass(frozen=True)
class QueueBounds:
    """How many jobs may wait: per client, so one client cannot crowd out the rest, and in all."""

    per_client: int = 16
    total: int = 256


class JobQueue:
    """First in, first out, one job at a time on each of `workers` worker threads."""

    def __init__(self, run: Runner, listener: Listener, bounds: QueueBounds = QueueBounds(), workers: int = 1):
        self.bounds = bounds
        self._run = run
        self._listener = listener
        self._queue: collections.deque[Job] = collections.deque()
        self._running: list[Job] = []  # in the order they started
        self._lock = threading.Condition()
        self._closed = False
        self._workers = [threading.Thread(target=self._work, name=f"sonocanvas-worker-{i}", daemon=True)
                         for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def submit(self, job: Job, announce: Callable[[int], None] | None = None) -> int:
        """Queue `job`; returns its position: 1 runs at once, n waits for n - 1 jobs to finish (on any worker),
        running ones included. `announce(position)` is called before a worker can start the job, so that
        `queued` reaches its client before any progress. A job with the same owner and id that is still queued
        or running -> FieldError on `job_id`; a queue at its bounds -> on `queue`."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job queue is closed")
            if self.find(job.owner, job.job_id) is not None:
                raise FieldError("job_id", f"{job.job_id!r} is already queued or running")
            if len(self._queue) >= self.bounds.total:
                raise FieldError("queue", f"the server's queue is full ({self.bounds.total} jobs wait); try later")
            if sum(queued.owner == job.owner for queued in self._queue) >= self.bounds.per_client:
                raise FieldError("queue", f"you have {self.bounds.per_client} jobs waiting, the most one client may; "
                                 "wait for one to finish or cancel one")
            self._queue.append(job)
            position = max(1, len(self._busy()) + len(self._queue) - len(self._workers) + 1)
            if announce is not None:
                announce(position)
            self._lock.notify_all()
            return position

    def find(self, owner: Hashable, job_id: str) -> Job | None:
        """The queued or running job of `owner` with this id; not one whose client has heard its last `done`:
        for its client it is over (its id free again, a cancel told there is no such job)."""
        with self._lock:
            for job in self._busy() + list(self._queue):
                if job.key == (owner, job_id):
                    return job
            return None

    def cancel(self, owner: Hashable, job_id: str) -> bool:
        """Cancel a queued job at once or a running one at its next step; False if there is none, and
        ValueError("job_id: ...") if it is already delivering its last result."""
        with self._lock:
            job = self.find(owner, job_id)
            if job is None:
                return False
            if not job.cancel():
                raise FieldError("job_id", f"{job_id!r} is already writing its last clip, too late to cancel")
            queued = job not in self._running
            if queued:
                self._queue.remove(job)
        if queued:
            self._end(job, functools.partial(self._listener.cancelled, job))
        return True

    def status(self) -> tuple[Job | None, int]:
        """The running job that started first (or None) and how many wait."""
        with self._lock:
            busy = self._busy()
            return (busy[0] if busy else None), len(self._queue)

    def _busy(self) -> list[Job]:
        """The running jobs a newcomer waits for: not one whose client has heard its last `done` already."""
        return [job for job in self._running if not job.told_done]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing runs or waits; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queue and not self._running, timeout)

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """Stop: what waits is told interrupted at once; each running job stops at its next step or after the
        clip it is writing, and is told, before the caller closes what the workers use. One still running after
        `grace` seconds is told interrupted now (not one whose last `done` was told: it is over), and its worker
        (a daemon thread) is left to the process's end."""
        with self._lock:
            self._closed = True
            waiting = list(self._queue)
            self._queue.clear()
            for job in self._running:
                job.cancel(interrupt=True)
            self._lock.notify_all()
        for job in waiting:
            job.cancel(interrupt=True)
            self._end(job, functools.partial(self._listener.failed, job, JobInterrupted(ran=False)))
        deadline = time.monotonic() + grace
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stuck = [job for job in self._running if not job.told_done]  # not one whose client has all it made
        for job in stuck:
            log.warning("job %r did not stop within %g s of the server's stop; told interrupted", job.job_id, grace)
            self._end(job, functools.partial(self._listener.failed, job, JobInterrupted(ran=True)))

    def _end(self, job: Job, report: Callable[[], None]) -> None:
        """Report the job's end unless it was reported already; a report that fails is logged (the journal
        full, say: its client was told first), never raised into a worker or the stop."""
        if not job.claim_end():
            return
        try:
            report()
        except BaseException:  # noqa: BLE001 - a listener failing to report an end: log it, go on
            log.exception("job %r: could not report its end", job.job_id)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                job = self._queue.popleft()
                self._running.append(job)
            self._execute(job)
            with self._lock:
                self._running.remove(job)
                self._lock.notify_all()

    def _execute(self, job: Job) -> None:
        progress = Progress(lambda step, total: self._listener.progress(job, step, total))

        def on_step(step: int, total: int) -> None:
            job.check()
            progress(step, total)

        try:
            job.check()
            self._listener.started(job)
            self._run(job, on_step)  # once it returns, every clip was delivered: a late cancel changes nothing
        except JobCancelled:
            if job.interrupted:
                self._end(job, functools.partial(self._listener.failed, job, JobInterrupted(ran=True)))
            else:
                self._end(job, functools.partial(self._listener.cancelled, job))
        except BaseException as error:  # noqa: BLE001 - one job's failure must never stop the worker
            self._end(job, functools.partial(self._listener.failed, job, error))
        else:
            if not job.claim_end():
                return  # the stop could not wait for it and told it interrupted already
            try:
                self._listener.finished(job)
            except BaseException:  # noqa: BLE001 - its clips are delivered; only the record of it failed
                log.exception("job %r: finished, but recording that failed", job.job_id)

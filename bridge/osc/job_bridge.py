"""Between the OSC handlers and the job queue: journal every job, run it, and tell its client, and only it.

The queue calls this bridge's listener methods on its worker thread. A failure of the journal (locked by
another program, the disk full) fails that one job with an error on field `journal`; the next job runs.
Each job ends with one log line: who asked, how it ended, how long it waited and ran.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...engine.errors import FieldError
from ..jobs.inputs import read_inputs
from ..jobs.queue import Job, JobQueue, QueueBounds
from ..output.previews import JobPreviews, PreviewFolder
from ..request.build import Request
from .services import Services

if TYPE_CHECKING:
    from .transport import Peer

log = logging.getLogger("sonocanvas.jobs")


class JobBridge:
    def __init__(self, services: Services, bounds: QueueBounds | None = None):
        self.services = services
        self._started: dict[int, float] = {}
        self._live: dict[int, Job] = {}  # queued or running, by id(job): whose jobs they are, and where replies go
        self._live_lock = threading.Lock()
        self._preview_folder: PreviewFolder | None = None  # made when a job first asks for previews
        self._preview_lock = threading.Lock()  # its own: making and sweeping the folder never holds up dispatch
        self.queue = JobQueue(self._run, self, bounds or QueueBounds(), services.workers)

    def owner_busy(self, owner: Hashable) -> bool:
        """Whether a job of `owner` is queued or running: its client must not be forgotten."""
        with self._live_lock:
            return any(job.owner == owner for job in self._live.values())

    def peer_busy(self, peer: Peer | None) -> bool:
        """Whether a queued or running job replies to `peer`: its connection must stay open."""
        with self._live_lock:
            return peer is not None and any(job.peer is peer for job in self._live.values())

    def _ended(self, job: Job) -> None:
        with self._live_lock:
            self._live.pop(id(job), None)

    def submit(self, owner: Hashable, peer: Peer, request: Request) -> None:
        """Journal and queue a request; its client hears `queued` (or an error naming the field)."""
        if self.queue.find(owner, request.job_id) is not None:
            raise FieldError("job_id", f"{request.job_id!r} is already queued or running")
        kind = request.kind
        record = {"kind": kind, **dataclasses.asdict(request)}
        try:
            journal_id = self.services.journal.add(request.job_id, peer.address, kind, record)
        except Exception as error:
            log.exception("job %r from %s: could not be journalled", request.job_id, peer.address)
            raise FieldError("journal", f"the job could not be recorded ({_short(error)}); it was not queued") from None
        job = Job(owner=owner, job_id=request.job_id, request=request, peer=peer, journal_id=journal_id)
        with self._live_lock:  # before the queue has it: it may end before `submit` returns
            self._live[id(job)] = job
        try:
            position = self.queue.submit(
                job, lambda position: peer.send("/sonocanvas/queued", request.job_id, position))
        except Exception as error:  # never leave a journalled job "queued" that never was
            self._ended(job)
            self._record(job, "failed", str(error))
            raise
        log.debug("job %r (%s) from %s: received, position %d", job.job_id, kind, peer.address, position)

    def _run(self, job: Job, on_step: Callable[[int, int], None]) -> None:
        if self.services.drop is not None:
            self.services.drop.check()  # before the sampling, not after it: a folder gone is said at once
        job.request = read_inputs(job.request, self.services.limits)  # its files' bytes, checked now
        previews = self._previews_of(job)

        def done(index: int, wav: Path | None, png: Path, record: Path,
                 ranked: tuple[int, int, dict[str, float]] | None = None) -> None:
            if previews is not None:  # the clip is here: its preview goes before the client hears of the clip
                previews.close()
            if job.finishing:  # its last clip: the journal says done before the client hears it
                try:
                    self._set_state(job, "done")
                except Exception as error:
                    log.exception("job %r: its last clip is written, but its end could not be journalled", job.job_id)
                    raise FieldError("journal", f"the clip is written ({wav or png}), but the job's end could not be "
                                     f"recorded ({_short(error)}): after a restart it would be reported as not "
                                     "finished") from None
            if ranked is not None:  # a clip chosen among candidates: its scores first, then the clip
                rank, candidates, scores = ranked
                job.peer.send("/sonocanvas/scores", job.job_id, index, rank, candidates,
                              *(item for kind_score in scores.items() for item in kind_score))
            job.told_done = job.finishing  # its last: ahead of nobody from the moment its client can hear it
            job.peer.send("/sonocanvas/done", job.job_id, index, "" if wav is None else str(wav), str(png),
                          str(record))  # a picture (stylize) has no sound: wav_path ""

        try:
            self.services.run(job, on_step, done)
        finally:
            if previews is not None:
                previews.close()  # its last preview goes with it, however it ended

    def _previews_of(self, job: Job) -> JobPreviews | None:
        """The job's previews, when its request asks for them and there is a drop folder to hold them: each
        written, then told to its client as `/sonocanvas/preview job_id step total path`."""
        if not job.request.preview or self.services.drop is None:
            return None
        with self._preview_lock:
            if self._preview_folder is None:
                self._preview_folder = PreviewFolder(self.services.drop.folder)
        previews = self._preview_folder.job()
        if previews is None:
            return None

        def show(step: int, total: int, picture: Any) -> None:
            previews.show(step, picture, lambda path: job.peer.send("/sonocanvas/preview", job.job_id, step, total,
                                                                    str(path)))

        job.show_preview = show
        return previews

    # the queue's listener ----------------------------------------------------------------------

    def started(self, job: Job) -> None:
        self._started[id(job)] = time.time()
        try:
            self._set_state(job, "running")
        except Exception as error:
            log.exception("job %r: could not journal its start", job.job_id)
            raise FieldError("journal", f"the job's start could not be recorded ({_short(error)}); "
                             "it did not run") from None
        log.debug("job %r: started after %.2f s in the queue", job.job_id, time.time() - job.queued_at)

    def progress(self, job: Job, step: int, total: int) -> None:
        job.peer.send("/sonocanvas/progress", job.job_id, step, total)

    def finished(self, job: Job) -> None:
        self._ended(job)
        self._end(job, "done")
        if not job.finishing:  # a job that delivered its last clip was journalled done before its `done` went out
            self._set_state(job, "done")

    def failed(self, job: Job, error: BaseException) -> None:
        self._ended(job)
        field, message = job_failure(error)
        job.peer.send("/sonocanvas/error", job.job_id, field, message)
        self._end(job, "failed", message, fault=not isinstance(error, FieldError) and error)
        self._record(job, "failed", message)

    def cancelled(self, job: Job) -> None:
        self._ended(job)
        job.peer.send("/sonocanvas/cancelled", job.job_id)
        self._end(job, "cancelled")
        self._record(job, "cancelled")

    def _set_state(self, job: Job, state: str, message: str = "") -> None:
        """Journal a state of a job this bridge queued: each was journalled first (a cluster's worker queues
        jobs of its own, unjournalled, so the queue's `Job.journal_id` may be None)."""
        assert job.journal_id is not None, f"job {job.job_id!r} was queued without being journalled"
        self.services.journal.set_state(job.journal_id, state, message)

    def _record(self, job: Job, state: str, message: str = "") -> None:
        """Journal an end already told to the client; a journal failure is logged, never raised."""
        try:
            self._set_state(job, state, message)
        except Exception:
            log.exception("job %r: could not journal its end (%s)", job.job_id, state)

    def _end(self, job: Job, how: str, message: str = "", fault: Any = None) -> None:
        """The job's one line in the log: who asked, how it ended, how long it waited and ran."""
        now = time.time()
        started = self._started.pop(id(job), None)
        waited = (started or now) - job.queued_at
        ran = now - started if started else 0.0
        line = "job %r (%s) from %s:%d: %s, waited %.2f s, ran %.2f s%s"
        args = (job.job_id, job.request.kind, *job.peer.address, how, waited, ran, f": {message}" if message else "")
        if fault:
            log.error(line, *args, exc_info=fault)
        else:
            log.info(line, *args)


def job_failure(error: BaseException) -> tuple[str, str]:
    """(field, message) for a failed job: out of memory is said plainly; a user error names its field."""
    if _is_out_of_memory(error):
        return "job", ("job: out of GPU memory; the server is fine: try fewer variations or steps, "
                       f"or close other GPU programs ({_short(error)})")
    if isinstance(error, FieldError):
        return error.field, str(error)
    return "job", f"job: failed: {_short(error)}"


def _is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]

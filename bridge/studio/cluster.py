"""Jobs on a Ray cluster: a pool of Ray actors, one per GPU (or CPU actors where there is none), each
loading the models once, behind the same `run(job, on_step, done)` as `Studio`.

The OSC front end stays as it is (protocol, journal, drop folder, effects): the job queue runs one worker
thread per actor, and each thread hands its job to a free actor. An actor makes the clips (`Studio.make`) and
streams back the sampler's progress, then the finished clips; the front end drops them (`studio.deliver`), so
the GPU machines need no disk shared with it. The files a request reads (`init_audio`, an encode's picture)
travel with the job for the same reason. A cancel is forwarded to the actor at once and stops its sampler at
the next step. An actor that dies mid-job (its process killed, its machine gone) fails that job alone; Ray
restarts it (`max_restarts`), and it takes jobs again once it has loaded the models.

This module imports Ray; `serve` imports it only with `--ray` (or `ray:` in the config).
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError

from ...engine.errors import FieldError
from ...engine.scorers import Scorers
from ..jobs.queue import Job, JobCancelled, Progress
from ..output.drop import DropFolder
from .studio import Done, Made, Models, Studio, deliver

log = logging.getLogger("sonocanvas.cluster")

CANCEL_POLL = 0.05
"""Seconds between looks at a running job's cancel flag while its actor works: a cancel reaches the actor
within this much more than one sampler step."""
CONNECT_TIMEOUT = 5.0
"""Seconds to reach a cluster's address before `serve` gives up; ray.init itself retries for minutes."""
DEFAULT_RAY_PORT = 6379  # `ray start --head`'s GCS port


class WorkerLost(RuntimeError):
    """The actor running a job died (process killed, machine gone); the job is lost, the actor restarts."""


class WorkerError(RuntimeError):
    """A job's failure on an actor that is not the user's doing; the message keeps the remote error's type."""


@dataclass(frozen=True)
class Step:
    """One progress report from an actor's sampler."""

    step: int
    total: int


@dataclass(frozen=True)
class Shown:
    """One preview from an actor's sampler (a PIL picture: it pickles), for the front end to write and tell."""

    step: int
    total: int
    picture: Any


@dataclass(frozen=True)
class Failure:
    """A job's error on an actor, as data: exceptions with an `__init__` of their own (`FieldError`) do not
    survive pickling, and the front end must tell a cancel from a user's mistake from a fault."""

    kind: str  # "cancelled", "field" (a user's error: `FieldError(field, message)`) or "error"
    message: str
    field: str = ""
    trace: str = ""


@dataclass(frozen=True)
class Description:
    """What an actor says about itself: where it runs, what it loaded (or why it could not), what it runs now."""

    pid: int
    node: str
    device: str = ""
    label: str = ""
    audio_models: frozenset[str] = frozenset()
    scorers: tuple[str | None, str | None] = (None, None)  # the CLIP and CLAP models it found, to rank with
    error: tuple[str, str] | None = None  # (field, reason) when the models did not load
    jobs: tuple[str, ...] = ()  # the job ids it is making now


# Ray's typing of remote() omits concurrency_groups (an actor-class option only: ActorClass.options refuses it).
@ray.remote(max_restarts=-1, max_task_retries=0, concurrency_groups={"control": 2})  # type: ignore[call-overload]
class Worker:
    """One Ray actor: the models loaded once, one job at a time (`make`); `describe` and `cancel` answer
    while it samples."""

    def __init__(self, models: Models, version: str, batch: int):
        self.jobs: dict[str, Job] = {}
        self.studio: Studio | None = None
        self.error: tuple[str, str] | None = None
        try:
            self.studio = Studio.load(models, None, version, batch)
        except Exception as error:  # noqa: BLE001 - said by `describe`, which stops serve at start-up
            log.exception("the models did not load")
            self.error = ((error.field, error.reason) if isinstance(error, FieldError)
                          else ("models", f"{type(error).__name__}: {error}"))

    @ray.method(concurrency_group="control")
    def describe(self) -> Description:
        node = ray.util.get_node_ip_address()
        jobs = tuple(job.job_id for job in self.jobs.values())
        if self.studio is None:
            return Description(os.getpid(), node, error=self.error, jobs=jobs)
        s = self.studio
        scorers = (s.scorers.clip_model, s.scorers.clap_model)
        return Description(os.getpid(), node, s.device, s.label, s.audio_models, scorers, jobs=jobs)

    @ray.method(concurrency_group="control")
    def cancel(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is not None:
            job.cancel()

    @ray.method(num_returns="streaming")
    def make(self, key: str, job_id: str, request: Any, queued_at: float, when: datetime,
             ) -> Iterator[Step | Shown | list[Made] | Failure]:
        """Yield `Step`s (and `Shown` previews, if its request asks) while sampling, then the clips (`list[Made]`)
        or a `Failure`. The sampler runs on a
        thread of its own, since its step callback cannot yield. `when`: the front end's local time of the
        request, for the file names (this machine's clock may be in another time zone)."""
        studio = self.studio
        if studio is None:
            field, reason = self.error or ("models", "the models did not load")
            yield Failure("field", reason, field)
            return
        events: queue.Queue = queue.Queue()
        job = self.jobs[key] = Job(owner=key, job_id=job_id, request=request, queued_at=queued_at,
                                   show_preview=lambda step, total, picture: events.put(Shown(step, total, picture)))
        # Thinned as the front end thins them: only the reports it would send travel.
        progress = Progress(lambda step, total: events.put(Step(step, total)))

        def on_step(step: int, total: int) -> None:
            job.check()
            progress(step, total)

        def work() -> None:
            try:
                events.put(studio.make(job, on_step, when))
            except JobCancelled:
                events.put(Failure("cancelled", job_id))
            except FieldError as error:
                events.put(Failure("field", error.reason, error.field))
            except BaseException as error:  # noqa: BLE001 - told to the front end, which fails this job alone
                log.exception("job %s failed", job_id)
                events.put(Failure("error", f"{type(error).__name__}: {error}", trace=_trace(error)))

        threading.Thread(target=work, name=f"sonocanvas-job-{job_id}", daemon=True).start()
        try:
            while isinstance(item := events.get(), (Step, Shown)):
                yield item
        finally:
            del self.jobs[key]  # before the last item: once the front end has it, this actor runs nothing
        yield item


class Cluster:
    """The front end's side: `run(job, on_step, done)` on any free actor, then the drop folder here."""

    def __init__(self, workers: list[Any], descriptions: list[Description], drop: DropFolder):
        self.workers = workers
        self.drop = drop
        first = descriptions[0]
        self.label = first.label
        self.audio_models = first.audio_models
        self.scorers = Scorers(*first.scorers)  # what the front end may promise; the scoring runs on the actors
        counts = Counter(d.device for d in descriptions)
        self.device = ", ".join(f"{device} x{n}" for device, n in counts.items()) + " (ray)"
        self._idle: queue.Queue = queue.Queue()
        for worker in workers:
            self._idle.put(worker)

    @classmethod
    def start(cls, address: str, workers: int | None, models: Models, drop: DropFolder, version: str,
              batch: int) -> Cluster:
        """Join the cluster (`local`: start Ray on this machine) and start `workers` actors (default: one per
        GPU, or one CPU actor without GPUs), each loading the models (`batch`: candidates sampled at once, as
        `Studio.load` takes it); a FieldError naming the setting at fault
        when the cluster cannot be reached, is too small, or a worker cannot load the models."""
        if models.device is not None and models.device.startswith("cuda:"):
            raise FieldError("device", f"{models.device!r} with ray: each worker has a GPU of its own; "
                                       "use auto or cuda")
        connect(address)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0)) if models.device in (None, "cuda") else 0
        unit, have = ("GPU", gpus) if gpus else ("CPU", int(resources.get("CPU", 0)))
        count = workers or max(gpus, 1)
        if count > have:
            raise FieldError("workers", f"{count} workers need a {unit} each; the Ray cluster has {have}")
        options = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        # To a type checker a decorated class stays the class: Ray's ActorClass, with options(), is unseen.
        actors = [Worker.options(**options).remote(models, version, batch)  # type: ignore[attr-defined]
                  for _ in range(count)]
        descriptions = ray.get([actor.describe.remote() for actor in actors])
        errors = [d.error for d in descriptions if d.error]
        if errors:
            for actor in actors:
                ray.kill(actor)
            raise FieldError(*errors[0])
        for d in descriptions:
            log.info("ray worker pid %d on %s: %s on %s", d.pid, d.node, d.label, d.device)
        return cls(actors, descriptions, drop)

    def run(self, job: Job, on_step: Callable[[int, int], None], done: Done) -> None:
        """The job queue's runner: make the clips on a free actor, then drop each one here and report it."""
        worker = self._take(job)
        try:
            made = self._make(worker, job, on_step)
        except WorkerLost:
            threading.Thread(target=self._revive, args=(worker,), daemon=True).start()
            raise
        except BaseException:
            self._idle.put(worker)
            raise
        self._idle.put(worker)  # free for the next job while this one's clips are written
        deliver(self.drop, job, made, done)

    def describe(self) -> list[Description]:
        """Each actor's description (waits for any that is restarting)."""
        return ray.get([_describe(worker) for worker in self.workers])

    def close(self) -> None:
        """Stop the actors (a `serve` that exits stops them anyway: they belong to its Ray driver)."""
        for worker in self.workers:
            ray.kill(worker)

    def _take(self, job: Job) -> Any:
        """A free actor; while there is none (one is restarting), a cancel of the job still ends it."""
        while True:
            try:
                return self._idle.get(timeout=CANCEL_POLL)
            except queue.Empty:
                job.check()

    def _make(self, worker: Any, job: Job, on_step: Callable[[int, int], None]) -> list[Made]:
        key = uuid.uuid4().hex
        when = datetime.fromtimestamp(job.queued_at).astimezone()  # this machine's time zone travels with it
        stream = worker.make.remote(key, job.job_id, job.request, job.queued_at, when)  # its files' bytes too
        told = False
        try:
            while True:
                ready, _ = ray.wait([stream], timeout=CANCEL_POLL)
                if job.cancelled.is_set() and not told:
                    worker.cancel.remote(key)
                    told = True
                if not ready:
                    continue
                item = ray.get(next(stream))
                if isinstance(item, Step):
                    on_step(item.step, item.total)
                elif isinstance(item, Shown):
                    if job.show_preview is not None:
                        job.show_preview(item.step, item.total, item.picture)
                elif isinstance(item, Failure):
                    raise _raised(job, item)
                else:
                    return item
        except RayActorError as error:  # Ray's own message (actor id, RPC error) goes to the log, not the client
            log.error("job %s: its ray worker died; it restarts", job.job_id, exc_info=True)
            raise WorkerLost(f"the Ray worker running this job stopped ({type(error).__name__}); it restarts, "
                             "other jobs go on") from error
        except RayTaskError as error:  # a fault in `make` itself, outside the job
            log.error("job %s: its ray worker failed", job.job_id, exc_info=True)
            raise WorkerError(str(error).strip().splitlines()[-1]) from error
        except JobCancelled:  # seen here first (at a progress report): stop the actor's sampler too
            if not told:
                worker.cancel.remote(key)
            _drain(stream)  # within a step; so a cancelled job's actor is free when it takes the next one
            raise

    def _revive(self, worker: Any) -> None:
        """Back into the pool once Ray has restarted the actor and it has loaded the models."""
        try:
            description = ray.get(_describe(worker))
        except Exception:  # noqa: BLE001 - the actor is gone for good (restarts used up, cluster gone)
            log.error("a ray worker did not come back; serving with the others", exc_info=True)
            return
        if description.error:
            log.error("a restarted ray worker could not load the models: %s", description.error)
            return
        log.info("ray worker restarted: pid %d on %s", description.pid, description.node)
        self._idle.put(worker)


def _describe(worker: Any) -> Any:
    """`worker.describe`, retried while Ray restarts the actor (it only reads, so a retry is safe)."""
    return worker.describe.options(max_task_retries=-1).remote()


def _drain(stream: Any) -> None:
    """Wait for an actor's `make` to end, whatever it ends with."""
    try:
        for ref in stream:
            if not isinstance(ray.get(ref), Step):
                return
    except (RayActorError, RayTaskError):
        return  # it ended all the same; Ray restarts a dead actor, and its next job waits for that


def connect(address: str) -> None:
    """Join the Ray cluster at `address` (HOST:PORT of its head, `ray://HOST:PORT`, or `auto`), or with `local`
    start Ray on this machine. A process that started Ray itself (a test, an application embedding the
    server) keeps it. An address that does not answer is a FieldError naming `ray` within seconds."""
    if ray.is_initialized():
        return
    if address == "local":
        ray.init(include_dashboard=False)
        return
    if address != "auto":
        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        except OSError as error:
            raise FieldError("ray", f"cannot reach the Ray cluster at {address} ({error.strerror or error}); "
                             "start it there with `ray start --head`, or use --ray local") from None
    try:
        ray.init(address=address)
    except Exception as error:  # noqa: BLE001 - ConnectionError, a version mismatch, a refused token ...
        raise FieldError("ray", f"cannot join the Ray cluster at {address}: {error}") from None


def _host_port(address: str) -> tuple[str, int]:
    """`[ray://]HOST[:PORT]`, HOST a name, an IPv4 address or a bracketed IPv6 one."""
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or host.endswith(":"):  # no port (an unbracketed IPv6 address has colons of its own)
        host, port = rest, str(DEFAULT_RAY_PORT)
    if not port.isdigit() or not host:
        raise FieldError("ray", f"expected local, auto or HOST:PORT of the Ray head, got {address!r}")
    return host.strip("[]"), int(port)


def _raised(job: Job, failure: Failure) -> BaseException:
    """The exception the job queue expects for a failure on an actor."""
    if failure.kind == "cancelled":
        return JobCancelled(job.job_id)
    if failure.kind == "field":
        return FieldError(failure.field, failure.message)
    log.error("job %s failed on its ray worker:\n%s", job.job_id, failure.trace or failure.message)
    return WorkerError(failure.message)


def _trace(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))

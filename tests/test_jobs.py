"""The job queue: one worker, order kept, cancellation queued and running, throttled progress, failures contained."""
import queue
import threading

import pytest
from sonocanvas.bridge.jobs.queue import Job, JobInterrupted, JobQueue, Progress, QueueBounds
from sonocanvas.engine.errors import FieldError

TIMEOUT = 10


class Events:
    """The queue's listener, recording every event in a thread-safe queue."""

    def __init__(self):
        self.q = queue.Queue()

    def started(self, job): self.q.put(("started", job.job_id))
    def progress(self, job, step, total): self.q.put(("progress", job.job_id, step, total))
    def finished(self, job): self.q.put(("finished", job.job_id))
    def failed(self, job, error): self.q.put(("failed", job.job_id, error))
    def cancelled(self, job): self.q.put(("cancelled", job.job_id))

    def next(self, kind=None):
        while True:
            event = self.q.get(timeout=TIMEOUT)
            if kind is None or event[0] == kind:
                return event


def stepper(gates):
    """A runner that takes `request` steps, each waiting for its job's gate if it has one."""
    def run(job, on_step):
        if isinstance(job.request, BaseException):
            raise job.request
        for step in range(1, job.request + 1):
            gate = gates.get(job.job_id)
            if gate is not None:
                assert gate.wait(TIMEOUT)
            on_step(step, job.request)
    return run


@pytest.fixture
def events():
    return Events()


def make(gates, events):
    jobs = JobQueue(stepper(gates), events)
    return jobs


def test_jobs_run_in_order_with_throttled_progress(events):
    jobs = make({}, events)
    try:
        assert jobs.submit(Job("a", "1", 100)) in (1, 2)
        jobs.submit(Job("a", "2", 7))
        assert events.next() == ("started", "1")
        steps = []
        while (event := events.next()) != ("finished", "1"):
            steps.append(event[2])
        assert steps == list(range(5, 101, 5))  # every 5 %, and the last
        assert events.next() == ("started", "2")
        assert [events.next()[2] for _ in range(7)] == [1, 2, 3, 4, 5, 6, 7]  # under 20 steps: every step
        assert events.next() == ("finished", "2")
        assert jobs.wait_idle(TIMEOUT)
    finally:
        jobs.close()


def test_progress_restarts_for_a_second_run():
    p = Progress()
    assert [s for s in range(1, 41) if p.due(s, 40)] == list(range(2, 41, 2))
    assert [s for s in range(1, 41) if p.due(s, 40)] == list(range(2, 41, 2))


def test_cancel_queued_and_running(events):
    gates = {"run": threading.Event()}
    jobs = make(gates, events)
    try:
        jobs.submit(Job("a", "run", 50))
        jobs.submit(Job("a", "wait", 5))
        assert events.next() == ("started", "run")
        assert jobs.status()[0].job_id == "run" and jobs.status()[1] == 1
        assert jobs.cancel("a", "wait")
        assert events.next() == ("cancelled", "wait")
        assert not jobs.cancel("b", "run"), "another owner's job cannot be cancelled"
        assert jobs.cancel("a", "run")
        gates["run"].set()  # the sampler reaches its next step and stops there
        assert events.next() == ("cancelled", "run")
        assert jobs.wait_idle(TIMEOUT)
        assert not jobs.cancel("a", "run")
    finally:
        jobs.close()


def test_same_id_for_two_owners_but_not_twice_for_one(events):
    gates = {"x": threading.Event()}
    jobs = make(gates, events)
    try:
        jobs.submit(Job("a", "x", 3))
        jobs.submit(Job("b", "x", 3))
        with pytest.raises(ValueError, match="^job_id: "):
            jobs.submit(Job("a", "x", 3))
        gates["x"].set()
        assert jobs.wait_idle(TIMEOUT)
        assert [e[0] for e in list(events.q.queue) if e[0] != "progress"] == ["started", "finished"] * 2
    finally:
        jobs.close()


def test_a_failing_job_does_not_stop_the_worker(events):
    jobs = make({}, events)
    try:
        oom = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        jobs.submit(Job("a", "big", oom))
        jobs.submit(Job("a", "small", 2))
        assert events.next("failed") == ("failed", "big", oom)
        assert events.next("finished") == ("finished", "small")
    finally:
        jobs.close()


def test_close_interrupts_what_waits_and_what_runs(events):
    """A server that stops tells each job it did not finish as interrupted (issue 24, item 7): a failure its
    client can act on (send it again), not a cancel nobody asked for."""
    gates = {"1": threading.Event()}
    jobs = make(gates, events)
    jobs.submit(Job("a", "1", 3))
    jobs.submit(Job("a", "2", 3))
    assert events.next() == ("started", "1")
    closer = threading.Thread(target=jobs.close)
    closer.start()
    waiting = events.next("failed")
    assert waiting[:2] == ("failed", "2") and isinstance(waiting[2], JobInterrupted)
    assert "before this job ran" in str(waiting[2])
    gates["1"].set()
    running = events.next("failed")
    assert running[:2] == ("failed", "1") and isinstance(running[2], JobInterrupted)
    assert "while this job ran" in str(running[2])
    closer.join(TIMEOUT)
    assert not closer.is_alive()


def deliverer(delivering, release):
    """A runner like the studio's: a step, then its one result delivered (slowly: until `release`)."""
    def run(job, on_step):
        on_step(1, 1)
        job.check(last=True)
        delivering.set()
        assert release.wait(TIMEOUT)
    return run


def test_a_cancel_while_the_last_result_is_delivered_is_refused_and_the_job_finishes(events):
    delivering, release = threading.Event(), threading.Event()
    jobs = JobQueue(deliverer(delivering, release), events)
    try:
        jobs.submit(Job("a", "x", None))
        assert delivering.wait(TIMEOUT)
        with pytest.raises(ValueError, match="^job_id: 'x' is already writing its last clip, too late to cancel"):
            jobs.cancel("a", "x")
        release.set()
        assert events.next("finished") == ("finished", "x")
    finally:
        jobs.close()


def test_a_job_whose_last_done_is_told_is_ahead_of_nobody(events):
    """Its client has heard its `done`: the next job is told it starts at once, and status names no running job,
    though the worker has not taken the next one yet. Until then, writing its last clip included, it counts."""
    writing, told, marked, release = (threading.Event() for _ in range(4))

    def run(job, on_step):
        job.check(last=True)
        if job.job_id == "x":
            writing.set()  # its last clip being written: it may still fail
            assert told.wait(TIMEOUT)
            job.told_done = True  # as the server's bridge does once its last `done` is sent
            marked.set()
            assert release.wait(TIMEOUT)

    jobs = JobQueue(run, events)
    try:
        jobs.submit(Job("a", "x", None))
        assert writing.wait(TIMEOUT)
        assert jobs.submit(Job("a", "y", None)) == 2 and jobs.status()[0].job_id == "x"
        told.set()
        assert marked.wait(TIMEOUT)
        assert jobs.submit(Job("a", "z", None)) == 2  # y waits for nobody now, z for y
        assert jobs.status() == (None, 2)
        assert jobs.find("a", "x") is None and not jobs.cancel("a", "x")  # over for its client: no such job
        release.set()
        assert [events.next("finished") for _ in range(3)] == [("finished", j) for j in "xyz"]
    finally:
        told.set()
        release.set()
        jobs.close()


def test_close_waits_for_the_result_being_delivered_and_tells_it_first(events):
    delivering, release = threading.Event(), threading.Event()
    jobs = JobQueue(deliverer(delivering, release), events)
    jobs.submit(Job("a", "x", None))
    assert delivering.wait(TIMEOUT)

    def close():
        jobs.close()
        events.q.put(("closed",))

    closer = threading.Thread(target=close)
    closer.start()
    release.set()
    assert [e for e in iter(events.next, ("closed",)) if e[0] != "progress"] == [("started", "x"), ("finished", "x")]
    closer.join(TIMEOUT)
    assert not closer.is_alive()


def test_a_stop_never_tells_a_job_whose_last_done_was_told_that_it_was_interrupted(events):
    """Its client has every clip and the journal says done; its worker still tidies up when the stop's grace
    runs out: nothing more is told of it (no "interrupted" after its `done`)."""
    told, release = threading.Event(), threading.Event()

    def run(job, on_step):
        job.check(last=True)
        job.told_done = True  # as the server's bridge does once its last `done` is sent
        told.set()
        assert release.wait(TIMEOUT)

    jobs = JobQueue(run, events)
    try:
        jobs.submit(Job("a", "x", None))
        assert told.wait(TIMEOUT)
        jobs.close(grace=0.1)
        release.set()
        seen = [event[0] for event in iter(events.next, ("finished", "x"))]  # up to its worker's own end
        assert "failed" not in seen, seen
    finally:
        release.set()


class Flaky(Events):
    """A listener whose `started`, `finished` and `failed` raise for the jobs named, as a journal that is
    locked or on a full disk does."""

    def __init__(self, broken):
        super().__init__()
        self.broken = broken

    def _maybe_raise(self, job, event):
        if (event, job.job_id) in self.broken:
            raise OSError(f"{event}: disk full")

    def started(self, job):
        self._maybe_raise(job, "started")
        super().started(job)

    def finished(self, job):
        self._maybe_raise(job, "finished")
        super().finished(job)

    def failed(self, job, error):
        super().failed(job, error)
        self._maybe_raise(job, "failed")


def test_the_worker_survives_a_listener_that_raises_anywhere():
    """D3: a job whose start cannot be recorded fails; one whose end cannot be recorded, or whose failure
    cannot be, is logged; in every case the next job runs."""
    events = Flaky({("started", "a"), ("finished", "b"), ("started", "c"), ("failed", "c")})
    jobs = JobQueue(stepper({}), events)
    try:
        for job_id in "abcd":
            jobs.submit(Job("o", job_id, 1))
        seen = []
        while not seen or seen[-1][:2] != ("finished", "d"):
            seen.append(events.next())
        assert [e[:2] for e in seen if e[0] != "progress"] == [
            ("failed", "a"), ("started", "b"), ("failed", "c"), ("started", "d"), ("finished", "d")]
        assert "disk full" in str(seen[0][2])  # a's start could not be recorded: a failed, saying why
        assert jobs.wait_idle(TIMEOUT)
    finally:
        jobs.close()


def test_the_queue_is_bounded_per_client_and_in_all(events):
    """D5: a client cannot queue without end; the refusal names the field `queue`."""
    gate = threading.Event()
    jobs = JobQueue(stepper({"run": gate}), events, QueueBounds(per_client=2, total=3))
    try:
        jobs.submit(Job("a", "run", 1))
        assert events.next() == ("started", "run")
        jobs.submit(Job("a", "1", 1))
        jobs.submit(Job("a", "2", 1))
        with pytest.raises(FieldError, match="^queue: you have 2 jobs waiting") as refused:
            jobs.submit(Job("a", "3", 1))
        assert refused.value.field == "queue"
        jobs.submit(Job("b", "1", 1))  # another client still may
        with pytest.raises(FieldError, match="^queue: the server's queue is full"):
            jobs.submit(Job("c", "1", 1))
        gate.set()
        assert jobs.wait_idle(TIMEOUT)
    finally:
        gate.set()
        jobs.close()


def test_a_job_is_announced_before_the_worker_can_start_it(events):
    """`queued` must reach a client before the job's first progress, however fast the worker is."""
    jobs = JobQueue(stepper({}), events)
    try:
        for job_id in "abc":
            jobs.submit(Job("o", job_id, 1), lambda position, job_id=job_id: events.q.put(("queued", job_id, position)))
        seen = [events.next() for _ in range(12)]
        for job_id in "abc":
            order = [e[0] for e in seen if e[1] == job_id]
            assert order == ["queued", "started", "progress", "finished"], order
    finally:
        jobs.close()

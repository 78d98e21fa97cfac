"""The job queue: one worker, order kept, cancellation queued and running, throttled progress, failures contained."""
import queue
import threading

import pytest

from sonocanvas.bridge.jobs import Job, JobQueue, Progress

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


def test_close_cancels_what_waits(events):
    gates = {"1": threading.Event()}
    jobs = make(gates, events)
    jobs.submit(Job("a", "1", 3))
    jobs.submit(Job("a", "2", 3))
    assert events.next() == ("started", "1")
    closer = threading.Thread(target=jobs.close)
    closer.start()
    assert events.next("cancelled") == ("cancelled", "2")
    gates["1"].set()
    assert events.next("cancelled") == ("cancelled", "1")
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

"""Jobs on Ray workers (`serve --ray`): a local Ray with two CPU actors and the tiny-random models, the server
in-process on a free port, driven by python-osc clients over real UDP and TCP sockets on 127.0.0.1. Every wait
is on a reply or a condition, with a timeout. Skipped, saying why, only where Ray cannot start."""
import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from osc_helpers import TIMEOUT, TcpClient, UdpClient, free_udp_port, write_config
from pedalboard.io import AudioFile
from PIL import Image
from sonocanvas.bridge.jobs.queue import Job, JobQueue
from sonocanvas.bridge.store.config import ConfigError, load_config
from sonocanvas.bridge.studio.studio import TINY_LABEL
from sonocanvas.engine.errors import FieldError

FAST = ("steps", 2)
LONG = ("steps", 60)  # long enough that two jobs overlap, and that a cancel or a kill lands mid-sampling
ENDLESS = ("steps", 500)  # the most a request may ask; ended by a cancel or a kill, never run to the end


@pytest.fixture(scope="module")
def ray_local(sonocanvas_cache):
    """A small local Ray for this module: 3 CPUs (Ray's count, for the server's 2 actors and one test's own;
    the machine may have fewer cores), no dashboard, a 100 MB object store. Its workers inherit
    SONOCANVAS_CACHE, so each actor loads the session's tiny-random set instead of building its own, and a
    time zone at least 12 hours from this process's (POSIX TZ: "UTC-14" is UTC+14), as a GPU box elsewhere
    may have."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[test,ray]')")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
        patch.setenv("OMP_WAIT_POLICY", "PASSIVE")
        patch.setenv("TZ", "UTC-14" if time.localtime().tm_gmtoff < 0 else "UTC+12")  # only new processes see it
        try:
            ray.init(num_cpus=3, include_dashboard=False, object_store_memory=100 * 1024 * 1024,
                     log_to_driver=False, configure_logging=False)
        except Exception as error:  # noqa: BLE001 - no shared memory, no room for the object store, ...
            pytest.skip(f"Ray cannot start on this machine: {type(error).__name__}: {error}")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def server(ray_local, tmp_path_factory, tiny_model_paths, sonocanvas_cache):
    from sonocanvas.bridge.commands.serve import build_server

    config = load_config(write_config(tmp_path_factory.mktemp("cluster"), ray="local", workers=2))
    server = build_server(config.replace(tiny_random=True)).start()  # Ray is running already: it is used as is
    yield server
    server.close()
    server.services.run.__self__.close()  # the Cluster: stop its actors before Ray goes


@pytest.fixture
def cluster(server):
    return server.services.run.__self__


def generate(c, job_id, *keys, seed=1):
    c.send("/sonocanvas/generate", job_id, "image_prompt", "castle towers", "audio_prompt", "bell ringing",
           "seed", seed, *keys)


def replies_until(c, address, job_ids):
    """Every reply (address, args) until one at `address` has come for each of `job_ids`; no error on the way."""
    seen, waiting = [], set(job_ids)
    while waiting:
        got, args = c.next()
        assert got != "/sonocanvas/error", args
        seen.append((got, args))
        if got == address:
            waiting.discard(args[0])
    return seen


def of(seen, address):
    return [args for got, args in seen if got == address]


def test_the_server_reports_the_ray_workers(client, server):
    client.send("/sonocanvas/hello", client.port)
    version, device, models, *_ = client.expect("/sonocanvas/ready")
    assert device == "cpu x2 (ray)" and models == TINY_LABEL
    assert server.services.workers == 2


def test_two_jobs_sample_at_the_same_time_their_progress_interleaved(client, server):
    assert server.jobs.wait_idle(TIMEOUT)
    generate(client, "a", *LONG)
    generate(client, "b", *LONG)
    seen = replies_until(client, "/sonocanvas/done", "ab")
    assert of(seen, "/sonocanvas/queued") == [["a", 1], ["b", 1]]  # two workers: both start at once
    progress = [args[0] for args in of(seen, "/sonocanvas/progress")]
    assert progress.count("a") == progress.count("b") == 20  # every 5 % of 60 steps, each job
    first = {job: progress.index(job) for job in "ab"}
    last = {job: len(progress) - 1 - progress[::-1].index(job) for job in "ab"}
    assert first["a"] < last["b"] and first["b"] < last["a"], progress  # neither waited for the other


def test_six_jobs_from_three_clients_each_get_exactly_their_own_replies(server):
    """The same job ids from every client; each client's seed shows in its clips' records."""
    assert server.jobs.wait_idle(TIMEOUT)
    clients = [UdpClient(server.address), UdpClient(server.address), TcpClient(server.address)]
    try:
        for n, c in enumerate(clients):
            for job_id in ("one", "two"):
                generate(c, job_id, *FAST, seed=100 * n + len(job_id))
        for n, c in enumerate(clients):
            seen = replies_until(c, "/sonocanvas/done", ("one", "two"))
            assert {args[0] for _, args in seen} == {"one", "two"}, seen
            assert {address for address, _ in seen} <= {"/sonocanvas/queued", "/sonocanvas/progress",
                                                         "/sonocanvas/done"}
            for job_id, index, wav, png, record in of(seen, "/sonocanvas/done"):
                stamp = datetime.strptime(Path(wav).name[:15], "%Y%m%d-%H%M%S")  # this machine's local time
                assert abs(stamp - datetime.now()) < timedelta(minutes=10), wav
                info = json.loads(Path(record).read_text())
                assert (info["job_id"], info["seed"], index) == (job_id, 100 * n + len(job_id), 0)
                assert Path(wav).is_file() and Path(png).is_file()
        assert server.jobs.wait_idle(TIMEOUT)
        for c in clients:  # nothing more came for anyone: the next reply is the answer to this
            c.send("/sonocanvas/status")
            assert c.next() == ("/sonocanvas/status", ["", 0, "cpu x2 (ray)"])
    finally:
        for c in clients:
            c.close()


def test_cancel_running_and_queued_jobs_then_the_workers_go_on(client, server, cluster):
    assert server.jobs.wait_idle(TIMEOUT)
    for job_id in ("r1", "r2", "q"):
        generate(client, job_id, *ENDLESS)
    seen = replies_until(client, "/sonocanvas/progress", ("r1", "r2"))  # both workers sampling
    assert of(seen, "/sonocanvas/queued") == [["r1", 1], ["r2", 1], ["q", 2]]  # q waits for one to finish
    client.send("/sonocanvas/status")
    running, queued, _ = client.expect("/sonocanvas/status")
    assert running in ("r1", "r2") and queued == 1
    client.send("/sonocanvas/cancel", "q")
    assert client.expect("/sonocanvas/cancelled") == ["q"]
    for job_id in ("r1", "r2"):
        client.send("/sonocanvas/cancel", job_id)
    seen = replies_until(client, "/sonocanvas/cancelled", ("r1", "r2"))
    assert {address for address, _ in seen} <= {"/sonocanvas/progress", "/sonocanvas/cancelled"}, seen
    assert max((args[1] for args in of(seen, "/sonocanvas/progress")), default=0) < 500
    assert [d.jobs for d in cluster.describe()] == [(), ()]  # a cancelled reply comes once the actor stopped
    generate(client, "after", *FAST)
    assert client.expect("/sonocanvas/done")[0] == "after"


def test_files_a_request_reads_travel_with_it_and_records_name_the_clients_file(client, server):
    samples = server.services.limits.read_roots[1]
    sample = samples / "riff.wav"
    with AudioFile(str(sample), "w", samplerate=16000, num_channels=1) as f:
        f.write(np.sin(np.linspace(0, 2000, 32000, dtype=np.float32))[None] * 0.5)
    generate(client, "riff", *FAST, "init_audio", str(sample), "strength", 0.5)
    record = json.loads(Path(client.expect("/sonocanvas/done")[4]).read_text())
    assert record["inputs"]["init_audio"] == {"path": str(sample),
                                              "sha256": hashlib.sha256(sample.read_bytes()).hexdigest()}
    assert record["settings"]["init_audio"] == str(sample)
    (text := samples / "text.wav").write_text("not audio")
    generate(client, "riff2", *FAST, "init_audio", str(text))
    assert client.expect("/sonocanvas/queued")[0] == "riff2"
    job_id, field, message = client.expect_error()
    assert (job_id, field) == ("riff2", "init_audio") and str(text) in message and "sonocanvas-ray" not in message
    Image.new("RGB", (200, 80), "white").save(samples / "sun.png")
    client.send("/sonocanvas/encode", "art", str(samples / "sun.png"), "seconds", 1.0)
    _, index, wav, _, record = client.expect("/sonocanvas/done")
    assert Path(wav).name.endswith("_sun_auffusion.wav")
    assert json.loads(Path(record).read_text())["picture_path"] == str(samples / "sun.png")


def test_a_worker_killed_mid_job_fails_that_job_others_finish_and_it_restarts(client, server, cluster):
    assert server.jobs.wait_idle(TIMEOUT)
    other = UdpClient(server.address)
    try:
        generate(client, "doomed", *ENDLESS)
        assert client.expect("/sonocanvas/progress")[0] == "doomed"
        generate(other, "survivor", *LONG)
        other.expect("/sonocanvas/progress")
        (victim,) = [d.pid for d in cluster.describe() if d.jobs == ("doomed",)]
        os.kill(victim, signal.SIGKILL)
        job_id, field, message = client.expect_error()
        assert (job_id, field) == ("doomed", "job")
        assert message.startswith("job: failed: WorkerLost: the Ray worker running this job stopped (")
        assert message.endswith("); it restarts, other jobs go on")
        assert other.expect("/sonocanvas/done")[0] == "survivor"
        pids = {d.pid for d in cluster.describe()}  # waits for the restarted actor to answer
        assert len(pids) == 2 and victim not in pids
        for job_id in ("again1", "again2"):  # both workers take jobs again: the two sample together
            generate(client, job_id, *LONG)
        seen = replies_until(client, "/sonocanvas/done", ("again1", "again2"))
        progress = [args[0] for args in of(seen, "/sonocanvas/progress")]
        assert progress.index("again2") < len(progress) - 1 - progress[::-1].index("again1"), progress
    finally:
        other.close()


def test_queue_positions_count_every_worker():
    """Two workers: the first two jobs start at once; the third waits for one finish, the fourth for two."""
    gate = threading.Event()
    events = queue.Queue()

    class Listener:
        def started(self, job): events.put(("started", job.job_id))
        def progress(self, job, step, total): pass
        def finished(self, job): events.put(("finished", job.job_id))
        def failed(self, job, error): events.put(("failed", job.job_id, error))
        def cancelled(self, job): events.put(("cancelled", job.job_id))

    def run(job, on_step):
        assert gate.wait(TIMEOUT)

    jobs = JobQueue(run, Listener(), workers=2)
    try:
        assert [jobs.submit(Job("c", str(i), None)) for i in range(4)] == [1, 1, 2, 3]
        assert {events.get(timeout=TIMEOUT), events.get(timeout=TIMEOUT)} == {("started", "0"), ("started", "1")}
        running, queued = jobs.status()
        assert running.job_id in ("0", "1") and queued == 2
        gate.set()
        assert jobs.wait_idle(TIMEOUT)
        rest = [events.get(timeout=TIMEOUT) for _ in range(6)]
        assert sorted(e for e in rest if e[0] == "finished") == [("finished", str(i)) for i in range(4)]
    finally:
        jobs.close()


def test_an_unreachable_cluster_stops_serve_with_a_clear_error(tmp_path, sonocanvas_cache):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[test,ray]')")
    config = write_config(tmp_path)
    address = f"127.0.0.1:{free_udp_port()}"  # nothing listens on it
    result = subprocess.run(
        [sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config", str(config), "--models", "tiny-random",
         "--ray", address], capture_output=True, text=True, timeout=120,
        env={**os.environ, "SONOCANVAS_CACHE": str(sonocanvas_cache)},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"sonocanvas serve: ray: cannot reach the Ray cluster at {address}" in result.stderr
    assert "listening" not in result.stdout


def test_a_plain_serve_never_imports_ray(tmp_path, tiny_model_paths, sonocanvas_cache):
    config = write_config(tmp_path)
    script = f"""
import sys
from sonocanvas.bridge.commands.serve import build_server
from sonocanvas.bridge.store.config import load_config
server = build_server(load_config({str(config)!r}).replace(tiny_random=True)).start()
server.close()
print("ray imported:", "ray" in sys.modules, "workers:", server.services.workers)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SONOCANVAS_CACHE": str(sonocanvas_cache)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ray imported: False workers: 1"


@pytest.mark.parametrize("values, field", [
    ({"workers": 2}, "workers"),  # workers without ray
    ({"ray": "local", "workers": 0}, "workers"),
    ({"ray": "local", "workers": True}, "workers"),
    ({"ray": ""}, "ray"),
    ({"ray": 6379}, "ray"),
])
def test_bad_ray_settings_name_their_key(tmp_path, values, field):
    with pytest.raises(ConfigError, match=f"^{field}: ") as refused:
        load_config(write_config(tmp_path, **values))
    assert refused.value.field == field


def test_more_workers_than_the_cluster_has_is_an_error_naming_workers(ray_local, tmp_path):
    from sonocanvas.bridge.studio.cluster import Cluster
    from sonocanvas.bridge.studio.studio import Models

    with pytest.raises(FieldError, match="^workers: 4 workers need a CPU each; the Ray cluster has 3$"):
        Cluster.start("local", 4, Models("unused", {}, "cpu", True), None, "0", 4)
    with pytest.raises(FieldError, match="^device: 'cuda:1' with ray"):
        Cluster.start("local", 1, Models("unused", {}, "cuda:1", True), None, "0", 4)


@pytest.mark.parametrize("address, expected", [
    ("192.168.1.10:6379", ("192.168.1.10", 6379)),
    ("studio-gpu", ("studio-gpu", 6379)),
    ("ray://studio-gpu:10001", ("studio-gpu", 10001)),
    ("[::1]:6380", ("::1", 6380)),
    ("::1", ("::1", 6379)),
])
def test_cluster_addresses(address, expected):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[test,ray]')")
    from sonocanvas.bridge.studio.cluster import _host_port

    assert _host_port(address) == expected


def test_a_bad_cluster_address_names_ray():
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[test,ray]')")
    from sonocanvas.bridge.studio.cluster import _host_port

    with pytest.raises(FieldError, match="^ray: expected local, auto or HOST:PORT"):
        _host_port("studio-gpu:http")


def test_a_worker_that_cannot_load_the_models_stops_start_up_naming_the_model(ray_local, tmp_path):
    from sonocanvas.bridge.studio.cluster import Cluster
    from sonocanvas.bridge.studio.studio import Models

    missing = str(tmp_path / "no-such-model")
    with pytest.raises(FieldError) as refused:
        Cluster.start("local", 1, Models(missing, {}, "cpu"), None, "0", 4)
    assert refused.value.field == "image_model" and missing in str(refused.value)


def test_keep_ranks_on_the_worker_and_each_kept_clip_comes_with_its_scores(client):
    """The scorers the worker found are the ones the server offers; the ranking runs there, the records bring
    the scores back, and each kept clip's `scores` comes before its `done`, best first."""
    assert client.hello()[4] == "clip clap"
    generate(client, "k", *FAST, "variations", 3, "keep", 2, seed=5)
    seen = replies_until(client, "/sonocanvas/done", ("k",))  # the first kept clip
    seen += replies_until(client, "/sonocanvas/done", ("k",))  # the second
    scores = of(seen, "/sonocanvas/scores")
    assert [address for address, _ in seen if address in ("/sonocanvas/scores", "/sonocanvas/done")] == \
        ["/sonocanvas/scores", "/sonocanvas/done"] * 2
    assert [args[1:4] for args in scores] == [[0, 1, 3], [1, 2, 3]]
    for args, done in zip(scores, of(seen, "/sonocanvas/done"), strict=True):
        record = json.loads(Path(done[4]).read_text())
        assert (record["rank"], record["candidates"]) == (args[2], 3)
        assert record["scores"] == pytest.approx(dict(zip(args[4::2], args[5::2], strict=True)), abs=1e-6)

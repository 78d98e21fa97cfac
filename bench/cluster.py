"""Benchmark of jobs on Ray workers (issue 14): jobs per minute with 1 and 2 CPU actors on the tiny-random
models, side by side with the server running jobs in its own process, and the front end's cost per job.

    python3 bench/cluster.py [--jobs 16] [--steps 25] [--rounds 3]

Each row starts a server in this process on a free port (`build_server`, as `serve` does) and one real UDP
client on 127.0.0.1, which sends `--jobs` generate requests at once and waits for every `/done`; the rows
take turns, `--rounds` times, so that load from elsewhere on a shared machine falls on all of them:

- jobs/min: jobs over the wall time from the first request to the last `/done` (a full queue); the median
  of the rounds, and their range.
- latency p50: request -> `/done` for one job at a time (nothing queued), after the rounds.
- front end CPU ms/job: the CPU time of this process (OSC, job queue, Ray calls and the progress relay,
  receiving the clips, the drop folder's files) per job of the batch. With Ray the sampling runs in the
  actors' processes, so this is the front end's overhead alone: it bounds how many GPUs one front end feeds.
  Without Ray it includes the sampling itself (shown for scale only).

Ray runs locally with 3 CPUs (Ray's count: one per actor of both Ray rows, which stay up together), no
dashboard and a 100 MB object store; each actor holds one CPU, so torch runs on one thread in it. The
in-process row sets torch to one thread too, for a fair comparison.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the tests' OSC client and config writer

import ray  # noqa: E402
import torch  # noqa: E402
from osc_helpers import UdpClient, write_config  # noqa: E402
from sonocanvas.bridge.commands.serve import build_server  # noqa: E402
from sonocanvas.bridge.store.config import load_config  # noqa: E402
from sonocanvas.engine.tiny import tiny_models  # noqa: E402


def request(client: UdpClient, job_id: str, steps: int) -> None:
    client.send("/sonocanvas/generate", job_id, "image_prompt", "castle towers", "audio_prompt", "bell ringing",
                "steps", steps, "seed", 7)


def wait_done(client: UdpClient, job_ids: set[str]) -> None:
    waiting = set(job_ids)
    while waiting:
        address, args = client.next(timeout=300)
        assert address != "/sonocanvas/error", args
        if address == "/sonocanvas/done":
            waiting.discard(args[0])


@dataclass
class Row:
    """One way of running jobs: its server, its client, and what was measured."""

    label: str
    workers: int | None  # Ray actors; None: the server's own process
    server: Any = None
    client: Any = None
    per_minute: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)


def start(row: Row, folder: Path, steps: int) -> None:
    values = {"ray": "local", "workers": row.workers} if row.workers else {}
    config = load_config(write_config(folder / row.label.replace(" ", "-"), **values))
    row.server = build_server(config.replace(tiny_random=True)).start()
    row.client = UdpClient(row.server.address)
    request(row.client, "warm-up", steps)  # the first job pays for lazy initialisation
    wait_done(row.client, {"warm-up"})


def batch(row: Row, round_: int, jobs: int, steps: int) -> None:
    """`jobs` requests at once; jobs per minute and this process's CPU per job (the other rows are idle)."""
    ids = {f"{round_}-{i}" for i in range(jobs)}
    cpu, begin = time.process_time(), time.perf_counter()
    for job_id in sorted(ids):
        request(row.client, job_id, steps)
    wait_done(row.client, ids)
    wall, cpu = time.perf_counter() - begin, time.process_time() - cpu
    row.per_minute.append(jobs / wall * 60)
    row.cpu_ms.append(cpu / jobs * 1000)


def alone(row: Row, steps: int, n: int = 5) -> None:
    for i in range(n):
        begin = time.perf_counter()
        request(row.client, f"alone-{i}", steps)
        wait_done(row.client, {f"alone-{i}"})
        row.latency_ms.append((time.perf_counter() - begin) * 1000)


def stop(row: Row) -> None:
    row.client.close()
    row.server.close()
    if row.workers:
        row.server.services.run.__self__.close()  # the Cluster's actors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = [Row("in-process", None), Row("ray 1 actor", 1), Row("ray 2 actors", 2)]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.environ["SONOCANVAS_CACHE"] = str(folder / "cache")  # before Ray starts: its workers inherit it
        tiny_models(root=folder / "cache" / "tiny-random")
        torch.set_num_threads(1)
        ray.init(num_cpus=3, include_dashboard=False, object_store_memory=100 * 1024 * 1024, log_to_driver=False,
                 configure_logging=False)
        try:
            for row in rows:
                start(row, folder, args.steps)
            for round_ in range(args.rounds):  # rounds take turns, so a burst of load elsewhere hits every row
                for row in rows:
                    batch(row, round_, args.jobs, args.steps)
            for row in rows:
                alone(row, args.steps)
        finally:
            for row in rows:
                if row.server is not None:
                    stop(row)
            ray.shutdown()
    print(f"# sonocanvas cluster benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores (load average {os.getloadavg()[0]:.1f} at the end: shared), "
          f"Python {platform.python_version()}, Ray {ray.__version__}, torch {torch.__version__}")
    print(f"# command: python3 bench/cluster.py --jobs {args.jobs} --steps {args.steps} --rounds {args.rounds}")
    print()
    print("| workers | jobs/min (median of rounds) | range | vs in-process | latency p50 ms (alone) "
          "| front end CPU ms/job |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = statistics.median(rows[0].per_minute)
    for r in rows:
        rate, cpu = statistics.median(r.per_minute), statistics.median(r.cpu_ms)
        cpu_text = f"{cpu:.1f}" if r.workers else f"({cpu:.0f}, sampling included)"
        print(f"| {r.label} | {rate:.1f} | {min(r.per_minute):.0f}-{max(r.per_minute):.0f} | {rate / base:.2f}x "
              f"| {statistics.median(r.latency_ms):.0f} | {cpu_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

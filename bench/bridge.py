"""Benchmark of the engine server (issues 4 and 15): OSC round trip of /sonocanvas/status, the time from the
sampler's last step to /sonocanvas/done for a 10.24 s clip (resample to 48 kHz, effect chain, WAV, PNGs, JSON),
and under faults: the worst /status round trip while a TCP client stalls, memory before and after a fuzz, and
(issue 24) /status while 64 TCP clients trickle endless frames at 10 KiB/s each or flood /sonocanvas/limits.

    python3 bench/bridge.py [--requests 5000] [--clips 20] [--fuzz 5000] [--load-seconds 15]

The server runs in this process on a free port with its real handlers, journal and drop folder; the
clients are real sockets on 127.0.0.1. The finish stage is fed a 10.24 s 16 kHz clip straight from
memory (as the pipeline hands it over), so the model's own speed does not enter the number.
Targets: status p99 <= 5 ms, last step -> done <= 100 ms; under trickle or flood, status p99 <= 10 ms.
For those two rows the trickling or flooding clients and the /status prober each run in a process of their
own, so that none of them shares the server's GIL: the times are what a client sees.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import logging
import multiprocessing
import os
import platform
import random
import selectors
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from pedalboard.io import StreamResampler
from PIL import Image
from pythonosc import slip
from pythonosc.osc_message import OscMessage
from sonocanvas.bridge.jobs.journal import Journal
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.osc.wire import encode_bundle
from sonocanvas.bridge.osc.wire import encode_message as build_message
from sonocanvas.bridge.output.drop import DropFolder, _png_bytes, finish
from sonocanvas.bridge.output.effects import EffectChains
from sonocanvas.bridge.request.build import Limits, Output
from sonocanvas.bridge.store.paths import shipped_presets_dir
from sonocanvas.engine.audio import write_audio
from sonocanvas.engine.pipeline import Clip
from sonocanvas.engine.spectrogram import get_format

SECONDS = 10.24
RATE = 16000


def make_clip() -> Clip:
    """A 10.24 s 16 kHz clip with its real Auffusion spectrogram (256 x 1024) and a colour picture of that size."""
    rng = np.random.default_rng(0)
    t = np.arange(int(SECONDS * RATE)) / RATE
    audio = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-(t % 1.0) * 3) + 0.02 * rng.standard_normal(t.size))
    audio = audio.astype(np.float32)
    fmt = get_format("auffusion")
    spectrogram = fmt.png(fmt.picture_from_audio(torch.from_numpy(audio)))
    picture = Image.fromarray(rng.integers(0, 256, (spectrogram.height, spectrogram.width, 3), dtype=np.uint8))
    return Clip(index=0, seed=1, audio=audio, sample_rate=RATE, spectrogram=spectrogram, picture=picture,
                record={"sonocanvas": "bench", "samples": audio.size, "sample_rate": RATE})


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ms = np.array(values) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(ms.max())


def udp_status(address, n: int, gap: float = 0.0) -> list[float]:
    """`n` UDP /status round trips (after 50 of warm-up), `gap` seconds apart, so that a run under load samples
    the whole of it rather than one moment."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    request = build_message("/sonocanvas/status")
    times = []
    for i in range(n + 50):
        if gap:
            time.sleep(gap)
        start = time.perf_counter()
        sock.sendto(request, address)
        data = sock.recv(65536)
        elapsed = time.perf_counter() - start
        assert OscMessage(data).address == "/sonocanvas/status"
        if i >= 50:  # warm-up
            times.append(elapsed)
    sock.close()
    return times


def tcp_status(address, n: int) -> list[float]:
    sock = socket.create_connection(address, timeout=2.0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frame = slip.encode(build_message("/sonocanvas/status"))
    times, buffer = [], b""
    for i in range(n + 50):
        start = time.perf_counter()
        sock.sendall(frame)
        while buffer.count(slip.END) < 2:
            buffer += sock.recv(65536)
        packet, _, buffer = buffer[1:].partition(slip.END)
        elapsed = time.perf_counter() - start
        assert OscMessage(slip.decode(packet)).address == "/sonocanvas/status"
        if i >= 50:
            times.append(elapsed)
    sock.close()
    return times


def finish_times(server: Server, drop: DropFolder, clip: Clip, fx: str, n: int) -> list[float]:
    """From the runner's last step to the /done datagram arriving at the client, through the server."""
    last_step: dict[str, float] = {}

    def run(job, on_step, done):
        on_step(100, 100)
        last_step[job.job_id] = time.perf_counter()
        dropped = drop.drop(clip, job.request.output, f"bench_{job.job_id}", dict(clip.record))
        done(0, dropped.wav, dropped.png, dropped.json)

    server.services.run = run
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(30)
    times = []
    for i in range(n + 2):
        job_id = f"{fx or 'dry'}-{i}"
        keys = ["sample_rate", 48000] + (["fx", fx] if fx else [])
        sock.sendto(build_message("/sonocanvas/generate", job_id, "image_prompt", "a", "audio_prompt", "b",
                                  "steps", 100, *keys), server.address)
        while True:
            message = OscMessage(sock.recv(65536))
            if message.address == "/sonocanvas/done":
                arrived = time.perf_counter()
                break
            assert message.address != "/sonocanvas/error", message.params
        if i >= 2:
            times.append(arrived - last_step[job_id])
    sock.close()
    return times


def status_while_a_client_stalls(address, n: int) -> list[float]:
    """UDP /status round trips while a TCP client sends requests for large replies and never reads them."""
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(address)
    stuck.settimeout(5)
    flood = slip.encode(build_message("/sonocanvas/fx/list")) * 200

    def stall() -> None:
        try:
            while True:
                stuck.sendall(flood)
        except OSError:
            pass  # the server hung up on it, as it should (or stopped reading it: the socket's timeout)

    staller = threading.Thread(target=stall, daemon=True)
    staller.start()
    try:
        return udp_status(address, n)
    finally:
        staller.join(30)  # until the server hangs up: its place is free before the next row needs all 64
        stuck.close()


TRICKLE_RATE = 10 * 1024  # bytes a second per trickling connection: the audit's 10 KiB/s
LOAD_CONNECTIONS = 64


def load(mode: str, address: tuple[str, int], connections: int, ready, stop, results) -> None:
    """The other process of the trickle and flood rows: `connections` TCP clients driven by one selector loop.

    trickle: each sends an endless frame (an END, then bytes that never end it) at TRICKLE_RATE, and connects
    again whenever the server closes it; `results` gets how many times it did, by the reason the server gave.
    flood: each keeps 32 /sonocanvas/limits requests in flight and reads every reply; `results` gets how many
    replies came."""
    selector = selectors.DefaultSelector()
    counts = {"closed": 0, "timed out": 0, "turned away": 0, "replies": 0}
    request = slip.encode(build_message("/sonocanvas/limits"))

    def connect() -> socket.socket:
        sock = socket.create_connection(address, timeout=5)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if mode == "trickle":
            sock.send(slip.END)
            selector.register(sock, selectors.EVENT_READ, data=bytearray())  # what the server said
        else:
            sock.send(request * 32)
            selector.register(sock, selectors.EVENT_READ, data=[32])  # requests in flight
        return sock

    socks = [connect() for _ in range(connections)]
    ready.set()
    tick = 0.05
    chunk = b"x" * int(TRICKLE_RATE * tick)
    next_tick = time.monotonic()
    while not stop.is_set():
        for key, _ in selector.select(timeout=tick if mode == "trickle" else 0.5):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # the server closed it: as a slowloris client would, come back at once
                counts["closed"] += 1
                if mode == "trickle":
                    counts["timed out"] += b"no complete frame" in key.data
                    counts["turned away"] += b"too many TCP connections" in key.data
                selector.unregister(sock)
                sock.close()
                socks[socks.index(sock)] = connect()
                continue
            if mode == "trickle":
                key.data.extend(data)
            else:
                answered = data.count(slip.END) // 2  # each reply is END message END; an END is never escaped
                counts["replies"] += answered
                key.data[0] -= answered
                if key.data[0] <= 16:
                    try:
                        sock.send(request * 16)
                        key.data[0] += 16
                    except BlockingIOError:
                        pass
        if mode == "trickle" and time.monotonic() >= next_tick:
            next_tick += tick
            for sock in socks:
                try:
                    sock.send(chunk)
                except OSError:
                    pass  # closed under it: the read above reconnects
    for sock in socks:
        sock.close()
    results.put(counts)


def probe(address: tuple[str, int], n: int, gap: float, start, results) -> None:
    """The /status prober of the trickle and flood rows, in a process of its own: a client's view of the
    server, not delayed by the server's threads holding this process's GIL."""
    start.wait()
    results.put(udp_status(address, n, gap))


def status_under_load(mode: str, address, n: int, seconds: float) -> tuple[list[float], float, dict[str, int]]:
    """UDP /status round trips spread over `seconds` (from a process of their own) while another process's
    LOAD_CONNECTIONS TCP clients trickle or flood; also the share of a core the server used meanwhile."""
    context = multiprocessing.get_context("spawn")
    ready, go, stop, results, probed = (context.Event(), context.Event(), context.Event(), context.Queue(),
                                        context.Queue())
    loader = context.Process(target=load, args=(mode, address, LOAD_CONNECTIONS, ready, stop, results), daemon=True)
    prober = context.Process(target=probe, args=(address, n, max(0.0, seconds / n - 0.0005), go, probed),
                             daemon=True)
    loader.start()
    prober.start()
    try:
        if not ready.wait(120):
            raise RuntimeError(f"the {mode} clients did not connect")
        time.sleep(1.0)  # let the load reach its steady state before sampling
        wall, cpu = time.perf_counter(), time.process_time()
        go.set()
        times = probed.get(timeout=seconds * 10 + 120)
        share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    finally:
        stop.set()
        go.set()
    counts = results.get(timeout=30)
    loader.join(30)
    prober.join(30)
    return times, share, counts


def rss_mib() -> float:
    """This process's resident memory now (Linux /proc; the server runs in this process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def nested(depth: int, inner: bytes) -> bytes:
    """`inner` in `depth` bundles, built in one join (wrapping one bundle at a time copies quadratically)."""
    header = encode_bundle()
    sizes = [len(inner) + (len(header) + 4) * level for level in range(depth)]
    return b"".join(header + struct.pack(">i", size) for size in reversed(sizes)) + inner


def fuzz(address, n: int) -> None:
    """`n` seeded junk packets over UDP (random bytes, lying sizes, deep bundles, unknown tags) and 8 TCP
    connections each sending a 1 MiB frame of nested bundles; every ten end with an answered /status."""
    rng = random.Random(15)
    status = build_message("/sonocanvas/status")
    deep = nested(3000, status)
    junk = [b"#bundle\x00" + struct.pack(">Qi", 1, -4), deep, b"/sonocanvas/status\x00\x00,X" + b"X" * 60000,
            b"#bundle\x00" + struct.pack(">Qi", 1, 2**31 - 1)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    for _ in range(0, n, 10):  # ten at a time: a 64 KB datagram fills a socket buffer fast
        for _ in range(10):
            sock.sendto(rng.choice(junk) if rng.random() < 0.3 else rng.randbytes(rng.randint(1, 512)), address)
        sock.sendto(status, address)
        while OscMessage(sock.recv(65536)).address != "/sonocanvas/status":
            pass
    big = nested(((1 << 20) - len(status)) // 20, status)
    connections = [socket.create_connection(address, timeout=30) for _ in range(8)]
    for conn in connections:
        conn.sendall(slip.encode(big) + slip.encode(status))
    for conn in connections:
        buffer = b""
        while b"/sonocanvas/status" not in buffer:
            buffer += conn.recv(65536)
        conn.close()
    sock.close()


def stage_times(clip: Clip, chains: EffectChains, folder: Path, n: int) -> list[tuple[str, list[float]]]:
    """Each part of the finish stage alone, one after the other (where the time goes)."""
    output = Output(sample_rate=48000)
    stages: dict[str, list[float]] = {k: [] for k in (
        "resample 16 -> 48 kHz (soxr, as the drop does)", "same with pedalboard's StreamResampler (not used)",
        "fx space", "WAV 24-bit (atomic, fsync)", "spectrogram PNG bytes",
        "picture PNG bytes")}
    for i in range(n):
        t0 = time.perf_counter()
        audio = finish(clip.audio, clip.sample_rate, output)
        t1 = time.perf_counter()
        resampler = StreamResampler(float(clip.sample_rate), 48000.0, 1)  # its default WindowedSinc32
        np.concatenate([resampler.process(clip.audio[None]), resampler.process(None)], axis=1)
        t2 = time.perf_counter()
        chains.apply("space", audio, 48000)
        t3 = time.perf_counter()
        write_audio(folder / f"stage-{i}.wav", audio, 48000, 24, exclusive=True)
        t4 = time.perf_counter()
        _png_bytes(clip.spectrogram)
        t5 = time.perf_counter()
        _png_bytes(clip.picture)
        t6 = time.perf_counter()
        for key, seconds in zip(stages, np.diff([t0, t1, t2, t3, t4, t5, t6]), strict=True):
            stages[key].append(seconds)
    return list(stages.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--fuzz", type=int, default=5000)
    parser.add_argument("--load-seconds", type=float, default=15.0,
                        help="how long each of the trickle and flood rows samples /status")
    args = parser.parse_args()
    logging.getLogger("sonocanvas").setLevel(logging.ERROR)  # the junk is the point here, not its log lines
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        chains = EffectChains.load(shipped_presets_dir() / "effects" / "catalogue.yaml")
        drop = DropFolder(folder / "drop", chains)
        services = Services(
            run=lambda *a: None,
            limits=Limits((drop.folder,), frozenset(chains.names()), frozenset({"auffusion"})),
            journal=Journal(folder / "journal.sqlite3"), version=importlib.metadata.version("sonocanvas"),
            device="cpu", models="bench",
        )
        clip = make_clip()
        with Server(services, port=0) as server:
            rows = [
                ("/status round trip, UDP", percentiles(udp_status(server.address, args.requests)), 5.0, args.requests),
                ("/status round trip, TCP+SLIP", percentiles(tcp_status(server.address, args.requests)), 5.0,
                 args.requests),
            ]
            for fx in ("", "space", "tape"):
                label = f"last step -> /done, 10.24 s, 48 kHz, {'fx ' + fx if fx else 'no fx'}"
                rows.append((label, percentiles(finish_times(server, drop, clip, fx, args.clips)), 100.0, args.clips))
            stalled = min(args.requests, 1000)
            rows.append(("/status round trip, UDP, while a TCP client stalls", percentiles(
                status_while_a_client_stalls(server.address, stalled)), 5.0, stalled))
            under_load = min(args.requests, 2000)
            loads = {}
            for mode, label in (("trickle", f"{LOAD_CONNECTIONS} TCP clients trickle endless frames at 10 KiB/s"),
                                ("flood", f"{LOAD_CONNECTIONS} TCP clients flood /limits")):
                times, share, counts = status_under_load(mode, server.address, under_load, args.load_seconds)
                loads[mode] = (share, counts)
                rows.append((f"/status round trip, UDP, while {label}", percentiles(times), 10.0, under_load))
            rss_before = rss_mib()
            start = time.perf_counter()
            fuzz(server.address, args.fuzz)
            fuzz_seconds = time.perf_counter() - start
            rss_after = rss_mib()
        stages = stage_times(clip, chains, folder, args.clips)
    print(f"# sonocanvas bridge benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores (load average {os.getloadavg()[0]:.1f} at the end: shared), "
          f"Python {platform.python_version()}")
    print(f"# command: python3 bench/bridge.py --requests {args.requests} --clips {args.clips} --fuzz {args.fuzz} "
          f"--load-seconds {args.load_seconds:g}")
    print()
    print("| measure | n | p50 ms | p99 ms | max ms | target p99 ms | met |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, (p50, p99, worst), target, n in rows:
        met = "yes" if p99 <= target else "NO"
        print(f"| {label} | {n} | {p50:.2f} | {p99:.2f} | {worst:.2f} | {target:g} | {met} |")
    print()
    print("| under faults | value |")
    print("| --- | ---: |")
    print(f"| RSS before the fuzz (server and bench in one process) | {rss_before:.0f} MiB |")
    print(f"| RSS after {args.fuzz} junk datagrams and 8 TCP frames of 1 MiB nested bundles | {rss_after:.0f} MiB |")
    print(f"| fuzz time, answered status after every 10 | {fuzz_seconds:.2f} s |")
    share, counts = loads["trickle"]
    print(f"| CPU of the server while {LOAD_CONNECTIONS} clients trickle | "
          f"{share * 100:.0f} % of a core |")
    print(f"| trickling connections the server closed: for no complete frame in 10 s; turned away (all 64 taken); "
          f"in all | {counts['timed out']}; {counts['turned away']}; {counts['closed']} |")
    share, counts = loads["flood"]
    print(f"| CPU of the server while {LOAD_CONNECTIONS} clients flood /limits | {share * 100:.0f} % of a core |")
    print(f"| /limits replies the flooding clients read | {counts['replies']} |")
    print()
    print("Where the time goes (each part alone, in sequence; the drop runs the PNGs and the side files in parallel):")
    print()
    print("| part | p50 ms |")
    print("| --- | ---: |")
    for label, times in stages:
        print(f"| {label} | {statistics.median(times) * 1000:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

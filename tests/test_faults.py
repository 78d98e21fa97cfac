"""The server under attack and faults (issue 15): a bounded, seeded fuzz over UDP and TCP, each audit
finding's reproduction (D1-D15), the token, the log, and a kill -9 mid-write. After every batch the
server must answer `/sonocanvas/status`, stay near idle and keep its memory bounded.

CPU time and memory are read from /proc (Linux, as CI runs). Every wait is on a reply with a deadline;
the idle checks wait out a window in which no reply may come and measure the CPU used meanwhile."""
from __future__ import annotations

import errno
import functools
import logging
import queue
import random
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from osc_helpers import TIMEOUT, BareServeProcess, ServeProcess, TcpClient, UdpClient, message, write_config
from pythonosc import slip
from sonocanvas.bridge.jobs.journal import RESTART_MESSAGE, Journal
from sonocanvas.bridge.jobs.queue import QueueBounds
from sonocanvas.bridge.log import setup as setup_logging
from sonocanvas.bridge.osc import transport as transport_module
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.osc.transport import BACKLOG, MAX_UDP_REPLY, Transport, UdpPeer, bind_pair
from sonocanvas.bridge.osc.wire import MAX_MESSAGES, decode_packet, encode_bundle, encode_message
from sonocanvas.bridge.output import drop as drop_module
from sonocanvas.bridge.output.drop import DropFolder
from sonocanvas.bridge.request.build import Limits, Output
from sonocanvas.bridge.request.presets import PresetStore
from sonocanvas.bridge.store.paths import shipped_presets_dir

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time and memory from /proc")

IDLE_WINDOW = 1.0  # seconds in which an idle server must send nothing and use almost no CPU
IDLE_CPU = 0.1  # CPU seconds allowed in that window: a spinning thread would use about IDLE_WINDOW
RSS_GROWTH = 64 << 20  # bytes the fuzz may add to the server's memory, all batches together


# A server in its own process, and the checks after each batch ------------------------------------


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    process = BareServeProcess(tmp_path_factory.mktemp("bare"))
    probe = UdpClient(process.address)
    probe.send("/sonocanvas/status")
    probe.expect("/sonocanvas/status")
    probe.close()
    process.baseline_rss = process.rss_bytes()
    yield process
    assert process.stop() == 0


def assert_healthy(server: BareServeProcess) -> None:
    """It answers status, sends nothing unasked, uses almost no CPU while idle, and its memory is bounded."""
    probe = UdpClient(server.address)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:  # a fuzzed request that was valid may still be running
            probe.send("/sonocanvas/status")
            if probe.expect("/sonocanvas/status")[:2] == ["", 0]:
                break
            assert time.monotonic() < deadline, "the server never became idle"
        before = server.cpu_seconds()
        with pytest.raises(queue.Empty):
            probe.q.get(timeout=IDLE_WINDOW)
        used = server.cpu_seconds() - before
        assert used < IDLE_CPU, f"{used:.2f} s of CPU in {IDLE_WINDOW} s idle: a thread spins"
        assert server.rss_bytes() - server.baseline_rss < RSS_GROWTH, (server.rss_bytes(), server.baseline_rss)
    finally:
        probe.close()


def padded(text: bytes) -> bytes:
    return text + b"\x00" * (4 - len(text) % 4)


def nested(depth: int, inner: bytes) -> bytes:
    """`inner` in `depth` bundles, built in one join (wrapping one bundle at a time copies quadratically)."""
    header = encode_bundle()  # "#bundle", the time tag, no elements: 16 bytes
    sizes = [len(inner) + (len(header) + 4) * level for level in range(depth)]  # each bundle's one element
    return b"".join(header + struct.pack(">i", size) for size in reversed(sizes)) + inner


def malicious(port: int) -> list[bytes]:
    """The audit's reproductions and their neighbours: sizes that lie, depth, counts, unknown tags."""
    status = message("/sonocanvas/status")
    return [
        b"#bundle\x00" + struct.pack(">Qi", 1, -4),  # D1
        b"#bundle\x00" + struct.pack(">Qi", 1, 2**31 - 1) + status,
        b"#bundle\x00" + struct.pack(">Qi", 1, 0) + status,
        b"#bundle\x00" + struct.pack(">Qi", 1, 6) + status,  # not a multiple of 4
        b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", len(status)) + status[:-4],  # cut short
        nested(3000, status),  # D6 in one datagram
        encode_bundle(*[status] * (MAX_MESSAGES + 1)),
        padded(b"/sonocanvas/status") + padded(b"," + b"X" * 60000),  # D7
        padded(b"/sonocanvas/status") + padded(b",s") + b"no terminating nul",
        padded(b"/sonocanvas/status") + padded(b",b") + struct.pack(">i", -8),
        padded(b"/sonocanvas/status") + padded(b",b") + struct.pack(">i", 1 << 30),
        padded(b"/sonocanvas/status") + padded(b",i") + b"\x00\x00",
        padded(b"/sonocanvas/status") + padded(b"," + b"i" * 300) + bytes(1200),
        padded(b"/sonocanvas/status") + padded(b",s") + padded(b"\xff\xfe"),
        padded(b"/sonocanvas/status\xff"),
        message("/sonocanvas/hello", port),  # D2
        message("/sonocanvas/generate", "g", "image_prompt", "a", "audio_prompt", "b", "reply_port", port),  # D2
        message("/sonocanvas/generate", "1", "", "x"),  # D14
        message("/sonocanvas/error", "", "packet", "a reply sent back to the server"),
        message("/sonocanvas/generate", "p", "image_prompt", "x" * 5000, "audio_prompt", "b"),
    ]


@functools.lru_cache(maxsize=2)
def _malicious_for(port: int) -> tuple[bytes, ...]:
    return tuple(malicious(port))  # built once: the 3,000-deep bundle alone costs a moment


TEMPLATES = [
    message("/sonocanvas/status"),
    message("/sonocanvas/fx/list"),
    message("/sonocanvas/preset/list"),
    message("/sonocanvas/cancel", "zz"),
    message("/sonocanvas/generate", "f", "image_prompt", "a", "steps", 2, "audio_weight", 0.5),
    message("/sonocanvas/encode", "f", "/etc/hosts", "seconds", 2.0),
    encode_bundle(message("/sonocanvas/status"), encode_bundle(message("/sonocanvas/fx/list"))),
]


def mutate(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    for _ in range(rng.randint(1, 4)):
        choice, i = rng.random(), rng.randrange(len(data))
        if choice < 0.4:
            data[i] = rng.randrange(256)
        elif choice < 0.55:
            data[i:i + 4] = struct.pack(">i", rng.choice([-4, -1, 0, 3, 2**31 - 1, rng.randrange(-2**31, 2**31)]))
        elif choice < 0.7:
            del data[i:i + rng.randint(1, 8)]
        elif choice < 0.85:
            data[i:i] = rng.randbytes(rng.randint(1, 8))
        else:
            data = data[:i]
        if not data:
            data = bytearray(b"\x00")
    return bytes(data)


def random_packet(rng: random.Random, port: int) -> bytes:
    kind = rng.random()
    if kind < 0.2:
        return rng.randbytes(rng.randint(1, 300))
    if kind < 0.3:
        return b"#bundle\x00" + rng.randbytes(rng.randint(0, 64))
    if kind < 0.4:
        return rng.choice(_malicious_for(port))
    if kind < 0.5:
        return nested(rng.randint(0, 20), mutate(rng, rng.choice(TEMPLATES)))
    return mutate(rng, rng.choice(TEMPLATES))


# The fuzz ----------------------------------------------------------------------------------------


def sync(client: UdpClient, sentinel: str) -> None:
    """Wait until the server has read all that `client` sent: UDP is read in order, so once a cancel of
    `sentinel` is answered, everything before it was. No reply on the way is a fault of the server's own."""
    client.send("/sonocanvas/cancel", sentinel)
    while True:
        address, args = client.next()
        assert address != "/sonocanvas/error" or args[1] != "server", args
        if address == "/sonocanvas/error" and args[0] == sentinel:
            return


def test_udp_and_tcp_fuzz_leaves_the_server_answering_idle_and_bounded(bare):
    """5,000 seeded packets: 3,000 over UDP in five batches, 2,000 SLIP frames over four TCP connections."""
    rng = random.Random(15)
    port = bare.address[1]
    fuzzer = UdpClient(bare.address)
    sent = 0
    try:
        for batch in range(5):
            for group in range(12):  # 50 at a time, so that the socket buffers never drop one
                for _ in range(50):
                    fuzzer.send_raw(random_packet(rng, port))
                    sent += 1
                sync(fuzzer, f"sentinel-{batch}-{group}")
            assert_healthy(bare)
    finally:
        fuzzer.close()
    clients = [TcpClient(bare.address) for _ in range(4)]
    try:
        for client in clients:
            frames = [slip.encode(random_packet(rng, port)) for _ in range(480)]
            frames += [rng.randbytes(rng.randint(1, 64)) + slip.END for _ in range(19)]  # bad escapes, junk
            frames.append(slip.encode(nested(60000, message("/sonocanvas/status"))[:1 << 20]))  # D6: ~1 MiB frame
            client.send_raw(b"".join(frames))
            sent += len(frames)
            client.send("/sonocanvas/status")
            while client.next()[0] != "/sonocanvas/status":  # TCP is read in order too
                pass
            assert all(args[1] != "server" for address, args in client.seen if address == "/sonocanvas/error")
    finally:
        for client in clients:
            client.close()
    assert sent >= 5000
    assert_healthy(bare)
    again = TcpClient(bare.address)  # the connections' places are free again
    try:
        again.send("/sonocanvas/status")
        assert again.expect("/sonocanvas/status")[1] == 0
    finally:
        again.close()


# Each finding's reproduction ---------------------------------------------------------------------


def test_d1_a_bundle_element_of_negative_size_is_refused_over_udp_and_tcp(bare):
    udp = UdpClient(bare.address)
    tcp = TcpClient(bare.address)
    try:
        udp.send_raw(b"#bundle\x00" + struct.pack(">Qi", 1, -4))
        job_id, field, reason = udp.expect("/sonocanvas/error")
        assert (job_id, field) == ("", "packet") and "-4" in reason
        tcp.send_raw(slip.encode(b"#bundle\x00" + struct.pack(">Qi", 1, -4)))
        assert tcp.expect("/sonocanvas/error")[1] == "packet"
    finally:
        udp.close()
        tcp.close()
    assert_healthy(bare)  # nothing spins after the TCP client left


def test_d2_the_servers_own_port_is_refused_as_a_reply_port(bare):
    client = UdpClient(bare.address)
    try:
        client.send("/sonocanvas/hello", bare.address[1])
        assert client.expect("/sonocanvas/error")[1] == "reply_port"
        client.send("/sonocanvas/generate", "g", "image_prompt", "a", "audio_prompt", "b",
                    "reply_port", bare.address[1])
        job_id, field, reason = client.expect("/sonocanvas/error")
        assert (job_id, field) == ("g", "reply_port") and "own port" in reason
    finally:
        client.close()
    assert_healthy(bare)  # no loop with itself


def test_d2_on_a_wildcard_address_every_local_address_is_its_own():
    udp, tcp = bind_pair("0.0.0.0", 0)
    transport = Transport((udp, tcp), lambda *a: None, lambda *a: None, lambda *a: None)
    try:
        port = transport.address[1]
        assert transport.is_self("127.0.0.1", port) and transport.is_self("127.0.0.2", port)
        assert not transport.is_self("127.0.0.1", port + 1) and not transport.is_self("192.0.2.1", port)
    finally:
        transport.close()


def test_d6_deep_bundles_in_one_mebibyte_frame_cost_no_memory(bare):
    deep = slip.encode(nested(60000, message("/sonocanvas/status"))[:1 << 20])
    clients = [TcpClient(bare.address) for _ in range(8)]
    try:
        for client in clients:
            client.send_raw(deep)
        for client in clients:
            assert client.expect("/sonocanvas/error")[1] == "packet"
    finally:
        for client in clients:
            client.close()
    assert_healthy(bare)


def test_d7_an_unknown_type_tag_costs_one_short_answer():
    """Refused at the type tags, before any argument is read, with a reason that does not echo the input."""
    with pytest.raises(ValueError, match=r"^packet: more than 256 arguments$"):
        decode_packet(padded(b"/sonocanvas/status") + padded(b"," + b"X" * 65000))
    with pytest.raises(ValueError, match=r"^packet: unsupported type tag 'X' at argument 2$"):
        decode_packet(padded(b"/sonocanvas/status") + padded(b",iX") + bytes(4) + b"X" * 60000)
    with pytest.raises(ValueError, match=r"^packet: unsupported type tag '\\x07' at argument 1$"):
        decode_packet(padded(b"/sonocanvas/status") + padded(b",\x07"))


def test_the_decoder_agrees_with_python_osc_on_what_both_read():
    """Our decoder against an independent one: python-osc's reading of the same well-formed packets."""
    from pythonosc.osc_message import OscMessage

    rng = random.Random(3)
    for _ in range(200):
        args = [rng.choice([rng.randint(-2**31, 2**31 - 1), rng.random(), "ünï" * rng.randint(0, 5),
                            rng.randbytes(rng.randint(0, 9)), 2**40]) for _ in range(rng.randint(0, 8))]
        data = encode_message("/x/y", *args)
        (ours,) = decode_packet(data)
        theirs = OscMessage(data)
        assert ours.address == theirs.address
        assert ours.args == pytest.approx(list(theirs.params))


# In-process servers for the rest ------------------------------------------------------------------


class Runner:
    """A job runner without models: each job takes two steps, waiting at its gate if the test set one."""

    def __init__(self):
        self.gates: dict[str, threading.Event] = {}

    def __call__(self, job, on_step, done):
        gate = self.gates.get(job.job_id)
        on_step(1, 2)
        deadline = time.monotonic() + TIMEOUT
        while gate is not None and not gate.wait(0.01) and not job.cancelled.is_set():  # a model's steps
            assert time.monotonic() < deadline
        on_step(2, 2)  # raises JobCancelled if it was


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(token: str = "", bounds: QueueBounds | None = None, fx=frozenset({"space"}), host="127.0.0.1"):
        runner = Runner()
        services = Services(run=runner, limits=Limits((tmp_path,), fx, frozenset({"auffusion"})),
                            journal=Journal(tmp_path / f"journal-{len(servers)}.sqlite3"), version="test",
                            device="cpu", models="none", token=token,
                            presets=PresetStore(shipped_presets_dir(), tmp_path / "presets"))
        server = Server(services, host=host, port=0, bounds=bounds).start()
        server.runner = runner
        servers.append(server)
        return server

    yield make
    for server in servers:
        for gate in server.runner.gates.values():
            gate.set()
        server.close()


def test_d3_a_journal_failure_fails_that_job_clearly_and_the_next_runs(make_server, monkeypatch, caplog):
    server = make_server()
    journal = server.services.journal
    real = journal.set_state

    def set_state(id, state, message=""):
        if state == "running" and id == 1:
            raise sqlite3.OperationalError("database is locked")
        if state == "done" and id == 2:
            raise sqlite3.OperationalError("database or disk is full")
        real(id, state, message)

    monkeypatch.setattr(journal, "set_state", set_state)
    client = UdpClient(server.address)
    try:
        for job_id in ("locked", "full", "after"):
            client.send("/sonocanvas/generate", job_id, "image_prompt", "a", "audio_prompt", "b")
        while client.next() != ("/sonocanvas/progress", ["after", 2, 2]):
            pass  # "after" ran to its end
        seen = [(address, args[0]) for address, args in client.seen if address != "/sonocanvas/queued"]
        assert seen == [("/sonocanvas/error", "locked"), ("/sonocanvas/progress", "full"),
                        ("/sonocanvas/progress", "full"), ("/sonocanvas/progress", "after"),
                        ("/sonocanvas/progress", "after")]  # "full" finished though its end was not journalled
        (error,) = [args for address, args in client.seen if address == "/sonocanvas/error"]
        assert error[1] == "journal" and "database is locked" in error[2] and "did not run" in error[2]
        assert server.jobs.wait_idle(TIMEOUT)
    finally:
        client.close()
    assert any(r.exc_info and "could not journal its start" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info and "recording that failed" in r.getMessage() for r in caplog.records)
    # Still in WAL mode, as its file's header says (bytes 18 and 19, the write and read versions: 2 for WAL,
    # https://www.sqlite.org/fileformat.html#file_format_version_numbers); the server holds it locked to others.
    assert journal.path.read_bytes()[18:20] == b"\x02\x02"


def test_d4_another_sender_can_neither_cancel_a_job_nor_take_over_its_client(make_server):
    server = make_server()
    server.runner.gates["mine"] = threading.Event()
    victim, other = UdpClient(server.address), UdpClient(server.address)
    try:
        secret = victim.hello()[3]
        assert re.fullmatch("[0-9a-f]{32}", secret)
        victim.send("/sonocanvas/generate", "mine", "image_prompt", "a", "audio_prompt", "b")
        victim.expect("/sonocanvas/progress")
        other.send("/sonocanvas/cancel", "mine", "reply_port", victim.port)  # the audit's attack
        assert victim.expect("/sonocanvas/error")[:2] == ["mine", "job_id"]  # refused (told at that reply port)
        other.send("/sonocanvas/hello", victim.port)  # a hello names only its own sender's reply port
        assert other.sock.getsockname() != victim.sock.getsockname()
        victim.expect("/sonocanvas/ready")
        other.send("/sonocanvas/cancel", "mine")
        assert victim.expect("/sonocanvas/error")[:2] == ["mine", "job_id"]
        other.send("/sonocanvas/cancel", "mine", "client", "0" * 32)
        assert victim.expect("/sonocanvas/error")[:2] == ["mine", "client"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as fresh:  # the client itself, from a new port
            fresh.sendto(message("/sonocanvas/cancel", "mine", "client", secret), server.address)
        assert victim.expect("/sonocanvas/cancelled") == ["mine"]  # at the reply port of its hello
    finally:
        victim.close()
        other.close()


def test_d5_bounds_refuse_before_anything_runs(make_server):
    server = make_server(bounds=QueueBounds(per_client=1, total=2))
    server.runner.gates["run"] = threading.Event()
    client, other = UdpClient(server.address), UdpClient(server.address)
    try:
        client.send("/sonocanvas/generate", "big", "image_prompt", "a", "audio_prompt", "b", "bars", 64, "bpm", 20.0,
                    "sample_rate", 192000, "bit_depth", 32, "fx", "space")  # the audit's 1.18 GB request
        assert client.expect("/sonocanvas/error")[:2] == ["big", "bars"]  # longer than a clip may be
        client.send("/sonocanvas/generate", "wide", "image_prompt", "a", "audio_prompt", "b", "seconds", 60.0,
                    "variations", 8, "sample_rate", 192000, "fx", "space")  # each key in range, 3,840 s in all
        job_id, field, reason = client.expect("/sonocanvas/error")
        assert (job_id, field) == ("wide", "seconds") and "900 s" in reason
        client.send("/sonocanvas/generate", "long", "image_prompt", "x" * 1001, "audio_prompt", "b")
        assert client.expect("/sonocanvas/error")[:2] == ["long", "image_prompt"]
        client.send("/sonocanvas/generate", "run", "image_prompt", "a", "audio_prompt", "b")
        assert client.expect("/sonocanvas/queued") == ["run", 1]
        client.expect("/sonocanvas/progress")
        client.send("/sonocanvas/generate", "wait", "image_prompt", "a", "audio_prompt", "b")
        assert client.expect("/sonocanvas/queued") == ["wait", 2]
        client.send("/sonocanvas/generate", "more", "image_prompt", "a", "audio_prompt", "b")
        assert client.expect("/sonocanvas/error")[:2] == ["more", "queue"]
        other.send("/sonocanvas/generate", "o1", "image_prompt", "a", "audio_prompt", "b")
        assert other.expect("/sonocanvas/queued") == ["o1", 3]
        other.send("/sonocanvas/generate", "o2", "image_prompt", "a", "audio_prompt", "b")
        assert other.expect("/sonocanvas/error")[:2] == ["o2", "queue"]
        states = {e.job_id: e.state for e in server.services.journal.entries()}
        assert "big" not in states and "long" not in states and states["more"] == "failed"
    finally:
        server.runner.gates["run"].set()
        client.close()
        other.close()


def test_d8_a_stuck_tcp_client_delays_only_itself(make_server, monkeypatch):
    """While a TCP client's replies cannot be sent (it never reads), UDP statuses are answered: the stuck
    writes happen on that connection's own thread, not under the dispatch lock. The send timeout is made
    longer than the test, so a stuck write under the lock would leave every status unanswered."""
    monkeypatch.setattr(transport_module, "TCP_SEND_TIMEOUT", 10 * TIMEOUT)
    server = make_server(fx=frozenset(f"chain-{i:03d}-" + "x" * 40 for i in range(200)))
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(server.address)
    stuck.settimeout(TIMEOUT)
    stuck.sendall(slip.encode(message("/sonocanvas/fx/list")) * 400)  # far more replies than buffers hold
    udp = UdpClient(server.address)
    try:
        for _ in range(20):
            udp.send("/sonocanvas/status")
            udp.expect("/sonocanvas/status")
    finally:
        udp.close()
        stuck.close()


def test_d9_a_write_that_fails_leaves_no_partial_clip_set(tmp_path, monkeypatch):
    from PIL import Image

    class Clip:
        audio = np.zeros(16000, np.float32)
        sample_rate = 16000
        loop = False
        spectrogram = Image.new("L", (8, 8))
        picture = Image.new("RGB", (8, 8))

    real = drop_module.atomic_write  # the drop folder's every write of a PNG or the JSON goes through it

    def full_disk(path, write, **kwargs):
        if Path(path).name.endswith(".picture.png"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write, **kwargs)

    monkeypatch.setattr(drop_module, "atomic_write", full_disk)
    folder = DropFolder(tmp_path)
    with pytest.raises(OSError, match="No space"):
        folder.drop(Clip(), Output(48000), "clip", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nor temporaries
    monkeypatch.setattr(drop_module, "atomic_write", real)
    dropped = folder.drop(Clip(), Output(48000), "clip", {})
    assert dropped.wav.name == "clip.wav" and dropped.picture.is_file()  # the name is free again


def test_d11_a_long_list_is_split_and_counted_and_no_reply_vanishes(make_server):
    names = frozenset(f"chain-{i:04d}-" + "x" * 50 for i in range(1100))  # about 66 KB of names
    server = make_server(fx=names)
    client = UdpClient(server.address)
    try:
        client.send("/sonocanvas/fx/list")
        got, parts = [], 0
        while (reply := client.next())[0] == "/sonocanvas/fx/names":
            got += reply[1]
            parts += 1
        assert reply == ("/sonocanvas/fx/names/end", [1100]) and parts > 1 and got == sorted(names)
        UdpPeer(server.transport.udp, ("127.0.0.1", client.port)).send("/sonocanvas/preset", "x" * MAX_UDP_REPLY)
        job_id, field, reason = client.expect("/sonocanvas/error")
        assert field == "reply" and "/sonocanvas/preset" in reason
    finally:
        client.close()


def test_d12_a_second_serve_with_the_same_config_refuses_to_start(tmp_path, make_server):
    config = write_config(tmp_path / "cfg")
    holder = Journal(tmp_path / "cfg" / "journal.sqlite3")  # as a running server holds it
    try:
        result = subprocess.run([sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config", str(config),
                                 "--image-model-source", str(tmp_path / "no-such-model")],
                                capture_output=True, text=True, timeout=2 * TIMEOUT)
    finally:
        holder.close()
    assert result.returncode == 2
    assert result.stderr.startswith("sonocanvas serve: journal: ") and "in use by another" in result.stderr


def test_d14_an_empty_key_names_key_and_shipped_presets_cannot_be_shadowed(make_server):
    server = make_server()
    client = UdpClient(server.address)
    try:
        client.send("/sonocanvas/generate", "1", "", "x")
        assert client.expect("/sonocanvas/error")[:2] == ["1", "key"]
        client.send("/sonocanvas/preset/save", "corgis", "image_prompt", "mine", "audio_prompt", "mine")
        assert client.expect("/sonocanvas/error")[1] == "name"
        client.send("/sonocanvas/preset/get", "corgis")
        got = client.expect("/sonocanvas/preset")
        assert dict(zip(got[1::2], got[2::2], strict=True))["audio_prompt"] == "dog barking"
    finally:
        client.close()


def test_d15_a_burst_of_connects_fits_the_listen_backlog():
    """With nobody accepting, connects queue in the backlog: 100 complete at once (16 did not)."""
    udp, tcp = bind_pair("127.0.0.1", 0)
    sockets = []
    try:
        for _ in range(100):
            sock = socket.socket()
            sock.settimeout(0.5)  # a connect beyond the backlog waits for a SYN retry: 1 s
            sock.connect(tcp.getsockname())
            sockets.append(sock)
        assert BACKLOG >= 100
    finally:
        for sock in sockets:
            sock.close()
        udp.close()
        tcp.close()


# The token ---------------------------------------------------------------------------------------


def test_with_a_token_only_a_hello_carrying_it_lets_a_client_in(make_server):
    server = make_server(token="s3cret")
    client = UdpClient(server.address)
    try:
        client.send("/sonocanvas/status")  # not in yet: ignored
        client.send("/sonocanvas/hello", client.port)
        assert client.expect("/sonocanvas/error")[:2] == ["", "token"]
        client.send("/sonocanvas/hello", client.port, "wrong")
        assert client.expect("/sonocanvas/error")[:2] == ["", "token"]
        client.send("/sonocanvas/generate", "g", "image_prompt", "a", "audio_prompt", "b")  # ignored
        client.send("/sonocanvas/cancel", "g", "client", "f" * 32)  # ignored, not even "unknown secret"
        client.send("/sonocanvas/hello", client.port, "s3cret")
        client.expect("/sonocanvas/ready")
        client.send("/sonocanvas/status")
        client.expect("/sonocanvas/status")
        assert [address for address, _ in client.seen] == ["/sonocanvas/error", "/sonocanvas/error",
                                                           "/sonocanvas/ready", "/sonocanvas/status"]
    finally:
        client.close()


def test_serve_off_loopback_refuses_to_start_without_a_token(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config",
                             str(write_config(tmp_path)), "--host", "0.0.0.0",
                             "--image-model-source", str(tmp_path / "no-such-model")],
                            capture_output=True, text=True, timeout=2 * TIMEOUT)
    assert result.returncode == 2 and result.stderr.startswith("sonocanvas serve: token: ")
    assert "--token" in result.stderr and "Traceback" not in result.stderr


# The log -----------------------------------------------------------------------------------------


def test_one_log_line_per_job_a_traceback_per_fault_and_junk_rate_limited(make_server, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="sonocanvas")
    server = make_server()
    client = UdpClient(server.address)
    try:
        client.send("/sonocanvas/generate", "j", "image_prompt", "a", "audio_prompt", "b")
        client.expect("/sonocanvas/progress")
        assert server.jobs.wait_idle(TIMEOUT)
        (line,) = [r.getMessage() for r in caplog.records if r.name == "sonocanvas.jobs"]
        assert line.startswith(f"job 'j' (generate) from 127.0.0.1:{client.port}: done, waited ")
        assert " s, ran " in line

        from sonocanvas.bridge.osc import handlers

        def broken(context, call):
            raise RuntimeError("a bug")

        monkeypatch.setitem(handlers.HANDLERS, "/sonocanvas/stop", broken)
        client.send("/sonocanvas/stop")
        assert client.expect("/sonocanvas/error")[1:] == ["server", "server: RuntimeError: a bug"]
        (fault,) = [r for r in caplog.records if r.name == "sonocanvas.server" and r.exc_info]
        assert "RuntimeError: a bug" in caplog.text and fault.exc_info[0] is RuntimeError

        from sonocanvas.bridge.osc import server as server_module

        def decoder_bug(data):
            raise IndexError("a decoder bug")

        monkeypatch.setattr(server_module, "decode_packet", decoder_bug)
        client.send("/sonocanvas/status")
        assert client.expect("/sonocanvas/error")[1:] == ["server", "server: IndexError: a decoder bug"]
        assert "IndexError: a decoder bug" in caplog.text and "Traceback" in caplog.text
        monkeypatch.undo()
        client.send("/sonocanvas/status")  # the UDP thread lived on
        client.expect("/sonocanvas/status")

        caplog.clear()
        for group in range(10):
            for _ in range(50):
                client.send_raw(b"\xff" * 64)  # each is answered on field packet; only the log is limited
            sync(client, f"sync-{group}")
        junk = [r for r in caplog.records if "junk" in r.getMessage()]
        assert 1 <= len(junk) <= 2 and sum(len(r.getMessage()) for r in junk) < 1000
    finally:
        client.close()


def test_junk_is_limited_per_sender_and_kind_and_what_was_left_out_is_counted_with_the_sender(caplog):
    """A flood's "dropped" line and its junk lines are two kinds: the first of each is logged at once, neither
    hides the other; the lines left out are counted in the next line of their kind, which names the sender."""
    from sonocanvas.bridge.log import RateLimited

    now = [100.0]
    junk = RateLimited(logging.getLogger("sonocanvas.test"), interval=1.0, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="sonocanvas.test")
    for port in range(5000, 5010):  # a flood from many ports of one address
        junk.warning("10.0.0.7", "%s:%d sends faster than it is served", "10.0.0.7", port)
        junk.warning("10.0.0.7", "junk from %s:%d: %s", "10.0.0.7", port, "not OSC")
    junk.warning("10.0.0.8", "junk from %s:%d: %s", "10.0.0.8", 6000, "not OSC")
    assert caplog.messages == ["10.0.0.7:5000 sends faster than it is served", "junk from 10.0.0.7:5000: not OSC",
                               "junk from 10.0.0.8:6000: not OSC"]
    now[0] += 1.0
    junk.warning("10.0.0.7", "junk from %s:%d: %s", "10.0.0.7", 5011, "not OSC")
    assert caplog.messages[-1] == "junk from 10.0.0.7:5011: not OSC (9 more like it from 10.0.0.7 left out)"
    for _ in range(2):  # an IPv6 link-local sender holds a %, which must never reach the format
        junk.warning("fe80::1%en0", "junk from %s:%d: %s", "fe80::1%en0", 7000, "not OSC")
    now[0] += 1.0
    junk.warning("fe80::1%en0", "junk from %s:%d: %s", "fe80::1%en0", 7000, "not OSC")
    assert caplog.messages[-1] == "junk from fe80::1%en0:7000: not OSC (1 more like it from fe80::1%en0 left out)"


def test_third_party_chatter_is_off_unless_debug():
    try:
        setup_logging("info")
        assert not logging.getLogger("diffusers").isEnabledFor(logging.WARNING)
        assert not logging.getLogger("transformers").isEnabledFor(logging.WARNING)
        assert logging.getLogger("sonocanvas.server").isEnabledFor(logging.INFO)
        from diffusers.utils import logging as diffusers_logging

        assert diffusers_logging.get_verbosity() == logging.ERROR
        setup_logging("debug")
        assert logging.getLogger("diffusers").isEnabledFor(logging.WARNING)
    finally:
        logging.basicConfig(level=logging.WARNING, force=True)
        for name in ("diffusers", "transformers", "huggingface_hub", "torch", "PIL", "urllib3", "filelock",
                     "py.warnings"):
            logging.getLogger(name).setLevel(logging.NOTSET)


# kill -9 mid-write ---------------------------------------------------------------------------------


def test_kill_9_mid_write_then_restart_removes_the_temporary_and_tells_the_client(tmp_path, tiny_model_paths,
                                                                                  sonocanvas_cache):
    """D10: a server killed while it writes a clip leaves a hidden temporary; the next one removes it at start
    and tells the job's client that the job did not finish."""
    config = write_config(tmp_path)
    drop = tmp_path / "drop"
    serve = ServeProcess(config, cache=sonocanvas_cache)
    restarted = None
    client = UdpClient(serve.address)
    try:
        client.hello()
        # 60 s of 32-bit audio at 192 kHz, twice (dry and wet): 46 MB WAVs, long enough to be caught mid-write
        client.send("/sonocanvas/generate", "big", "image_prompt", "a", "audio_prompt", "b", "steps", 2,
                    "seconds", 60.0, "sample_rate", 192000, "bit_depth", 32, "fx", "minus6")
        client.expect("/sonocanvas/queued")
        deadline = time.monotonic() + 120
        # mid-write: a file of the clip set staged (its staging folder's lock, taken first, is not one). A kill
        # between making the folder and taking its lock leaves one no sweeper can prove dead: the grace removes it.
        while not [p for p in drop.glob(".*.part/*") if p.name != "lock"]:
            assert time.monotonic() < deadline and serve.proc.poll() is None, "no write seen"
        serve.kill()
        assert list(drop.glob(".*.part"))  # what a kill -9 leaves
        restarted = ServeProcess(config, "--port", str(serve.address[1]), cache=serve.cache)
        assert client.expect("/sonocanvas/error") == ["big", "job", RESTART_MESSAGE]
        assert list(drop.glob(".*.part")) == [] and list(drop.glob("*.wav")) == []
    finally:
        client.close()
        if restarted is not None:
            assert restarted.stop() == 0
        serve.stop()


# Paths: checked on the file opened, and where a request may read ----------------------------------


def test_d13_a_path_swapped_for_a_symlink_after_the_check_is_not_followed(make_server, tmp_path):
    server = make_server()
    read = {}
    real_runner = server.runner

    def runner(job, on_step, done):
        if job.request.settings.init_audio is not None:
            read[job.job_id] = job.request.settings.init_audio.data  # the bytes the job reads
        real_runner(job, on_step, done)

    server.services.run = runner
    secret = tmp_path.parent / f"{tmp_path.name}-outside.wav"
    secret.write_bytes(b"secret")
    (tmp_path / "kept.wav").write_bytes(b"kept")
    sample = tmp_path / "riff.wav"
    sample.write_bytes(b"sample")
    server.runner.gates["first"] = threading.Event()
    client = UdpClient(server.address)
    try:
        client.send("/sonocanvas/generate", "first", "image_prompt", "a", "audio_prompt", "b")
        client.expect("/sonocanvas/progress")
        for job_id, path in (("kept", tmp_path / "kept.wav"), ("swapped", sample)):
            client.send("/sonocanvas/generate", job_id, "image_prompt", "a", "audio_prompt", "b",
                        "init_audio", str(path))
            client.expect("/sonocanvas/queued")  # checked and accepted: the file lies inside the read root
        sample.unlink()
        sample.symlink_to(secret)  # what an attacker swaps in while the job waits
        server.runner.gates["first"].set()
        job_id, field, reason = client.expect_error()
        assert (job_id, field) == ("swapped", "init_audio") and "outside" in reason
        assert server.jobs.wait_idle(TIMEOUT)
    finally:
        client.close()
    assert read == {"kept": b"kept"}  # the secret was never handed to the job


def test_d13_the_file_opened_is_checked_not_only_the_path(tmp_path):
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (inside / "clip.wav").write_bytes(b"clip")
    limits = Limits((inside,), frozenset(), frozenset())
    checked = limits.readable("init_audio", str(inside / "clip.wav"))
    (inside / "clip.wav").unlink()
    (inside / "clip.wav").symlink_to(outside / "secret")
    with pytest.raises(ValueError, match="^init_audio: .* outside the folders this server may read"):
        limits.open_checked("init_audio", checked)


def test_decision_4_loopback_reads_under_home_and_other_addresses_only_read_dirs(tmp_path):
    from sonocanvas.bridge.commands.serve import read_roots
    from sonocanvas.bridge.store.config import load_config

    config = load_config(write_config(tmp_path))
    drop, samples = tmp_path / "drop", tmp_path / "samples"
    assert read_roots(config, loopback=True) == (drop, samples, Path.home())
    assert read_roots(config, loopback=False) == (drop, samples)
    assert read_roots(config.replace(read_home=False), loopback=True) == (drop, samples)

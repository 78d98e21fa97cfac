"""Test clients for the OSC server: python-osc over UDP and SLIP-framed TCP, and a `sonocanvas serve` subprocess."""
from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

from pythonosc import slip
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from sonocanvas.bridge.osc.transport import SlipDecoder

TIMEOUT = 30.0  # generous: two busy cores; every wait ends as soon as its message arrives


def message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class Replies:
    """A queue of (address, args) with waits that skip what the test does not ask for."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, list]] = []

    def put(self, data: bytes) -> None:
        msg = OscMessage(data)
        self.q.put((msg.address, list(msg.params)))

    def next(self, timeout: float = TIMEOUT) -> tuple[str, list]:
        item = self.q.get(timeout=timeout)
        self.seen.append(item)
        return item

    def expect(self, address: str, timeout: float = TIMEOUT, **match) -> list:
        """The arguments of the next reply at `address`; other replies pass by (kept in `seen`)."""
        while True:
            got, args = self.next(timeout)
            if got == address:
                return args
            if got == "/sonocanvas/error" and address != got:
                raise AssertionError(f"expected {address}, got error {args}")

    def expect_error(self, timeout: float = TIMEOUT) -> list:
        """The arguments of the next /sonocanvas/error; anything else on the way (progress) passes by."""
        while True:
            address, args = self.next(timeout)
            if address == "/sonocanvas/error":
                return args
            assert address == "/sonocanvas/progress", (address, args)

    def empty(self) -> bool:
        return self.q.empty()


class UdpClient(Replies):
    """A python-osc client with its own socket, so replies to its source port come back to it."""

    def __init__(self, server: tuple[str, int]):
        super().__init__()
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except OSError:
                continue
            self.put(data)

    def send(self, address: str, *args) -> None:
        self.sock.sendto(message(address, *args), self.server)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def hello(self) -> list:
        self.send("/sonocanvas/hello", self.port)
        return self.expect("/sonocanvas/ready")

    def close(self) -> None:
        self._stop.set()
        self._reader.join(5)
        self.sock.close()


class TcpClient(Replies):
    """OSC 1.1 over TCP: every packet SLIP-framed both ways."""

    def __init__(self, server: tuple[str, int]):
        super().__init__()
        self.sock = socket.create_connection(server, timeout=TIMEOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        decoder = SlipDecoder()
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            for packet in decoder.feed(data):
                self.put(packet)

    def send(self, address: str, *args) -> None:
        self.sock.sendall(slip.encode(message(address, *args)))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._reader.join(5)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, **extra) -> Path:
    """A config for tests: everything inside `folder`, the null ALSA device for audition."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drop").mkdir(exist_ok=True)
    (folder / "samples").mkdir(exist_ok=True)
    lines = {
        "host": "127.0.0.1", "port": 0, "drop_dir": str(folder / "drop"),
        "read_dirs": [str(folder / "samples")], "device": "cpu",
        "effects": {"minus6": [{"plugin": "Gain", "gain_db": -6.0}]}, **extra,
    }
    import yaml

    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(lines))
    return path


class ServeProcess:
    """`sonocanvas serve --models tiny-random` as a subprocess; its printed address tells where it listens."""

    LISTEN = re.compile(r"listening on udp://\[?([\d.:a-f]+?)\]?:(\d+) ")

    def __init__(self, config: Path, *flags: str, cache: Path,
                 program: tuple[str, ...] = (sys.executable, "-m", "sonocanvas.bridge.cli"), cwd: Path | None = None):
        self.cache = cache  # $SONOCANVAS_CACHE, where the tiny-random set was built
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "SONOCANVAS_CACHE": str(cache)}
        self.proc = subprocess.Popen(
            [*program, "serve", "--config", str(config), "--models", "tiny-random", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
        )
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.address = self._wait_listening()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_listening(self) -> tuple[str, int]:
        while True:
            try:
                line = self.lines.get(timeout=120)  # importing torch and loading the models on busy cores
            except queue.Empty:
                raise AssertionError("serve did not start:\n" + "".join(self.output)) from None
            if line is None:
                raise AssertionError("serve exited:\n" + "".join(self.output))
            found = self.LISTEN.search(line)
            if found:
                return found.group(1), int(found.group(2))

    def wait_line(self, pattern: str) -> str:
        """The next line of its output (log included) that matches `pattern`; lines before it pass by."""
        found = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}:\n" + "".join(self.output)) from None
            if line is None:
                raise AssertionError("serve exited:\n" + "".join(self.output))
            if found.search(line):
                return line

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


BARE_SERVER = """
import sys
from pathlib import Path
from sonocanvas.bridge.jobs.journal import Journal
from sonocanvas.bridge.request.build import Limits
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services

folder = Path(sys.argv[1])
limits = Limits((folder,), frozenset({"space"}), frozenset({"auffusion"}))
services = Services(run=lambda job, on_step, done: on_step(1, 1), limits=limits,
                    journal=Journal(folder / "journal.sqlite3"), version="test", device="cpu", models="none")
with Server(services, port=0) as server:
    print("listening", server.address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


class BareServeProcess:
    """A server without models in a process of its own, so that its CPU time and memory can be read
    (Linux /proc); it serves every request but runs jobs as one instant step."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        self.proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(folder)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()  # importing torch first: a few seconds
        assert line.startswith("listening "), line
        self.address = ("127.0.0.1", int(line.split()[1]))

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server process so far (/proc/PID/stat, fields 14 and 15)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(30)


CONTINUED = " \\"  # a shell line continuation


def doctor_rows(out: str) -> dict[str, tuple[str, str]]:
    """`sonocanvas doctor`'s table as {check: (status, detail)}: a row's lines joined as a reader (or, for a
    command's `\\` continuations, a shell) reads them. Every line fits 100 columns but a word longer than that."""
    rows: dict[str, tuple[str, str]] = {}
    check = None
    for line in out.splitlines():
        found = re.match(r"^(\S+(?: \S+)?)\s+(ok|warn|FAIL)\s+(.*)$", line)
        if found:
            check, words = found.group(1), found.group(3)
            rows[check] = (found.group(2), words)
        elif line.startswith(" ") and check is not None:
            status, detail = rows[check]
            words = line.strip()
            rows[check] = (status, detail.removesuffix(CONTINUED) + " " + words)
        else:
            check, words = None, ""  # not a row of the table
        assert len(line) <= 100 or " " not in words, line  # only a word longer than the room (a path) goes past
    return rows

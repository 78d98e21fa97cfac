"""The OSC server of docs/osc.md: UDP and SLIP-framed TCP on one port, one small handler per address.

Handlers only parse, check and queue, so a client never waits on a model: the work runs on the
job queue's single worker, which sends `progress`, `done`, `cancelled` and `error` back to the
client that asked, and to it only.
"""
from __future__ import annotations

import dataclasses
import errno
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

from pythonosc import slip
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ..engine.errors import FieldError
from ..engine.settings import bounds, capped
from . import protocol
from .jobs import Job, JobQueue
from .journal import Journal
from .protocol import EncodeRequest, GenerateRequest, Limits, ProtocolError

MAX_DATAGRAM = 65535
MAX_FRAME = 1 << 20
TCP_SEND_TIMEOUT = 2.0
MAX_TCP_CONNECTIONS = 64  # each has a thread; one more is told so and closed
ACCEPT_BACKOFF = 0.1  # after an accept error such as EMFILE, so the loop waits instead of spinning
POLL = 0.5
JOB_ADDRESSES = frozenset({"/sonocanvas/generate", "/sonocanvas/encode", "/sonocanvas/cancel"})


def build_message(address: str, *args: Any) -> bytes:
    """An OSC message; ints are int32 (or int64 when too big), reals float32, the rest strings."""
    builder = OscMessageBuilder(address)
    for arg in args:
        if isinstance(arg, bool) or arg is None:
            arg = str(arg)
        if isinstance(arg, int):
            builder.add_arg(arg, "i" if -(2**31) <= arg < 2**31 else "h")
        elif isinstance(arg, float):
            builder.add_arg(arg, "f")
        else:
            builder.add_arg(str(arg), "s")
    return builder.build().dgram


# Peers: where a client's replies go ---------------------------------------------------------------


class Peer:
    """A client's reply destination. `key` identifies its jobs; `address` is what the journal keeps."""

    key: Hashable
    address: tuple[str, int]

    def send(self, address: str, *args: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class UdpPeer(Peer):
    sock: socket.socket
    address: tuple[str, int]

    @property
    def key(self) -> Hashable:
        return ("udp", self.address)

    def send(self, address: str, *args: Any) -> None:
        try:
            self.sock.sendto(build_message(address, *args), self.address)
        except OSError:
            pass  # the client went away; UDP promises nothing more


class TcpPeer(Peer):
    """One TCP connection; replies go back over it, SLIP-framed. Its journal address is the peer's
    IP and the `reply_port` of its hello (else the connection's port).

    A send that fails or times out (a client that stopped reading) kills the peer: the connection is
    shut down, which ends its reader thread, and later sends return at once, so such a client costs the
    server one send timeout, not one per reply while the other clients wait."""

    def __init__(self, conn: socket.socket, remote: tuple[str, int]):
        self.conn = conn
        self.remote = remote
        self.address = remote
        self.dead = False
        self._lock = threading.Lock()

    @property
    def key(self) -> Hashable:
        return ("tcp", self.remote)

    def send(self, address: str, *args: Any) -> None:
        frame = slip.encode(build_message(address, *args))
        with self._lock:
            if self.dead:
                return
            try:
                self.conn.sendall(frame)
            except OSError:  # closed, or stuck past the send timeout
                self.dead = True
                try:
                    self.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its reader thread


class SlipDecoder:
    """Splits a TCP byte stream into SLIP-framed packets (RFC 1055, as OSC 1.1 uses it)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the packets they complete (empty frames between ENDs are skipped).
        A malformed frame comes back as a `slip.ProtocolError` in the list, so the caller can report it."""
        self._buffer += data
        *frames, rest = self._buffer.split(slip.END)
        self._buffer = bytearray(rest)
        packets: list = []
        if len(self._buffer) > MAX_FRAME:  # a frame that never ends: drop it rather than grow without bound
            self._buffer.clear()
            packets.append(slip.ProtocolError(b"frame too long"))
        for frame in frames:
            if frame:
                try:
                    packets.append(slip.decode(bytes(frame)))
                except slip.ProtocolError as error:
                    packets.append(error)
        return packets


# The server --------------------------------------------------------------------------------------


@dataclass
class Services:
    """What the handlers use besides the job queue; each may be absent on a server without it."""

    run: Callable[[Job, Callable[[int, int], None], Callable[..., None]], None]
    """Runs a job: `run(job, on_step, done)`, calling `done(index, wav, png, json)` per finished clip."""
    limits: Limits
    journal: Journal
    version: str
    device: str
    models: str
    presets: Any = None  # PresetStore
    player: Any = None  # audition Player
    player_error: str = ""  # why there is no player


class Server:
    """Listens on `host:port` for UDP and TCP; `port=0` picks a free port (the same for both). `sockets`, a
    pair from `bind_pair`, replaces host and port: `serve` binds before loading the models, to fail fast."""

    def __init__(self, services: Services, host: str = "127.0.0.1", port: int = 9010,
                 sockets: tuple[socket.socket, socket.socket] | None = None):
        self.services = services
        self.udp, self.tcp = sockets or bind_pair(host, port)
        self.address = self.udp.getsockname()[:2]
        self._hellos: dict[tuple[str, int], int] = {}
        self._peers: dict[Hashable, Peer] = {}
        self._dispatch_lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self.jobs = JobQueue(self._run_job, _Replies(self))
        self.handlers: dict[str, Callable[[Peer, tuple[str, int], list[Any]], None]] = {
            "/sonocanvas/hello": self.on_hello,
            "/sonocanvas/generate": self.on_generate,
            "/sonocanvas/encode": self.on_encode,
            "/sonocanvas/cancel": self.on_cancel,
            "/sonocanvas/status": self.on_status,
            "/sonocanvas/limits": self.on_limits,
            "/sonocanvas/audition": self.on_audition,
            "/sonocanvas/stop": self.on_stop,
            "/sonocanvas/preset/list": self.on_preset_list,
            "/sonocanvas/preset/get": self.on_preset_get,
            "/sonocanvas/preset/save": self.on_preset_save,
            "/sonocanvas/preset/delete": self.on_preset_delete,
            "/sonocanvas/fx/list": self.on_fx_list,
        }

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "Server":
        """Serve on background threads; tell the clients of jobs a dead server left behind."""
        for entry in self.services.journal.recover():
            UdpPeer(self.udp, (entry.client_host, entry.client_port)).send(
                "/sonocanvas/error", entry.job_id, "job", entry.message
            )
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, name=f"sonocanvas-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        self._closing.set()
        self.jobs.close()
        for sock in [self.udp, self.tcp, *list(self._connections)]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(5)
        if self.services.player is not None:
            self.services.player.stop()
        self.services.journal.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transports --------------------------------------------------------------------------------

    def _serve_udp(self) -> None:
        while not self._closing.is_set():
            try:
                data, source = self.udp.recvfrom(MAX_DATAGRAM)
            except OSError:  # a timeout, ICMP "port unreachable" from an earlier reply, or the socket closed
                continue
            source = source[:2]
            reply_port = self._hellos.get(source)
            peer = UdpPeer(self.udp, (source[0], reply_port) if reply_port else source)
            self.handle_packet(data, peer, source)

    def _serve_tcp(self) -> None:
        while not self._closing.is_set():
            try:
                conn, remote = self.tcp.accept()
            except TimeoutError:  # the poll
                continue
            except OSError:  # out of file descriptors, or the socket closed: wait a little, do not spin
                self._closing.wait(ACCEPT_BACKOFF)
                continue
            if len(self._connections) >= MAX_TCP_CONNECTIONS:
                _turn_away(conn)
                continue
            # A send (sendall) waits this long in all for a client that stopped reading; an idle reader
            # wakes this often to look at `_closing`.
            conn.settimeout(TCP_SEND_TIMEOUT)
            self._connections.add(conn)
            thread = threading.Thread(target=self._serve_connection, args=(conn, remote[:2]), daemon=True)
            thread.start()

    def _serve_connection(self, conn: socket.socket, remote: tuple[str, int]) -> None:
        peer = TcpPeer(conn, remote)
        decoder = SlipDecoder()
        try:
            while not self._closing.is_set() and not peer.dead:
                try:
                    data = conn.recv(65536)
                except TimeoutError:  # nothing sent lately, which is fine
                    continue
                if not data:
                    break
                for packet in decoder.feed(data):
                    if peer.dead:  # it stopped reading: run nothing more of what it sent
                        break
                    if isinstance(packet, Exception):
                        peer.send("/sonocanvas/error", "", "packet", "packet: a bad SLIP frame (a wrong escape, or over 1 MiB)")
                    else:
                        self.handle_packet(packet, peer, remote)
        except OSError:
            pass
        finally:
            self._connections.discard(conn)
            conn.close()

    # dispatch ----------------------------------------------------------------------------------

    def handle_packet(self, data: bytes, peer: Peer, source: tuple[str, int]) -> None:
        """Parse one OSC packet (message or bundle; bundle times are ignored: its messages run now, in the
        order they appear) and run a handler per message. Nothing a client sends may stop the server."""
        try:
            messages = _messages_in_order(data)
        except Exception as error:  # python-osc raises more than ParseError on garbage, RecursionError included
            _send_error(peer, "", "packet", f"packet: not an OSC message or bundle ({_short(error)})")
            return
        for message in messages:
            try:
                address, args = message.address, list(message.params)
            except Exception as error:
                _send_error(peer, "", "packet", f"packet: unreadable message ({_short(error)})")
                continue
            handler = self.handlers.get(address)
            job_id = protocol.job_id_of(args) if address in JOB_ADDRESSES else ""
            reply_port = protocol.reply_port_of(args) if address in JOB_ADDRESSES else None
            to = peer  # errors too go where the request asked; the next message of a bundle decides for itself
            if reply_port and isinstance(peer, UdpPeer):
                to = UdpPeer(self.udp, (source[0], reply_port))
            with self._dispatch_lock:
                try:
                    if handler is None:
                        raise ProtocolError("address", f"unknown address {address!r}")
                    handler(to, source, args)
                except FieldError as error:  # a request the client can fix: its field named
                    _send_error(to, job_id, error.field, str(error))
                except Exception as error:  # a bug must cost one reply, not the server
                    _send_error(to, job_id, "server", f"server: {_short(error)}")

    # handlers: one per address -----------------------------------------------------------------

    def on_hello(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        (reply_port,) = _exactly(args, ("reply_port", protocol.Key(int, 1, 65535)))
        if isinstance(peer, UdpPeer):
            self._hellos[source] = reply_port
            peer = UdpPeer(self.udp, (source[0], reply_port))
        else:
            peer.address = (source[0], reply_port)
        s = self.services
        peer.send("/sonocanvas/ready", s.version, s.device, s.models)
        for entry in s.journal.take_untold(peer.address):
            peer.send("/sonocanvas/error", entry.job_id, "job", entry.message)

    def on_generate(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        presets = self.services.presets
        request = protocol.parse_generate(args, self.services.limits, presets.get if presets else _no_presets)
        self._submit(peer, "generate", request)

    def on_encode(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        request = protocol.parse_encode(args, self.services.limits)
        self._submit(peer, "encode", request)

    def on_cancel(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        job_id = protocol.parse_job_id(args)
        protocol.parse_keys(args[1:], {"reply_port": protocol.Key(int, 1, 65535)})  # already applied to `peer`
        if not self.jobs.cancel(peer.key, job_id):
            raise ProtocolError("job_id", f"no queued or running job {job_id!r} of yours")

    def on_status(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        _exactly(args)
        running, queued = self.jobs.status()
        peer.send("/sonocanvas/status", running.job_id if running else "", queued, self.services.device)

    def on_limits(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        _exactly(args)
        peer.send("/sonocanvas/limits", *bounds(capped(self.services.limits.caps)))

    def on_audition(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        (value,) = _exactly(args, ("wav_path", protocol.Key(str)))
        path = self.services.limits.readable("wav_path", value)
        self._player().play(path)
        peer.send("/sonocanvas/playing", str(path))

    def on_stop(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        _exactly(args)
        self._player().stop()
        peer.send("/sonocanvas/stopped")

    def on_preset_list(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        _exactly(args)
        peer.send("/sonocanvas/preset/names", *self._presets().names())

    def on_preset_get(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        (name,) = _exactly(args, ("name", protocol.Key(str)))
        try:
            values = self._presets().get(name)
        except KeyError:
            raise ProtocolError("name", f"no preset {name!r}") from None
        peer.send("/sonocanvas/preset", name, *[item for pair in values.items() for item in pair])

    def on_preset_save(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        if not args or not isinstance(args[0], str):
            raise ProtocolError("name", "missing: the first argument must be the preset's name")
        values = protocol.parse_keys(args[1:], protocol.PRESET_KEYS)
        self._presets().save(args[0], values)
        peer.send("/sonocanvas/preset/saved", args[0])

    def on_preset_delete(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        (name,) = _exactly(args, ("name", protocol.Key(str)))
        try:
            self._presets().delete(name)
        except KeyError:
            raise ProtocolError("name", f"no preset {name!r}") from None
        peer.send("/sonocanvas/preset/deleted", name)

    def on_fx_list(self, peer: Peer, source: tuple[str, int], args: list[Any]) -> None:
        _exactly(args)
        peer.send("/sonocanvas/fx/names", *sorted(self.services.limits.fx_names))

    # jobs --------------------------------------------------------------------------------------

    def _submit(self, peer: Peer, kind: str, request: GenerateRequest | EncodeRequest) -> None:
        if self.jobs.find(peer.key, request.job_id) is not None:
            raise ProtocolError("job_id", f"{request.job_id!r} is already queued or running")
        record = {"kind": kind, **dataclasses.asdict(request)}
        journal_id = self.services.journal.add(request.job_id, peer.address, kind, record)
        self._peers[peer.key] = peer
        job = Job(owner=peer.key, job_id=request.job_id, request=request, journal_id=journal_id)
        try:
            position = self.jobs.submit(job)
        except Exception as error:  # never leave a journalled job "queued" that never was
            self.services.journal.set_state(journal_id, "failed", str(error))
            raise
        peer.send("/sonocanvas/queued", request.job_id, position)

    def _run_job(self, job: Job, on_step: Callable[[int, int], None]) -> None:
        peer = self._peers[job.owner]

        def done(index: int, wav: Path, png: Path, record: Path) -> None:
            peer.send("/sonocanvas/done", job.job_id, index, str(wav), str(png), str(record))

        self.services.run(job, on_step, done)

    def _player(self):
        if self.services.player is None:
            raise ProtocolError("audio_output", self.services.player_error or "no audio output on this server")
        return self.services.player

    def _presets(self):
        if self.services.presets is None:
            raise ProtocolError("preset", "this server has no preset store")
        return self.services.presets


class _Replies:
    """The job queue's listener: journals each change and tells the job's client."""

    def __init__(self, server: Server):
        self.server = server

    def _peer(self, job: Job) -> Peer:
        return self.server._peers[job.owner]

    def started(self, job: Job) -> None:
        self.server.services.journal.set_state(job.journal_id, "running")

    def progress(self, job: Job, step: int, total: int) -> None:
        self._peer(job).send("/sonocanvas/progress", job.job_id, step, total)

    def finished(self, job: Job) -> None:
        self.server.services.journal.set_state(job.journal_id, "done")

    def failed(self, job: Job, error: BaseException) -> None:
        field, message = _job_failure(error)
        self.server.services.journal.set_state(job.journal_id, "failed", message)
        self._peer(job).send("/sonocanvas/error", job.job_id, field, message)

    def cancelled(self, job: Job) -> None:
        self.server.services.journal.set_state(job.journal_id, "cancelled")
        self._peer(job).send("/sonocanvas/cancelled", job.job_id)


# helpers -----------------------------------------------------------------------------------------


def _job_failure(error: BaseException) -> tuple[str, str]:
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


def _exactly(args: list[Any], *specs: tuple[str, protocol.Key]) -> list[Any]:
    """Check a request has exactly these positional arguments, typed."""
    values = []
    for i, (name, key) in enumerate(specs):
        if i >= len(args):
            raise ProtocolError(name, "missing")
        values.append(key.parse(name, args[i]))
    if len(args) > len(specs):
        raise ProtocolError("arguments", f"expected {len(specs)}, got {len(args)}")
    return values


def _no_presets(name: str) -> dict:
    raise KeyError(name)


def _messages_in_order(data: bytes) -> list[OscMessage]:
    """The messages of a packet in the order they appear, nested bundles walked where they stand. Not
    python-osc's OscPacket: it sorts by time tag, so an inner "immediate" bundle would run first."""
    if OscMessage.dgram_is_message(data):
        return [OscMessage(data)]
    if not OscBundle.dgram_is_bundle(data):
        raise ValueError("it starts with neither '/' nor '#bundle'")
    messages: list[OscMessage] = []
    pending = [iter(OscBundle(data))]  # a stack, not recursion: nesting depth is the client's choice
    while pending:
        item = next(pending[-1], None)
        if item is None:
            pending.pop()
        elif isinstance(item, OscBundle):
            pending.append(iter(item))
        else:
            messages.append(item)
    return messages


def _send_error(peer: Peer, job_id: str, field: str, message: str) -> None:
    """`/sonocanvas/error`, cut short where it echoes the client (a key name of 40,000 characters), so
    that it fits one datagram and every bad request gets its answer. The message still starts with the
    field; a job id the server accepts (at most 200 characters) is echoed whole."""
    short = _clip(field, 64)
    if message.startswith(field):
        message = short + message[len(field):]
    peer.send("/sonocanvas/error", _clip(job_id, 200), short, _clip(message, 1000))


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _turn_away(conn: socket.socket) -> None:
    """A connection over MAX_TCP_CONNECTIONS: say why and close it, never waiting on the client."""
    reason = f"connection: too many TCP connections (at most {MAX_TCP_CONNECTIONS}); close one or use UDP"
    try:
        conn.setblocking(False)
        conn.send(slip.encode(build_message("/sonocanvas/error", "", "connection", reason)))
    except OSError:
        pass  # it went away already
    conn.close()


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same port of `host`, IPv4 or IPv6 (a name with both addresses gets
    IPv4, which clients use most); with port 0, a port free for both. When it cannot, a ValueError whose
    message starts with the setting to change, `host:` or `port:`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise ValueError(f"host: cannot listen on {host!r}: {error}") from None
    family, *_, address = min(infos, key=lambda info: info[0] != socket.AF_INET)
    for _ in range(20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            udp.bind(address)
            tcp.bind(udp.getsockname())
            tcp.listen(16)
        except OSError as error:
            udp.close()
            tcp.close()
            if port or error.errno != errno.EADDRINUSE:
                raise _listen_error(host, port, error) from None
            continue  # port 0: the free UDP port was taken for TCP; try another
        for sock in (udp, tcp):
            sock.settimeout(POLL)  # so the loops notice `close()` even where shutdown does not wake them
        return udp, tcp
    raise ValueError(f"port: could not find a port free for both UDP and TCP on {host}")


def _listen_error(host: str, port: int, error: OSError) -> ValueError:
    if error.errno == errno.EADDRINUSE:
        return ValueError(f"port: {port} is already in use on {host} (UDP or TCP; another sonocanvas serve?)")
    if error.errno == errno.EACCES:
        return ValueError(f"port: {port} needs privileges on this system; pick one from 1024 up")
    return ValueError(f"host: cannot listen on {host!r}: {error.strerror or error}")

"""The OSC server of docs/osc.md: the transport's packets decoded (`wire`), checked and dispatched to the
handler of each address (`handlers`), jobs run through the job bridge.

Packets are decoded on the transport's threads; their handlers run one at a time on the dispatcher's thread,
which takes turns between clients (`FairDispatcher`), so a flood delays the flooder, not the others. No
handler waits on a client: a UDP reply is one `sendto` and a TCP reply is queued for its connection's
writer, so one slow client delays only itself. Every fault of the server's own is logged with its traceback
and costs one error reply, never the server, nor the rest of the bundle it came in. Refusals to a sender that
has not said the token's hello are rate-limited (`Throttle`): the server is no reflector for spoofed datagrams.
"""
from __future__ import annotations

import collections
import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ...engine.errors import FieldError
from ..jobs.queue import QueueBounds
from ..log import RateLimited
from ..request import build as protocol
from ..request.build import ProtocolError
from . import recovery
from .addresses import JOB_REQUESTS, REPLIES_ONLY
from .clients import Clients
from .handlers import HANDLERS, Call, Context
from .job_bridge import JobBridge
from .services import Services
from .transport import Peer, Sender, Transport, bind_pair
from .wire import Message, WireError, decode_packet

log = logging.getLogger("sonocanvas.server")

MAX_TCP_AHEAD = 4
"""Packets of one TCP connection waiting for their turn; its reader then waits, and TCP pushes back."""
MAX_UDP_AHEAD = 256
"""Datagrams of one UDP sender waiting for their turn; more are dropped, as UDP may (the kernel's buffer,
which held them before they were read, holds about as many small ones)."""
MAX_UDP_QUEUED_BYTES = 16 << 20
"""Bytes of datagrams waiting, all UDP senders together (many source ports are cheap to forge); more are dropped."""
FRESH_RUN = 8
"""Clients that had nothing queued served in a row before one with a backlog gets its turn."""
REFUSAL_BURST = 5
"""Refusals sent at once to one IP that has not said the token's hello; then REFUSALS_PER_SECOND."""
REFUSALS_PER_SECOND = 1.0
REFUSALS_PER_SECOND_IN_ALL = 50.0
"""Refusals to such senders, all IPs together: a bound on what spoofed datagrams can make the server send."""


@dataclass
class _Turns:
    tasks: collections.deque[tuple[Callable[[], None], int]]  # each with the bytes it counts against the bound
    room: threading.Condition


class FairDispatcher:
    """Runs tasks one at a time on a thread of its own, taking turns between clients.

    Each client (a sender's key) has a queue. A client that had nothing queued is served next: it has had no
    share lately (a /status among floods waits for one task, not one of each flooder). Clients with a backlog
    take turns, one task each, and one of them gets its turn after at most FRESH_RUN of those newcomers, so
    nobody starves and a flood costs the flooder. `submit` with `block` (a TCP reader) waits while its client
    has MAX_TCP_AHEAD packets queued, which pushes back on that client through TCP; without (the UDP loop,
    which serves everyone) a client MAX_UDP_AHEAD packets ahead loses the packet, as does any packet once
    MAX_UDP_QUEUED_BYTES wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._queues: dict[Hashable, _Turns] = {}
        self._fresh: collections.deque[Hashable] = collections.deque()  # clients whose queue was empty
        self._turns: collections.deque[Hashable] = collections.deque()  # clients with a backlog, in turn
        self._fresh_run = 0  # newcomers served since a backlogged client's turn
        self._unblocked_bytes = 0  # of the packets queued without `block`
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="sonocanvas-dispatch", daemon=True)
        self._thread.start()

    def submit(self, key: Hashable, task: Callable[[], None], block: bool, size: int = 0) -> bool:
        """Queue `task` (for a packet of `size` bytes) behind `key`'s earlier ones; False if it was dropped
        (UDP) or the dispatcher closed."""
        ahead = MAX_TCP_AHEAD if block else MAX_UDP_AHEAD
        counted = 0 if block else size
        with self._lock:
            if self._unblocked_bytes + counted > MAX_UDP_QUEUED_BYTES:
                return False
            while True:
                if self._closed:
                    return False
                queue = self._queues.get(key)  # looked up again after each wait: an emptied queue is dropped
                if queue is None:
                    queue = self._queues[key] = _Turns(collections.deque(), threading.Condition(self._lock))
                    self._fresh.append(key)
                    break
                if len(queue.tasks) < ahead:
                    break
                if not block:
                    return False
                queue.room.wait()
            queue.tasks.append((task, counted))
            self._unblocked_bytes += counted
            self._work.notify()
            return True

    def close(self) -> None:
        """Stop after the task running now; what still waits is dropped, and waiting submitters return."""
        with self._lock:
            self._closed = True
            self._work.notify_all()
            for queue in self._queues.values():
                queue.room.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._work.wait_for(lambda: self._fresh or self._turns or self._closed)
                if self._closed:
                    return
                if self._fresh and (self._fresh_run < FRESH_RUN or not self._turns):
                    key = self._fresh.popleft()
                    self._fresh_run += 1
                else:
                    key = self._turns.popleft()
                    self._fresh_run = 0
                queue = self._queues[key]
                task, counted = queue.tasks.popleft()
                self._unblocked_bytes -= counted
                queue.room.notify()
            try:
                task()
            except Exception:  # each task catches its own; this keeps the dispatcher alive whatever happens
                log.exception("fault in a dispatched task")
            # Let the other threads have the GIL now. Busy with a flood, this thread would otherwise keep it for
            # the interpreter's whole switch interval (5 ms) at a time, and the UDP loop holding the next
            # client's /status would wait that long, several times over, to hand it in.
            time.sleep(0)
            with self._lock:
                if queue.tasks:
                    self._turns.append(key)  # behind every client that waited meanwhile
                else:
                    del self._queues[key]


class Throttle:
    """Token buckets: `burst` at once and `rate` a second per key, `total` a second for all keys together.
    Remembers a bounded number of keys (the longest unused are forgotten first)."""

    MAX_KEYS = 4096

    def __init__(self, burst: float, rate: float, total: float):
        self.burst, self.rate, self.total = burst, rate, total
        self._buckets: collections.OrderedDict[Hashable, tuple[float, float]] = collections.OrderedDict()
        self._all = (total, time.monotonic())
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            everyone, since = self._all
            everyone = min(self.total, everyone + (now - since) * self.total)
            allowed = tokens >= 1 and everyone >= 1
            if allowed:
                tokens -= 1
                everyone -= 1
            self._buckets[key] = (tokens, now)
            self._all = (everyone, now)
            while len(self._buckets) > self.MAX_KEYS:
                self._buckets.popitem(last=False)
            return allowed


class Server:
    """Listens on `host:port` for UDP and TCP; `port=0` picks a free port (the same for both). `sockets`, a
    pair from `bind_pair`, replaces host and port: `serve` binds before loading the models, to fail fast."""

    def __init__(self, services: Services, host: str = "127.0.0.1", port: int = 9010,
                 sockets: tuple[socket.socket, socket.socket] | None = None, bounds: QueueBounds | None = None):
        self.services = services
        self.transport = Transport(sockets or bind_pair(host, port), self.handle_packet, self._bad_frame,
                                   self._gone, admitted=lambda sender: self.clients.admitted(sender.key),
                                   busy=lambda sender: self.job_bridge.peer_busy(sender.peer))
        self.address = self.transport.address
        self.job_bridge = JobBridge(services, bounds)
        self.jobs = self.job_bridge.queue
        self.clients = Clients(services.token, busy=self.job_bridge.owner_busy)
        self.context = Context(services, self.clients, self.jobs, self.job_bridge.submit, self.transport.udp_peer,
                               self.check_reply_port)
        self._dispatcher = FairDispatcher()
        self._junk = RateLimited(log)
        self._refusals = Throttle(REFUSAL_BURST, REFUSALS_PER_SECOND, REFUSALS_PER_SECOND_IN_ALL)

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Server:
        """Serve on background threads; tell the clients of jobs a dead server left behind."""
        for entry in recovery.reconcile(self.services.journal, self.services.drop):
            recovery.tell(entry, self.transport.udp_peer((entry.client_host, entry.client_port)), self.services.drop)
        self.transport.start()
        log.info("serving on %s:%d", *self.address)
        return self

    def close(self) -> None:
        self.jobs.close()
        self.transport.close()
        self._dispatcher.close()
        if self.services.player is not None:
            self.services.player.stop()
        self.services.journal.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # dispatch ----------------------------------------------------------------------------------

    def handle_packet(self, data: bytes, sender: Sender) -> None:
        """Decode one OSC packet (a message, or a bundle whose messages run in the order they appear) on the
        transport's thread, and queue it for the dispatcher. Nothing a client sends may stop the server."""
        try:
            task = functools.partial(self._serve, decode_packet(data), sender)
        except WireError as error:
            task = functools.partial(self._refuse_packet, error, sender)
        except Exception as error:  # a bug of ours in the decoder: logged, and the transport goes on
            log.exception("fault reading a packet from %s:%d", *sender.address)
            task = functools.partial(self._tell_fault, error, sender)
        self._queue(sender, task, len(data))

    def _queue(self, sender: Sender, task: Callable[[], None], size: int = 0) -> None:
        if not self._dispatcher.submit(sender.key, task, sender.peer is not None, size) and sender.peer is None:
            self._junk.warning(sender.address[0], "%s:%d sends faster than it is served; a datagram was dropped",
                               *sender.address)

    def _serve(self, messages: list[Message], sender: Sender) -> None:
        for message in messages:
            try:
                self._dispatch(message.address, message.args, sender)
            except Exception as error:  # a bug of ours outside a handler: this message's answer, then the next
                log.exception("fault dispatching %s from %s:%d", message.address[:64], *sender.address)
                self._tell_fault(error, sender)

    def _refuse_packet(self, error: WireError, sender: Sender) -> None:
        self._junk.warning(sender.address[0], "junk from %s:%d: %s", *sender.address, error)
        if self.clients.admitted(sender.key):
            _send_error(self._default_peer(sender, sender.key), "", error.field, str(error))

    def _tell_fault(self, error: Exception, sender: Sender) -> None:
        if self.clients.admitted(sender.key):
            _send_error(self._default_peer(sender, sender.key), "", "server",
                        f"server: {type(error).__name__}: {error}")

    def _dispatch(self, address: str, args: list[Any], sender: Sender) -> None:
        if address in REPLIES_ONLY:
            self._junk.warning(sender.address[0], "%s:%d sent a reply (%s) to the server; ignored", *sender.address,
                               address)
            return
        job_request = address in JOB_REQUESTS
        job_id = protocol.job_id_of(args) if job_request else ""
        to = self._default_peer(sender, sender.key)
        try:
            owner = self._owner(sender, protocol.client_of(args) if job_request else "")
            if address != "/sonocanvas/hello" and not self.clients.admitted(owner):
                self._junk.warning(sender.address[0], "%s:%d sent %s without the token's hello; ignored",
                                   *sender.address, address)
                return
            self.clients.seen(owner)
            to = self._default_peer(sender, owner)
            reply_port = protocol.reply_port_of(args) if job_request else None
            if reply_port and sender.peer is None:
                self.check_reply_port(sender.address[0], reply_port)
                to = self.transport.udp_peer((sender.address[0], reply_port))
        except FieldError as error:
            port = protocol.reply_port_of(args) if job_request else None
            if error.field == "client" and port and sender.peer is None and not self.transport.is_self(
                    sender.address[0], port):  # an unknown secret, from a sender that may be answered: at the
                to = self.transport.udp_peer((sender.address[0], port))  # reply_port, as every answer to it
            _send_error(to, job_id, error.field, str(error))
            return
        handler = HANDLERS.get(address)
        try:
            if handler is None:
                raise ProtocolError("address", f"unknown address {address[:64]!r}")
            handler(self.context, Call(args, to, owner, sender))
        except FieldError as error:  # a request the client can fix: its field named
            if self.clients.admitted(owner) or self._refusals.allow(sender.address[0]):
                _send_error(to, job_id, error.field, str(error))
            else:  # a stranger's hello refused, over and over: a reflector, unless throttled
                self._junk.warning(sender.address[0], "%s:%d: refusals to it are throttled; not answered (%s)",
                                   *sender.address, error.field)
        except Exception as error:  # a bug must cost one reply, not the server
            log.exception("fault handling %s from %s:%d", address[:64], *sender.address)
            _send_error(to, job_id, "server", f"server: {type(error).__name__}: {error}")

    def _owner(self, sender: Sender, secret: str) -> Hashable:
        """Whose request this is: the sender itself, or the client whose secret it carries."""
        if not secret:
            return sender.key
        owner = self.clients.identity(secret)
        if owner is None:
            if not self.clients.admitted(sender.key):
                return sender.key  # a stranger to a server with a token: ignored below, never answered
            raise ProtocolError("client", "unknown client secret; say /sonocanvas/hello again for a new one")
        return owner

    def _default_peer(self, sender: Sender, owner: Hashable) -> Peer:
        """Where replies go without a `reply_port` key: the TCP connection; over UDP, the sender's IP at the
        reply port its client registered with hello, else its source port."""
        if sender.peer is not None:
            return sender.peer
        port = self.clients.reply_port(owner) or self.clients.reply_port(sender.key) or sender.address[1]
        return self.transport.udp_peer((sender.address[0], port))

    def check_reply_port(self, host: str, port: int) -> None:
        """Refuse a reply port that is this server's own: replying to it would start a loop with itself."""
        if self.transport.is_self(host, port):
            raise ProtocolError("reply_port", f"{port} is this server's own port; give the port your client "
                                "listens on")

    def _bad_frame(self, sender: Sender) -> None:
        """A frame that is not SLIP: answered in its turn, after what the connection sent before it."""
        self._queue(sender, functools.partial(self._refuse_frame, sender))

    def _refuse_frame(self, sender: Sender) -> None:
        self._junk.warning(sender.address[0], "bad SLIP frame from %s:%d", *sender.address)
        if sender.peer is not None and self.clients.admitted(sender.key):
            sender.peer.send("/sonocanvas/error", "", "packet",
                             "packet: a bad SLIP frame (a wrong escape, or over 1 MiB)")

    def _gone(self, sender: Sender) -> None:
        """A connection ended: forgotten after its last packet ran, so that packet's hello cannot outlive it."""
        if not self._dispatcher.submit(sender.key, functools.partial(self.clients.forget, sender.key), block=True):
            self.clients.forget(sender.key)  # the server is closing


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

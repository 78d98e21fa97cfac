"""Sockets for the OSC server: UDP and SLIP-framed TCP on one port, and the peers replies go to.

Nothing here knows OSC addresses: a received packet goes to the `deliver` callback with the `Sender`
it came from. Sending never blocks the caller: a UDP reply is one `sendto`, a TCP reply is queued
for the connection's own writer thread, so a client that stops reading delays only itself.

A TCP connection is bounded in time as well as in count: a frame begun (or a connection opened) must be
complete within FRAME_TIMEOUT, and one that neither sends nor is sent anything for TCP_IDLE_TIMEOUT, while no
job of its own is live, is closed; either way the client is told why. When all MAX_TCP_CONNECTIONS places are
taken, a newcomer takes the place of a connection that has not said the token's hello, else (where the
newcomer needs no token) of the quietest connection of the host holding the most, if that host holds at least
two more than the newcomer's; a connection with a live job is never one of them.
"""
from __future__ import annotations

import collections
import contextlib
import errno
import functools
import ipaddress
import logging
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pythonosc import slip

from .wire import encode_message

MAX_DATAGRAM = 65535
MAX_UDP_REPLY = 65507  # the most an IPv4 UDP datagram holds
MAX_FRAME = 1 << 20
TCP_SEND_TIMEOUT = 2.0
MAX_TCP_PENDING = 4 << 20  # reply bytes waiting for a TCP client; more means it stopped reading
MAX_TCP_CONNECTIONS = 64  # each has a reader and a writer thread; one more is told so and closed
FRAME_TIMEOUT = 10.0
"""Seconds a TCP connection may hold an unfinished frame, or, once opened, send no complete one: then closed."""
TCP_IDLE_TIMEOUT = 300.0
"""Seconds a TCP connection may go without a frame either way while no job of its own is live: then closed."""
MIN_SHARE_GAP = 2
"""A newcomer takes a place from a host only if that host holds at least this many more than the newcomer's:
each then holds no fewer than the other, so two hosts never take a place back and forth."""
BACKLOG = 128  # connections waiting to be accepted: a burst of connects is not delayed by SYN retries
ACCEPT_BACKOFF = 0.1  # after an accept error such as EMFILE, so the loop waits instead of spinning
POLL = 0.5
FLUSH_ON_CLOSE = 1.0
"""Seconds a closing server gives its TCP clients, all together, to take the replies already queued for them."""

log = logging.getLogger("sonocanvas.transport")


class Peer:
    """Where a client's replies go. `address` is what the journal keeps (IP and reply port)."""

    address: tuple[str, int]

    def send(self, address: str, *args: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class UdpPeer(Peer):
    sock: socket.socket
    address: tuple[str, int]

    def send(self, address: str, *args: Any) -> None:
        """Send one datagram. One too large for UDP is never dropped silently: the client gets an error on
        field `reply` instead, and the log says which reply it was."""
        data = encode_message(address, *args)
        if len(data) > MAX_UDP_REPLY:
            log.warning("reply %s to %s is %d bytes, too large for UDP; sent an error instead", address,
                        self.address, len(data))
            data = encode_message("/sonocanvas/error", "", "reply",
                                  f"reply: {address} is {len(data)} bytes, more than one UDP datagram holds; "
                                  "ask over TCP")
        try:
            self.sock.sendto(data, self.address)
        except OSError:
            pass  # the client went away (or its buffer is full); UDP promises nothing more


class TcpPeer(Peer):
    """One TCP connection. Replies are queued and written, SLIP-framed, by the connection's writer thread.

    A write that times out, or a queue past MAX_TCP_PENDING (a client that stopped reading), kills the peer:
    the connection is shut down, which ends its reader, and later sends return at once."""

    def __init__(self, conn: socket.socket, remote: tuple[str, int], on_closed: Callable[[socket.socket], None]):
        self.conn = conn
        self.remote = remote
        self.address = remote  # until a hello names the reply port
        self.dead = False
        self.last_sent = time.monotonic()  # when a reply was last queued: a connection being answered is not idle
        self._closing = False
        self._out: collections.deque[bytes] = collections.deque()
        self._pending = 0
        self._ready = threading.Condition()
        self._on_closed = on_closed
        self._writer = threading.Thread(target=self._write, name=f"sonocanvas-tcp-writer-{remote[1]}", daemon=True)
        self._writer.start()

    def send(self, address: str, *args: Any) -> None:
        frame = slip.encode(encode_message(address, *args))
        with self._ready:
            if self.dead or self._closing:
                return
            if self._pending + len(frame) > MAX_TCP_PENDING:
                log.warning("TCP client %s does not read its replies; disconnecting it", self.remote)
                self._kill()
                return
            self._out.append(frame)
            self._pending += len(frame)
            self.last_sent = time.monotonic()
            self._ready.notify()

    def close(self, field: str, reason: str) -> None:
        """Tell the client why (`/sonocanvas/error "" <field> <reason>`), then close once that is written."""
        self.send("/sonocanvas/error", "", field, reason)
        self.finish()

    def finish(self) -> None:
        """The client is done sending: write what is queued, then close."""
        with self._ready:
            self._closing = True
            self._ready.notify()

    def wait_written(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the writer to end (after `finish`: all written); whether it did."""
        self._writer.join(timeout)
        return not self._writer.is_alive()

    def _kill(self) -> None:
        self.dead = True
        self._out.clear()
        self._ready.notify()
        self._on_closed(self.conn)  # the slot is free before the client sees the end (it takes only the server's lock)
        try:
            self.conn.shutdown(socket.SHUT_RDWR)  # wakes the reader
        except OSError:
            pass  # already closed

    def _write(self) -> None:
        try:
            while True:
                with self._ready:
                    self._ready.wait_for(lambda: self._out or self._closing or self.dead)
                    if self.dead or not self._out:
                        return
                    frame = self._out.popleft()
                    self._pending -= len(frame)
                try:
                    self.conn.sendall(frame)
                except OSError:  # closed, or stuck past the send timeout
                    with self._ready:
                        self._kill()
                    return
        finally:
            self._on_closed(self.conn)  # the slot is free before the client can see the connection end
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.conn.close()


@dataclass(frozen=True)
class Sender:
    """Who sent a packet: `key` is its identity (the TCP connection, or a UDP source IP and port)."""

    key: Hashable
    address: tuple[str, int]
    peer: TcpPeer | None = None  # TCP: its connection; UDP: replies go where the server decides


class SlipDecoder:
    """Splits a TCP byte stream into SLIP-framed packets (RFC 1055, as OSC 1.1 uses it).

    Each byte received is searched once and copied once into the frame it belongs to, so a frame trickled in
    a byte at a time costs what it costs sent whole: the time is linear in the bytes received."""

    def __init__(self) -> None:
        self._frame = bytearray()
        self._overlong = False  # the frame in progress passed MAX_FRAME: its bytes are dropped up to its END

    @property
    def partial(self) -> bool:
        """Whether bytes of an unfinished frame wait for their END."""
        return bool(self._frame) or self._overlong

    def feed(self, data: bytes) -> list[bytes | slip.ProtocolError]:
        """Add received bytes; return the packets they complete (empty frames between ENDs are skipped).
        A malformed frame, or one over MAX_FRAME (reported once, when it passes the bound), comes back as a
        `slip.ProtocolError` in the list, so the caller can report it."""
        packets: list[bytes | slip.ProtocolError] = []
        view = memoryview(data)
        start = 0
        while True:
            end = data.find(slip.END, start)
            piece = view[start:] if end < 0 else view[start:end]
            if not self._overlong:
                if len(self._frame) + len(piece) > MAX_FRAME:  # a frame that never ends: no growing without bound
                    self._frame.clear()
                    self._overlong = True
                    packets.append(slip.ProtocolError(b"frame too long"))
                else:
                    self._frame += piece
            if end < 0:
                return packets
            if self._frame:
                try:
                    packets.append(slip.decode(bytes(self._frame)))
                except slip.ProtocolError as error:
                    packets.append(error)
            self._frame.clear()
            self._overlong = False
            start = end + 1


@dataclass
class _Connection:
    """The transport's record of one TCP connection: whose it is, and when it last sent a whole frame."""

    conn: socket.socket
    sender: Sender
    peer: TcpPeer
    opened: float
    last_frame: float

    @property
    def host(self) -> str:
        return self.sender.address[0]

    def quiet_since(self) -> float:
        return max(self.last_frame, self.peer.last_sent)


Deliver = Callable[[bytes, Sender], None]


def _never(sender: Sender) -> bool:
    return False


def _always(sender: Sender) -> bool:
    return True


class Transport:
    """The UDP loop, the TCP accept loop and one reader per connection, each on its own thread.

    `admitted(sender)` says whether a sender may be served (it said the token's hello, or the server has no
    token), `busy(sender)` whether a job of its own is live; both decide which connection gives way."""

    def __init__(self, sockets: tuple[socket.socket, socket.socket], deliver: Deliver,
                 on_bad_frame: Callable[[Sender], None], on_gone: Callable[[Sender], None], *,
                 admitted: Callable[[Sender], bool] = _always, busy: Callable[[Sender], bool] = _never):
        self.udp, self.tcp = sockets
        self.address: tuple[str, int] = self.udp.getsockname()[:2]
        self._deliver = deliver
        self._on_bad_frame = on_bad_frame
        self._on_gone = on_gone
        self._admitted = admitted
        self._busy = busy
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: dict[socket.socket, _Connection] = {}
        self._lock = threading.Lock()

    def udp_peer(self, address: tuple[str, int]) -> UdpPeer:
        return UdpPeer(self.udp, address)

    def is_self(self, host: str, port: int) -> bool:
        """Whether `host:port` is this server's own socket, on any of its addresses."""
        return port == self.address[1] and _is_local(host)

    def start(self) -> None:
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, name=f"sonocanvas{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Stop serving. The replies already queued for TCP clients (a job's "interrupted", as the queue's close
        tells it) are written first, for at most FLUSH_ON_CLOSE seconds in all; then every connection is shut."""
        self._closing.set()
        with self._lock:
            connections = list(self._connections.values())
        for sock in (self.udp, self.tcp):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for connection in connections:
            connection.peer.finish()
        deadline = time.monotonic() + FLUSH_ON_CLOSE
        for connection in connections:
            if not connection.peer.wait_written(max(0.0, deadline - time.monotonic())):
                log.info("TCP client %s:%d did not take its last replies within %g s", *connection.peer.remote,
                         FLUSH_ON_CLOSE)
        for sock in [connection.conn for connection in connections]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for sock in (self.udp, self.tcp):
            sock.close()
        for thread in self._threads:
            thread.join(5)

    def _serve_udp(self) -> None:
        while not self._closing.is_set():
            try:
                data, source = self.udp.recvfrom(MAX_DATAGRAM)
            except OSError:  # a timeout, ICMP "port unreachable" from an earlier reply, or the socket closed
                continue
            source = source[:2]
            if self.is_self(*source):
                continue  # our own reply came back: answering it would start a loop
            self._deliver(data, Sender(("udp", source), source))

    def _serve_tcp(self) -> None:
        while not self._closing.is_set():
            try:
                conn, remote = self.tcp.accept()
            except TimeoutError:  # the poll
                continue
            except OSError:  # out of file descriptors, or the socket closed: wait a little, do not spin
                self._closing.wait(ACCEPT_BACKOFF)
                continue
            # A write (sendall) waits this long in all for a client that stopped reading.
            conn.settimeout(TCP_SEND_TIMEOUT)
            # Replies are small and each is news (a step, a preview's path): Nagle's algorithm would hold one back
            # until the last is acknowledged, and a client would hear a burst, late. macOS refuses the option
            # (EINVAL) on a connection its peer has already closed: that one is served as any other, and ends.
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            remote = remote[:2]
            key = ("tcp", remote)
            with self._lock:
                victim = None
                if len(self._connections) >= MAX_TCP_CONNECTIONS:
                    victim = self._victim(Sender(key, remote))
                    if victim is not None:
                        del self._connections[victim.conn]
                entry = None
                if len(self._connections) < MAX_TCP_CONNECTIONS:
                    now = time.monotonic()
                    peer = TcpPeer(conn, remote, self._closed)
                    entry = _Connection(conn, Sender(key, remote, peer), peer, now, now)
                    self._connections[conn] = entry
            if victim is not None:
                self._make_room(victim)
            if entry is None:
                _turn_away(conn)
                continue
            threading.Thread(target=self._serve_connection, args=(entry,),
                             name=f"sonocanvas-tcp-reader-{remote[1]}", daemon=True).start()

    def _victim(self, newcomer: Sender) -> _Connection | None:
        """Whose place a newcomer takes when every place is taken, or None (called under `_lock`): the oldest
        connection that has not said the token's hello; else, where the newcomer needs no token, the quietest
        of the host holding the most, if it holds MIN_SHARE_GAP more than the newcomer's. Never a busy one."""
        held = list(self._connections.values())
        free = [c for c in held if not self._busy(c.sender)]
        strangers = [c for c in free if not self._admitted(c.sender)]
        if strangers:
            return min(strangers, key=lambda c: c.opened)
        if not free or not self._admitted(newcomer):
            return None
        per_host = Counter(c.host for c in held)
        host = max({c.host for c in free}, key=per_host.__getitem__)
        if per_host[host] < per_host[newcomer.address[0]] + MIN_SHARE_GAP:
            return None
        return min((c for c in free if c.host == host), key=_Connection.quiet_since)

    def _make_room(self, victim: _Connection) -> None:
        if self._admitted(victim.sender):
            reason = (f"connection: closed to make room for another host's client: {victim.host} held the most of "
                      f"the {MAX_TCP_CONNECTIONS} TCP connections, and this one was its quietest")
        else:
            reason = (f"connection: closed to make room for another client: all {MAX_TCP_CONNECTIONS} TCP "
                      "connections were taken, and this one had not said the token's hello")
        log.info("TCP client %s:%d closed: %s", *victim.sender.address, reason)
        victim.peer.close("connection", reason)

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def _serve_connection(self, entry: _Connection) -> None:
        conn, sender, peer = entry.conn, entry.sender, entry.peer
        decoder = SlipDecoder()
        owed_since: float | None = entry.opened  # since when a whole frame is owed: from the open, or a frame begun
        selector = selectors.DefaultSelector()
        try:
            selector.register(conn, selectors.EVENT_READ)
            while not self._closing.is_set() and not peer.dead:
                now = time.monotonic()
                if owed_since is not None:
                    deadline = owed_since + FRAME_TIMEOUT
                    if now >= deadline:
                        self._time_out(entry, f"connection: no complete frame in {FRAME_TIMEOUT:g} s; closed")
                        break
                else:
                    deadline = entry.quiet_since() + TCP_IDLE_TIMEOUT
                    if now >= deadline:
                        if not self._busy(sender):
                            self._time_out(entry, f"connection: nothing sent either way for {TCP_IDLE_TIMEOUT:g} s "
                                           "and no job of yours is live; closed (send /sonocanvas/status to stay)")
                            break
                        entry.last_frame = now  # waiting for its job is not idle: look again a timeout later
                        continue
                if not selector.select(min(deadline - now, POLL)):
                    continue  # a deadline, or a look at `_closing`
                data = conn.recv(65536)
                if not data:
                    break
                packets = decoder.feed(data)
                for packet in packets:
                    if peer.dead:  # it stopped reading: run nothing more of what it sent
                        break
                    if isinstance(packet, Exception):
                        self._on_bad_frame(sender)
                    else:
                        self._deliver(packet, sender)  # may wait for the client's turn: not the client's time
                now = time.monotonic()
                if packets:
                    entry.last_frame = now
                    owed_since = now if decoder.partial else None
                elif owed_since is None and decoder.partial:
                    owed_since = now
        except OSError:
            pass  # reset by the client, or shut down by the server
        finally:
            selector.close()
            peer.finish()
            self._on_gone(sender)

    def _time_out(self, entry: _Connection, reason: str) -> None:
        log.info("TCP client %s:%d closed: %s", *entry.sender.address, reason)
        self._closed(entry.conn)  # its place is free before the client can see the end
        entry.peer.close("connection", reason)


def _turn_away(conn: socket.socket) -> None:
    """A connection over MAX_TCP_CONNECTIONS: say why and close it, never waiting on the client."""
    reason = f"connection: too many TCP connections (at most {MAX_TCP_CONNECTIONS}); close one or use UDP"
    try:
        conn.setblocking(False)
        conn.send(slip.encode(encode_message("/sonocanvas/error", "", "connection", reason)))
    except OSError:
        pass  # it went away already
    conn.close()


@functools.lru_cache(maxsize=256)
def _is_local(host: str) -> bool:
    """Whether `host` (a numeric address) is one of this machine's: only then can a socket bind to it."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except OSError:
        return False
    return True


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
            tcp.listen(BACKLOG)
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


def is_loopback(sockets: tuple[socket.socket, socket.socket]) -> bool:
    """Whether the sockets listen on a loopback address only (no token needed there)."""
    return ipaddress.ip_address(sockets[0].getsockname()[0]).is_loopback


def _listen_error(host: str, port: int, error: OSError) -> ValueError:
    if error.errno == errno.EADDRINUSE:
        return ValueError(f"port: {port} is already in use on {host} (UDP or TCP; another sonocanvas serve?)")
    if error.errno == errno.EACCES:
        return ValueError(f"port: {port} needs privileges on this system; pick one from 1024 up")
    return ValueError(f"host: cannot listen on {host!r}: {error.strerror or error}")

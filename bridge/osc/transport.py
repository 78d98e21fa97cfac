"""Sockets for the OSC server: UDP and SLIP-framed TCP on one port, and the peers replies go to.

Nothing here knows OSC addresses: a received packet goes to the `deliver` callback with the `Sender`
it came from. Sending never blocks the caller: a UDP reply is one `sendto`, a TCP reply is queued
for the connection's own writer thread, so a client that stops reading delays only itself.
"""
from __future__ import annotations

import collections
import errno
import functools
import ipaddress
import logging
import socket
import threading
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
BACKLOG = 128  # connections waiting to be accepted: a burst of connects is not delayed by SYN retries
ACCEPT_BACKOFF = 0.1  # after an accept error such as EMFILE, so the loop waits instead of spinning
POLL = 0.5

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
            self._ready.notify()

    def finish(self) -> None:
        """The client is done sending: write what is queued, then close."""
        with self._ready:
            self._closing = True
            self._ready.notify()

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
    """Splits a TCP byte stream into SLIP-framed packets (RFC 1055, as OSC 1.1 uses it)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes | slip.ProtocolError]:
        """Add received bytes; return the packets they complete (empty frames between ENDs are skipped).
        A malformed frame comes back as a `slip.ProtocolError` in the list, so the caller can report it."""
        self._buffer += data
        *frames, rest = self._buffer.split(slip.END)
        self._buffer = bytearray(rest)
        packets: list[bytes | slip.ProtocolError] = []
        if len(self._buffer) > MAX_FRAME:  # a frame that never ends: drop it rather than grow without bound
            self._buffer.clear()
            packets.append(slip.ProtocolError(b"frame too long"))
        for frame in frames:
            if len(frame) > MAX_FRAME:
                packets.append(slip.ProtocolError(b"frame too long"))
            elif frame:
                try:
                    packets.append(slip.decode(bytes(frame)))
                except slip.ProtocolError as error:
                    packets.append(error)
        return packets


Deliver = Callable[[bytes, Sender], None]


class Transport:
    """The UDP loop, the TCP accept loop and one reader per connection, each on its own thread."""

    def __init__(self, sockets: tuple[socket.socket, socket.socket], deliver: Deliver,
                 on_bad_frame: Callable[[Sender], None], on_gone: Callable[[Sender], None]):
        self.udp, self.tcp = sockets
        self.address: tuple[str, int] = self.udp.getsockname()[:2]
        self._deliver = deliver
        self._on_bad_frame = on_bad_frame
        self._on_gone = on_gone
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
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
        self._closing.set()
        with self._lock:
            connections = list(self._connections)
        for sock in [self.udp, self.tcp, *connections]:
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
            with self._lock:
                full = len(self._connections) >= MAX_TCP_CONNECTIONS
                if not full:
                    self._connections.add(conn)
            if full:
                _turn_away(conn)
                continue
            # A write (sendall) waits this long in all for a client that stopped reading; an idle reader
            # wakes this often to look at `_closing`.
            conn.settimeout(TCP_SEND_TIMEOUT)
            threading.Thread(target=self._serve_connection, args=(conn, remote[:2]),
                             name=f"sonocanvas-tcp-reader-{remote[1]}", daemon=True).start()

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _serve_connection(self, conn: socket.socket, remote: tuple[str, int]) -> None:
        peer = TcpPeer(conn, remote, self._closed)
        sender = Sender(("tcp", remote), remote, peer)
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
                        self._on_bad_frame(sender)
                    else:
                        self._deliver(packet, sender)
        except OSError:
            pass  # reset by the client, or shut down by the server
        finally:
            peer.finish()
            self._on_gone(sender)


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


def _turn_away(conn: socket.socket) -> None:
    """A connection over MAX_TCP_CONNECTIONS: say why and close it, never waiting on the client."""
    reason = f"connection: too many TCP connections (at most {MAX_TCP_CONNECTIONS}); close one or use UDP"
    try:
        conn.setblocking(False)
        conn.send(slip.encode(encode_message("/sonocanvas/error", "", "connection", reason)))
    except OSError:
        pass  # it went away already
    conn.close()


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

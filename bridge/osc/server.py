"""The OSC server of docs/osc.md: the transport's packets decoded (`wire`), checked and dispatched to the
handler of each address (`handlers`), jobs run through the job bridge.

Handlers run one at a time under the dispatch lock, but no handler waits on a client: a UDP reply is one
`sendto` and a TCP reply is queued for its connection's writer, so one slow client delays only itself.
Every fault of the server's own is logged with its traceback and costs one error reply, never the server.
"""
from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Hashable
from typing import Any

from ...engine.errors import FieldError
from ..jobs.queue import QueueBounds
from ..log import RateLimited
from ..request import build as protocol
from ..request.build import ProtocolError
from .addresses import JOB_REQUESTS, REPLIES_ONLY
from .clients import Clients
from .handlers import HANDLERS, Call, Context
from .job_bridge import JobBridge
from .services import Services
from .transport import Peer, Sender, Transport, bind_pair
from .wire import WireError, decode_packet

log = logging.getLogger("sonocanvas.server")


class Server:
    """Listens on `host:port` for UDP and TCP; `port=0` picks a free port (the same for both). `sockets`, a
    pair from `bind_pair`, replaces host and port: `serve` binds before loading the models, to fail fast."""

    def __init__(self, services: Services, host: str = "127.0.0.1", port: int = 9010,
                 sockets: tuple[socket.socket, socket.socket] | None = None, bounds: QueueBounds | None = None):
        self.services = services
        self.transport = Transport(sockets or bind_pair(host, port), self.handle_packet, self._bad_frame,
                                   self._gone)
        self.address = self.transport.address
        self.clients = Clients(services.token)
        self.job_bridge = JobBridge(services, bounds)
        self.jobs = self.job_bridge.queue
        self.context = Context(services, self.clients, self.jobs, self.job_bridge.submit, self.transport.udp_peer,
                               self.check_reply_port)
        self._dispatch_lock = threading.Lock()
        self._junk = RateLimited(log)

    # lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Server:
        """Serve on background threads; tell the clients of jobs a dead server left behind."""
        for entry in self.services.journal.recover():
            self.transport.udp_peer((entry.client_host, entry.client_port)).send(
                "/sonocanvas/error", entry.job_id, "job", entry.message)
        self.transport.start()
        log.info("serving on %s:%d", *self.address)
        return self

    def close(self) -> None:
        self.jobs.close()
        self.transport.close()
        if self.services.player is not None:
            self.services.player.stop()
        self.services.journal.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # dispatch ----------------------------------------------------------------------------------

    def handle_packet(self, data: bytes, sender: Sender) -> None:
        """Decode one OSC packet (a message, or a bundle whose messages run now, in the order they appear)
        and dispatch each message. Nothing a client sends may stop the server."""
        try:
            try:
                messages = decode_packet(data)
            except WireError as error:
                self._junk.warning(sender.address[0], "junk from %s:%d: %s", *sender.address, error)
                if self.clients.admitted(sender.key):
                    _send_error(self._default_peer(sender, sender.key), "", error.field, str(error))
                return
            for message in messages:
                self._dispatch(message.address, message.args, sender)
        except Exception as error:  # a bug of ours outside a handler: logged, and the transport goes on
            log.exception("fault reading a packet from %s:%d", *sender.address)
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
            to = self._default_peer(sender, owner)
            reply_port = protocol.reply_port_of(args) if job_request else None
            if reply_port and sender.peer is None:
                self.check_reply_port(sender.address[0], reply_port)
                to = self.transport.udp_peer((sender.address[0], reply_port))
        except FieldError as error:
            _send_error(to, job_id, error.field, str(error))
            return
        handler = HANDLERS.get(address)
        with self._dispatch_lock:
            try:
                if handler is None:
                    raise ProtocolError("address", f"unknown address {address[:64]!r}")
                handler(self.context, Call(args, to, owner, sender))
            except FieldError as error:  # a request the client can fix: its field named
                _send_error(to, job_id, error.field, str(error))
            except Exception as error:  # a bug must cost one reply, not the server
                log.exception("fault handling %s from %s:%d", address, *sender.address)
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
        self._junk.warning(sender.address[0], "bad SLIP frame from %s:%d", *sender.address)
        if sender.peer is not None and self.clients.admitted(sender.key):
            sender.peer.send("/sonocanvas/error", "", "packet",
                             "packet: a bad SLIP frame (a wrong escape, or over 1 MiB)")

    def _gone(self, sender: Sender) -> None:
        self.clients.forget(sender.key)


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

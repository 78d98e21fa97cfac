"""Who the server's clients are: identities, their reply ports, their secrets and, with a token, who is in.

A client's identity is its TCP connection, or for UDP its source IP and port. `hello` binds a reply port
and a random secret to that identity; a request carrying the secret (key `client`) acts for that
identity whatever port it comes from. `reply_port` only says where replies go, so nothing a sender
says can make it another client. The table is bounded: when it is full, a hello forgets the client that
has been quiet the longest, never one with a live job, so a flood of hellos costs only other idle clients
(who say hello again) and never the secret a running job's replies depend on.
"""
from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ...engine.errors import FieldError

MAX_CLIENTS = 4096


@dataclass
class _Client:
    reply_port: int
    secret: str


def _idle(identity: Hashable) -> bool:
    return False


class Clients:
    """`busy(identity)` says whether a job of that identity is queued or running: such a client is never
    forgotten to make room."""

    def __init__(self, token: str = "", busy: Callable[[Hashable], bool] = _idle):
        self.token = token
        self._busy = busy
        self._known: OrderedDict[Hashable, _Client] = OrderedDict()  # the quietest first
        self._secrets: dict[str, Hashable] = {}
        self._lock = threading.Lock()

    def token_ok(self, given: str | None) -> bool:
        """Whether a hello's token opens this server (any does, where it has none)."""
        return not self.token or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))

    def hello(self, identity: Hashable, reply_port: int) -> str:
        """Register `identity`'s reply port and admit it; returns its secret (the same for each hello). A full
        table forgets its quietest client without a live job; if every one has a job, FieldError on `client`."""
        with self._lock:
            client = self._known.get(identity)
            if client is not None:
                client.reply_port = reply_port
                self._known.move_to_end(identity)
                return client.secret
            if len(self._known) >= MAX_CLIENTS:
                self._forget(self._quietest_idle())
            client = _Client(reply_port, secrets.token_hex(16))
            self._known[identity] = client
            self._secrets[client.secret] = identity
            return client.secret

    def _quietest_idle(self) -> Hashable:
        for identity in self._known:
            if not self._busy(identity):
                return identity
        raise FieldError("client", f"all {MAX_CLIENTS} clients this server knows have a job waiting or running; "
                         "try again when one has finished")

    def seen(self, identity: Hashable) -> None:
        """`identity` sent a request: it is the last to be forgotten."""
        with self._lock:
            if identity in self._known:
                self._known.move_to_end(identity)

    def identity(self, secret: str) -> Hashable | None:
        with self._lock:
            return self._secrets.get(secret)

    def reply_port(self, identity: Hashable) -> int | None:
        with self._lock:
            client = self._known.get(identity)
            return client.reply_port if client is not None else None

    def admitted(self, identity: Hashable) -> bool:
        """Whether `identity` may be served: always without a token, else once its hello carried it."""
        if not self.token:
            return True
        with self._lock:
            return identity in self._known

    def forget(self, identity: Hashable) -> None:
        """A TCP connection closed: its identity will never come back."""
        with self._lock:
            self._forget(identity)

    def _forget(self, identity: Hashable) -> None:
        client = self._known.pop(identity, None)
        if client is not None:
            self._secrets.pop(client.secret, None)

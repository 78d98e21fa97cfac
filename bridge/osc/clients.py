"""Who the server's clients are: identities, their reply ports, their secrets and, with a token, who is in.

A client's identity is its TCP connection, or for UDP its source IP and port. `hello` binds a reply port
and a random secret to that identity; a request carrying the secret (key `client`) acts for that
identity whatever port it comes from. `reply_port` only says where replies go, so nothing a sender
says can make it another client. Every table is bounded: the oldest identities are forgotten first.
"""
from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_CLIENTS = 4096


class Clients:
    def __init__(self, token: str = ""):
        self.token = token
        self._reply_ports: OrderedDict[Hashable, int] = OrderedDict()
        self._secrets: OrderedDict[str, Hashable] = OrderedDict()
        self._secret_of: dict[Hashable, str] = {}
        self._admitted: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def token_ok(self, given: str | None) -> bool:
        """Whether a hello's token opens this server (any does, where it has none)."""
        return not self.token or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))

    def hello(self, identity: Hashable, reply_port: int) -> str:
        """Register `identity`'s reply port and admit it; returns its secret (the same for each hello)."""
        with self._lock:
            _put(self._reply_ports, identity, reply_port)
            _put(self._admitted, identity, None)
            secret = self._secret_of.get(identity)
            if secret is None or secret not in self._secrets:
                secret = secrets.token_hex(16)
                while len(self._secrets) >= MAX_CLIENTS:
                    _, old = self._secrets.popitem(last=False)
                    self._secret_of.pop(old, None)
                self._secrets[secret] = identity
                self._secret_of[identity] = secret
            return secret

    def identity(self, secret: str) -> Hashable | None:
        with self._lock:
            return self._secrets.get(secret)

    def reply_port(self, identity: Hashable) -> int | None:
        with self._lock:
            return self._reply_ports.get(identity)

    def admitted(self, identity: Hashable) -> bool:
        """Whether `identity` may be served: always without a token, else once its hello carried it."""
        if not self.token:
            return True
        with self._lock:
            return identity in self._admitted

    def forget(self, identity: Hashable) -> None:
        """A TCP connection closed: its identity will never come back."""
        with self._lock:
            self._reply_ports.pop(identity, None)
            self._admitted.pop(identity, None)
            secret = self._secret_of.pop(identity, None)
            if secret is not None:
                self._secrets.pop(secret, None)


def _put(table: OrderedDict, key: Hashable, value: object) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_CLIENTS:
        table.popitem(last=False)

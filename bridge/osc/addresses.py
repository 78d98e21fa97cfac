"""Every OSC address of docs/osc.md, in one table: what a client may ask, and what the server answers.

The server dispatches only the requests named here (each to its handler), ignores a reply that arrives
as a request, and echoes the job id in the errors of job requests. docs/osc.md's two tables, the docs
test and the device's tests read this table; `python -m sonocanvas.bridge.osc.addresses` prints it as
JSON for the device's tests.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Request:
    """A request address and what answers it."""

    address: str
    replies: tuple[str, ...]
    job: bool = False
    """A job request: it may carry `reply_port` and `client`, and its errors echo its job id."""


PREFIX = "/sonocanvas"
REQUESTS: dict[str, Request] = {r.address: r for r in (
    Request(f"{PREFIX}/hello", (f"{PREFIX}/ready",)),
    Request(f"{PREFIX}/generate", (f"{PREFIX}/queued", f"{PREFIX}/progress", f"{PREFIX}/preview", f"{PREFIX}/scores",
                                   f"{PREFIX}/done", f"{PREFIX}/cancelled"), job=True),
    Request(f"{PREFIX}/encode", (f"{PREFIX}/queued", f"{PREFIX}/progress", f"{PREFIX}/done", f"{PREFIX}/cancelled"),
            job=True),
    Request(f"{PREFIX}/stylize", (f"{PREFIX}/queued", f"{PREFIX}/progress", f"{PREFIX}/done", f"{PREFIX}/cancelled"),
            job=True),
    Request(f"{PREFIX}/cancel", (f"{PREFIX}/cancelled",), job=True),
    Request(f"{PREFIX}/status", (f"{PREFIX}/status",)),
    Request(f"{PREFIX}/limits", (f"{PREFIX}/limits",)),
    Request(f"{PREFIX}/audition", (f"{PREFIX}/playing",)),
    Request(f"{PREFIX}/stop", (f"{PREFIX}/stopped",)),
    Request(f"{PREFIX}/preset/list", (f"{PREFIX}/preset/names", f"{PREFIX}/preset/names/end")),
    Request(f"{PREFIX}/preset/get", (f"{PREFIX}/preset",)),
    Request(f"{PREFIX}/preset/save", (f"{PREFIX}/preset/saved",)),
    Request(f"{PREFIX}/preset/delete", (f"{PREFIX}/preset/deleted",)),
    Request(f"{PREFIX}/fx/list", (f"{PREFIX}/fx/names", f"{PREFIX}/fx/names/end")),
)}
ERROR = f"{PREFIX}/error"
"""The answer to any request the server refuses (docs/osc.md, Errors)."""
REPLIES: frozenset[str] = frozenset({ERROR, *(reply for r in REQUESTS.values() for reply in r.replies)})
"""Everything the server sends."""
REPLIES_ONLY: frozenset[str] = REPLIES - set(REQUESTS)
"""Replies that are no request (`status` and `limits` are both): one arriving is another server's reply
(a misdirected `reply_port`), never answered, so that two servers cannot start a loop."""
JOB_REQUESTS: frozenset[str] = frozenset(a for a, r in REQUESTS.items() if r.job)


if __name__ == "__main__":
    print(json.dumps({"requests": [asdict(r) for r in REQUESTS.values()], "replies": sorted(REPLIES)}, indent=1))

"""The server's log: standard `logging`, one line per job, a traceback per fault, junk rate-limited.

Libraries the engine uses (diffusers, transformers, huggingface_hub) warn about things a user cannot act
on ("install accelerate for faster loading"); below `debug` only their errors are shown.
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Hashable
from typing import Any

LEVELS = ("debug", "info", "warning", "error")
THIRD_PARTY = ("diffusers", "transformers", "huggingface_hub", "torch", "PIL", "urllib3", "filelock", "py.warnings")


def setup(level: str = "info") -> None:
    """Log to stderr at `level`; third-party loggers only from `error` up unless `level` is debug."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.captureWarnings(True)
    quiet = level != "debug"
    for name in THIRD_PARTY:
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR if quiet else logging.NOTSET)
    if quiet:
        _quiet_library_loggers()
        warnings.filterwarnings("ignore", category=FutureWarning)


def _quiet_library_loggers() -> None:
    """diffusers and transformers give their loggers their own handler and level; turn those down too."""
    for module in ("diffusers.utils.logging", "transformers.utils.logging"):
        try:
            library = __import__(module, fromlist=["set_verbosity_error"])
        except ImportError:  # not installed: nothing to quiet
            continue
        library.set_verbosity_error()


class RateLimited:
    """At most one log line per `interval` seconds per sender (an IP address: a flood from many ports is one
    sender) and kind of line (its `message` format), so junk cannot grow the log faster than it arrives, and one
    kind never hides another (a flood's "dropped" line, its junk). The lines left out are counted in the next
    line of their kind. Remembers a bounded number of senders and kinds."""

    MAX_KEYS = 4096

    def __init__(self, logger: logging.Logger, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[Hashable, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def warning(self, sender: Hashable, message: str, *args: Any) -> None:
        now, key = self.clock(), (sender, message)
        with self._lock:
            last, skipped = self._last.get(key, (-self.interval, 0))
            if now - last < self.interval:
                self._last[key] = (last, skipped + 1)
                return
            if len(self._last) >= self.MAX_KEYS:
                self._last.clear()
            self._last[key] = (now, 0)
        if skipped:  # the sender as an argument, never in the format: an IPv6 address may hold a % (fe80::1%en0)
            self.logger.warning(message + " (%d more like it from %s left out)", *args, skipped, sender)
        else:
            self.logger.warning(message, *args)

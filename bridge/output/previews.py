"""Preview pictures on disk, for a client that watches a job form (`/sonocanvas/preview`).

A preview is a small PNG in a hidden folder of the drop folder (`.sonocanvas-previews`; on Windows it is given
the hidden attribute too), so it is never a file among the clips. Each is written whole under a new name
(atomically) before its message goes out, and the one before it is removed then, so the path a client is told
always holds a whole picture, and a client that caches pictures by path (Max's `fpic`) never shows an old one.
When the job ends, however it ends, its last preview goes. What a killed server left is swept when a drop
folder's previews are opened, once older than PREVIEW_GRACE: a second server sharing the folder keeps its own.
"""
from __future__ import annotations

import ctypes
import io
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...engine.files import atomic_write

log = logging.getLogger("sonocanvas.previews")

PREVIEW_FOLDER = ".sonocanvas-previews"
PREVIEW_GRACE = 600.0
"""Seconds a preview file outlives its last change before a sweep takes it (a live job replaces its own within
seconds)."""
_FILE_ATTRIBUTE_HIDDEN = 0x2


class PreviewFolder:
    """The previews of one drop folder; `job()` gives one job its own."""

    def __init__(self, drop_folder: Path):
        self.path = Path(drop_folder) / PREVIEW_FOLDER
        self.path.mkdir(exist_ok=True)
        if os.name == "nt":  # a leading dot hides a folder on macOS and Linux; Windows needs the attribute
            ctypes.windll.kernel32.SetFileAttributesW(str(self.path), _FILE_ATTRIBUTE_HIDDEN)  # type: ignore[attr-defined]
        self._sweep()

    def job(self) -> JobPreviews:
        return JobPreviews(self.path, uuid.uuid4().hex[:12])

    def _sweep(self) -> None:
        cutoff = time.time() - PREVIEW_GRACE
        for path in self.path.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass  # gone already, or not ours to take


class JobPreviews:
    """One job's previews: each `show` replaces the last; `close` removes what is left."""

    def __init__(self, folder: Path, token: str):
        self.folder = folder
        self.token = token
        self._last: Path | None = None
        self._lock = threading.Lock()
        self._closed = False

    def show(self, step: int, picture: Any, announce: Callable[[Path], None]) -> None:
        """Write `picture` (PIL) as this job's preview at `step`, `announce` its path, then remove the one
        before: a client told a path finds the picture there. Nothing once the job has ended."""
        data = io.BytesIO()
        picture.save(data, format="PNG")
        with self._lock:  # one at a time, and none after close
            if self._closed:
                return
            path = atomic_write(self.folder / f"{self.token}-{step}.png", lambda f: f.write(data.getvalue()))
            previous, self._last = self._last, path
            announce(path)
            if previous is not None and previous != path:
                _remove(previous)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            last, self._last = self._last, None
        if last is not None:
            _remove(last)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning("could not remove the preview %s: %s", path, error)

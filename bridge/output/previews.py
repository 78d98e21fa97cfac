"""Preview pictures on disk, for a client that watches a job form (`/sonocanvas/preview`).

A preview is a small PNG in a hidden folder of the drop folder (`.sonocanvas-previews`; on Windows it is given
the hidden attribute too), so it is never a file among the clips. Each is written whole under a new name
(atomically) before its message goes out, and the one two before it is removed then (KEPT), so the path a client
is told holds a whole picture until the next preview but one has been told, and a client that caches pictures by
path (Max's `fpic`) never shows an old one.
The writing happens on a thread of the job's own (`JobPreviews`): the sampler only hands the picture over.
When the job ends, however it ends, its last preview goes. What a killed server left is swept when a drop
folder's previews are opened, once older than PREVIEW_GRACE: a second server sharing the folder keeps its own.

Anyone who can write the drop folder (a shared folder, a studio's SMB share) can put something else where the
previews folder goes. Previews are written, and swept, only in a real folder of the drop folder's own: a symlink
or junction there (to a folder whose files a sweep would take), or a file, turns previews off, with a warning; and
a sweep takes only files named as previews are.
"""
from __future__ import annotations

import collections
import ctypes
import functools
import io
import logging
import os
import re
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ...engine.files import PART, atomic_write

log = logging.getLogger("sonocanvas.previews")

PREVIEW_FOLDER = ".sonocanvas-previews"
PREVIEW_GRACE = 600.0
"""Seconds a preview file outlives its last change before a sweep takes it (a live job replaces its own within
seconds)."""
_FILE_ATTRIBUTE_HIDDEN = 0x2
_PREVIEW_NAME = re.compile(r"\.?[0-9a-f]{12}-[0-9]+\.png(\..+" + re.escape(PART) + ")?")
"""A preview's name (`JobPreviews`: token-step.png), or its temporary's while written (`atomic_write`)."""


class PreviewFolder:
    """The previews of one drop folder; `job()` gives one job its own."""

    def __init__(self, drop_folder: Path):
        self.path = Path(drop_folder) / PREVIEW_FOLDER
        self._warned = False
        if self._made() is None:
            self._sweep()

    def _made(self) -> str | None:
        """None once the previews folder is (made, if it is missing) a real folder of the drop folder's own, else
        why not: a link (a symlink, a Windows junction), a file, or a folder that cannot be made."""
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as error:  # a file of that name, a link to nowhere, a drop folder gone, no permission
            return f"it cannot be made ({error.strerror or error})"
        if own_folder(self.path) is None:
            return "it is a link or a file, not a folder of the drop folder's own; move it away, and the server " \
                   "makes the folder again"
        if os.name == "nt":  # a leading dot hides a folder on macOS and Linux; Windows needs the attribute
            ctypes.windll.kernel32.SetFileAttributesW(str(self.path), _FILE_ATTRIBUTE_HIDDEN)  # type: ignore[attr-defined]
        return None

    def job(self) -> JobPreviews | None:
        """A job's previews; None, with a warning (once until it is put right), while the folder is not a real
        folder of the drop folder's own."""
        why = self._made()
        identity = own_folder(self.path) if why is None else None
        if identity is None:
            if not self._warned:
                self._warned = True
                log.warning("no previews: %s: %s", self.path, why or "it changed as it was looked at")
            return None
        self._warned = False
        return JobPreviews(self.path, uuid.uuid4().hex[:12], identity)

    def _sweep(self) -> None:
        cutoff = time.time() - PREVIEW_GRACE
        for path in self.path.iterdir():
            try:
                info = os.lstat(path)
                if _PREVIEW_NAME.fullmatch(path.name) and stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass  # gone already, or not ours to take


NAME_SURROGATE = 0x20000000
"""The bit of a Windows reparse tag that marks a link to another name (symlinks, junctions, mount points): the
Microsoft-documented test (IsReparseTagNameSurrogate). Other tags, such as OneDrive's cloud-file tags on an
ordinary synced folder like ~/Music, are folders of their own and must not turn previews off."""


def own_folder(path: Path) -> os.stat_result | None:
    """`path`'s own status (not a link's target's) when it is a real folder; None for a link (a symlink; on
    Windows a junction or other name-surrogate reparse point, which os.lstat reports as a folder before Python
    3.12), a file, or nothing."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISDIR(info.st_mode) and not is_link_tag(getattr(info, "st_reparse_tag", 0)) else None


def is_link_tag(tag: int) -> bool:
    """Whether a Windows reparse tag (0 elsewhere) makes its folder a link to another name."""
    return bool(tag & NAME_SURROGATE)


MAX_PENDING = 2
"""Previews waiting for the writer; a newer one pushes out the oldest, so a slow disk never slows the sampler
and never builds a backlog."""
KEPT = 2
"""The previews of a job kept on disk between two: the one just told, and the one before it, which its client may
still be opening (a message told is not yet read: it may wait in a socket's buffer while the next is written).
While the next is told there are three; the oldest goes once it has been."""


class JobPreviews:
    """One job's previews, written on a thread of their own so the sampler never waits on the disk: each `show`
    adds one and removes the one KEPT before it; `close` writes what is pending, then removes what is left."""

    def __init__(self, folder: Path, token: str, identity: os.stat_result):
        self.folder = folder
        self.token = token
        self.identity = identity  # the folder checked as its own: a preview is written only while it is the same
        self._moved = False
        self._told: collections.deque[Path] = collections.deque()
        self._pending: collections.deque[tuple[int, Any, Callable[[Path], None]]] = collections.deque(
            maxlen=MAX_PENDING)
        self._ready = threading.Condition()
        self._closed = False
        self._writer: threading.Thread | None = None

    def show(self, step: int, picture: Any, announce: Callable[[Path], None]) -> None:
        """Have `picture` (PIL) written as this job's preview at `step`, then `announce` its path, then the one KEPT
        before it removed: a client told a path finds the picture there. Returns at once; nothing once closed."""
        with self._ready:
            if self._closed:
                return
            self._pending.append((step, picture, announce))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, name=f"sonocanvas-preview-{self.token}",
                                                daemon=True)
                self._writer.start()
            self._ready.notify()

    def close(self) -> None:
        """The job has ended: the previews pending are written and told (in order), then all are removed."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            writer = self._writer
        if writer is not None:
            writer.join()
        while self._told:
            _remove(self._told.popleft())

    def _write(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, and all written
                step, picture, announce = self._pending.popleft()
            now = own_folder(self.folder)
            if now is None or not os.path.samestat(now, self.identity):  # swapped for a link since the job began,
                if not self._moved:  # moved, or a share that could not say (an SMB hiccup): none is written now
                    self._moved = True
                    log.warning("previews stop for this job: %s is no longer the folder they were written in (moved "
                                "or replaced, or unreadable for a moment); the clip is not affected", self.folder)
                continue
            try:
                data = io.BytesIO()
                picture.save(data, format="PNG", compress_level=1)  # small pictures: speed over bytes
                path = atomic_write(self.folder / f"{self.token}-{step}.png", functools.partial(_put, data.getvalue()),
                                    durable=False)  # a preview lost in a crash costs nothing
            except OSError as error:  # a full disk: the job goes on without this preview
                log.warning("could not write a preview into %s: %s", self.folder, error)
                continue
            self._told.append(path)
            announce(path)
            if len(self._told) > KEPT:
                _remove(self._told.popleft())


def _put(data: bytes, file: BinaryIO) -> None:
    file.write(data)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning("could not remove the preview %s: %s", path, error)

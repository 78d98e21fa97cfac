"""Atomic file writing: a reader never sees a half-written file, and a finished one is never lost."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

PART = ".part"  # the suffix of atomic_write's hidden temporaries


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], exclusive: bool = False
) -> Path:
    """Write a file through `write(f)` under a hidden temporary name in the same folder, then move it in.

    The data is flushed and fsynced before it gets its real name, so a crash leaves either the old
    file or the complete new one. `exclusive=True` links the file into place instead of renaming it,
    so an existing file is never replaced: `FileExistsError`. Returns the path written.
    """
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it an ordinary file's mode
        if exclusive:
            os.link(temp, path)
            os.unlink(temp)
        else:
            os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)
    return path


def remove_stale_parts(folder: Path, idle_seconds: float = 600.0) -> list[Path]:
    """Delete the hidden temporaries a killed writer left in `folder`: those untouched for `idle_seconds`
    (a live write keeps touching its own). Returns what was removed."""
    removed = []
    cutoff = time.time() - idle_seconds
    for temp in Path(folder).glob(f".*{PART}"):
        try:
            if temp.is_file() and temp.stat().st_mtime < cutoff:
                temp.unlink()
                removed.append(temp)
        except FileNotFoundError:  # another process cleaned it first
            pass
    return removed


def _read_umask() -> int:
    """The process umask; os only lets you read it by setting it, so this runs once, at import."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_folder(folder: Path) -> None:
    """Make the new name itself durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

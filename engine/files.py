"""Atomic file writing: a reader never sees a half-written file, and a finished one is never lost.

Every file is written under a hidden temporary name beside its real one, fsynced, then moved into place in
one step. Moving it so that an existing file is *never* replaced needs help from the file system, and the
drives musicians use differ: ext4, APFS and NTFS have hard links; exFAT, FAT32 and SMB shares do not. So
exclusive placement tries, in order (`WriteMethod`):

1. `link`: a hard link to the final name, which fails if the name exists (then the temporary is removed);
2. `rename-noreplace`: a rename that refuses an existing target (Linux `renameat2(RENAME_NOREPLACE)`, which
   the kernel does for exFAT, FAT and CIFS too; macOS `renamex_np(RENAME_EXCL)`; on Windows `os.rename`,
   which always refuses an existing target);
3. `reserve`: claim the final name with an exclusive create, then `os.replace` the complete file over it.
"""
from __future__ import annotations

import ctypes
import errno
import os
import sys
import tempfile
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import BinaryIO

PART = ".part"  # the suffix of atomic_write's hidden temporaries

# What link() and a no-replace rename answer where the file system cannot do them: FAT and exFAT on Linux
# say EPERM, SMB and macOS's msdos/exfat/smbfs say ENOTSUP/EOPNOTSUPP, a file system that does not take
# rename flags says EINVAL, an old kernel or libc ENOSYS, Windows on FAT32 "incorrect function" (EINVAL).
# A genuine refusal (a read-only folder) fails again at the next method, with its own error.
_UNSUPPORTED = frozenset({errno.EPERM, errno.EACCES, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS,
                          errno.EINVAL, errno.EMLINK})


class WriteMethod(str, Enum):
    """How `atomic_write(exclusive=True)` put a file in place; the first a file system supports is used."""

    LINK = "link"
    RENAME_NOREPLACE = "rename-noreplace"
    RESERVE = "reserve"


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], exclusive: bool = False
) -> Path:
    """Write a file through `write(f)` under a hidden temporary name in the same folder, then move it in.

    The data is flushed and fsynced before it gets its real name, so a crash leaves either the old
    file or the complete new one. `exclusive=True` never replaces an existing file (`FileExistsError`),
    on any file system: see `place_exclusive`. Returns the path written.
    """
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it an ordinary file's mode
        except PermissionError:
            pass  # FAT and exFAT keep no modes: every file has the mount's, and changing it is refused
        if exclusive:
            place_exclusive(Path(temp), path)
        else:
            os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)
    return path


def place_exclusive(temp: Path, path: Path) -> WriteMethod:
    """Give the complete file `temp` the name `path` unless that name exists (`FileExistsError`, `temp` kept
    for the caller to remove). Returns the method the folder's file system allowed (see the module's doc).

    The last resort, `reserve`, is the only one in which a reader can see anything but nothing or the whole
    file: between the exclusive create and the replace, `path` exists and is empty. That is the least bad
    choice left: the file system has no atomic "rename unless it exists", so either a finished file could be
    replaced (a check, then a rename, can race another writer) or, as here, a reader may briefly see an
    empty file, which is never mistaken for a finished clip, and the window is one rename long.
    """
    try:
        os.link(temp, path)
    except OSError as error:  # FileExistsError (EEXIST) included: re-raised
        if error.errno not in _UNSUPPORTED:
            raise
    else:
        os.unlink(temp)
        return WriteMethod.LINK
    try:
        _rename_noreplace(temp, path)
    except OSError as error:
        if error.errno not in _UNSUPPORTED:
            raise
    else:
        return WriteMethod.RENAME_NOREPLACE
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o666))
    try:
        os.replace(temp, path)  # on Windows, too, os.replace renames over an existing file
    except BaseException:
        os.unlink(path)  # our own empty reservation
        raise
    return WriteMethod.RESERVE


def write_method(folder: str | os.PathLike[str]) -> WriteMethod:
    """The method exclusive writes use in `folder` (found by placing, then removing, a small probe file);
    raises OSError if the folder cannot be written at all."""
    probe = Path(tempfile.mkdtemp(prefix=".sonocanvas-probe-", dir=folder))  # a private name for the probe
    try:
        temp = probe / f"probe{PART}"
        temp.write_bytes(b"sonocanvas")
        return place_exclusive(temp, probe / "probe")
    finally:
        for leftover in probe.iterdir():
            leftover.unlink()
        probe.rmdir()


def _rename_noreplace(source: Path, target: Path) -> None:
    """Rename `source` to `target` in one step, refusing an existing `target` (FileExistsError); an OSError
    with ENOTSUP where this system offers no such rename."""
    if os.name == "nt":
        os.rename(source, target)  # MoveFileExW without MOVEFILE_REPLACE_EXISTING: refuses an existing target
        return
    if NOREPLACE_RENAME is None:
        raise OSError(errno.ENOTSUP, "no rename that refuses an existing file on this system", str(source))
    function, flags = NOREPLACE_RENAME
    if function(os.fsencode(source), os.fsencode(target), flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(source), None, str(target))


def _find_rename() -> tuple[Callable[[bytes, bytes, int], int], int] | None:
    """libc's no-replace rename as `(function(old, new, flags), flags)`, or None where there is none."""
    if os.name == "nt":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    if sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        renamex_np = libc.renamex_np  # int renamex_np(const char *from, const char *to, unsigned int flags)
        renamex_np.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint)
        return renamex_np, 0x00000004  # RENAME_EXCL, <stdio.h>
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):  # glibc 2.28+, musl 1.2.2+
        # int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)
        renameat2 = libc.renameat2
        renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
        at_fdcwd = -100  # AT_FDCWD, <fcntl.h>
        return (lambda old, new, flags: renameat2(at_fdcwd, old, at_fdcwd, new, flags)), 1  # RENAME_NOREPLACE
    return None


NOREPLACE_RENAME = _find_rename()
"""libc's rename that refuses an existing target, as `(function(old, new, flags), flags)`, found once at import;
None where the system has none. A file system that does not take the flag answers EINVAL at the call, and
the writer falls back (`WriteMethod`)."""


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

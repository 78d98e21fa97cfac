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

A set of files that belong together (a clip: its WAV, PNGs and JSON) is written whole in a `Staging` folder
first and placed afterwards, its last file (the WAV a DAW loads) last, so it appears whole or not at all.
"""
from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no flock; a staging folder's writer is then known only by its age
    fcntl = None  # type: ignore[assignment]

PART = ".part"  # the suffix of atomic_write's hidden temporaries
log = logging.getLogger("sonocanvas.files")

# What link() and a no-replace rename answer where the file system cannot do them: FAT and exFAT on Linux
# say EPERM, SMB and macOS's msdos/exfat/smbfs say ENOTSUP/EOPNOTSUPP, a file system that does not take
# rename flags says EINVAL, an old kernel or libc ENOSYS, Windows on FAT32 "incorrect function" (EINVAL).
# A genuine refusal (a read-only folder) fails again at the next method, with its own error.
_UNSUPPORTED = frozenset({errno.EPERM, errno.EACCES, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS,
                          errno.EINVAL, errno.EMLINK})


_NO_MODES = frozenset({errno.EPERM, errno.EACCES, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP})
"""What chmod answers where a file system keeps no modes (every file has the mount's): FAT and exFAT in the
kernel say EPERM, FAT32 through FUSE (fusefat) ENOSYS, some network shares ENOTSUP. Not an error for a write."""


class WriteMethod(str, Enum):
    """How `atomic_write(exclusive=True)` put a file in place; the first a file system supports is used."""

    LINK = "link"
    RENAME_NOREPLACE = "rename-noreplace"
    RESERVE = "reserve"


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], exclusive: bool = False,
    durable: bool = True,
) -> Path:
    """Write a file through `write(f)` under a hidden temporary name in the same folder, then move it in.

    The data is flushed and fsynced before it gets its real name, so a crash leaves either the old
    file or the complete new one. `exclusive=True` never replaces an existing file (`FileExistsError`),
    on any file system: see `place_exclusive`. `durable=False` skips the fsync, for a file whose loss in a
    crash costs nothing and that is written many times a second (a preview): a reader still never sees it
    half-written. Returns the path written.
    """
    path = Path(path)
    atomic_write_all([(path, write)], exclusive, durable)
    return path


def atomic_write_all(files: Sequence[tuple[Path, Callable[[BinaryIO], object]]], exclusive: bool = False,
                     durable: bool = True) -> None:
    """Write several files as `atomic_write` writes one, each in full before any is moved in, then moved in
    their order (the one that marks the set complete last): a failure while writing any of them (a full disk,
    an encoder's error) leaves every file as it was, an old one replaced by `--overwrite` included.
    `exclusive=True` replaces none (`FileExistsError` when a name is taken: the files moved in before it are
    taken back, so none of the set is left)."""
    temps: list[Path] = []
    placed: list[Path] = []
    try:
        for path, write in files:
            temps.append(_written(Path(path), write, durable))
        for (path, _), temp in zip(files, temps, strict=True):
            if exclusive:
                place_exclusive(temp, Path(path))
            else:
                os.replace(temp, path)
            placed.append(Path(path))
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        if exclusive:
            for path in placed:  # ours, moved in just now: nothing of another writer's
                path.unlink(missing_ok=True)
        raise
    for folder in dict.fromkeys(Path(path).parent for path, _ in files):
        fsync_folder(folder)


def _written(path: Path, write: Callable[[BinaryIO], object], durable: bool) -> Path:
    """`write(f)` into a new hidden temporary beside `path`, flushed (and fsynced if `durable`), with an ordinary
    file's mode; gone again if anything fails."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART, dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        try:
            os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes it private; give it an ordinary file's mode
        except OSError as error:
            if error.errno not in _NO_MODES:
                raise
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


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


STAGING_PREFIX = ".sono-"
"""A staging folder's name: this, mkdtemp's 8 random characters, then PART (`.sono-k2x9q1zw.part`)."""
STAGING_ROOM = len(STAGING_PREFIX) + 8 + len(PART) + 1 + len(".c.picture.png.XXXXXXXX.part")
"""The characters a staging folder's longest path adds to its folder's (with the separator: its own name, then
atomic_write's temporary of the longest staged name); a clip's shortest longest name is no shorter."""
_LOCK, _MANIFEST = "lock", "manifest.json"


class Staging:
    """A hidden folder in `folder` where every file of one set is written before any of them is placed.

    `place` writes a manifest (each file's final name and identity: device, inode, size), then gives the files
    their final names, `last` last, each without replacing anything (`place_exclusive`). While it lives, its
    writer holds an flock on the folder's `lock` file, which names the host and process. So after a kill -9 at
    any instant, `remove_stale_parts` can tell the folder is dead (on this machine: the lock is free) and put
    things right: if `last` never arrived, the files placed before it, proven its own by their identity, are
    removed; the staging folder goes either way. A reader that waits for `last` never sees half a set.
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=PART, dir=self.folder))
        try:
            self._lock = _hold_lock(self.path / _LOCK)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    def file(self, name: str) -> Path:
        """Where the staged file `name` is written (a short name: the final one is chosen at `place`)."""
        return self.path / name

    def place(self, finals: Mapping[str, Path], last: str) -> None:
        """Give each staged file (`finals`: staged name to final path in `folder`) its final name, `last` after
        every other. A final name taken: FileExistsError, with every file placed so far moved back here, so the
        caller may try other names."""
        order = [name for name in finals if name != last] + [last]
        manifest = {"last": finals[last].name,
                    "files": [[finals[name].name, *_identity(self.file(name))] for name in order]}
        atomic_write(self.path / _MANIFEST, lambda f: f.write(json.dumps(manifest).encode()))
        placed: list[str] = []
        try:
            for name in order:
                place_exclusive(self.file(name), finals[name])
                placed.append(name)
        except BaseException:
            for name in reversed(placed):
                try:  # ours (placed just now): back, as if never placed
                    os.replace(finals[name], self.file(name))
                except FileNotFoundError:
                    pass  # someone removed it already
            raise
        fsync_folder(self.folder)

    def close(self) -> None:
        """Remove the staging folder and what is left in it (all of it, after a failure); one that cannot go
        now is a stale temporary for the next sweep."""
        try:
            _remove_staging(self.path, self._lock)
        except OSError as error:
            log.warning("could not remove the staging folder %s: %s", self.path, error)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _identity(path: Path) -> tuple[int, int, int]:
    """What proves a placed file is the one staged: rename, link and replace keep the device and inode."""
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size


def _hold_lock(path: Path) -> int:
    """Create `path`, take its flock for as long as the returned descriptor is open, then write who holds it
    (in that order: a sweeper that finds it unlocked and empty waits for the grace instead)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | getattr(os, "O_BINARY", 0), 0o600)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as error:  # a file system without locks: the host and process below still tell
                log.debug("no flock in %s (%s): its writer is known by its process id", path.parent, error)
        os.write(fd, f"{socket.gethostname()}\n{os.getpid()}\n".encode())
    except BaseException:
        os.close(fd)
        raise
    return fd


def _reclaim(staging: Path, cutoff: float) -> list[Path]:
    """Remove a staging folder whose writer is known dead, or unknown and untouched since `cutoff`, after undoing
    its half-placed set; returns what was removed (nothing for a live writer's). The writer's lock is held
    meanwhile, so a second sweeper takes the folder for a live one and leaves it."""
    try:
        fd: int | None = os.open(staging / _LOCK, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        fd = None  # made a moment ago (or its writer was killed between mkdtemp and the lock): the grace decides
    try:
        dead = None if fd is None else _writer_dead(fd)
        if dead is False or (dead is None and _last_touched(staging) >= cutoff):
            return []
        removed = _undo_half_placed(staging)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    _remove_staging(staging, fd)
    return [*removed, staging]


def _remove_staging(staging: Path, lock: int | None) -> None:
    """Remove a staging folder whose lock (`lock`, open) is held by the caller: everything but the lock file,
    then the lock is let go, then the rest. On FUSE a file still open cannot be removed (it turns into a
    `.fuse_hidden` file), so the lock file goes last, closed."""
    try:
        for entry in os.scandir(staging):
            if entry.name != _LOCK:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
    finally:
        if lock is not None:
            os.close(lock)
    shutil.rmtree(staging)


def _writer_dead(fd: int) -> bool | None:
    """Whether the writer that holds (or held) the lock file `fd` is known to be gone (True; its lock is then
    ours), known to live (False), or unknown (None: another host's, a file system without locks nor process ids
    to go by, or a lock just being taken)."""
    taken = False
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            return False
        except OSError:
            pass  # no locks here: go by the process id
    host, _, pid = os.read(fd, 512).decode(errors="replace").partition("\n")
    if host != socket.gethostname() or not pid.strip().isdigit():
        return None  # a lock taken on another machine may not show here (SMB); or it is not written yet
    if taken:
        return True  # this machine's, and nobody holds its lock
    return True if _process_gone(int(pid)) else None  # a live process may be another that got the same id


def _process_gone(pid: int) -> bool:
    """Whether no process has this id (POSIX; on Windows os.kill would end the process, so never asked)."""
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, another user's
    return False


def _undo_half_placed(staging: Path) -> list[Path]:
    """The placed files of a set whose last file never arrived (by its dead writer's manifest), removed when they
    are provably its own (same device, inode and size); returns them. A whole set is left alone."""
    try:
        manifest = json.loads((staging / _MANIFEST).read_bytes())
        entries = [(str(name), (int(dev), int(ino), int(size))) for name, dev, ino, size in manifest["files"]]
        last = str(manifest["last"])
    except FileNotFoundError:
        return []  # the manifest comes before any placement: nothing was placed
    except (ValueError, KeyError, TypeError) as error:
        log.warning("%s: unreadable manifest (%s); its files, if any were placed, are left as they are", staging, error)
        return []
    folder = staging.parent
    owned = {name: identity for name, identity in entries if _identity_or_none(folder / name) == identity}
    if last in owned:
        return []  # the set is whole: only the staging folder is left to remove
    removed = []
    for name in owned:
        (folder / name).unlink(missing_ok=True)
        removed.append(folder / name)
    if removed:
        log.warning("removed %s from %s: a writer was killed after placing them but before %s, the file that "
                    "completes the set", ", ".join(p.name for p in removed), folder, last)
    return removed


def _identity_or_none(path: Path) -> tuple[int, int, int] | None:
    try:
        return _identity(path)
    except OSError:
        return None


def remove_stale_parts(folder: Path, idle_seconds: float = 600.0) -> list[Path]:
    """Delete the hidden temporaries killed writers left in `folder`; a live writer's are never touched.

    A staging folder (`Staging`) goes at once when its writer is known dead (on this machine, its lock is free),
    after undoing a half-placed set; any other temporary, a staging folder of another machine's included, once
    untouched for `idle_seconds` (a live write keeps touching its own). Returns what was removed."""
    removed = []
    cutoff = time.time() - idle_seconds
    for temp in Path(folder).glob(f".*{PART}"):
        try:
            info = os.lstat(temp)
            if stat.S_ISDIR(info.st_mode) and temp.name.startswith(STAGING_PREFIX):
                removed += _reclaim(temp, cutoff)
            elif stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                temp.unlink()
                removed.append(temp)
        except FileNotFoundError:  # another process cleaned it first
            pass
        except OSError as error:  # one that cannot be removed (its folder read-only, say) must not stop a writer
            log.warning("could not remove the stale temporary %s: %s", temp, error)
    return removed


def _last_touched(staging: Path) -> float:
    """When a staging folder or any file in it last changed."""
    times = [os.lstat(staging).st_mtime]
    for entry in os.scandir(staging):
        try:
            times.append(entry.stat(follow_symlinks=False).st_mtime)
        except FileNotFoundError:
            pass
    return max(times)


def _read_umask() -> int:
    """The process umask; os only lets you read it by setting it, so this runs once, at import."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def fsync_folder(folder: Path) -> None:
    """Make the new name itself durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

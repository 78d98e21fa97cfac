"""Atomic, exclusive writes on every kind of drive. File systems without hard links (exFAT, FAT32, SMB) are
simulated by making `link` fail the way they do, and ones without a no-replace rename by making libc's
rename fail the way it does there; everything else is the real file system, in real threads."""
from __future__ import annotations

import ctypes
import errno
import os
import threading

import pytest
from sonocanvas.engine import files
from sonocanvas.engine.files import PART, WriteMethod, atomic_write, atomic_write_all, write_method

# How link() fails where there are no hard links: Linux exfat/vfat (EPERM), SMB and macOS msdos/exfat/smbfs
# (EOPNOTSUPP), Windows on FAT32 (ERROR_INVALID_FUNCTION, which Python maps to EINVAL).
NO_LINK_ERRORS = {"exfat-linux": errno.EPERM, "smb": errno.EOPNOTSUPP, "fat32-windows": errno.EINVAL}


def refuse_links(monkeypatch, code: int = errno.EPERM) -> None:
    def link(source, target, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(source), None, str(target))

    monkeypatch.setattr(os, "link", link)


def refuse_noreplace_rename(monkeypatch) -> None:
    """libc's renameat2/renamex_np as on a file system that does not take the flag: -1 with errno EINVAL."""
    def rename(old: bytes, new: bytes, flags: int) -> int:
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(files, "NOREPLACE_RENAME", (rename, 1))


@pytest.fixture(params=list(WriteMethod), ids=lambda m: m.value)
def drive(request, monkeypatch):
    """A folder whose file system supports only up to the given method."""
    if request.param is not WriteMethod.LINK:
        refuse_links(monkeypatch)
    if request.param is WriteMethod.RESERVE:
        refuse_noreplace_rename(monkeypatch)
    return request.param


def listing(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_each_drive_gets_its_method_and_keeps_its_promises(tmp_path, drive):
    assert write_method(tmp_path) is drive
    assert listing(tmp_path) == []  # the probe leaves nothing behind
    path = atomic_write(tmp_path / "clip.wav", lambda f: f.write(b"finished"), exclusive=True)
    assert path.read_bytes() == b"finished"
    with pytest.raises(FileExistsError):
        atomic_write(path, lambda f: f.write(b"another"), exclusive=True)
    assert path.read_bytes() == b"finished"
    assert listing(tmp_path) == ["clip.wav"]  # no temporary and no reservation left


@pytest.mark.parametrize("code", NO_LINK_ERRORS.values(), ids=NO_LINK_ERRORS.keys())
def test_every_no_link_error_falls_back(tmp_path, monkeypatch, code):
    refuse_links(monkeypatch, code)
    assert write_method(tmp_path) is WriteMethod.RENAME_NOREPLACE


def test_racing_exclusive_writers_one_wins_and_its_file_is_whole(tmp_path, drive):
    writers, size = 8, 256 * 1024
    path = tmp_path / "clip.wav"
    start = threading.Barrier(writers)
    results: dict[int, str] = {}

    def write(n: int) -> None:
        start.wait()
        try:
            atomic_write(path, lambda f: f.write(bytes([n]) * size), exclusive=True)
            results[n] = "won"
        except FileExistsError:
            results[n] = "refused"

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [n for n, r in results.items() if r == "won"]
    assert len(results) == writers and len(winners) == 1
    assert path.read_bytes() == bytes(winners) * size
    assert listing(tmp_path) == ["clip.wav"]


def test_a_reader_never_sees_part_of_a_file(tmp_path, drive):
    """Files written in many small pieces; a reader opening each name as soon as it appears sees the whole
    file, or (only when the name had to be reserved first) an empty one."""
    names, pieces, piece = 20, 64, b"x" * 4096
    whole = len(piece) * pieces
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while True:  # one last pass after the writes are done, so the reader sees the finished files too
            finished = done.is_set()
            for n in range(names):
                try:
                    seen.add(len((tmp_path / f"{n}.wav").read_bytes()))
                except FileNotFoundError:
                    pass
            if finished:
                return

    def write_pieces(f) -> None:
        for _ in range(pieces):
            f.write(piece)
            f.flush()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(names):
            atomic_write(tmp_path / f"{n}.wav", write_pieces, exclusive=True)
    finally:
        done.set()
        reader.join(30)
    allowed = {0, whole} if drive is WriteMethod.RESERVE else {whole}
    assert seen <= allowed, f"a reader saw {sorted(seen - allowed)} bytes of a {whole}-byte file"
    assert whole in seen  # the reader did read the files


def test_an_error_other_than_no_links_is_not_hidden(tmp_path, monkeypatch):
    refuse_links(monkeypatch, errno.EIO)
    with pytest.raises(OSError) as raised:
        atomic_write(tmp_path / "clip.wav", lambda f: f.write(b"data"), exclusive=True)
    assert raised.value.errno == errno.EIO
    assert listing(tmp_path) == []


def test_a_failed_replace_gives_back_the_reserved_name(tmp_path, monkeypatch):
    refuse_links(monkeypatch)
    refuse_noreplace_rename(monkeypatch)

    def replace(source, target):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write(tmp_path / "clip.wav", lambda f: f.write(b"data"), exclusive=True)
    assert listing(tmp_path) == []


def test_a_drive_without_modes_still_takes_the_file(tmp_path, monkeypatch):
    """FAT and exFAT refuse chmod with EPERM (the mount fixes every file's mode)."""
    def chmod(path, mode, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(path))

    monkeypatch.setattr(os, "chmod", chmod)
    refuse_links(monkeypatch)
    path = atomic_write(tmp_path / "clip.json", lambda f: f.write(b"{}"), exclusive=True)
    assert path.read_bytes() == b"{}"
    assert not list(tmp_path.glob(f"*{PART}"))


def test_a_folder_that_cannot_be_written_is_an_error(tmp_path):
    with pytest.raises(OSError):
        write_method(tmp_path / "missing")


@pytest.mark.parametrize("failing", [0, 1])
def test_a_set_written_together_is_all_new_or_all_as_it_was(tmp_path, failing):
    """`atomic_write_all`: a full disk while writing either file of a pair (a record and its picture) changes
    neither, the one written first included, and leaves no temporary; otherwise both are new."""
    import errno

    record, picture = tmp_path / "seen.json", tmp_path / "seen.png"
    record.write_bytes(b"old record")
    picture.write_bytes(b"old picture")

    def full(f):
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    writes = [lambda f: f.write(b"new record"), lambda f: f.write(b"new picture")]
    writes[failing] = full
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write_all([(record, writes[0]), (picture, writes[1])])
    assert (record.read_bytes(), picture.read_bytes()) == (b"old record", b"old picture")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen.json", "seen.png"]
    atomic_write_all([(record, lambda f: f.write(b"new record")), (picture, lambda f: f.write(b"new picture"))])
    assert (record.read_bytes(), picture.read_bytes()) == (b"new record", b"new picture")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen.json", "seen.png"]


def test_a_set_written_exclusively_replaces_nothing_and_leaves_none_of_itself_when_a_name_is_taken(tmp_path):
    """Another writer's file under the second name, appeared after any check the caller made: it stays, and the
    first file of the set, moved in already, is taken back."""
    record, picture = tmp_path / "seen.json", tmp_path / "seen.png"
    picture.write_bytes(b"another run's picture")
    with pytest.raises(FileExistsError):
        atomic_write_all([(record, lambda f: f.write(b"record")), (picture, lambda f: f.write(b"picture"))],
                         exclusive=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seen.png"]
    assert picture.read_bytes() == b"another run's picture"
    picture.unlink()
    atomic_write_all([(record, lambda f: f.write(b"record")), (picture, lambda f: f.write(b"picture"))],
                     exclusive=True)
    assert (record.read_bytes(), picture.read_bytes()) == (b"record", b"picture")

"""The second fault audit (issue 24), what is stored: clip sets whole or absent at any kill -9, other writers'
temporaries left alone, the journal never lost silently (empty, damaged, not a file, its disk full), FAT32
through FUSE, the user preset cap, and `serve` stopping within its bound of SIGTERM whatever came before.

Everything runs on real files and real processes: a kill -9 is a real SIGKILL at an instant the child announces
(it waits on its stdin there); a full disk is a real tmpfs of a few MB (root only, else skipped); FAT32 is a real
image mounted with fusefat (skipped where fusefat, mkfs.vfat or /dev/fuse is missing)."""
from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from osc_helpers import TIMEOUT, ServeProcess, TcpClient, UdpClient, doctor_rows, free_udp_port, write_config
from PIL import Image
from sonocanvas.bridge.jobs.journal import Journal, JournalError
from sonocanvas.bridge.jobs.queue import Job, JobInterrupted, JobQueue
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.output.drop import MAX_TRIES, SIBLINGS, DropFolder
from sonocanvas.bridge.request import presets as presets_module
from sonocanvas.bridge.request.build import Limits, Output
from sonocanvas.bridge.request.presets import PresetError, PresetStore
from sonocanvas.bridge.store.paths import MIN_STEM, shipped_presets_dir
from sonocanvas.engine import files
from sonocanvas.engine.files import PART, STAGING_ROOM, Staging
from sonocanvas.engine.pipeline import Clip

RATE = 16000
CLIP_SET = ["c.json", "c.picture.png", "c.png", "c.wav"]


def make_clip(seconds: float = 0.25, picture: Image.Image | None = None) -> Clip:
    return Clip(index=0, seed=1, audio=np.zeros(int(seconds * RATE), np.float32), sample_rate=RATE,
                spectrogram=Image.new("L", (16, 16)), picture=picture or Image.new("RGB", (16, 16)), record={})


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# Finding 2: a kill -9 at any instant of placing a clip set ----------------------------------------------

PAUSED_DROP = r"""
import errno, os, sys
from pathlib import Path
import numpy as np
from PIL import Image
from sonocanvas.engine import files
from sonocanvas.engine.pipeline import Clip
from sonocanvas.bridge.output.drop import DropFolder
from sonocanvas.bridge.request.build import Output

folder, when, name, links = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "links"
if not links:  # as exFAT, FAT32 and SMB refuse hard links (Linux vfat/exfat: EPERM)
    def refuse(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")
    os.link = refuse
real = files.place_exclusive

def place(temp, path):
    # the instant to be killed at: announced, then waited on until the SIGKILL comes
    if when == "before" and path.name == name:
        print("at", path.name, flush=True); sys.stdin.readline()
    method = real(temp, path)
    if when == "after" and path.name == name:
        print("at", path.name, flush=True); sys.stdin.readline()
    return method

files.place_exclusive = place
clip = Clip(index=0, seed=1, audio=np.zeros(4000, np.float32), sample_rate=16000,
            spectrogram=Image.new("L", (16, 16)), picture=Image.new("RGB", (16, 16)), record={})
DropFolder(folder).drop(clip, Output(16000), "c", {})
print("dropped", flush=True)
"""


def kill_at(folder: Path, when: str, name: str, links: str) -> None:
    """A writer dropping clip `c` into `folder`, SIGKILLed at the instant before or after it places `name`."""
    child = subprocess.Popen([sys.executable, "-c", PAUSED_DROP, str(folder), when, name, links],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == f"at {name}\n"
    finally:
        child.kill()
        child.wait(TIMEOUT)


@pytest.mark.parametrize("links", ["links", "no-links"])
@pytest.mark.parametrize("when, name, left, after_restart", [
    ("before", "c.png", [], []),  # all staged, nothing placed
    ("before", "c.wav", ["c.json", "c.picture.png", "c.png"], []),  # all but the WAV: undone at the restart
    ("after", "c.wav", CLIP_SET, CLIP_SET),  # whole, only its staging folder left
], ids=["before-any-file", "before-the-wav", "after-the-wav"])
def test_2_a_kill_9_while_a_clip_set_is_placed_leaves_it_whole_or_absent_after_a_restart(
        tmp_path, when, name, left, after_restart, links):
    """The audit's kill -9 the instant the WAV is placed left a WAV without PNG or JSON. Now the WAV is placed
    last: a DAW that sees it sees the rest, and what a kill leaves before it is undone by the next writer."""
    kill_at(tmp_path, when, name, links)
    assert visible(tmp_path) == left and len(hidden(tmp_path)) == 1  # and its staging folder
    DropFolder(tmp_path)  # as the restarted server (or any writer) opens the folder
    assert visible(tmp_path) == after_restart and hidden(tmp_path) == []


KILLED_SERVER = r"""
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from sonocanvas.engine import files
from sonocanvas.engine.pipeline import Clip
from sonocanvas.bridge.jobs.journal import Journal
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.output.drop import DropFolder
from sonocanvas.bridge.request.build import Limits
from sonocanvas.bridge.studio.studio import Made, Restyled, deliver

folder, clips, name = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
picture = name.endswith(".png")  # a stylize's picture (PNG + JSON, the PNG placed last), not a clip
real = files.place_exclusive

def place(temp, path):
    method = real(temp, path)
    if path.name == name:  # the instant to be killed at: placed, not yet journalled or told
        print("at", path.name, flush=True); sys.stdin.readline()
    return method

files.place_exclusive = place
drop = DropFolder(folder)

def run(job, on_step, done):
    clip = Restyled(Image.new("RGB", (16, 16)), {}) if picture else Clip(
        index=0, seed=1, audio=np.zeros(4000, np.float32), sample_rate=16000,
        spectrogram=Image.new("L", (16, 16)), picture=Image.new("RGB", (16, 16)), record={})
    deliver(drop, job, [Made(clip, f"c{i}", {}) for i in range(clips)], done)

services = Services(run=run, limits=Limits((folder,), frozenset(), frozenset({"auffusion"})),
                    journal=Journal(folder / "journal.sqlite3"), version="test", device="cpu", models="none", drop=drop)
server = Server(services, port=0).start()
print(server.address[1], flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("clips, killed_after, state", [
    (1, "c0.wav", "done"),  # its only clip whole: done after all
    (2, "c0.wav", "failed"),  # one of two: failed, naming the one there
    (1, "c0.png", "done"),  # a stylize's picture whole: done, told as it is when it runs, with wav_path ""
], ids=["every-clip-placed", "one-of-two-placed", "a-picture-placed"])
def test_2_a_restart_reconciles_the_journal_with_the_clips_a_killed_server_placed(
        tmp_path, clips, killed_after, state):
    """Killed after placing a clip's audio, before journalling it: the clip is whole in the drop folder, but the
    journal said running, and the restart told the client the job did not finish. Now the restarted server finds
    the job's clips by the journal entry in their records, and tells the client `done` (at start-up and again at
    its hello) when they are all there, else an error naming the clips that are."""
    child = subprocess.Popen([sys.executable, "-c", KILLED_SERVER, str(tmp_path), str(clips), killed_after],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())
        client = UdpClient(("127.0.0.1", port))
        client.send("/sonocanvas/generate", "j", "image_prompt", "a", "audio_prompt", "b")
        client.expect("/sonocanvas/queued")
        assert child.stdout.readline() == f"at {killed_after}\n"
    finally:
        child.kill()
        child.wait(TIMEOUT)
    try:
        assert "/sonocanvas/done" not in [address for address, _ in client.seen]
        drop = DropFolder(tmp_path)  # as `serve` opens it again
        journal = Journal(tmp_path / "journal.sqlite3")
        services = Services(run=lambda job, on_step, done: None, journal=journal, drop=drop, version="test",
                            device="cpu", models="none", limits=Limits((tmp_path,), frozenset(), frozenset()))
        with Server(services, port=0) as server:
            wav = "" if killed_after.endswith(".png") else str(tmp_path / "c0.wav")
            if state == "done":
                assert client.expect("/sonocanvas/done") == ["j", 0, wav, str(tmp_path / "c0.png"),
                                                             str(tmp_path / "c0.json")]
            else:
                job_id, field, message = client.expect("/sonocanvas/error")
                assert (job_id, field) == ("j", "job")
                assert "did not finish: 1 of its 2 clips are in the drop folder (c0.wav)" in message
            assert [(e.job_id, e.state) for e in journal.entries()] == [("j", state)]
            client.server = server.address
            client.hello()  # a client that missed the start-up message hears it again at its hello
            assert client.next()[0] == ("/sonocanvas/done" if state == "done" else "/sonocanvas/error")
    finally:
        client.close()
    assert visible(tmp_path) == (["c0.json", "c0.png", "journal.sqlite3"] if killed_after.endswith(".png")
                                 else ["c0.json", "c0.picture.png", "c0.png", "c0.wav", "journal.sqlite3"])


def test_2_the_clips_of_a_job_are_found_by_their_records_and_nothing_else_is(tmp_path):
    """`delivered` reads only records naming the job's journal entry, with plain names in this folder and their
    audio present: another job's clip, a record pointing outside, half a set and junk are not the job's clips."""
    import json
    import time

    drop = DropFolder(tmp_path)
    since = time.time()

    def record(stem: str, entry: int, **files: str) -> None:
        names = {"wav": f"{stem}.wav", "png": f"{stem}.png", "picture": f"{stem}.picture.png", "json": f"{stem}.json",
                 **files}
        (tmp_path / f"{stem}.json").write_text(json.dumps(
            {"delivery": {"journal_entry": entry, "clip": 0, "clips": 1}, "files": names}))
        (tmp_path / f"{stem}.wav").write_bytes(b"RIFF")

    def picture(stem: str, entry: int, clip: int, **files: str) -> None:
        (tmp_path / f"{stem}.json").write_text(json.dumps(
            {"delivery": {"journal_entry": entry, "clip": clip, "clips": 3},
             "files": {"png": f"{stem}.png", "json": f"{stem}.json", **files}}))
        (tmp_path / f"{stem}.png").write_bytes(b"PNG")

    record("mine", 7)
    record("other", 8)
    record("escape", 7, wav="../mine.wav")
    record("half", 7)
    (tmp_path / "half.wav").unlink()
    (tmp_path / "junk.json").write_text("{not json")
    (found,) = drop.delivered(7, since)
    assert (found.clip, found.clips, found.wav, found.png, found.json, found.name) == (
        0, 1, tmp_path / "mine.wav", tmp_path / "mine.png", tmp_path / "mine.json", "mine.wav")
    picture("seen", 9, 1)
    picture("seen-half", 9, 0)
    (tmp_path / "seen-half.png").unlink()  # its PNG, placed last, is not there: not whole
    picture("seen-odd", 9, 2, wav="seen-odd.wav")  # a picture's files with a clip's one: neither kind
    (found,) = drop.delivered(9, since)
    assert (found.clip, found.wav, found.png, found.name) == (1, None, tmp_path / "seen.png", "seen.png")
    assert drop.delivered(7, time.time() + 60) == []  # older than the job: not read


def test_a_drop_folder_gone_is_said_on_field_drop_before_any_sampling_and_is_not_made_again(tmp_path):
    """Its drive unplugged mid-session: the next job is refused at its start, naming the folder, without sampling
    for nothing; the server does not make the folder again (an unplugged drive's /Volumes path would become a
    folder on the startup disk), and once the folder is back, jobs land in it."""
    from sonocanvas.bridge.studio.studio import Made, deliver

    folder = tmp_path / "Samples" / "sonocanvas"
    drop = DropFolder(folder)
    sampled = []

    def run(job, on_step, done):
        sampled.append(job.job_id)
        deliver(drop, job, [Made(make_clip(), "c", {})], done)

    services = Services(run=run, limits=Limits((tmp_path,), frozenset(), frozenset({"auffusion"})),
                        journal=Journal(tmp_path / "journal.sqlite3"), version="test", device="cpu", models="none",
                        drop=drop)
    with Server(services, port=0) as server:
        client = UdpClient(server.address)
        try:
            (tmp_path / "Samples").rename(tmp_path / "unplugged")
            client.send("/sonocanvas/generate", "away", "image_prompt", "a", "audio_prompt", "b")
            client.expect("/sonocanvas/queued")
            job_id, field, message = client.expect("/sonocanvas/error")
            assert (job_id, field) == ("away", "drop") and f"the drop folder {folder} is gone" in message
            assert sampled == [] and not folder.exists()
            (tmp_path / "unplugged").rename(tmp_path / "Samples")
            client.send("/sonocanvas/generate", "back", "image_prompt", "a", "audio_prompt", "b")
            assert client.expect("/sonocanvas/done")[:3] == ["back", 0, str(folder / "c.wav")]
        finally:
            client.close()

def test_2_the_undo_removes_only_the_files_the_killed_writer_placed(tmp_path):
    kill_at(tmp_path, "before", "c.wav", "links")
    (tmp_path / "c.png").unlink()
    (tmp_path / "c.png").write_bytes(b"a file of someone else's, under the same name")  # another inode
    DropFolder(tmp_path)
    assert visible(tmp_path) == ["c.png"] and hidden(tmp_path) == []
    assert (tmp_path / "c.png").read_bytes().startswith(b"a file of someone else's")


def test_2_a_running_drop_puts_right_what_a_writer_killed_meanwhile_left(tmp_path):
    """A server that runs on while a `generate -o` into its folder is killed mid-placement: its next clip
    removes the half set, not only the next start."""
    folder = DropFolder(tmp_path)
    kill_at(tmp_path, "before", "c.wav", "links")
    dropped = folder.drop(make_clip(), Output(RATE), "next", {})
    assert visible(tmp_path) == sorted(p.name for p in (dropped.wav, dropped.png, dropped.picture, dropped.json))


def test_2_a_staging_folders_paths_fit_wherever_a_clip_fits():
    """A clip's files are staged in a folder of their own with short names, whatever its stem: never longer
    than the clip's own longest name with the shortest stem a drop folder allows (Windows' path limit)."""
    assert STAGING_ROOM <= MIN_STEM + len(f"-{MAX_TRIES}") + max(map(len, SIBLINGS))


# Finding 19: a full disk shows no file of the clip -----------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real tmpfs of 2 MiB (mounting needs root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill_up(folder: Path) -> Path:
    """The rest of a disk, taken by another program; returns the file to delete for room again."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_19_a_clip_that_fills_the_disk_never_shows_a_file(small_disk, monkeypatch):
    """The WAV fits the disk, its picture does not (incompressible noise, about 3 MiB as PNG). The audit saw the
    final WAV for 6.8 ms: its name was claimed first. Now no file is placed before every file is written."""
    placed = []
    real = files.place_exclusive
    monkeypatch.setattr(files, "place_exclusive", lambda temp, path: placed.append(path) or real(temp, path))
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), np.uint8))
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.update(name for name in os.listdir(small_disk) if not name.startswith("."))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(OSError) as failed:
            DropFolder(small_disk).drop(make_clip(20.0, noise), Output(RATE, 32), "full", {})  # 1.3 MB of WAV
    finally:
        done.set()
        watcher.join(TIMEOUT)
    assert failed.value.errno == errno.ENOSPC
    assert placed == [] and seen == set() and os.listdir(small_disk) == []
    assert DropFolder(small_disk).drop(make_clip(), Output(RATE), "full", {}).wav.name == "full.wav"  # room again


# Finding 14: other writers' live temporaries ---------------------------------------------------------------

HOLD_STAGING = r"""
import sys
from sonocanvas.engine.files import Staging
staging = Staging(sys.argv[1])
print(staging.path.name, flush=True)
sys.stdin.readline()
"""


def test_14_only_a_dead_writers_temporaries_go_at_once_and_others_only_past_the_grace(tmp_path):
    """The audit: serve removed every temporary at start, a concurrent `generate -o`'s live one included. Now a
    staging folder goes at once only when its writer is known dead (its lock free on this machine), and any
    other temporary only once untouched for the 600 s grace."""
    live = Staging(tmp_path)  # another writer, live (this process holds its lock)
    other = subprocess.Popen([sys.executable, "-c", HOLD_STAGING, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    live_elsewhere = other.stdout.readline().strip()  # a live writer in another process
    killed = subprocess.Popen([sys.executable, "-c", HOLD_STAGING, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    dead = killed.stdout.readline().strip()
    killed.kill()
    killed.wait(TIMEOUT)
    fresh, stale = tmp_path / f".clip.wav.abc123{PART}", tmp_path / f".old.wav.def456{PART}"
    for path in (fresh, stale):
        path.write_bytes(b"x")
    an_hour_ago = stale.stat().st_mtime - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    try:
        DropFolder(tmp_path)  # what serve does at start, and every writer when it opens the folder
        assert hidden(tmp_path) == sorted([live.path.name, live_elsewhere, fresh.name])
        assert dead not in hidden(tmp_path) and stale.name not in hidden(tmp_path)
    finally:
        other.stdin.close()
        other.wait(TIMEOUT)
        live.close()
    DropFolder(tmp_path)  # that writer has exited since
    assert hidden(tmp_path) == [fresh.name]


# Findings 11, 12: an empty or damaged journal, or one that is not a file ----------------------------------


def fill(path: Path, jobs: int = 53) -> None:
    journal = Journal(path)
    for n in range(jobs):
        journal.set_state(journal.add(str(n), ("127.0.0.1", 9000), "generate", {"prompt": "x" * 200}), "running")
    journal.close()


def damage_a_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096 * 2  # a page of the jobs table, past the header page and the schema
    data[page:page + 4096] = np.random.default_rng(1).integers(0, 256, 4096, np.uint8).tobytes()
    path.write_bytes(bytes(data))


def another_database(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    db.close()


@pytest.mark.parametrize("damage, said", [
    (lambda path: path.write_bytes(b""), "was empty (0 bytes)"),
    (lambda path: path.write_bytes(b"these are not the bytes of a database " * 200), "is not a database"),
    (damage_a_page, "is damaged"),
    (lambda path: another_database(path), "holds no jobs table"),
], ids=["empty", "not-a-database", "malformed", "another-database"])
def test_11_12_a_damaged_journal_is_moved_aside_with_a_warning_and_a_fresh_one_made(tmp_path, caplog, damage, said):
    """11: a zero-length journal was taken as a new one, its 53 jobs (3 of them crashed) silently gone. 12: any
    other damage crashed serve with a traceback. Now it is moved aside, the log says so, and serve goes on."""
    path = tmp_path / "journal.sqlite3"
    fill(path)
    damage(path)
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="sonocanvas.journal"):
        journal = Journal(path)
    try:
        assert journal.entries() == [] and journal.recover() == []
        journal.add("new", ("127.0.0.1", 9000), "generate", {})
    finally:
        journal.close()
    [aside] = tmp_path.glob("journal.sqlite3.corrupt-*")
    assert aside.read_bytes() == before  # kept as it was, for whoever wants to look
    [record] = [r for r in caplog.records if r.name == "sonocanvas.journal"]
    assert record.levelno == logging.WARNING and record.getMessage().startswith(f"journal: {path} {said}")
    assert str(aside) in record.getMessage()
    assert [e.job_id for e in Journal(path).entries()] == ["new"]  # the fresh one is a journal like any


def test_11_a_new_journal_is_never_an_empty_file(tmp_path, monkeypatch):
    """Why an empty journal is known damaged: a new one is made whole under a temporary name, then placed."""
    from sonocanvas.bridge.jobs import journal as journal_module

    real, seen = journal_module.place_exclusive, []
    monkeypatch.setattr(journal_module, "place_exclusive",
                        lambda temp, path: seen.append(Path(temp).stat().st_size) or real(temp, path))
    Journal(tmp_path / "j.sqlite3").close()
    assert len(seen) == 1 and seen[0] > 0 and hidden(tmp_path) == []


@pytest.mark.parametrize("make, said", [
    (lambda path: path.mkdir(), "is a folder, not a journal file"),
    (lambda path: os.mkfifo(path), "is not a regular file"),
], ids=["folder", "fifo"])
def test_12_a_journal_path_that_is_not_a_file_stops_serve_with_exit_2_naming_it(tmp_path, make, said):
    config = write_config(tmp_path / "cfg")
    make(tmp_path / "cfg" / "journal.sqlite3")
    result = subprocess.run([sys.executable, "-m", "sonocanvas.bridge.cli", "serve", "--config", str(config),
                             "--image-model-source", str(tmp_path / "no-such-model")],
                            capture_output=True, text=True, timeout=2 * TIMEOUT)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"sonocanvas serve: journal: {tmp_path / 'cfg' / 'journal.sqlite3'} {said}")


# Finding 13: the journal's disk full ------------------------------------------------------------------------


def test_13_a_journal_on_a_full_disk_says_what_it_could_not_record_and_where(small_disk):
    path = small_disk / "journal.sqlite3"
    journal = Journal(path)
    try:
        job = journal.add("job", ("127.0.0.1", 9000), "generate", {})
        journal.set_state(job, "running")
        filler = fill_up(small_disk)
        with pytest.raises(JournalError) as refused:
            for n in range(200):  # until SQLite needs a page the disk no longer has
                journal.set_state(journal.add(str(n), ("127.0.0.1", 9000), "generate", {"x": "y" * 2000}), "done")
        assert refused.value.field == "journal"
        assert str(refused.value).startswith("journal: could not record ") and f" in {path}: " in str(refused.value)
        assert "full" in str(refused.value)
        filler.unlink()
        journal.set_state(job, "done")  # room again: the journal goes on
        assert {e.job_id: e.state for e in journal.entries()}["job"] == "done"
    finally:
        journal.close()


# Finding 15: FAT32 through FUSE ---------------------------------------------------------------------------


@pytest.fixture
def fuse_fat32(tmp_path):
    """A real FAT32 image mounted with fusefat (chmod: ENOSYS, link: EPERM, renameat2's flag: EINVAL)."""
    missing = [tool for tool in ("fusefat", "mkfs.vfat", "fusermount") if shutil.which(tool) is None]
    if missing or not os.path.exists("/dev/fuse"):
        pytest.skip(f"FUSE FAT32 needs {', '.join(missing) or '/dev/fuse'} (apt-get install fusefat dosfstools)")
    image, mount = tmp_path / "fat32.img", tmp_path / "fat32"
    mount.mkdir()
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["mkfs.vfat", "-F", "32", str(image)], check=True, capture_output=True)
    result = subprocess.run(["fusefat", "-o", "rw+", str(image), str(mount)], capture_output=True, text=True)
    if result.returncode != 0 or not os.path.ismount(mount):
        pytest.skip(f"fusefat cannot mount here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["fusermount", "-u", str(mount)], check=True)


def test_15_clips_drop_on_fat32_through_fuse(fuse_fat32):
    probe = fuse_fat32 / "probe"
    probe.touch()
    with pytest.raises(OSError) as refused:
        os.chmod(probe, 0o644)
    assert refused.value.errno == errno.ENOSYS  # what broke every clip
    probe.unlink()
    folder = DropFolder(fuse_fat32)
    first = folder.drop(make_clip(), Output(RATE), "fat", {})
    second = folder.drop(make_clip(), Output(RATE), "fat", {})
    assert (first.wav.name, second.wav.name) == ("fat.wav", "fat-2.wav")
    assert visible(fuse_fat32) == sorted(["fat.json", "fat.picture.png", "fat.png", "fat.wav", "fat-2.json",
                                          "fat-2.picture.png", "fat-2.png", "fat-2.wav"])
    assert hidden(fuse_fat32) == []


def test_15_doctor_writes_a_real_clip_on_fat32_through_fuse(fuse_fat32, tmp_path, capsys):
    from sonocanvas.bridge.cli import main

    config = write_config(tmp_path / "cfg", drop_dir=str(fuse_fat32))
    main(["doctor", "--config", str(config)])
    status, detail = doctor_rows(capsys.readouterr().out)["drop folder"]
    assert status == "ok" and "writes use reserve" in detail and hidden(fuse_fat32) == []


def test_15_a_chmod_the_file_system_does_not_implement_is_no_error(tmp_path, monkeypatch, capsys):
    """Where fusefat is missing this is the same case, emulated: chmod answers ENOSYS; and doctor, which tries
    a real clip write as serve does, now reports what serve would meet instead of calling the folder fine."""
    def chmod(path, mode, *args, **kwargs):
        raise OSError(errno.ENOSYS, "Function not implemented", str(path))

    monkeypatch.setattr(os, "chmod", chmod)
    dropped = DropFolder(tmp_path / "drop").drop(make_clip(), Output(RATE), "c", {})
    assert visible(tmp_path / "drop") == sorted(p.name for p in (dropped.wav, dropped.png, dropped.picture,
                                                                  dropped.json))

    def broken(path, mode, *args, **kwargs):  # a chmod error that is not "no modes here" still fails the write
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr(os, "chmod", broken)
    from sonocanvas.bridge.cli import main

    config = write_config(tmp_path / "cfg")
    assert main(["doctor", "--config", str(config)]) == 1
    status, detail = doctor_rows(capsys.readouterr().out)["drop folder"]
    assert status == "FAIL" and "cannot write a clip" in detail and "Input/output error" in detail


# Finding 20: the user preset store is bounded ---------------------------------------------------------------


def test_20_user_presets_are_capped_and_a_full_store_still_takes_a_replacement(tmp_path, monkeypatch):
    monkeypatch.setattr(presets_module, "MAX_USER_PRESETS", 3)  # the bound's value is documented: 1000
    store = PresetStore(shipped_presets_dir(), tmp_path / "presets")
    for n in range(3):
        store.save(f"mine-{n}", {"seed": n})
    with pytest.raises(PresetError, match="^name: there are 3 user presets already") as refused:
        store.save("one-more", {"seed": 9})
    assert refused.value.field == "name" and "one-more" not in store.names()
    store.save("mine-0", {"seed": 10})  # replacing one of yours is no new file
    assert store.get("mine-0") == {"seed": 10}
    store.delete("mine-1")
    store.save("one-more", {"seed": 9})
    assert sorted(p.name for p in (tmp_path / "presets").iterdir()) == ["mine-0.yaml", "mine-2.yaml",
                                                                        "one-more.yaml"]


# Finding 21, must-be-true 7: serve stops within its bound of SIGTERM ---------------------------------------


class Recorder:
    """The queue's listener: every end, in order."""

    def __init__(self):
        self.ends: list[tuple[str, str, BaseException | None]] = []
        self.lock = threading.Lock()

    def started(self, job): pass
    def progress(self, job, step, total): pass
    def finished(self, job): self._add(job, "finished")
    def failed(self, job, error): self._add(job, "failed", error)
    def cancelled(self, job): self._add(job, "cancelled")

    def _add(self, job, how, error=None):
        with self.lock:
            self.ends.append((job.job_id, how, error))


def test_7_the_queue_stops_within_its_grace_even_with_a_wedged_job_and_tells_each_end_once():
    wedged, running = threading.Event(), threading.Event()

    def run(job, on_step):
        if job.job_id == "wedged":
            running.set()
            assert wedged.wait(TIMEOUT)  # a step that never returns (until the test lets it)
        on_step(1, 1)

    events = Recorder()
    jobs = JobQueue(run, events)
    jobs.submit(Job("a", "wedged", None))
    jobs.submit(Job("a", "waiting", None))
    assert running.wait(TIMEOUT)
    jobs.close(grace=0.2)  # returns although the job has not stopped
    assert [(job_id, how, type(error)) for job_id, how, error in events.ends] == [
        ("waiting", "failed", JobInterrupted), ("wedged", "failed", JobInterrupted)]
    assert [str(e) for _, _, e in events.ends] == [
        "job: interrupted: the server stopped before this job ran: send it again",
        "job: interrupted: the server stopped while this job ran; it did not finish: send it again"]
    wedged.set()
    assert jobs.wait_idle(TIMEOUT)  # its worker got out at last: its end is not told a second time
    assert len(events.ends) == 2


def test_7_a_tcp_client_hears_its_job_interrupted_before_the_server_closes_the_connection(tmp_path):
    """The queue's close tells a running job "interrupted", queued on the client's TCP connection; the transport
    used to shut every connection at once, so a TCP client could lose it. Now what is queued is written first."""
    running = threading.Event()

    def run(job, on_step, done):
        on_step(1, 2)
        running.set()
        job.cancelled.wait(TIMEOUT)  # as the sampler does: its next step sees the stop
        job.check()

    journal = Journal(tmp_path / "journal.sqlite3")
    services = Services(run=run, limits=Limits((tmp_path,), frozenset(), frozenset({"auffusion"})), journal=journal,
                        version="test", device="cpu", models="none")
    server = Server(services, port=0).start()
    client = TcpClient(server.address)
    try:
        client.send("/sonocanvas/generate", "long", "image_prompt", "a", "audio_prompt", "b")
        client.expect("/sonocanvas/queued")
        assert running.wait(TIMEOUT)
        server.close()
        assert client.expect_error() == ["long", "job", "job: interrupted: the server stopped while this job ran; "
                                                        "it did not finish: send it again"]
    finally:
        client.close()


def test_7_a_job_its_client_cancelled_stays_cancelled_when_the_server_stops():
    stepping, release = threading.Event(), threading.Event()

    def run(job, on_step):
        stepping.set()
        assert release.wait(TIMEOUT)
        on_step(1, 2)

    events = Recorder()
    jobs = JobQueue(run, events)
    jobs.submit(Job("a", "mine", None))
    assert stepping.wait(TIMEOUT)
    assert jobs.cancel("a", "mine")
    closer = threading.Thread(target=jobs.close)
    closer.start()
    release.set()
    closer.join(TIMEOUT)
    assert not closer.is_alive() and events.ends == [("mine", "cancelled", None)]


WEDGED_SERVE = r"""
import sys, threading
from sonocanvas.bridge.studio import studio

real = studio.Studio.run

def run(self, job, on_step, done):
    if job.job_id == "wedged":  # a job whose step never returns: nothing a cancel can reach
        on_step(1, 1)  # reported: it runs
        threading.Event().wait()
    return real(self, job, on_step, done)

studio.Studio.run = run
from sonocanvas.bridge.cli import main
sys.exit(main(sys.argv[1:]))
"""


def audit_session(server: tuple[str, int], client: UdpClient, job_id: str, steps: int) -> None:
    """What the audit did before SIGTERM went unheard: two generate jobs (one malformed), junk datagrams, a
    hello naming another program's port, /status and a TCP connect-and-close; then a job left running."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        other.bind(("127.0.0.1", free_udp_port()))  # as oscdump listens: replies go to it
        client.send("/sonocanvas/hello", other.getsockname()[1])
        for datagram in (b"\x00\x01junk", b"/sonocanvas/status\x00\x00,ii", b"#bundle\x00\xff\xff"):
            junk.sendto(datagram, server)
    client.hello()
    client.send("/sonocanvas/generate", "bad", "steps", 0)
    assert client.expect("/sonocanvas/error")[:2] == ["bad", "steps"]
    client.send("/sonocanvas/status")
    client.expect("/sonocanvas/status")
    TcpClient(server).close()
    client.send("/sonocanvas/generate", job_id, "image_prompt", "a", "audio_prompt", "b", "steps", steps)
    client.expect("/sonocanvas/queued")
    client.expect("/sonocanvas/progress")  # it runs


@pytest.mark.parametrize("wedged", [False, True], ids=["a-running-job", "a-wedged-job"])
def test_21_serve_stops_on_sigterm_after_the_audits_session_and_tells_the_job_interrupted(
        tmp_path, tiny_model_paths, sonocanvas_cache, wedged):
    """A real `serve --models tiny-random`; after the session, SIGTERM. The job in flight (one that would run on
    for long, or one wedged for good) is told interrupted to its client and journalled so, and serve exits.
    Before it starts, the drop folder holds another writer's live staging folder: serve leaves it (finding 14)."""
    config = write_config(tmp_path)
    other_writer = Staging(tmp_path / "drop")
    program = (sys.executable, "-c", WEDGED_SERVE) if wedged else (sys.executable, "-m", "sonocanvas.bridge.cli")
    serve = ServeProcess(config, cache=sonocanvas_cache, program=program)
    client = UdpClient(serve.address)
    try:
        assert other_writer.path.is_dir()  # serve started and did not touch it
        job_id = "wedged" if wedged else "long"
        audit_session(serve.address, client, job_id, steps=500)
        serve.proc.send_signal(signal.SIGTERM)
        assert client.expect_error() == [job_id, "job", "job: interrupted: the server stopped while this job ran; "
                                                        "it did not finish: send it again"]
        assert serve.proc.wait(TIMEOUT) == 0
    finally:
        client.close()
        serve.stop()
        other_writer.close()
    text = "".join(serve.output)
    assert "Traceback" not in text and "stopped (SIGTERM)" in text
    assert ("did not stop within 3 s of the server's stop; told interrupted" in text) is wedged
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        entries = {e.job_id: (e.state, e.message) for e in journal.entries()}
        assert journal.recover() == []  # nothing left for a restart to call unfinished
    finally:
        journal.close()
    assert entries[job_id] == ("failed", "job: interrupted: the server stopped while this job ran; it did not "
                                         "finish: send it again")


def test_21_a_second_sigterm_ends_serve_at_once(tmp_path, tiny_model_paths, sonocanvas_cache):
    """The first SIGTERM waits for a wedged job (its grace); a second one does not wait at all."""
    serve = ServeProcess(write_config(tmp_path), cache=sonocanvas_cache, program=(sys.executable, "-c", WEDGED_SERVE))
    client = UdpClient(serve.address)
    try:
        audit_session(serve.address, client, "wedged", steps=500)
        serve.proc.send_signal(signal.SIGTERM)
        serve.wait_line(r"INFO sonocanvas\.server: stopping \(SIGTERM\)")
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(TIMEOUT) == 128 + signal.SIGTERM
    finally:
        client.close()
        serve.stop()
    assert "SIGTERM again: stopping now" in "".join(serve.output)


def test_13_done_goes_out_only_once_the_journal_says_done_and_a_full_disk_says_so(small_disk, tmp_path):
    """The audit: the journal's disk filled mid-job, the client got `done`, the journal still said running, and
    a restart then told the client the job did not finish. Now the last clip's `done` follows the journal's."""
    journal = Journal(small_disk / "journal.sqlite3")
    seen_by_client: dict[str, str] = {}

    def run(job, on_step, done):
        on_step(1, 1)
        job.check(last=True)  # the last clip is about to be delivered (as studio.deliver does)
        if job.job_id == "full":
            filler = fill_up(small_disk)
            for n in range(200):  # until SQLite needs a page the disk does not have
                try:
                    journal.set_state(journal.add(f"pad-{n}", ("127.0.0.1", 1), "generate", {"x": "y" * 2000}), "done")
                except JournalError:
                    break
            run.filler = filler
        done(0, tmp_path / f"{job.job_id}.wav", tmp_path / f"{job.job_id}.png", tmp_path / f"{job.job_id}.json")

    services = Services(run=run, limits=Limits((tmp_path,), frozenset(), frozenset({"auffusion"})), journal=journal,
                        version="test", device="cpu", models="none")
    try:  # the journal closed, so that the tmpfs under it can be unmounted
        with Server(services, port=0) as server:
            client = UdpClient(server.address)
            try:
                client.send("/sonocanvas/generate", "full", "image_prompt", "a", "audio_prompt", "b")
                job_id, field, message = client.expect("/sonocanvas/error")
                assert (job_id, field) == ("full", "journal")
                assert message.startswith(f"journal: the clip is written ({tmp_path / 'full.wav'}), but the job's end "
                                          "could not be recorded") and "full" in message
                assert "/sonocanvas/done" not in [address for address, _ in client.seen]
                run.filler.unlink()
                client.send("/sonocanvas/generate", "ok", "image_prompt", "a", "audio_prompt", "b")
                client.expect("/sonocanvas/done")
                seen_by_client.update({e.job_id: e.state for e in journal.entries()})  # as the client hears `done`
            finally:
                client.close()
    finally:
        journal.close()
    assert seen_by_client["ok"] == "done"

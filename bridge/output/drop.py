"""The one clip writer: finished clips into a folder (the server's drop folder, or `sonocanvas generate -o`).

Each clip is finished (resampled to the requested rate, fitted to bars at a tempo, run through an
effect chain) and written as audio (WAV, or the format `Output.format` names), its spectrogram PNG,
its colour picture and its JSON record.
A clip set appears whole or not at all, a kill -9 at any instant included: every file is written first in a
hidden staging folder (`engine.files.Staging`), then placed without replacing anything, the audio last, so a
DAW that sees the audio sees its PNGs and JSON too. A name already taken gets `-2`, `-3`, ... instead of
replacing a finished clip. A clip whose files cannot all be written (a full disk) never shows at all, and what
a killed writer left (its staging folder, a set placed but for its audio) is put right by the next writer that
opens the folder, or the next clip this one drops.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pedalboard import time_stretch
from PIL import Image, PngImagePlugin

from ...engine.audio import resample, within_full_scale, write_audio
from ...engine.errors import FieldError
from ...engine.files import Staging, atomic_write, remove_stale_parts
from ...engine.record import record_bytes
from ..request.build import Output
from ..store.paths import stem_room

SIBLINGS = (".png", ".picture.png", ".json")
"""Beside the audio (`.<format>`, and `.dry.<format>` when an effect chain was applied)."""
MAX_TRIES = 1000
DELIVERY = "delivery"
"""The record's key that ties a server's clip to its job: `{"journal_entry": id, "clip": i, "clips": n}`, clip i
of the n its job delivers. A restarted server finds by it the clips a dead one placed but never journalled."""
MAX_RECORD_BYTES = 1 << 20
"""The largest JSON record `delivered` reads; a record is a few kilobytes."""
MTIME_SLACK = 2.0
"""Seconds a file's time may read before the clock that wrote it: FAT32 keeps times to 2 s."""


@dataclass(frozen=True)
class Dropped:
    """The files of one dropped clip (absolute paths); `wav` is the audio, in whichever format was asked for."""

    wav: Path
    png: Path
    picture: Path
    json: Path
    dry: Path | None = None


@dataclass(frozen=True)
class Delivered:
    """A server's clip or picture found whole in a drop folder: clip `clip` of the `clips` its job delivers, with
    the files its `/sonocanvas/done` names (`wav` None for a picture, a stylisation, which has no sound)."""

    clip: int
    clips: int
    wav: Path | None
    png: Path
    json: Path

    @property
    def name(self) -> str:
        """What a person knows it by: the clip's audio file, or the picture."""
        return (self.wav or self.png).name


@dataclass(frozen=True)
class DroppedPicture:
    """The files of one dropped picture (a stylisation): the PNG and its JSON record."""

    png: Path
    json: Path


def clip_stem(when: datetime, image_prompt: str, audio_prompt: str, seed: int, index: int | None = None) -> str:
    """`<time>_<image prompt>_<audio prompt>_s<seed>[_v<index>]`, prompts cut to a few lower-case words."""
    variation = f"_v{index}" if index is not None else ""
    return f"{when:%Y%m%d-%H%M%S}_{slug(image_prompt)}_{slug(audio_prompt)}_s{seed}{variation}"


def shortened(stem: str, room: int) -> str:
    """`stem` in at most `room` characters, cut in the middle: a clip's name keeps its time at the start and its
    seed and variation at the end, which tell clips apart, and loses prompt words."""
    if len(stem) <= room:
        return stem
    head = room // 2
    return stem[:head] + stem[len(stem) - (room - head):]


SLUG_BYTES = 80
"""A slug's most UTF-8 bytes: two slugs, the time, seed and a temporary's suffix stay under the 255 bytes a
name may have on ext4, APFS and exFAT alike (a CJK letter is three bytes)."""


def slug(text: str, words: int = 4, length: int = 40) -> str:
    """A few lower-case words of any script (NFC: "château", "城堡", "ベル"), joined by `-`: letters and digits
    only, so nothing any file system forbids (no separators, no reserved characters, no emoji), and readable in
    a DAW's browser."""
    found = re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).lower())[:words]
    name = "-".join(found)[:length]
    while len(name.encode()) > SLUG_BYTES:
        name = name[:-1]
    return name.strip("-") or "untitled"


def finish(audio: np.ndarray, sample_rate: int, output: Output, loop: bool = False) -> np.ndarray:
    """The dry clip as dropped: resampled to the output rate and, with bpm and bars, stretched to fit exactly.

    A loop is processed as three copies end to end and the middle one kept, so the resampler's and the
    stretcher's edges fall outside it and its last sample still flows into its first.
    """
    copies = 3 if loop else 1
    audio = resample(np.tile(np.asarray(audio, dtype=np.float32), copies), sample_rate, output.sample_rate)
    if output.bpm is not None and output.bars is not None:
        frames = copies * round(output.bars * 4 * 60 / output.bpm * output.sample_rate)
        stretched = time_stretch(np.atleast_2d(audio), output.sample_rate, audio.shape[-1] / frames)
        audio = np.zeros(audio.shape[:-1] + (frames,), np.float32)
        take = min(frames, stretched.shape[-1])
        audio[..., :take] = stretched.reshape(audio.shape[:-1] + stretched.shape[-1:])[..., :take]
    one = audio.shape[-1] // copies
    return np.ascontiguousarray(audio[..., one * (copies // 2): one * (copies // 2 + 1)])


def drop_stem_room(folder: Path, field: str = "drop_dir") -> int:
    """How long a clip's stem may be in `folder` so that every file of the clip fits Windows' path limit (a share
    or an exFAT drive may be read there): the longest is `<stem>-1000.picture.png`. Its staging folder's files
    (`engine.files.STAGING_ROOM`) are never longer than that with the shortest stem. FieldError on `field` (the
    server's `drop_dir`, a command's `output`) when no readable name fits."""
    return stem_room(Path(folder).absolute(), len(f"-{MAX_TRIES}") + max(map(len, SIBLINGS)), field)


def check_clip_folder(folder: Path, field: str) -> None:
    """Whether clips can be dropped in `folder`, as far as it can be told before any is made: FieldError on
    `field` when it is too deep for any clip's name, or would be made in an unplugged drive's place."""
    drop_stem_room(folder, field)
    check_drive(folder, field)


MOUNT_FOLDERS = ("/Volumes", "/media", "/mnt", "/run/media")
"""Where macOS (/Volumes/<drive>) and Linux desktops (/media/<user>/<drive>, /run/media/<user>/<drive>,
/mnt/<drive>) mount drives. A folder made there while its drive is away is a plain folder on the startup disk,
which then fills; a Windows drive letter that is not there cannot be made at all."""


def check_drive(folder: Path, field: str) -> None:
    """FieldError on `field` when `folder`, not there yet, would be made in a mount folder (`MOUNT_FOLDERS`) with
    no mounted drive on the way to it: between the mount folder and the nearest folder that is there, none is
    a mount point (the drive unplugged, or what an ejected drive left behind). A disk mounted at the mount folder
    itself (/mnt on a cloud GPU server) counts: it is no startup disk."""
    spelled = Path(os.path.abspath(folder))
    existing = nearest_existing(spelled)
    if existing == spelled:
        return
    # Where it would really be made: through any link on the way (~/usb -> /media; "/Volumes/Macintosh HD" is
    # a link to /), with `//` as `/`.
    real = Path(os.path.realpath(existing))
    folder, existing = real / spelled.relative_to(existing), real
    for mount_folder in map(Path, MOUNT_FOLDERS):
        on_the_way = [path for path in (existing, *existing.parents) if path.is_relative_to(mount_folder)]
        if folder.is_relative_to(mount_folder) and not any(map(os.path.ismount, on_the_way)):
            where = "" if folder == spelled else f" (that is {folder})"
            raise FieldError(field, f"{spelled}{where} belongs on a drive that is not mounted (is it plugged in?): "
                                    "it is not made on the startup disk in its place; plug the drive in, or make "
                                    "the folder yourself if it is meant to be there")


def nearest_existing(folder: Path) -> Path:
    """`folder` if it is there, else the nearest of its parents that is (os.path.exists, which never raises: a
    parent that cannot be searched is as good as not there)."""
    return next(path for path in (folder, *folder.parents) if os.path.exists(path))


def make_folder(folder: Path, field: str) -> None:
    """Make `folder` and its missing parents, never in an unplugged drive's place (`check_drive`); FieldError on
    `field` when it cannot be made."""
    check_drive(folder, field)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FieldError(field, f"cannot make {folder}: {error.strerror or error}") from None


class DropFolder:
    """Writes finished clips into one folder; `effects` is the `EffectChains` a request's `fx` names. The folder
    is made if it is missing (`make_folder`: never in an unplugged drive's place), FieldError on `field`."""

    def __init__(self, folder: Path, effects: Any = None, field: str = "drop_dir"):
        self.folder = Path(folder)
        self.stem_room = drop_stem_room(self.folder, field)
        make_folder(self.folder, field)
        remove_stale_parts(self.folder)  # a server killed mid-write leaves its temporaries behind
        self.effects = effects
        # PNG encoding, resampling and fsync release the GIL: the pictures are made while the sound is.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sonocanvas-drop")

    def check(self) -> None:
        """FieldError on `drop` when the folder is gone: its drive unplugged, the folder moved or deleted. It is not
        made again where it was: on macOS the path of an unplugged drive, under /Volumes, would then be a folder on
        the startup disk, which fills while the drive is away."""
        if not self.folder.is_dir():
            raise FieldError("drop", f"the drop folder {self.folder} is gone (its drive unplugged, or the folder "
                                     "moved or deleted): put it back, or restart the server with another")

    def drop(self, clip: Any, output: Output, stem: str, record: dict) -> Dropped:
        """Finish `clip` (a pipeline `Clip`: audio, sample_rate, spectrogram, picture) and write its files
        under `stem` (or `stem-2`, ... if taken). `record` is completed with the files and output and saved."""
        self.check()
        remove_stale_parts(self.folder)  # what a writer killed since we opened the folder left behind
        stem = shortened(stem, self.stem_room)
        pngs = [self._pool.submit(_png_bytes, clip.spectrogram), self._pool.submit(_png_bytes, clip.picture)]
        dry = finish(clip.audio, clip.sample_rate, output, clip.loop)
        wet = self.effects.apply(output.fx, dry, output.sample_rate) if output.fx else None
        main = within_full_scale(wet if wet is not None else dry)
        audio_suffix, dry_suffix = f".{output.format}", f".dry.{output.format}"
        suffixes = (audio_suffix, *([dry_suffix] if wet is not None else []), *SIBLINGS)
        with Staging(self.folder) as staging:
            staged = {suffix: f"c{suffix}" for suffix in suffixes}  # short: a staging folder's paths fit any stem
            writes: list[Future[Any]] = [
                self._pool.submit(write_audio, staging.file(staged[audio_suffix]), main, output.sample_rate,
                                  output.bit_depth),
                self._pool.submit(lambda: _write_bytes(staging.file(staged[".png"]), pngs[0].result())),
                self._pool.submit(lambda: _write_bytes(staging.file(staged[".picture.png"]), pngs[1].result())),
            ]
            if wet is not None:
                writes.append(self._pool.submit(write_audio, staging.file(staged[dry_suffix]), within_full_scale(dry),
                                                output.sample_rate, output.bit_depth))
            wait(writes)  # every write ends before any is judged: none is left running
            for write in writes:
                write.result()  # raises the first failure: nothing was placed, and the staging folder goes

            def dropped_as(finals: dict[str, Path]) -> Dropped:
                return Dropped(wav=finals[audio_suffix], png=finals[".png"], picture=finals[".picture.png"],
                               json=finals[".json"], dry=finals.get(dry_suffix))

            def full(finals: dict[str, Path]) -> dict:
                files = {k: v.name for k, v in dataclasses.asdict(dropped_as(finals)).items() if v is not None}
                return {**record, "output": dataclasses.asdict(output), "files": files}

            return dropped_as(self._place(staging, staged, stem, audio_suffix, full, reserved=(dry_suffix,)))

    def drop_picture(self, picture: Image.Image, stem: str, record: dict) -> DroppedPicture:
        """A picture (a stylisation) and its JSON record, under `stem` (or `stem-2`, ... if taken), whole or not at
        all as a clip is, the PNG last."""
        self.check()
        remove_stale_parts(self.folder)
        stem = shortened(stem, self.stem_room)
        with Staging(self.folder) as staging:
            staged = {".png": "c.png", ".json": "c.json"}
            _write_bytes(staging.file(staged[".png"]), _png_bytes(picture))

            def full(finals: dict[str, Path]) -> dict:
                return {**record, "files": {"png": finals[".png"].name, "json": finals[".json"].name}}

            finals = self._place(staging, staged, stem, ".png", full)
            return DroppedPicture(png=finals[".png"], json=finals[".json"])

    def _place(self, staging: Staging, staged: dict[str, str], stem: str, last: str,
               record: Callable[[dict[str, Path]], dict], reserved: tuple[str, ...] = ()) -> dict[str, Path]:
        """Place the staged set (`staged`: suffix to staged name, a `.json` among them) under the first free name
        of `stem`, `stem-2`, ... (`reserved`: suffixes that must be free too), its record written from the final
        paths (`record`) just before; `last` is placed last. The final paths, by suffix."""
        for attempt in range(1, MAX_TRIES + 1):
            name = stem if attempt == 1 else f"{stem}-{attempt}"
            finals = {suffix: self.folder / f"{name}{suffix}" for suffix in staged}
            if any(path.exists() for path in (*finals.values(), *(self.folder / f"{name}{s}" for s in reserved))):
                continue
            _write_bytes(staging.file(staged[".json"]), record_bytes(record(finals)))
            try:
                staging.place({staged[suffix]: path for suffix, path in finals.items()}, last=staged[last])
            except FileExistsError:  # a racing writer took one of the names since the check: the next name
                continue
            return finals
        raise FileExistsError(f"{stem}: {MAX_TRIES} clips of this name already exist in {self.folder}")


    def delivered(self, journal_entry: int, since: float) -> list[Delivered]:
        """The whole clips (or pictures) in this folder of the job journalled as `journal_entry`, by clip, found by
        their records (`DELIVERY`); only records written since `since` (a time) are read. One whose last placed file
        is missing is not whole: a clip's audio, a picture's PNG (`drop`, `drop_picture`)."""
        found: dict[int, Delivered] = {}
        for path in self.folder.glob("*.json"):
            try:
                info = path.stat()
                if (path.name.startswith(".") or not stat.S_ISREG(info.st_mode) or info.st_mtime < since - MTIME_SLACK
                        or info.st_size > MAX_RECORD_BYTES):
                    continue
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue  # not a record of ours, or going away: nothing of the job
            delivery = record.get(DELIVERY) if isinstance(record, dict) else None
            if not isinstance(delivery, dict) or delivery.get("journal_entry") != journal_entry:
                continue
            files = self._files(record.get("files"))
            if files is not None and (files.get("wav") or files["png"]).is_file():
                found[int(delivery["clip"])] = Delivered(int(delivery["clip"]), int(delivery["clips"]),
                                                         files.get("wav"), files["png"], files["json"])
        return [found[clip] for clip in sorted(found)]

    def _files(self, names: Any) -> dict[str, Path] | None:
        """A record's `files` as paths in this folder, by kind: a clip's (as `Dropped` holds them) or a picture's
        (`DroppedPicture`); None unless they are one of those and each is a plain name here."""
        clip = {f.name for f in dataclasses.fields(Dropped)}
        if not isinstance(names, dict) or not ({"wav", "png", "picture", "json"} <= set(names) <= clip
                                               or set(names) == {f.name for f in dataclasses.fields(DroppedPicture)}):
            return None
        if not all(isinstance(n, str) and n == Path(n).name and not n.startswith(".") for n in names.values()):
            return None
        return {key: self.folder / name for key, name in names.items()}


def _png_bytes(image: Image.Image) -> bytes:
    """PNG bytes keeping the picture's text metadata (a spectrogram's format travels with it)."""
    info = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, str):
            info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, compress_level=1)  # lossless all the same; twice as fast
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))

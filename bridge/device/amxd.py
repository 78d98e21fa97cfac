"""The `.amxd` container Live loads a Max for Live device from, unfrozen or frozen.

A run of chunks, each a 4-byte tag, a 4-byte little-endian length and that many bytes: `ampf` holds the
device type (`aaaa` audio effect, `mmmm` MIDI effect, `iiii` instrument), `meta` four bytes of flags,
`ptch` the patcher.

Unfrozen, `ptch` is the patcher JSON (the `.maxpat` text) ending in a NUL byte. Frozen, as Max writes it when
the snowflake is pressed (Ableton's maxdevtools `FrozenTest.amxd`), `ptch` is a small archive so that the
device carries every file it needs: `mx@c`, a big-endian 32-bit header size (16) and a big-endian 64-bit
offset of a `dlst` footer; then the files one after another, the device's own patcher first; then the footer,
`dlst` with a big-endian size, holding one `dire` entry per file. An entry is a run of fields (4-byte tag,
big-endian size counting its own 8 header bytes, data): `type` (four characters: `JSON`, `TEXT`...), `fnam`
(the file's name, NUL-ended, padded to four bytes), `sz32` and `of32` (its size, and offset from the start
of `ptch`'s data), `vers`, `flag` (17 on the device's own patcher) and `mdat` (modified, in seconds since
1904 as HFS+ counts them).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ...engine.files import atomic_write

DEVICE_TYPES = {"audio_effect": b"aaaa", "midi_effect": b"mmmm", "instrument": b"iiii"}
FROZEN_MAGIC = b"mx@c"
FROZEN_HEADER = struct.Struct(">4sIQ")
FROZEN_META_BITS = 0b110
"""The `meta` bits freezing sets: `FrozenTest.amxd` holds 7 where the same device unfrozen (`Test.amxd`) holds 1."""
DEVICE_ENTRY_FLAG = 17
"""The `flag` of the `dire` entry of the device's own patcher (every other entry: 0, or 8 for some media)."""
HFS_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)
_HEADER = struct.Struct("<4sI")
_FIELD = struct.Struct(">4sI")
_U32 = struct.Struct(">I")


class AmxdError(ValueError):
    """A file that is not a well-formed `.amxd` container; the message starts with `amxd`."""


@dataclass(frozen=True)
class Chunk:
    tag: bytes
    data: bytes


@dataclass(frozen=True)
class EmbeddedFile:
    """A file a frozen device carries: a script, an abstraction, a picture..."""

    name: str
    kind: str  # the four-character `type`: "TEXT" for a script, "JSON" for a patcher
    data: bytes
    modified: datetime = HFS_EPOCH
    flag: int = 0
    version: int = 0

    @classmethod
    def from_path(cls, path: Path, kind: str = "TEXT") -> EmbeddedFile:
        modified = datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc)
        return cls(path.name, kind, path.read_bytes(), modified)


@dataclass(frozen=True)
class Device:
    """A device: its type and patcher; frozen when it carries `files` (then `name` is its own file's name)."""

    device_type: str
    patcher: dict
    files: tuple[EmbeddedFile, ...] = ()
    name: str = ""
    modified: datetime = HFS_EPOCH

    @property
    def frozen(self) -> bool:
        return bool(self.files)


def pack(chunks: list[Chunk]) -> bytes:
    return b"".join(_HEADER.pack(c.tag, len(c.data)) + c.data for c in chunks)


def unpack(blob: bytes) -> list[Chunk]:
    """Every chunk in order; a length that runs past the end, or stray bytes, is an error."""
    chunks, offset = [], 0
    while offset < len(blob):
        if offset + _HEADER.size > len(blob):
            raise AmxdError(f"amxd: {len(blob) - offset} stray bytes at offset {offset}")
        tag, size = _HEADER.unpack_from(blob, offset)
        offset += _HEADER.size
        if offset + size > len(blob):
            raise AmxdError(f"amxd: chunk {tag!r} claims {size} bytes, {len(blob) - offset} remain")
        chunks.append(Chunk(tag, blob[offset : offset + size]))
        offset += size
    return chunks


def encode(device: Device) -> bytes:
    if device.device_type not in DEVICE_TYPES:
        raise AmxdError(f"amxd: unknown device type {device.device_type!r}; choose one of {sorted(DEVICE_TYPES)}")
    patcher = json.dumps(device.patcher, indent="\t", ensure_ascii=False).encode("utf-8") + b"\0"
    meta = FROZEN_META_BITS if device.frozen else 0
    return pack([
        Chunk(b"ampf", DEVICE_TYPES[device.device_type]),
        Chunk(b"meta", struct.pack("<I", meta)),
        Chunk(b"ptch", _freeze(device, patcher) if device.frozen else patcher),
    ])


def decode(blob: bytes) -> Device:
    chunks = unpack(blob)
    tags = [c.tag for c in chunks]
    if tags[:1] != [b"ampf"] or b"ptch" not in tags:
        raise AmxdError(f"amxd: expected an ampf chunk first and a ptch chunk, found {tags}")
    kinds = {tag: name for name, tag in DEVICE_TYPES.items()}
    if chunks[0].data not in kinds:
        raise AmxdError(f"amxd: unknown device type {chunks[0].data!r}")
    ptch = chunks[tags.index(b"ptch")].data
    if not ptch.startswith(FROZEN_MAGIC):
        return Device(kinds[chunks[0].data], _patcher(ptch, "the patcher"))
    own, *files = thaw(ptch)
    return Device(kinds[chunks[0].data], _patcher(own.data, own.name), tuple(files), own.name, own.modified)


def thaw(ptch: bytes) -> list[EmbeddedFile]:
    """The files of a frozen `ptch` chunk's data, in the footer's order (the device's own patcher first)."""
    if len(ptch) < FROZEN_HEADER.size:
        raise AmxdError(f"amxd: a frozen patcher of {len(ptch)} bytes has no room for its header")
    magic, header_size, footer = FROZEN_HEADER.unpack_from(ptch)
    if magic != FROZEN_MAGIC or header_size != FROZEN_HEADER.size:
        raise AmxdError(f"amxd: frozen header {magic!r} of size {header_size}, expected {FROZEN_MAGIC!r} of size 16")
    if not FROZEN_HEADER.size <= footer <= len(ptch) - _FIELD.size or ptch[footer : footer + 4] != b"dlst":
        raise AmxdError(f"amxd: no dlst footer at offset {footer}")
    (size,) = _U32.unpack_from(ptch, footer + 4)
    if footer + size != len(ptch):
        raise AmxdError(f"amxd: the dlst footer claims {size} bytes, {len(ptch) - footer} remain")
    files, at = [], footer + _FIELD.size
    while at < len(ptch):
        tag, entry_size = _FIELD.unpack_from(ptch, at)
        if tag != b"dire" or entry_size < _FIELD.size or at + entry_size > len(ptch):
            raise AmxdError(f"amxd: a footer entry {tag!r} of {entry_size} bytes at offset {at}")
        fields = _fields(ptch[at + _FIELD.size : at + entry_size])
        start, length = fields["of32"], fields["sz32"]
        if not FROZEN_HEADER.size <= start <= start + length <= footer:
            raise AmxdError(f"amxd: {fields['fnam']!r} lies at {start}..{start + length}, outside the files")
        files.append(EmbeddedFile(fields["fnam"], fields["type"], ptch[start : start + length],
                                  _from_hfs(fields["mdat"]), fields["flag"], fields["vers"]))
        at += entry_size
    if not files or files[0].flag != DEVICE_ENTRY_FLAG:
        raise AmxdError("amxd: a frozen device's first footer entry must be its own patcher")
    return files


def write(path: str | Path, device: Device) -> Path:
    """Write the device file whole or not at all (through `atomic_write`)."""
    blob = encode(device)
    return atomic_write(path, lambda f: f.write(blob))


def read(path: str | Path) -> Device:
    return decode(Path(path).read_bytes())


def _freeze(device: Device, patcher: bytes) -> bytes:
    own = EmbeddedFile(device.name, "JSON", patcher, device.modified, DEVICE_ENTRY_FLAG)
    files = (own, *device.files)
    offsets, at = [], FROZEN_HEADER.size
    for f in files:
        offsets.append(at)
        at += len(f.data)
    entries = b"".join(_entry(f, offset) for f, offset in zip(files, offsets, strict=True))
    footer = b"dlst" + _U32.pack(_FIELD.size + len(entries)) + entries
    return FROZEN_HEADER.pack(FROZEN_MAGIC, FROZEN_HEADER.size, at) + b"".join(f.data for f in files) + footer


def _entry(f: EmbeddedFile, offset: int) -> bytes:
    kind = f.kind.encode("ascii")
    if len(kind) != 4:
        raise AmxdError(f"amxd: a file's type is four characters, got {f.kind!r}")
    name = f.name.encode("utf-8") + b"\0"
    name += b"\0" * (-len(name) % 4)
    fields = [(b"type", kind), (b"fnam", name)] + [
        (tag, _U32.pack(value)) for tag, value in
        ((b"sz32", len(f.data)), (b"of32", offset), (b"vers", f.version), (b"flag", f.flag),
         (b"mdat", _to_hfs(f.modified)))]
    body = b"".join(_FIELD.pack(tag, _FIELD.size + len(data)) + data for tag, data in fields)
    return _FIELD.pack(b"dire", _FIELD.size + len(body)) + body


def _fields(data: bytes) -> dict:
    fields: dict = {}
    at = 0
    while at + _FIELD.size <= len(data):
        tag, size = _FIELD.unpack_from(data, at)
        if size < _FIELD.size or at + size > len(data):
            raise AmxdError(f"amxd: footer field {tag!r} claims {size} bytes")
        value = data[at + _FIELD.size : at + size]
        fields[tag.decode("ascii")] = value.rstrip(b"\0").decode("utf-8") if tag in (b"type", b"fnam") else \
            _U32.unpack(value)[0]
        at += size
    missing = {"type", "fnam", "sz32", "of32", "vers", "flag", "mdat"} - set(fields)
    if missing:
        raise AmxdError(f"amxd: a footer entry lacks {sorted(missing)}")
    return fields


def _patcher(data: bytes, name: str) -> dict:
    try:
        return json.loads(data.rstrip(b"\0").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise AmxdError(f"amxd: {name} is not patcher JSON ({error})") from None


def _to_hfs(moment: datetime) -> int:
    return int((moment - HFS_EPOCH).total_seconds())


def _from_hfs(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds + HFS_EPOCH.timestamp(), timezone.utc)

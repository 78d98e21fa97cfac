"""The `.amxd` container Live loads a Max for Live device from.

A run of chunks, each a 4-byte tag, a 4-byte little-endian length and that many bytes: `ampf`
holds the device type (`aaaa` audio effect, `mmmm` MIDI effect, `iiii` instrument), `meta` four
bytes of flags, `ptch` the patcher JSON (the `.maxpat` text) ending in a NUL byte.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from ..engine.files import atomic_write

DEVICE_TYPES = {"audio_effect": b"aaaa", "midi_effect": b"mmmm", "instrument": b"iiii"}
_HEADER = struct.Struct("<4sI")


class AmxdError(ValueError):
    """A file that is not a well-formed `.amxd` container; the message starts with `amxd`."""


@dataclass(frozen=True)
class Chunk:
    tag: bytes
    data: bytes


@dataclass(frozen=True)
class Device:
    device_type: str
    patcher: dict


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
    return pack([
        Chunk(b"ampf", DEVICE_TYPES[device.device_type]),
        Chunk(b"meta", struct.pack("<I", 0)),
        Chunk(b"ptch", patcher),
    ])


def decode(blob: bytes) -> Device:
    chunks = unpack(blob)
    tags = [c.tag for c in chunks]
    if tags[:1] != [b"ampf"] or b"ptch" not in tags:
        raise AmxdError(f"amxd: expected an ampf chunk first and a ptch chunk, found {tags}")
    kinds = {tag: name for name, tag in DEVICE_TYPES.items()}
    if chunks[0].data not in kinds:
        raise AmxdError(f"amxd: unknown device type {chunks[0].data!r}")
    patcher = chunks[tags.index(b"ptch")].data.rstrip(b"\0")
    return Device(kinds[chunks[0].data], json.loads(patcher.decode("utf-8")))


def write(path: str | Path, device: Device) -> Path:
    """Write the device file whole or not at all (through `atomic_write`)."""
    blob = encode(device)
    return atomic_write(path, lambda f: f.write(blob))


def read(path: str | Path) -> Device:
    return decode(Path(path).read_bytes())

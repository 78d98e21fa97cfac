"""The .amxd container: `sonocanvas build-device` writes a file whose chunks parse back to the patcher."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from sonocanvas.bridge import amxd
from sonocanvas.bridge.cli import main
from sonocanvas.bridge.commands.device import PATCHER, SCRIPT


def chunks_by_hand(blob: bytes) -> list[tuple[bytes, int, bytes]]:
    """An independent reading of the layout: tag, little-endian length, data, to the last byte."""
    out, offset = [], 0
    while offset < len(blob):
        tag = blob[offset : offset + 4]
        (size,) = struct.unpack("<I", blob[offset + 4 : offset + 8])
        out.append((tag, size, blob[offset + 8 : offset + 8 + size]))
        offset += 8 + size
    assert offset == len(blob)
    return out


def test_build_device_writes_an_audio_effect_holding_the_patcher(tmp_path: Path, capsys) -> None:
    output = tmp_path / "sub" / "sonocanvas.amxd"
    assert main(["build-device", "-o", str(output)]) == 0
    assert str(output) in capsys.readouterr().out

    chunks = chunks_by_hand(output.read_bytes())
    assert [(tag, size) for tag, size, _ in chunks[:2]] == [(b"ampf", 4), (b"meta", 4)]
    assert chunks[0][2] == b"aaaa"
    tag, size, data = chunks[2]
    assert tag == b"ptch" and size == len(data) and data.endswith(b"\0")
    assert json.loads(data[:-1].decode("utf-8")) == json.loads(PATCHER.read_text(encoding="utf-8"))

    assert (output.parent / "sonocanvas.js").read_bytes() == SCRIPT.read_bytes()
    assert not [p.name for p in output.parent.iterdir() if p.name.startswith(".")]


def test_read_gives_back_the_device_written(tmp_path: Path) -> None:
    patcher = {"patcher": {"boxes": [], "lines": [], "description": "déjà \"quoted\""}}
    path = amxd.write(tmp_path / "x.amxd", amxd.Device("midi_effect", patcher))
    assert amxd.read(path) == amxd.Device("midi_effect", patcher)
    assert path.read_bytes()[8:12] == b"mmmm"


@pytest.mark.parametrize(
    "blob, message",
    [
        (amxd.pack([amxd.Chunk(b"ampf", b"aaaa")])[:-2], "amxd: chunk b'ampf' claims 4 bytes, 2 remain"),
        (amxd.pack([amxd.Chunk(b"ampf", b"aaaa")]) + b"xyz", "amxd: 3 stray bytes at offset 12"),
        (amxd.pack([amxd.Chunk(b"meta", b"\0\0\0\0")]), "amxd: expected an ampf chunk first"),
        (amxd.pack([amxd.Chunk(b"ampf", b"zzzz"), amxd.Chunk(b"ptch", b"{}\0")]), "amxd: unknown device type"),
    ],
)
def test_malformed_files_are_refused_by_name(blob: bytes, message: str) -> None:
    with pytest.raises(amxd.AmxdError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        amxd.decode(blob)


def test_an_unknown_device_type_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(amxd.AmxdError, match="^amxd: unknown device type 'sampler'"):
        amxd.write(tmp_path / "x.amxd", amxd.Device("sampler", {}))
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_an_amxd(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="^output: .* must end in .amxd"):
        main(["build-device", "-o", str(tmp_path / "x.maxpat")])
    assert list(tmp_path.iterdir()) == []

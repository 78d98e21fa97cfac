"""The .amxd container: `sonocanvas build-device` writes a frozen device, read back by the reader that reads
the devices Max itself wrote (max4live/test/data, from Ableton's maxdevtools)."""
from __future__ import annotations

import json
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sonocanvas.bridge.cli import main
from sonocanvas.bridge.commands.device import PATCHER, SCRIPT
from sonocanvas.bridge.device import amxd
from sonocanvas.bridge.store.paths import device_sources_dir

PEERS = Path(__file__).resolve().parents[1] / "max4live" / "test" / "data"


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


def test_max_written_devices_parse_with_the_same_reader() -> None:
    frozen = amxd.read(PEERS / "FrozenTest.amxd")
    unfrozen = amxd.read(PEERS / "Test.amxd")
    assert (frozen.device_type, unfrozen.device_type) == ("midi_effect", "midi_effect")
    assert frozen.frozen and not unfrozen.frozen
    assert frozen.name == "Test.amxd"
    boxes = frozen.patcher["patcher"]["boxes"]
    assert boxes and len(boxes) == len(unfrozen.patcher["patcher"]["boxes"])
    names = {f.name: f for f in frozen.files}
    assert {"TestScript.js", "VisibleBang.js", "ParamAbstraction.maxpat", "shakerkicksnare.aif",
            "fpic.png"} <= set(names)
    assert names["TestScript.js"].kind == "TEXT" and names["TestScript.js"].data.startswith(b'"use strict";')
    assert names["fpic.png"].data.startswith(b"\x89PNG") and names["shakerkicksnare.aif"].data.startswith(b"FORM")
    assert json.loads(names["ParamAbstraction.maxpat"].data)["patcher"]["boxes"]
    assert names["TestScript.js"].modified.year >= 2020
    assert amxd.read(PEERS / "CPU Reporter.amxd").device_type == "audio_effect"


def test_the_meta_bits_of_a_frozen_device_are_those_freezing_set_in_the_peers() -> None:
    meta = {name: struct.unpack("<I", chunks_by_hand((PEERS / name).read_bytes())[1][2])[0]
            for name in ("Test.amxd", "FrozenTest.amxd")}
    assert meta["FrozenTest.amxd"] & ~meta["Test.amxd"] == amxd.FROZEN_META_BITS


def test_build_device_writes_a_frozen_audio_effect_with_its_script_inside(tmp_path: Path, capsys) -> None:
    output = tmp_path / "sub" / "sonocanvas.amxd"
    output.parent.mkdir()
    assert main(["build-device", "-o", str(output)]) == 0
    assert str(output) in capsys.readouterr().out
    assert sorted(p.name for p in output.parent.iterdir()) == ["sonocanvas.amxd"], "one file: no loose script beside it"

    chunks = chunks_by_hand(output.read_bytes())
    assert [(tag, size) for tag, size, _ in chunks[:2]] == [(b"ampf", 4), (b"meta", 4)]
    assert chunks[0][2] == b"aaaa" and struct.unpack("<I", chunks[1][2])[0] == amxd.FROZEN_META_BITS
    tag, size, ptch = chunks[2]
    assert tag == b"ptch" and size == len(ptch) and len(chunks) == 3

    # The frozen layout read by hand, field by field, as FrozenTest.amxd lays it out.
    assert ptch[:4] == b"mx@c" and struct.unpack(">I", ptch[4:8])[0] == 16
    (footer,) = struct.unpack(">Q", ptch[8:16])
    assert ptch[footer : footer + 4] == b"dlst"
    assert struct.unpack(">I", ptch[footer + 4 : footer + 8])[0] == len(ptch) - footer
    entries, at = [], footer + 8
    while at < len(ptch):
        assert ptch[at : at + 4] == b"dire"
        (entry_size,) = struct.unpack(">I", ptch[at + 4 : at + 8])
        fields, f = {}, at + 8
        while f < at + entry_size:
            name, field_size = ptch[f : f + 4].decode(), struct.unpack(">I", ptch[f + 4 : f + 8])[0]
            fields[name] = ptch[f + 8 : f + field_size]
            f += field_size
        assert list(fields) == ["type", "fnam", "sz32", "of32", "vers", "flag", "mdat"]
        entries.append(fields)
        at += entry_size
    own, script = entries
    assert (own["type"], own["fnam"], number(own["of32"]), number(own["flag"])) == (
        b"JSON", b"sonocanvas.amxd\0", 16, 17)
    assert (script["type"], script["fnam"].rstrip(b"\0"), number(script["flag"])) == (b"TEXT", b"sonocanvas.js", 0)
    assert len(script["fnam"]) % 4 == 0
    embedded = ptch[number(script["of32"]) : number(script["of32"]) + number(script["sz32"])]
    assert embedded == (device_sources_dir() / SCRIPT).read_bytes()
    patcher = ptch[16 : 16 + number(own["sz32"])]
    assert patcher.endswith(b"\0")
    assert json.loads(patcher[:-1]) == json.loads((device_sources_dir() / PATCHER).read_text(encoding="utf-8"))
    mdat = datetime(1904, 1, 1, tzinfo=timezone.utc).timestamp() + number(script["mdat"])
    assert mdat == int((device_sources_dir() / SCRIPT).stat().st_mtime)

    device = amxd.read(output)
    assert device.frozen and device.files[0].name == "sonocanvas.js"
    assert b"autowatch = 0;" in device.files[0].data, "a frozen script is not watched on disk"


def test_frozen_and_unfrozen_devices_round_trip(tmp_path: Path) -> None:
    patcher = {"patcher": {"boxes": [], "lines": [], "description": "déjà \"quoted\""}}
    path = amxd.write(tmp_path / "x.amxd", amxd.Device("midi_effect", patcher))
    assert amxd.read(path) == amxd.Device("midi_effect", patcher)
    assert path.read_bytes()[8:12] == b"mmmm"
    when = datetime(2026, 11, 21, 13, 30, tzinfo=timezone.utc)
    files = (amxd.EmbeddedFile("été.js", "TEXT", b"var x = 1;\n", when),
             amxd.EmbeddedFile("a.maxpat", "JSON", b"{}", when))
    device = amxd.Device("instrument", patcher, files, "Mon Device.amxd", when)
    assert amxd.read(amxd.write(tmp_path / "y.amxd", device)) == device
    assert amxd.encode(amxd.decode(amxd.encode(device))) == amxd.encode(device)


def test_a_peer_frozen_device_written_again_reads_the_same(tmp_path: Path) -> None:
    peer = amxd.read(PEERS / "FrozenTest.amxd")
    again = amxd.read(amxd.write(tmp_path / "again.amxd", peer))
    assert again == peer


def number(field: bytes) -> int:
    return struct.unpack(">I", field)[0]


def _with_ptch(ptch: bytes) -> bytes:
    return amxd.pack([amxd.Chunk(b"ampf", b"aaaa"), amxd.Chunk(b"meta", b"\0\0\0\0"), amxd.Chunk(b"ptch", ptch)])


def _ptch() -> bytes:
    """A small frozen device's `ptch` data, to break in one place at a time."""
    device = amxd.Device("audio_effect", {"patcher": {}}, (amxd.EmbeddedFile("s.js", "TEXT", b"x"),), "d.amxd")
    return amxd.unpack(amxd.encode(device))[2].data


@pytest.mark.parametrize(
    "blob, message",
    [
        (amxd.pack([amxd.Chunk(b"ampf", b"aaaa")])[:-2], "amxd: chunk b'ampf' claims 4 bytes, 2 remain"),
        (amxd.pack([amxd.Chunk(b"ampf", b"aaaa")]) + b"xyz", "amxd: 3 stray bytes at offset 12"),
        (amxd.pack([amxd.Chunk(b"meta", b"\0\0\0\0")]), "amxd: expected an ampf chunk first"),
        (amxd.pack([amxd.Chunk(b"ampf", b"zzzz"), amxd.Chunk(b"ptch", b"{}\0")]), "amxd: unknown device type"),
        (_with_ptch(b"{not json\0"), "amxd: the patcher is not patcher JSON"),
        (_with_ptch(b"mx@c\0\0\0\x10"), "amxd: a frozen patcher of 8 bytes has no room for its header"),
        (_with_ptch(_ptch()[:8] + struct.pack(">Q", 5) + _ptch()[16:]), "amxd: no dlst footer at offset 5"),
        (_with_ptch(_ptch() + b"\0\0\0\0"), "amxd: the dlst footer claims"),
        (_with_ptch(_ptch().replace(b"of32\0\0\0\x0c\0\0\0\x10", b"of32\0\0\0\x0c\0\0\x10\0")),
         "amxd: 'd.amxd' lies at 4096"),
        (_with_ptch(_ptch().replace(b"flag\0\0\0\x0c\0\0\0\x11", b"flag\0\0\0\x0c\0\0\0\x00")),
         "amxd: a frozen device's first"),
    ],
)
def test_malformed_files_are_refused_by_name(blob: bytes, message: str) -> None:
    with pytest.raises(amxd.AmxdError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        amxd.decode(blob)


def test_an_unknown_device_type_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(amxd.AmxdError, match="^amxd: unknown device type 'sampler'"):
        amxd.write(tmp_path / "x.amxd", amxd.Device("sampler", {}))
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_an_amxd(tmp_path: Path, capsys) -> None:
    assert main(["build-device", "-o", str(tmp_path / "x.maxpat")]) == 2
    assert capsys.readouterr().err.startswith("sonocanvas build-device: error: output: ")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_refused_not_made(tmp_path: Path, capsys) -> None:
    """A typo in the long User Library path must not "succeed" in a folder Live never looks in."""
    assert main(["build-device", "-o", str(tmp_path / "Usr Library" / "x.amxd")]) == 2
    assert f"folder '{tmp_path / 'Usr Library'}' does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

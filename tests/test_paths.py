"""Path rules with Windows and macOS semantics, checked on any machine through PureWindowsPath and
PurePosixPath: drop names, the path-length limit, and the inside-a-folder test behind read_dirs."""
from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath

import pytest
from sonocanvas.bridge.output.drop import SIBLINGS, clip_stem, slug
from sonocanvas.bridge.store.paths import (
    MIN_STEM,
    WINDOWS_MAX_PATH,
    check_name,
    inside,
    stem_room,
    windows_length,
    windows_name_problem,
)

W, P = PureWindowsPath, PurePosixPath
SUFFIX_ROOM = len("-1000") + max(map(len, SIBLINGS))  # drop.py's numbered retries and longest sibling
WHEN = datetime(2026, 12, 1, 14, 39, 22)


@pytest.mark.parametrize("name, problem", [
    ("castle-bells.wav", None),
    ("a:b.wav", "':'"),  # an NTFS alternate data stream, not a file
    ('say "hi".wav', "'\"'"),
    ("what?.wav", "'?'"),
    ("tab\there", "'\\t'"),
    ("clip.", "trailing dot"),
    ("clip ", "trailing dot or space"),
    ("CON", "'CON' names a device"),
    ("nul.wav", "'nul' names a device"),
    ("com1.picture.png", "'com1' names a device"),
    ("console.wav", None),
    ("", "needs a name"),
])
def test_windows_name_rules(name, problem):
    found = windows_name_problem(name)
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize("image, audio", [
    ("CON", "aux"),
    ("a: b / c \\ d", "what? <yes> | *no*"),
    ("trailing dots...", "spaces   "),
    ("", ""),
    ("ünïcödé 🎸 à la carte", "日本語"),
    ("word " * 40, "x" * 300),
])
def test_every_drop_name_is_a_valid_windows_name(image, audio):
    for index in (None, 3):
        stem = clip_stem(WHEN, image, audio, 2**32 - 1, index)
        for suffix in SIBLINGS:
            assert windows_name_problem(f"{stem}-1000{suffix}") is None, stem
        assert len(stem) + SUFFIX_ROOM <= 255  # the longest file name NTFS, exFAT, APFS and ext4 all take


@pytest.mark.parametrize("folder", [
    W(r"C:\Users\ana\Music\sonocanvas"),
    W(r"E:\Samples\sonocanvas"),  # an exFAT drive
    W(r"\\studio-nas\projects\drops"),  # an SMB share by UNC path
    P("/Users/ana/Music/sonocanvas"),
    P("/Volumes/SAMPLES/sonocanvas"),  # an exFAT drive on macOS
])
def test_the_longest_drop_name_fits_the_path_limit_in_ordinary_folders(folder):
    stem = clip_stem(WHEN, "word " * 40, "word " * 40, 2**32 - 1, 99)
    assert len(stem) <= stem_room(folder, SUFFIX_ROOM)
    assert windows_length(folder / f"{stem}-1000.picture.png") <= WINDOWS_MAX_PATH


def test_stem_room_counts_what_windows_counts():
    folder = W("C:\\" + "a" * 100)
    assert stem_room(folder, SUFFIX_ROOM) == WINDOWS_MAX_PATH - 103 - 1 - SUFFIX_ROOM
    emoji = W("C:\\" + "🎸" * 50)  # beyond U+FFFF: two UTF-16 units each
    assert windows_length(emoji) == 103
    assert stem_room(emoji, SUFFIX_ROOM) == stem_room(folder, SUFFIX_ROOM)
    longest = folder / ("s" * stem_room(folder, SUFFIX_ROOM) + "-1000.picture.png")
    assert windows_length(longest) == WINDOWS_MAX_PATH


def test_a_folder_too_deep_for_any_name_is_refused_by_name():
    deep = W("D:\\" + "\\".join(["projects-with-long-names"] * 9))
    assert stem_room(W("D:\\" + "d" * (WINDOWS_MAX_PATH - 3 - 1 - SUFFIX_ROOM - MIN_STEM)), SUFFIX_ROOM) == MIN_STEM
    with pytest.raises(ValueError, match=r"^drop_dir: .* too long: .*260-character path limit"):
        stem_room(deep, SUFFIX_ROOM)


def test_slugs_are_plain_words():
    assert slug("A: Painting / of CASTLE towers?") == "a-painting-of-castle"
    assert slug("...") == "untitled"


@pytest.mark.parametrize("path, roots, expected", [
    # Windows: drive letters and names compare without case; components, not string prefixes
    (W(r"D:\Samples\kick.wav"), [W(r"D:\Samples")], True),
    (W(r"d:\samples\Drums\kick.wav"), [W(r"D:\Samples")], True),
    (W(r"D:\Samples2\kick.wav"), [W(r"D:\Samples")], False),
    (W(r"C:\Samples\kick.wav"), [W(r"D:\Samples")], False),
    (W(r"D:\Samples\..\secret.txt"), [W(r"D:\Samples")], False),  # unresolved: refused, not interpreted
    (W("D:/Samples/kick.wav"), [W(r"D:\Samples")], True),  # forward slashes are separators too
    # UNC paths: the share is part of the anchor
    (W(r"\\studio-nas\projects\loops\a.wav"), [W(r"\\studio-nas\projects")], True),
    (W(r"\\STUDIO-NAS\Projects\loops\a.wav"), [W(r"\\studio-nas\projects")], True),
    (W(r"\\studio-nas\projects2\a.wav"), [W(r"\\studio-nas\projects")], False),
    (W(r"\\other-nas\projects\a.wav"), [W(r"\\studio-nas\projects")], False),
    (W(r"D:\Samples\a.wav"), [W(r"\\studio-nas\projects"), W(r"d:\samples")], True),
    # macOS: POSIX paths; a differently cased path is refused (safe: APFS would find the file, we do not)
    (P("/Volumes/SAMPLES/loops/a.wav"), [P("/Volumes/SAMPLES")], True),
    (P("/Volumes/SAMPLES 2/a.wav"), [P("/Volumes/SAMPLES")], False),
    (P("/volumes/samples/a.wav"), [P("/Volumes/SAMPLES")], False),
    (P("/Users/ana/Music/sonocanvas/x.wav"), [P("/Users/ana")], True),
    (P("/Users/anabel/x.wav"), [P("/Users/ana")], False),
])
def test_inside_a_folder(path, roots, expected):
    assert inside(path, roots) is expected


def test_check_name_refuses_windows_devices_and_separators():
    with pytest.raises(ValueError, match="names a device on Windows"):
        check_name("preset", "lpt1")
    with pytest.raises(ValueError, match="path separator"):
        check_name("preset", "a\\b")


@pytest.mark.parametrize("path", [
    PureWindowsPath(r"C:\Users\Léa\Music\sonocanvas\20261201-120000_castle_bells_s42.wav"),
    PureWindowsPath(r"\\studio-nas\Shared Samples\sonocanvas\clip name.wav"),
    PurePosixPath("/Volumes/Sample Drive/sonocanvas/été loop.wav"),
])
def test_paths_in_done_reach_the_client_exactly_as_the_servers_system_writes_them(path):
    """/sonocanvas/done carries str() of the path on the server's own system (drive letters, backslashes, UNC
    shares, spaces, non-ASCII): the wire neither rewrites nor reinterprets it, and python-osc reads it back equal."""
    from pythonosc.osc_message import OscMessage
    from sonocanvas.bridge.osc.wire import decode_packet, encode_message

    data = encode_message("/sonocanvas/done", "7", 0, str(path), str(path.with_suffix(".png")),
                          str(path.with_suffix(".json")))
    assert OscMessage(data).params == ["7", 0, str(path), str(path.with_suffix(".png")), str(path.with_suffix(".json"))]
    assert decode_packet(data)[0].args[2] == str(path)

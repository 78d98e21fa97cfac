"""Where the shipped data lives, and the rule for names that become file names."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePath

import sonocanvas.presets

from ...engine.errors import FieldError

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul",
                              *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))})
_WINDOWS_FORBIDDEN = frozenset('<>:"/\\|?*') | frozenset(map(chr, range(32)))
# MAX_PATH (260) less the terminating NUL: the longest path Windows programs without long-path support open,
# Live and Explorer among them. Files on an exFAT drive or a share travel between systems, so drop names
# keep to it everywhere.
WINDOWS_MAX_PATH = 259
MIN_STEM = 32  # the shortest clip stem worth having: a timestamp, a word of each prompt and the seed


def shipped_presets_dir() -> Path:
    """The shipped `presets/` folder (the checkout's, or the installed package's): prompt-pair presets and
    `effects/catalogue.yaml`."""
    return Path(sonocanvas.presets.__file__).resolve().parent


def device_sources_dir() -> Path:
    """The Max for Live device's sources (`sonocanvas.maxpat`, `sonocanvas.js`): the checkout's `max4live/`,
    or the copy an installed wheel carries as package data. `sonocanvas.max4live` holds no Python, so it is a
    namespace package and its `__path__` lists the folder (importlib.resources cannot read a namespace
    package under an editable install)."""
    import sonocanvas.max4live

    for entry in sonocanvas.max4live.__path__:
        if (Path(entry) / "sonocanvas.maxpat").is_file():
            return Path(entry).resolve()
    raise FileNotFoundError("the device's sources (sonocanvas.maxpat) are missing from this installation; "
                            "reinstall sonocanvas")


def check_name(field: str, name: object, error: type[FieldError] = FieldError) -> str:
    """Return `name` if it is safe as a file name, else raise `error(field, reason)`.

    Names are short, lower case, hyphenated (`castle-bells`): nothing that could climb out of a
    folder, hide a file, or mean two different files on a case-insensitive disk.
    """
    if not isinstance(name, str):
        raise error(field, f"must be a string, not {name!r}")
    if not name:
        raise error(field, "a name is required")
    if "/" in name or "\\" in name:
        raise error(field, f"{name!r} may not contain a path separator")
    if ".." in name:
        raise error(field, f"{name!r} may not contain '..'")
    if not _NAME.fullmatch(name):
        raise error(
            field, f"{name!r} may use only lower-case letters, digits, '-' and '_', "
            "start with a letter or digit, and be at most 64 characters long"
        )
    if name in _WINDOWS_DEVICES:
        raise error(field, f"{name!r} names a device on Windows, not a file")
    return name


def windows_name_problem(name: str) -> str | None:
    """Why `name` cannot be a file name on Windows (NTFS, exFAT, FAT32, SMB), or None if it can."""
    if not name or name in (".", ".."):
        return "a file needs a name"
    bad = sorted({c for c in name if c in _WINDOWS_FORBIDDEN})
    if bad:
        return f"Windows does not allow {', '.join(map(repr, bad))} in a file name"
    if name[-1] in ". ":
        return "Windows drops a trailing dot or space, so the name would change"
    if name.split(".")[0].rstrip(" ").lower() in _WINDOWS_DEVICES:  # `nul.wav` is the device too
        return f"{name.split('.')[0]!r} names a device on Windows, not a file"
    return None


def windows_length(path: PurePath | str) -> int:
    """A path's length as Windows counts it: UTF-16 code units (a character beyond U+FFFF is two)."""
    return len(str(path).encode("utf-16-le")) // 2


def stem_room(folder: PurePath, suffix_room: int, field: str = "drop_dir") -> int:
    """How long a file stem in `folder` may be so that `folder/<stem><suffix>` stays within WINDOWS_MAX_PATH,
    where `suffix_room` is the longest suffix the stem will get (`-1000.picture.png`: 17). FieldError naming
    `field` when the folder leaves no room for a readable name."""
    room = WINDOWS_MAX_PATH - windows_length(folder) - 1 - suffix_room  # 1: the separator
    if room < MIN_STEM:
        raise FieldError(field, f"{str(folder)!r} is too long: a clip's files in it would pass Windows' "
                         f"{WINDOWS_MAX_PATH + 1}-character path limit; choose a shorter folder")
    return room


def inside(path: PurePath, roots: Iterable[PurePath]) -> bool:
    """Whether `path` lies in one of `roots`, compared by whole components with its flavour's own rules: on
    Windows `d:\\samples` is `D:\\Samples`, and another drive or share is never inside. Both must already be
    resolved (`Path.resolve()`: links and `..` gone); a `..` left in `path` is refused, not interpreted."""
    return ".." not in path.parts and any(path.is_relative_to(root) for root in roots)

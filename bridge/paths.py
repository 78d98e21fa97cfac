"""Where the shipped data lives, and the rule for names that become file names."""
from __future__ import annotations

import re
from pathlib import Path

import sonocanvas.presets

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))})


def shipped_presets_dir() -> Path:
    """The shipped `presets/` folder (the checkout's, or the installed package's): prompt-pair presets and
    `effects/catalogue.yaml`."""
    return Path(sonocanvas.presets.__file__).resolve().parent


def check_name(field: str, name: object, error: type[ValueError] = ValueError) -> str:
    """Return `name` if it is safe as a file name, else raise `error("<field>: ...")`.

    Names are short, lower case, hyphenated (`castle-bells`): nothing that could climb out of a
    folder, hide a file, or mean two different files on a case-insensitive disk.
    """
    if not isinstance(name, str):
        raise error(f"{field}: must be a string, not {name!r}")
    if not name:
        raise error(f"{field}: a name is required")
    if "/" in name or "\\" in name:
        raise error(f"{field}: {name!r} may not contain a path separator")
    if ".." in name:
        raise error(f"{field}: {name!r} may not contain '..'")
    if not _NAME.fullmatch(name):
        raise error(
            f"{field}: {name!r} may use only lower-case letters, digits, '-' and '_', "
            "start with a letter or digit, and be at most 64 characters long"
        )
    if name in _WINDOWS_DEVICES:
        raise error(f"{field}: {name!r} names a device on Windows, not a file")
    return name

"""Prompt-pair presets: the shipped ones in `presets/*.yaml`, the user's one file each in their config folder.

A preset holds generate keys (docs/osc.md) that become a request's defaults. Names become file
names, so they are checked before any path is built from them. The user's folder holds at most
MAX_USER_PRESETS: a client cannot fill the disk by saving under new names.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ...engine.errors import FieldError
from ...engine.files import atomic_write
from ..store.paths import check_name
from .build import PRESET_KEYS, ProtocolError, parse_key

Value = str | int | float
MAX_USER_PRESETS = 1000
"""User presets a save may bring the folder to; replacing one is always allowed. Each is a few KB at most (its
values are bounded as a request's are), so the folder stays within a few MB."""
LISTED = 24
"""Names an unknown preset's error offers; `sonocanvas presets` and `/sonocanvas/preset/list` have them all."""


class PresetError(FieldError):
    """A bad preset name or value; the message starts with the field at fault."""


class PresetStore:
    """Shipped presets (read once) overlaid by the user's (read from disk on every call)."""

    def __init__(self, shipped_dir: Path, user_dir: Path):
        self.user_dir = Path(user_dir)
        self._shipped = _read_shipped(Path(shipped_dir))

    def is_shipped(self, name: str) -> bool:
        """Whether `name` is a shipped preset: over OSC one cannot be saved over (it would hide the shipped one
        from every client); a user may still shadow one by hand, in their own folder."""
        return name in self._shipped

    def names(self) -> list[str]:
        return sorted(set(self._shipped) | set(self._user_names()))

    def get(self, name: str) -> dict[str, Value]:
        path = self._user_path(name)
        if path.is_file():
            return _read_user(path)
        if name in self._shipped:
            return dict(self._shipped[name])
        names = self.names()
        more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""  # an error fits one datagram
        raise PresetError("name", f"no preset {name!r}; choose one of {', '.join(names[:LISTED]) or '(none)'}{more}")

    def save(self, name: str, values: dict) -> None:
        """Save into the user folder (created if need be); replaces the user's preset of that name."""
        path = self._user_path(name)
        text = yaml.safe_dump(check_values(values), sort_keys=False, allow_unicode=True)
        if not path.is_file() and len(self._user_names()) >= MAX_USER_PRESETS:
            raise PresetError("name", f"there are {MAX_USER_PRESETS} user presets already, the most a server keeps; "
                                      "delete one, or save over one of yours")
        self.user_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))

    def delete(self, name: str) -> None:
        path = self._user_path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            if name in self._shipped:
                raise PresetError(
                    "name", f"{name!r} is a shipped preset and cannot be deleted"
                ) from None
            raise PresetError("name", f"no preset {name!r}") from None

    def _user_path(self, name: str) -> Path:
        return self.user_dir / f"{check_name('name', name, PresetError)}.yaml"

    def _user_names(self) -> list[str]:
        if not self.user_dir.is_dir():
            return []
        return [path.stem for path in self.user_dir.glob("*.yaml") if _is_name(path.stem)]


def check_values(values: object) -> dict[str, Value]:
    """The values, typed and range-checked as generate checks them; else PresetError naming the key."""
    if not isinstance(values, dict) or not values:
        raise PresetError("preset", "needs at least one key and value")
    checked = {}
    for key, value in values.items():
        if key not in PRESET_KEYS:
            raise PresetError(key, f"not a preset key; a preset holds {', '.join(PRESET_KEYS)}")
        try:
            checked[key] = parse_key(key, value, PRESET_KEYS)
        except ProtocolError as error:
            raise PresetError(error.field, error.reason) from None
    return checked


def _is_name(name: str) -> bool:
    try:
        check_name("name", name)
    except ValueError:
        return False
    return True


def _read_user(path: Path) -> dict[str, Value]:
    try:
        return check_values(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (PresetError, yaml.YAMLError) as error:
        raise PresetError("name", f"{path} is not a valid preset: {error}") from None


def _read_shipped(folder: Path) -> dict[str, dict[str, Value]]:
    """Every `*.yaml` in `folder`: each a mapping of preset names to their keys."""
    presets: dict[str, dict[str, Value]] = {}
    for path in sorted(folder.glob("*.yaml")):
        for name, values in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            check_name("name", name, PresetError)
            if name in presets:
                raise PresetError("name", f"{name!r} is shipped twice (again in {path.name})")
            try:
                presets[name] = check_values(values)
            except PresetError as error:
                raise PresetError(error.field, f"{error.reason} (preset {name!r} in {path})") from None
    return presets

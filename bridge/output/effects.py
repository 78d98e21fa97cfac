"""Effect chains: pedalboard plugins listed in YAML, applied to a finished clip by name.

A chain is a list of plugins. A built-in pedalboard plugin is named by its class with its
parameters (`{plugin: Reverb, room_size: 0.6}`); a VST3 or Audio Unit plugin is named by its path
(`{vst3: /path/X.vst3, parameters: {...}}`), and only the user's own config may do that: the
shipped catalogue cannot, and a request names a chain, never a plugin.
"""
from __future__ import annotations

import inspect
import math
import re
import threading
from pathlib import Path

import numpy as np
import pedalboard
import yaml

from ...engine.errors import FieldError
from ..store.paths import check_name

# Built-in effects safe to name from YAML: no containers, nothing that loads a file.
BUILT_INS = frozenset({
    "Bitcrush", "Chorus", "Clipping", "Compressor", "Delay", "Distortion", "Gain",
    "GSMFullRateCompressor", "HighShelfFilter", "HighpassFilter", "Invert", "LadderFilter",
    "Limiter", "LowShelfFilter", "LowpassFilter", "MP3Compressor", "NoiseGate", "PeakFilter",
    "Phaser", "PitchShift", "Resample", "Reverb",
})
# The keys that name a plugin by path, with the file ending each format has.
PLUGIN_PATHS = {"vst3": ".vst3", "au": ".component"}


class EffectError(FieldError):
    """A chain that cannot be built or applied; the message starts with the field at fault."""


class EffectChains:
    """The named chains a request may use; `apply` runs one over a clip."""

    def __init__(self, boards: dict[str, pedalboard.Pedalboard]):
        self._boards = dict(boards)
        self._lock = threading.Lock()  # plugins keep state while they process

    @classmethod
    def load(cls, catalogue: Path, user_chains: dict | None = None) -> EffectChains:
        """Build the shipped catalogue, then the user's chains (which may replace a shipped one)."""
        shipped = yaml.safe_load(Path(catalogue).read_text(encoding="utf-8")) or {}
        boards = _build_chains(shipped, allow_paths=False)
        boards.update(_build_chains(user_chains or {}, allow_paths=True))
        return cls(boards)

    def names(self) -> list[str]:
        return sorted(self._boards)

    def describe(self, name: str) -> str:
        """Chain `name`'s plugins in order, each with its settings as pedalboard states them."""
        return " -> ".join(re.sub(r"^<pedalboard\.|( at 0x[0-9a-f]+)?>$", "", repr(plugin))  # no addresses
                           for plugin in self._boards[name])

    def apply(self, name: str, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Run chain `name` over `audio`, (samples,) or (channels, samples); same shape back.

        The result has the clip's length (a reverb or delay tail is cut where the clip ends) and
        is not clipped: the caller normalises.
        """
        board = self._boards.get(name)
        if board is None:
            raise EffectError("fx", f"unknown chain {name!r}; choose one of {', '.join(self.names())}")
        with self._lock:
            return board(np.asarray(audio, dtype=np.float32), sample_rate)


def _build_chains(chains: object, allow_paths: bool) -> dict[str, pedalboard.Pedalboard]:
    if not isinstance(chains, dict):
        raise EffectError("effects", "must be a mapping of chain names to lists of plugins")
    return {
        check_name("effects", name, EffectError): _build_chain(name, spec, allow_paths)
        for name, spec in chains.items()
    }


def _build_chain(name: str, plugins: object, allow_paths: bool) -> pedalboard.Pedalboard:
    """One chain from its YAML list; `allow_paths` only for chains from the user's own config."""
    if not isinstance(plugins, list) or not plugins:
        raise EffectError("effects", f"chain {name!r} must be a non-empty list of plugins")
    return pedalboard.Pedalboard(
        [_build_plugin(f"effects: chain {name!r}, plugin {i}", entry, allow_paths)
         for i, entry in enumerate(plugins, 1)]
    )


def _build_plugin(where: str, entry: object, allow_paths: bool) -> pedalboard.Plugin:
    if not isinstance(entry, dict):
        raise EffectError(where, "must be a mapping such as {plugin: Reverb, room_size: 0.6}")
    kinds = [key for key in ("plugin", *PLUGIN_PATHS) if key in entry]
    if len(kinds) != 1:
        raise EffectError(where, "name exactly one of 'plugin', 'vst3' or 'au'")
    kind = kinds[0]
    if kind == "plugin":
        return _built_in(where, dict(entry))
    if not allow_paths:
        raise EffectError(
            where, f"a {kind} plugin path may be named only in the effects of your own config"
        )
    return _external(where, kind, dict(entry))


def _built_in(where: str, params: dict) -> pedalboard.Plugin:
    class_name = params.pop("plugin")
    plugin_class = getattr(pedalboard, class_name, None) if class_name in BUILT_INS else None
    if plugin_class is None:
        raise EffectError(
            where, f"unknown plugin {class_name!r}; built-in plugins are {', '.join(sorted(BUILT_INS))}"
        )
    where = f"{where} ({class_name})"
    settable = _parameters(plugin_class)
    plugin = plugin_class()
    for key, value in params.items():
        if key not in settable:
            raise EffectError(
                where, f"unknown parameter {key!r}; {class_name} has {', '.join(sorted(settable))}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise EffectError(where, f"parameter {key!r} must be finite, not {value!r}")
        try:
            setattr(plugin, key, value)
        except TypeError:
            current = getattr(plugin, key)
            raise EffectError(
                where, f"parameter {key!r} must be a {type(current).__name__}, not {value!r}"
            ) from None
        except ValueError as error:
            raise EffectError(where, f"parameter {key!r}: {error}") from None
    return plugin


def _parameters(plugin_class: type) -> set[str]:
    """The settable properties of a pedalboard plugin class: its parameters."""
    return {
        name for name, member in inspect.getmembers(plugin_class)
        if isinstance(member, property) and member.fset is not None
    }


def _external(where: str, kind: str, entry: dict) -> pedalboard.Plugin:
    """A VST3 or Audio Unit plugin the user's config names by absolute path."""
    raw = entry.pop(kind)
    parameters = entry.pop("parameters", {})
    plugin_name = entry.pop("plugin_name", None)
    if entry:
        raise EffectError(
            where, f"unknown keys {', '.join(map(repr, sorted(entry)))}; "
            f"a {kind} plugin takes {kind}, parameters and plugin_name"
        )
    path = Path(str(raw)).expanduser()
    where = f"{where} ({kind} {str(path)!r})"
    if not path.is_absolute():
        raise EffectError(where, "the path must be absolute")
    if path.suffix.lower() != PLUGIN_PATHS[kind]:
        raise EffectError(where, f"a {kind} plugin path ends in {PLUGIN_PATHS[kind]}")
    if not path.exists():
        raise EffectError(where, "no such plugin")
    if not isinstance(parameters, dict):
        raise EffectError(where, "parameters must be a mapping of parameter names to values")
    try:
        return pedalboard.load_plugin(
            str(path), parameter_values=parameters, plugin_name=plugin_name
        )
    except (ImportError, RuntimeError, TypeError, ValueError, AttributeError) as error:
        raise EffectError(where, f"{' '.join(str(error).split())}") from None

"""The OSC request arguments of docs/osc.md turned into typed, validated requests.

Every refusal is a `ProtocolError` naming the field at fault, which the server sends back as
`/sonocanvas/error <job_id> <field> <message>` without running anything.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..engine.pipeline import MAX_INIT_SECONDS, GenerateSettings
from ..engine.sampler import SCHEDULERS

AUDIO_MODELS = ("auffusion", "riffusion")
MAX_SEED = 2**31 - 1


class ProtocolError(ValueError):
    """A request the server refuses; `field` names the argument or key, the message starts with it."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True)
class Key:
    """One `key value` pair of a request: its type (str, int or real) and allowed values."""

    kind: type  # str, int or float ("real")
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def parse(self, name: str, value: Any) -> Any:
        if self.kind is str:
            if not isinstance(value, str):
                raise ProtocolError(name, f"expected a string, got {_describe(value)}")
            if self.choices and value not in self.choices:
                raise ProtocolError(name, f"unknown {value!r}; choose {', '.join(self.choices)}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(name, f"expected {'an int' if self.kind is int else 'a real'}, got {_describe(value)}")
        if self.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ProtocolError(name, f"expected an int, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if value != value:
                raise ProtocolError(name, "expected a number, got NaN")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ProtocolError(name, f"must be between {_num(self.low)} and {_num(self.high)}, got {_num(value)}")
        return value


_PATH = Key(str)
_OUTPUT_KEYS = {
    "fx": Key(str),
    "sample_rate": Key(int, 8000, 192000),
    "bit_depth": Key(int, 24, 32),
    "reply_port": Key(int, 1, 65535),
}
GENERATE_KEYS: dict[str, Key] = {
    "image_prompt": Key(str),
    "audio_prompt": Key(str),
    "image_negative_prompt": Key(str),
    "audio_negative_prompt": Key(str),
    "preset": Key(str),
    "seed": Key(int, -1, MAX_SEED),
    "steps": Key(int, 1, 500),
    "scheduler": Key(str, choices=tuple(SCHEDULERS)),
    "image_guidance": Key(float, 0, 50),
    "audio_guidance": Key(float, 0, 50),
    "audio_weight": Key(float, 0, 1),
    "image_start_step": Key(int, 0, 500),
    "audio_model": Key(str, choices=AUDIO_MODELS),
    "variations": Key(int, 1, 8),
    "init_audio": _PATH,
    "init_start": Key(float, 0, MAX_INIT_SECONDS),
    "init_end": Key(float, 0, MAX_INIT_SECONDS),
    "strength": Key(float, 0, 1),
    "bpm": Key(float, 20, 999),
    "bars": Key(int, 1, 64),
    **_OUTPUT_KEYS,
}
ENCODE_KEYS: dict[str, Key] = {
    "format": Key(str, choices=AUDIO_MODELS),
    "seconds": Key(float, 0.5, 60),
    **_OUTPUT_KEYS,
}
# What a preset may hold: the generate keys that describe a sound, not one request's plumbing.
PRESET_KEYS = {k: v for k, v in GENERATE_KEYS.items() if k not in ("preset", "reply_port", "init_audio", "init_start", "init_end")}


@dataclass(frozen=True)
class Output:
    """How a finished clip is dropped: shared by generate and encode."""

    sample_rate: int
    bit_depth: int = 24
    fx: str = ""
    bpm: float | None = None
    bars: int | None = None


@dataclass(frozen=True)
class GenerateRequest:
    """A generate request: the engine's own settings, plus which audio model runs it and how its clips drop."""

    job_id: str
    settings: GenerateSettings
    output: Output
    audio_model: str = "auffusion"
    preset: str = ""
    reply_port: int | None = None


@dataclass(frozen=True)
class EncodeRequest:
    job_id: str
    picture_path: Path
    output: Output
    format: str = "auffusion"
    seconds: float | None = None
    reply_port: int | None = None


@dataclass(frozen=True)
class Limits:
    """What the server itself allows: the folders a request may read, the chains and models it has."""

    read_roots: tuple[Path, ...]
    fx_names: frozenset[str]
    audio_models: frozenset[str]
    sample_rate: int = 48000
    bit_depth: int = 24

    def readable(self, field: str, value: str) -> Path:
        """The file `value` names, refused unless it lies inside one of the read roots (symlinks resolved)."""
        if not value or "\x00" in value:
            raise ProtocolError(field, "expected a file path")
        path = Path(value)
        if not path.is_absolute():
            path = self.read_roots[0] / path
        try:
            resolved = path.resolve()
            inside = any(resolved.is_relative_to(root.resolve()) for root in self.read_roots)
            is_file = inside and resolved.is_file()
        except (OSError, RuntimeError) as error:  # a name too long, a symlink loop, ...
            raise ProtocolError(field, f"cannot use {_describe(value)} as a path ({error.__class__.__name__})") from None
        if not inside:
            raise ProtocolError(field, f"{value!r} is outside the drop folder and the config's read_dirs")
        if not is_file:
            raise ProtocolError(field, f"no such file: {value!r}")
        return resolved


def parse_keys(args: Iterable[Any], keys: Mapping[str, Key]) -> dict[str, Any]:
    """`key value key value ...` -> {key: typed value}, refusing unknown keys, repeats and a key without a value."""
    args = list(args)
    values: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        name = args[i]
        if not isinstance(name, str):
            raise ProtocolError("key", f"expected a key name at argument {i + 1}, got {_describe(name)}")
        if name not in keys:
            raise ProtocolError(name, f"unknown key; known keys: {', '.join(keys)}")
        if i + 1 >= len(args):
            raise ProtocolError(name, "the key has no value")
        if name in values:
            raise ProtocolError(name, "given twice")
        values[name] = keys[name].parse(name, args[i + 1])
    return values


def job_id_of(args: list[Any]) -> str:
    """The job id (first argument) of a request, or "" when it has none that is a string."""
    return args[0] if args and isinstance(args[0], str) else ""


def reply_port_of(args: list[Any]) -> int | None:
    """The `reply_port` a generate, encode or cancel request carries, read before the rest is checked, so that
    even its errors reach a sender (like liblo's oscsend) that uses a new source port for every message."""
    for name, value in zip(args, args[1:]):
        if name == "reply_port" and isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
            return value
    return None


def parse_job_id(args: list[Any]) -> str:
    if not args:
        raise ProtocolError("job_id", "missing: the first argument must be the job id (a string)")
    if not isinstance(args[0], str) or not args[0] or len(args[0]) > 200:
        raise ProtocolError("job_id", f"expected a non-empty string, got {_describe(args[0])}")
    return args[0]


def parse_generate(args: list[Any], limits: Limits, preset: Callable[[str], Mapping[str, Any]]) -> GenerateRequest:
    """`/sonocanvas/generate job_id [key value]...`; a named preset gives defaults, explicit keys win."""
    job_id = parse_job_id(args)
    given = parse_keys(args[1:], GENERATE_KEYS)
    values: dict[str, Any] = {}
    if "preset" in given:
        try:
            stored = preset(given["preset"])
        except (KeyError, ValueError) as error:
            raise ProtocolError("preset", f"unknown or unreadable preset {given['preset']!r}: {error}") from None
        for name, value in stored.items():
            if name not in PRESET_KEYS:
                raise ProtocolError("preset", f"preset {given['preset']!r} holds an unknown key {name!r}")
            values[name] = PRESET_KEYS[name].parse(name, value)
    values.update(given)
    for name in ("image_prompt", "audio_prompt"):
        if not values.get(name):
            raise ProtocolError(name, "required (give it, or a preset that has it)")
    audio_model = values.pop("audio_model", GenerateRequest.audio_model)
    if audio_model not in limits.audio_models:
        raise ProtocolError("audio_model", f"{audio_model!r} is not loaded by this server")
    if values.get("seed", -1) == -1:
        values["seed"] = random.randint(0, MAX_SEED - 8)
    if "init_audio" in values:
        values["init_audio"] = limits.readable("init_audio", values["init_audio"])
    output = _output(values, limits)
    preset_name, reply_port = values.pop("preset", ""), values.pop("reply_port", None)
    try:
        settings = GenerateSettings(**values)
    except ValueError as error:  # the engine's messages start with the field, as ours do
        field, _, reason = str(error).partition(": ")
        raise ProtocolError(field, reason) from None
    return GenerateRequest(job_id, settings, output, audio_model, preset_name, reply_port)


def parse_encode(args: list[Any], limits: Limits) -> EncodeRequest:
    """`/sonocanvas/encode job_id picture_path [key value]...`."""
    job_id = parse_job_id(args)
    if len(args) < 2 or not isinstance(args[1], str):
        raise ProtocolError("picture_path", "missing: the second argument must be the picture's path")
    picture = limits.readable("picture_path", args[1])
    values = parse_keys(args[2:], ENCODE_KEYS)
    return EncodeRequest(job_id=job_id, picture_path=picture, output=_output(values, limits), **values)


def _output(values: dict[str, Any], limits: Limits) -> Output:
    """Take the keys that say how the clip is dropped out of `values`, checked against the server's limits."""
    fx = values.pop("fx", "")
    if fx and fx not in limits.fx_names:
        raise ProtocolError("fx", f"unknown chain {fx!r}; choose one of {', '.join(sorted(limits.fx_names)) or '(none)'}")
    bit_depth = values.pop("bit_depth", limits.bit_depth)
    if bit_depth not in (24, 32):
        raise ProtocolError("bit_depth", f"must be 24 or 32, got {bit_depth}")
    bpm, bars = values.pop("bpm", None), values.pop("bars", None)
    if (bpm is None) != (bars is None):
        missing = "bars" if bars is None else "bpm"
        raise ProtocolError(missing, "bpm and bars go together: give both or neither")
    return Output(values.pop("sample_rate", limits.sample_rate), bit_depth, fx, bpm, bars)


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an int", float: "a real", str: "a string", bytes: "a blob"}.get(type(value))
    return f"{kind or type(value).__name__} {value!r}"[:80]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"

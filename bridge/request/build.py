"""The OSC request arguments of docs/osc.md turned into typed, validated requests.

Every refusal is a `ProtocolError` naming the field at fault, which the server sends back as
`/sonocanvas/error <job_id> <field> <message>` without running anything.
"""
from __future__ import annotations

import dataclasses
import math
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from ...engine import catalog
from ...engine import settings as settings_table
from ...engine.errors import FieldError
from ...engine.generate_settings import GenerateSettings
from ...engine.input_file import InputFile
from ...engine.settings import BY_NAME, DEFAULT_CAPS, Setting, capped, check_given, fit_to_bars
from ...engine.stylize_settings import BY_NAME as STYLIZE_TABLE
from ...engine.stylize_settings import StylizeSettings
from ..store.paths import inside

AUDIO_MODELS = BY_NAME["audio_model"].choices
PROMPTS = ("image_prompt", "audio_prompt", "image_negative_prompt", "audio_negative_prompt", "to_image_prompt",
           "to_audio_prompt")
MAX_PROMPT = 1000
"""Characters of a prompt: the text encoders read 77 tokens, so more is never used, only stored."""
MAX_STRING = 4096
"""Characters of any other string value (a path is the longest)."""
MAX_OUTPUT_SECONDS = 900.0
"""Seconds of output one request may write, counted at 48 kHz (see `output_seconds`)."""
MAX_INPUT_BYTES = {"init_audio": 512 * 2**20, "init_picture": 64 * 2**20, "picture_path": 64 * 2**20,
                   "sound_path": 512 * 2**20, "second_sound": 512 * 2**20}
"""Bytes a job may read from each file it is given (a clip; a picture): the file is read whole into memory."""
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to wait on
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
REFERENCE_RATE = 48000


class ProtocolError(FieldError):
    """A request the server refuses; `field` names the argument or key, the message starts with it."""


REPLY_PORT = Setting("reply_port", int, None, "where this job's replies go (see above)", scope="transport",
                     low=1, high=65535)
CLIENT = Setting("client", str, None, "the secret of a `/sonocanvas/ready`: the job is that client's (see above)",
                 scope="transport")
TRANSPORT_KEYS: dict[str, Setting] = {REPLY_PORT.name: REPLY_PORT, CLIENT.name: CLIENT}
# The positional arguments of requests outside the table, checked as table settings are.
WAV_PATH = Setting("wav_path", str, None, "a WAV in a folder this server may read", scope="argument")
PRESET_NAME = Setting("name", str, None, "a preset's name", scope="argument")
"""Where replies go and whose job it is: read by the server before the rest, never by the job; a cancel's keys."""
GENERATE_KEYS: dict[str, Setting] = {**BY_NAME, **TRANSPORT_KEYS}
"""Every setting of the table is a key, named as it is; docs/osc.md's table is made from this."""
ENCODE_SECONDS = 60.0
"""The longest sound a server encodes: it holds the sound whole, so at most a minute."""
ENCODE_KEYS: dict[str, Setting] = {
    "format": Setting("format", str, "auffusion", "spectrogram format", choices=AUDIO_MODELS),
    "seconds": Setting("seconds", float, None, "length of the sound (a server holds it whole, so at most a minute)",
                       low=0.5, high=ENCODE_SECONDS),
    **{name: BY_NAME[name] for name in settings_table.OUTPUT},
    **TRANSPORT_KEYS,
}
STYLIZE_KEYS: dict[str, Setting] = {
    **STYLIZE_TABLE,
    "second_sound": Setting("second_sound", Path, None, "a second sound, mixed with the first by `mix`",
                            scope="argument"),
    **TRANSPORT_KEYS,
}
"""The keys of `/sonocanvas/stylize`: the stylize table's (engine/stylize_settings.py), a second sound, and
where replies go."""
# What a preset may hold: the generate keys that describe a sound, not one request's plumbing.
PRESET_KEYS = {k: v for k, v in GENERATE_KEYS.items() if k not in (*settings_table.PRESET_EXCLUDED, *TRANSPORT_KEYS)}


@dataclass(frozen=True)
class Output:
    """How a finished clip is dropped: shared by generate and encode."""

    sample_rate: int = BY_NAME["sample_rate"].default
    bit_depth: int = BY_NAME["bit_depth"].default
    fx: str = ""
    bpm: float | None = None
    bars: int | None = None
    format: str = "wav"
    """The audio file's format (and extension): wav, or where the command line's output names it flac, ogg, ..."""


@dataclass(frozen=True)
class GenerateRequest:
    """A generate request: the engine's own settings, plus which audio model runs it and how its clips drop."""

    job_id: str
    settings: GenerateSettings
    output: Output
    audio_model: str = BY_NAME["audio_model"].default
    preset: str = ""
    reply_port: int | None = None
    keep: int | None = None
    rank: str = BY_NAME["rank"].default
    preview: int = BY_NAME["preview"].default
    """Steps between the previews its client is sent while it samples; 0: none."""
    kind: ClassVar[str] = "generate"

    def input_paths(self) -> dict[str, Path]:
        """By field: the files this request has yet to read from disk (an init clip, an init picture)."""
        values = {f.name: getattr(self.settings, f.name) for f in dataclasses.fields(self.settings)}
        return {name: path for name, path in values.items() if isinstance(path, Path)}

    def reading(self, files: Mapping[str, InputFile]) -> GenerateRequest:
        """This request, reading `files` (by field), already read, instead of their paths."""
        changes: dict[str, Any] = dict(files)
        return dataclasses.replace(self, settings=dataclasses.replace(self.settings, **changes))


@dataclass(frozen=True)
class EncodeRequest:
    job_id: str
    picture_path: Path | InputFile
    output: Output
    format: str = "auffusion"
    seconds: float | None = None
    reply_port: int | None = None
    longest: float = math.inf
    """The longest sound this request may make, in seconds: with no `seconds`, the picture's own width decides
    its length, known only once the picture is read (`load_art`'s `max_seconds`), so the bound travels along."""
    kind: ClassVar[str] = "encode"
    preview: ClassVar[int] = 0  # no sampler: the picture is the client's own

    def input_paths(self) -> dict[str, Path]:
        """By field: the file this request has yet to read from disk, its picture."""
        return {"picture_path": self.picture_path} if isinstance(self.picture_path, Path) else {}

    def reading(self, files: Mapping[str, InputFile]) -> EncodeRequest:
        """This request, reading its picture from `files["picture_path"]`, already read."""
        return dataclasses.replace(self, picture_path=files["picture_path"])


@dataclass(frozen=True)
class StylizeRequest:
    """`/sonocanvas/stylize`: a picture restyled the way a sound sounds (engine/stylize.py), dropped as PNG + JSON."""

    job_id: str
    picture_path: Path | InputFile
    sound_path: Path | InputFile
    settings: StylizeSettings
    output: Output
    second_sound: Path | InputFile | None = None
    reply_port: int | None = None
    kind: ClassVar[str] = "stylize"
    preview: ClassVar[int] = 0  # the picture is the client's own; the result comes at once

    def input_paths(self) -> dict[str, Path]:
        """By field: the files this request has yet to read from disk: the picture and its sounds."""
        files = {"picture_path": self.picture_path, "sound_path": self.sound_path, "second_sound": self.second_sound}
        return {name: path for name, path in files.items() if isinstance(path, Path)}

    def reading(self, files: Mapping[str, InputFile]) -> StylizeRequest:
        """This request, reading `files` (by field), already read, instead of their paths."""
        changes: dict[str, Any] = dict(files)
        return dataclasses.replace(self, **changes)


Request = GenerateRequest | EncodeRequest | StylizeRequest
"""A job's request; `kind` says which, `input_paths` what it reads from disk, `reading` it with those files read."""


@dataclass(frozen=True)
class Limits:
    """What a request may ask of whoever runs it: the folders it may read, the chains and models there are, the
    policy caps. A server's come from its config; the command line's are `Limits.local`'s."""

    read_roots: tuple[Path, ...] | None
    """The folders a request's files must lie in; None: any file (the command line's user's own)."""
    fx_names: frozenset[str]
    audio_models: frozenset[str]
    sample_rate: int = BY_NAME["sample_rate"].default
    bit_depth: int = BY_NAME["bit_depth"].default
    caps: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    """Policy caps on numeric generate keys (the config's `caps`), applied on top of the settings table."""
    max_output_seconds: float = MAX_OUTPUT_SECONDS

    @classmethod
    def local(cls, fx_names: frozenset[str]) -> Limits:
        """The command line's: any file, every audio model, the table's bounds with no policy caps and no bound
        on the seconds written. The caps and the output bound are a server's policy for a GPU and a disk that
        others share; `sonocanvas generate` runs on the user's own, as far as the table allows."""
        return cls(None, fx_names, frozenset(AUDIO_MODELS), caps={}, max_output_seconds=math.inf)

    def readable(self, field: str, value: str) -> Path:
        """The file `value` names, refused unless it lies inside one of the read roots (symlinks resolved)."""
        if not value or "\x00" in value:
            raise ProtocolError(field, "expected a file path")
        path = Path(value)
        if not path.is_absolute() and self.read_roots:
            path = self.read_roots[0] / path
        try:
            resolved = path.resolve()
            within = self.read_roots is None or inside(resolved, (root.resolve() for root in self.read_roots))
            is_file = within and resolved.is_file()
        except (OSError, RuntimeError) as error:  # a name too long, a symlink loop, ...
            raise ProtocolError(field, f"cannot use {_describe(value)} as a path "
                                       f"({error.__class__.__name__})") from None
        if not within:
            raise ProtocolError(field, f"{value!r} is outside the folders this server may read")
        if not is_file:
            raise ProtocolError(field, f"{value!r} is a folder, a pipe or a device, not a file" if resolved.exists()
                                else f"no such file: {value!r}")
        return resolved

    def open_checked(self, field: str, path: Path) -> BinaryIO:
        """Open `path` for reading and check the file actually opened: the path it resolves to now lies inside
        a read root and is that same regular file, no larger than its field's `MAX_INPUT_BYTES`. A path
        checked when the request came but swapped since is refused, never followed or waited on: the open
        follows no symlink and does not block, so a FIFO swapped in cannot wedge the worker."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as error:
            self.readable(field, str(path))  # a path that now leads outside or to no file: that reason
            raise ProtocolError(field, f"cannot open {str(path)!r}: {error.strerror or error}") from None
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise ProtocolError(field, f"{str(path)!r} is no longer a regular file")
            resolved = self.readable(field, str(path))
            if not os.path.samestat(opened, os.stat(resolved)):
                raise ProtocolError(field, f"{str(path)!r} changed after the request was checked")
            limit = MAX_INPUT_BYTES.get(field)
            if limit is not None and opened.st_size > limit:
                raise ProtocolError(field, f"{str(path)!r} is {opened.st_size} bytes, over the {limit} allowed")
            if _NONBLOCK:
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise


def parse_key(name: str, value: Any, keys: Mapping[str, Setting]) -> Any:
    """One key's value, typed and checked by its setting; a ProtocolError naming it otherwise."""
    spec = keys[name]
    longest = MAX_PROMPT if name in PROMPTS else MAX_STRING
    if isinstance(value, str) and len(value) > longest:
        raise ProtocolError(name, f"at most {longest} characters, got {len(value)}")
    try:
        return spec.parse(value)
    except FieldError as error:
        raise ProtocolError(error.field, error.reason) from None


def parse_keys(args: Iterable[Any], keys: Mapping[str, Setting]) -> dict[str, Any]:
    """`key value key value ...` -> {key: typed value}, refusing unknown keys, repeats and a key without a value."""
    args = list(args)
    values: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        name = args[i]
        if not isinstance(name, str) or not name:
            raise ProtocolError("key", f"expected a key name at argument {i + 1}, got {_describe(name)}")
        if name not in keys:
            raise ProtocolError(name, f"unknown key; known keys: {', '.join(keys)}")
        if i + 1 >= len(args):
            raise ProtocolError(name, "the key has no value")
        if name in values:
            raise ProtocolError(name, "given twice")
        values[name] = parse_key(name, args[i + 1], keys)
    return values


def job_id_of(args: list[Any]) -> str:
    """The job id (first argument) of a request, or "" when it has none that is a string."""
    return args[0] if args and isinstance(args[0], str) else ""


def reply_port_of(args: list[Any]) -> int | None:
    """The `reply_port` a generate, encode or cancel request carries, read before the rest is checked, so that
    even its errors reach a sender (like liblo's oscsend) that uses a new source port for every message."""
    for name, value in pairwise(args):
        if name == "reply_port" and isinstance(value, int):
            try:
                return REPLY_PORT.parse(value)
            except FieldError:  # not a port: the full check names it
                continue
    return None


def client_of(args: list[Any]) -> str:
    """The `client` secret a generate, encode or cancel request carries, or ""; read before the rest is
    checked, as `reply_port` is."""
    for name, value in pairwise(args):
        if name == "client" and isinstance(value, str):
            return value
    return ""


def output_seconds(seconds: float, clips: int, output: Output) -> float:
    """What a request writes, in seconds of audio at 48 kHz: a clip's seconds times the clips written, scaled by
    the output rate (a 192 kHz clip is four 48 kHz ones). An effect chain doubles it (the dry clip is kept)."""
    return seconds * clips * output.sample_rate / REFERENCE_RATE * (2 if output.fx else 1)


def _check_output(limits: Limits, field: str, seconds: float) -> None:
    if seconds > limits.max_output_seconds:
        raise ProtocolError(field, f"this request would write {seconds:.0f} s of audio (counted at 48 kHz, times the "
                            f"clips written, twice with fx); the server allows {limits.max_output_seconds:g} s "
                            "per request")


def parse_job_id(args: list[Any]) -> str:
    if not args:
        raise ProtocolError("job_id", "missing: the first argument must be the job id (a string)")
    if not isinstance(args[0], str) or not args[0] or len(args[0]) > 200:
        raise ProtocolError("job_id", f"expected a non-empty string, got {_describe(args[0])}")
    return args[0]


def parse_generate(args: list[Any], limits: Limits, preset: Callable[[str], Mapping[str, Any]]) -> GenerateRequest:
    """`/sonocanvas/generate job_id [key value]...`: the keys read, then built by `build_generate`."""
    job_id = parse_job_id(args)
    return build_generate(job_id, parse_keys(args[1:], _generate_keys(limits)), limits, preset)


def _generate_keys(limits: Limits) -> dict[str, Setting]:
    """The generate keys with the policy caps applied, but for variations': it depends on `keep`
    (`_ranking_caps`), so it is applied once the preset and the request are merged."""
    return {**capped({k: v for k, v in limits.caps.items() if k != "variations"}), **TRANSPORT_KEYS}


def build_generate(job_id: str, given: Mapping[str, Any], limits: Limits,
                   preset: Callable[[str], Mapping[str, Any]]) -> GenerateRequest:
    """The one builder of a generate request, for OSC and the command line alike: `given` (by key) over the
    named preset's keys, every key checked against the settings table with `limits`' caps, prompts required,
    the audio model and effect chain checked against what there is, the files against the folders that may
    be read, bpm and bars fitted, and the seconds written bounded."""
    keys = _generate_keys(limits)
    given = {name: parse_key(name, value, keys) for name, value in given.items()}
    variations_cap = {"variations": limits.caps["variations"]} if "variations" in limits.caps else {}
    values: dict[str, Any] = {}
    if "preset" in given:
        try:
            stored = preset(given["preset"])
        except FieldError as error:  # the store's own reason ("no preset 'x'", a bad file), on this key
            raise ProtocolError("preset", error.reason) from None
        except (KeyError, ValueError) as error:
            raise ProtocolError("preset", f"unknown or unreadable preset {given['preset']!r}: {error}") from None
        for name, value in stored.items():
            if name not in PRESET_KEYS:
                raise ProtocolError("preset", f"preset {given['preset']!r} holds an unknown key {name!r}")
            values[name] = parse_key(name, value, keys)
    values.update(given)
    for name, cap in _ranking_caps(variations_cap, values).items():  # on what the preset and request say together
        if values.get(name) is not None:
            values[name] = parse_key(name, values[name], {name: BY_NAME[name].capped(cap)})
    for name in ("image_prompt", "audio_prompt"):
        if not values.get(name):
            raise ProtocolError(name, "required (give it, or a preset that has it)")
    audio_model = values.pop("audio_model", BY_NAME["audio_model"].default)
    if audio_model not in limits.audio_models:
        raise ProtocolError("audio_model", f"{audio_model!r} is not loaded by this server")
    for name in ("init_audio", "init_picture"):
        if name in values:
            values[name] = limits.readable(name, str(values[name]))
    try:
        check_given(values, given)
        fit_to_bars(values)
    except FieldError as error:
        raise ProtocolError(error.field, error.reason) from None
    output = _output(values, limits)
    clips = values.get("keep") or values.get("variations", 1)
    if values.get("seconds") is not None:  # given, or made from bars at a bpm: the clip's length is known now
        _check_output(limits, "bars" if output.bars else "seconds", output_seconds(values["seconds"], clips, output))
    else:  # as long as its columns: the width asked for, or the model's own
        kind = catalog.AUDIO_MODELS[audio_model]
        seconds = (values.get("width") or kind.native_size[1]) * kind.column_seconds
        _check_output(limits, "width", output_seconds(seconds, clips, output))
    preset_name, reply_port = values.pop("preset", ""), values.pop("reply_port", None)
    values.pop("client", None)
    keep, rank = values.pop("keep", None), values.pop("rank", BY_NAME["rank"].default)
    preview = values.pop("preview", BY_NAME["preview"].default)
    try:
        settings = GenerateSettings.resolved(**values)
    except FieldError as error:
        raise ProtocolError(error.field, error.reason) from None
    return GenerateRequest(job_id, settings, output, audio_model, preset_name, reply_port, keep, rank, preview)


def _ranking_caps(caps: Mapping[str, float], values: Mapping[str, Any]) -> dict[str, float]:
    """With `keep`, the variations cap bounds the clips kept, and the candidates may go to the table's bound:
    a request that makes 32 and keeps 3 delivers no more than one that makes 3."""
    caps = dict(caps)
    if values.get("keep") is not None and "variations" in caps:
        caps["keep"] = caps.pop("variations")
    return caps


def parse_encode(args: list[Any], limits: Limits) -> EncodeRequest:
    """`/sonocanvas/encode job_id picture_path [key value]...`."""
    job_id = parse_job_id(args)
    picture = limits.readable("picture_path", _path_argument(args, 1, "picture_path", "the picture's path"))
    values = parse_keys(args[2:], ENCODE_KEYS)
    values.pop("client", None)
    output = _output(values, limits)
    if values.get("seconds") is not None:
        _check_output(limits, "seconds", output_seconds(values["seconds"], 1, output))
    longest = min(ENCODE_SECONDS, limits.max_output_seconds / output_seconds(1.0, 1, output))
    return EncodeRequest(job_id=job_id, picture_path=picture, output=output, longest=longest, **values)


def parse_stylize(args: list[Any], limits: Limits, vocabulary: tuple[str, ...]) -> StylizeRequest:
    """`/sonocanvas/stylize job_id picture_path sound_path [key value]...` (`vocabulary`: the server's)."""
    job_id = parse_job_id(args)
    picture = limits.readable("picture_path", _path_argument(args, 1, "picture_path", "the picture's path"))
    sound = limits.readable("sound_path", _path_argument(args, 2, "sound_path", "the sound's path"))
    values = parse_keys(args[3:], STYLIZE_KEYS)
    values.pop("client", None)
    reply_port, second = values.pop("reply_port", None), values.pop("second_sound", None)
    if second is not None:
        second = limits.readable("second_sound", str(second))
    if (second is None) != (values.get("mix") is None):
        raise ProtocolError("mix" if second is not None else "second_sound",
                            "second_sound and mix go together: give both or neither")
    try:
        settings = StylizeSettings(**values, vocabulary=vocabulary)
    except FieldError as error:
        raise ProtocolError(error.field, error.reason) from None
    return StylizeRequest(job_id, picture, sound, settings, Output(limits.sample_rate, limits.bit_depth),
                          second, reply_port)


def _output(values: dict[str, Any], limits: Limits) -> Output:
    """Take the keys that say how the clip is dropped out of `values`, checked against the server's limits."""
    fx = values.pop("fx", "")
    if fx and fx not in limits.fx_names:
        names = ', '.join(sorted(limits.fx_names)) or '(none)'
        raise ProtocolError("fx", f"unknown chain {fx!r}; choose one of {names}")
    check_given({"bpm": values.get("bpm"), "bars": values.get("bars")})
    return Output(values.pop("sample_rate", limits.sample_rate), values.pop("bit_depth", limits.bit_depth), fx,
                  values.pop("bpm", None), values.pop("bars", None))


def _path_argument(args: list[Any], i: int, field: str, what: str) -> str:
    """The path given as positional argument `i` (from 0); ProtocolError(field) saying it is missing or no string."""
    if len(args) <= i:
        raise ProtocolError(field, f"missing: argument {i + 1} must be {what}")
    if not isinstance(args[i], str):
        raise ProtocolError(field, f"argument {i + 1} must be {what}, a string; got {_describe(args[i])}")
    return args[i]


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an int", float: "a real", str: "a string", bytes: "a blob"}.get(type(value))
    return f"{kind or type(value).__name__} {value!r}"[:80]


def generate_keys_table(caps: Mapping[str, float] = DEFAULT_CAPS) -> str:
    """The generate-key table of docs/osc.md, made from the settings table (a test keeps the two equal)."""
    rows = ["| key | type | range | default | what it says |", "| --- | --- | --- | --- | --- |"]
    for s in GENERATE_KEYS.values():
        if s.choices:
            span = " or ".join(f"`{c}`" for c in s.choices)
        else:
            span = s.span
            if s.name in caps:
                span += (f" (the server caps it at {settings_table.number_text(caps[s.name])} unless its config's "
                         "`caps` says otherwise)")
        default = "" if s.default is None else "`\"\"`" if s.default == "" else f"`{s.default}`"
        required = "; required unless a preset gives it" if s.required else ""
        rows.append(f"| `{s.name}` | {s.type_name} | {span} | {default} | {s.help}{required} |")
    return "\n".join(rows) + "\n"

"""The one table of generation settings: name, type, range, default and one line of help for each.

Everything else is derived from it: `GenerateSettings`' checks, the `sonocanvas generate` options
(`--name-with-dashes`), the OSC generate keys (the names as they are), the generate-key table of
docs/osc.md (a test keeps them equal) and the `/sonocanvas/limits` reply. A server narrows a range
with a policy cap from its config (`caps`), applied on top by `capped`, never by a second table.

`scope` says who uses a setting: "engine" settings are fields of `GenerateSettings` (the sampler's),
"output" ones say how a finished clip is written (rate, depth, tempo fit, effects), "request" ones
pick what runs it (the audio model, a preset).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import AUDIO_MODELS, DEFAULT_AUDIO_MODEL
from .errors import FieldError
from .input_file import InputFile
from .schedulers import SCHEDULERS

MAX_SEED = 2**31 - 1
MAX_VARIATIONS = 64
"""Clips one request may make: variations without keep, candidates with it (a server's cap then bounds keep)."""
"""Seeds are int32 on the wire (OSC `i`) and everywhere else, so a seed is written the same way in every way in."""
MAX_INIT_SECONDS = 86400.0
"""A day: the longest riff region a clip's markers can name (Live's Arrangement ends near 1576800 beats)."""
RANDOM_SEED = -1
"""The seed that asks for a fresh random one (the default): the seed drawn is printed and recorded."""


@dataclass(frozen=True)
class Setting:
    """One setting. `kind` is str, int, float, bool or Path; `low`/`high` bound numbers (`low_open`: above `low`);
    `choices` lists the allowed values; `default` None means "not set" (the help says what that means)."""

    name: str
    kind: type
    default: Any
    help: str
    scope: str = "engine"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple = ()
    multiple_of: int | None = None
    required: bool = False
    command_line: bool = True
    """Whether `sonocanvas generate` takes it; False for what only a client watching over OSC uses."""
    random: int | None = None
    """A value below the range that asks for a fresh random one (generate's seed: -1); None where there is none."""

    @property
    def numeric(self) -> bool:
        return self.kind in (int, float)

    @property
    def span(self) -> str:
        """Its range as a person writes it, for the command line's help and docs/osc.md's table alike: `8 … 4096,
        a multiple of 8`, `above 0 … 1` (0 itself refused), `-1 (a fresh random one) or 0 … 2147483647`; "" for
        a setting that is no number or has choices (those are listed instead)."""
        if not self.numeric or self.choices:
            return ""
        span = f"{'above ' if self.low_open else ''}{number_text(self.low)} … {number_text(self.high)}"
        if self.random is not None:
            span = f"{number_text(self.random)} (a fresh random one) or {span}"
        return span + (f", a multiple of {self.multiple_of}" if self.multiple_of else "")

    @property
    def type_name(self) -> str:
        """As docs/osc.md says it: str, int, real, bool or path (a str naming a file)."""
        return {str: "str", int: "int", float: "real", bool: "bool", Path: "path"}[self.kind]

    def parse(self, value: Any) -> Any:
        """`value` typed and checked, else FieldError naming this setting. An int is accepted for a real, a real
        with an integral value for an int (as OSC clients send them); None is "not set"."""
        if value is None:
            return None
        if self.kind is bool:
            if isinstance(value, (bool, np.bool_)) or (isinstance(value, int) and value in (0, 1)):
                return bool(value)
            raise FieldError(self.name, f"expected true or false, got {_describe(value)}")
        if self.kind in (str, Path):
            if self.kind is Path and isinstance(value, (Path, InputFile)):  # a file's bytes, already read
                return value
            if not isinstance(value, str):
                expected = 'a path' if self.kind is Path else 'text'
                raise FieldError(self.name, f"expected {expected}, got {_describe(value)}")
            if self.choices and value not in self.choices:
                raise FieldError(self.name, f"unknown {value!r}; choose {', '.join(map(str, self.choices))}")
            return Path(value) if self.kind is Path else value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise FieldError(self.name, f"expected {'a whole number' if self.kind is int else 'a number'}, "
                                        f"got {_describe(value)}")
        if not math.isfinite(value):
            raise FieldError(self.name, f"expected a number, got {value!r}")
        if self.kind is int:
            if not float(value).is_integer():
                raise FieldError(self.name, f"expected a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        return self.check_range(value)

    def check_range(self, value: float, low: float | None = None, high: float | None = None) -> Any:
        low = self.low if low is None else low
        high = self.high if high is None else high
        if self.choices and value not in self.choices:
            raise FieldError(self.name, f"must be {' or '.join(map(str, self.choices))}, got {number_text(value)}")
        below = low is not None and (value <= low if self.low_open else value < low)
        if below or (high is not None and value > high):
            if value == self.random:
                return value
            span = (f"above {number_text(low)} and at most {number_text(high)}" if self.low_open
                    else f"between {number_text(low)} and {number_text(high)}")
            raise FieldError(self.name, f"must be {span}, got {number_text(value)}")
        if self.multiple_of and value % self.multiple_of:
            raise FieldError(self.name, f"must be a multiple of {self.multiple_of}, got {number_text(value)}")
        return value

    def capped(self, cap: float) -> Setting:
        """This setting with its upper bound lowered to a policy cap (never raised)."""
        if not self.numeric:
            raise FieldError("caps", f"{self.name} is not a number, so it cannot be capped")
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not math.isfinite(cap):
            raise FieldError("caps", f"{self.name}: a cap must be a number, got {cap!r}")
        high = cap if self.high is None else min(self.high, cap)
        if self.low is not None and high < self.low:
            raise FieldError("caps", f"{self.name}: a cap of {number_text(cap)} is below its lowest value "
                                     f"{number_text(self.low)}")
        return dataclasses.replace(self, high=self.kind(high), choices=tuple(c for c in self.choices if c <= high))

    @property
    def option(self) -> str:
        """The command line's option: `--name-with-dashes`."""
        return "--" + self.name.replace("_", "-")


S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("image_prompt", str, "", "what the picture shows; sections of a long clip separated by |, each with an "
      "optional length in bars (\"a castle @4 | a forest\")", required=True),
    S("audio_prompt", str, "", "what the sound is; sections of a long clip separated by |, each with an optional "
      "length in bars (\"church bells @4 | choir @8 | thunder\")", required=True),
    S("image_negative_prompt", str, "", "what the picture should not show"),
    S("audio_negative_prompt", str, "", "what the sound should not be"),
    S("preset", str, "", "a preset's name: its values are the defaults, the settings given win "
                         "(`sonocanvas presets` lists them)", scope="request"),
    S("audio_model", str, DEFAULT_AUDIO_MODEL, "which audio model makes the sound", scope="request",
      choices=tuple(AUDIO_MODELS)),
    S("keep", int, None, "make `variations` candidates and keep this many, the best by `rank` (the rest are not "
      "written); the server's variations cap then bounds keep, and variations may go to 64", scope="request",
      low=1, high=MAX_VARIATIONS),
    S("rank", str, "both", "what best means with keep: clip (the picture against the image prompt), clap (the "
      "sound against the audio prompt), or both (the sum of the two places)", scope="request",
      choices=("clip", "clap", "both")),
    S("preview", int, 0, "send a preview of the picture as it forms every this many sampling steps "
      "(`/sonocanvas/preview`); 0 sends none", scope="request", low=0, high=1000, command_line=False),
    S("seed", int, RANDOM_SEED, "the noise's seed; -1 (the default) draws a fresh one, which is printed and recorded",
      low=0, high=MAX_SEED, random=RANDOM_SEED),
    S("steps", int, 100, "sampling steps (the paper's 100; dpm++ needs about 25)", low=1, high=1000),
    S("scheduler", str, "ddim", "the sampler", choices=tuple(SCHEDULERS)),
    S("image_guidance", float, 10.0, "classifier-free guidance of the image model", low=0, high=50),
    S("audio_guidance", float, 10.0, "classifier-free guidance of the audio model", low=0, high=50),
    S("audio_weight", float, 0.5, "w in (1 - w) eps_image + w eps_audio: 0 the image model alone, 1 the audio model",
      low=0, high=1),
    S("image_start", float, 0.1, "when the image model joins, as a fraction of the steps (the paper's 0.1)",
      low=0, high=1),
    S("image_start_step", int, None, "the step the image model joins at; overrides image_start", low=0, high=1000),
    S("audio_start_step", int, 0, "the step the audio model joins at", low=0, high=1000),
    S("variations", int, 1, "clips in one batch, with consecutive seeds", low=1, high=MAX_VARIATIONS),
    S("height", int, None, "picture height (default: the audio model's)", low=8, high=4096, multiple_of=8),
    S("width", int, None, "picture width (default: the audio model's)", low=8, high=4096, multiple_of=8),
    S("crop_last_columns", bool, False, "crop the last 32/1024 of the columns, as the paper does"),
    S("seconds", float, None, "the clip's length (default: one window of the audio model, 10.24 s Auffusion, "
      "5.12 s Riffusion); longer canvases are denoised in overlapping windows", low=1, high=60),
    S("loop", bool, False, "a seamless loop: the canvas is circular in time, so its end flows into its start"),
    S("method", str, "joint", "joint, or the paper's imprint baseline", choices=("joint", "imprint")),
    S("imprint_ratio", float, 0.5, "imprint: how much the picture darkens the sound", low=0, high=1),
    S("init_audio", Path, None, "riff on this clip (WAV, FLAC, MP3, OGG)"),
    S("init_start", float, 0.0, "where in init_audio the region to riff on starts, in seconds", low=0,
      high=MAX_INIT_SECONDS),
    S("init_end", float, None, "where that region ends, in seconds (default: the file's end; past it means its end)",
      low=0, high=MAX_INIT_SECONDS),
    S("init_picture", Path, None, "riff on this picture"),
    S("strength", float, 0.7, "riffing: how far the result may move from the init clip or picture",
      low=0, high=1, low_open=True),
    S("to_image_prompt", str, None, "interpolate towards this image prompt (default: the image prompt)"),
    S("to_audio_prompt", str, None, "interpolate towards this audio prompt (default: the audio prompt)"),
    S("to_seed", int, None, "interpolate towards this seed's noise (default: the seed)", low=0, high=MAX_SEED),
    S("alpha", float, 0.0, "where between the two ends of an interpolation: 0 the start, 1 the end", low=0, high=1),
    S("sample_rate", int, 48000, "sample rate of the clip written, in Hz", scope="output", low=8000, high=192000),
    S("bit_depth", int, 24, "24-bit PCM, or 32-bit float", scope="output", choices=(24, 32), low=24, high=32),
    S("bpm", float, None, "with bars: stretch the clip to that many bars of 4/4 at this tempo", scope="output",
      low=20, high=999),
    S("bars", int, None, "with bpm: the clip's length in bars", scope="output", low=1, high=64),
    S("fx", str, "", "an effect chain's name, none by default (`sonocanvas effects` lists them)", scope="output"),
)
del S
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
ENGINE = tuple(s.name for s in SETTINGS if s.scope == "engine")
OUTPUT = tuple(s.name for s in SETTINGS if s.scope == "output")
PRESET_EXCLUDED = ("preset", "init_audio", "init_start", "init_end", "init_picture", "preview")
"""What a preset may not hold: a preset names a sound, not one request's files or another preset."""

DEFAULT_CAPS: dict[str, float] = {"steps": 500, "variations": 8}
"""The server's policy caps unless its config's `caps` says otherwise: a shared GPU box serves many requests."""


def capped(caps: Mapping[str, float], names: Iterable[str] | None = None) -> dict[str, Setting]:
    """The settings (all, or those named) with each cap in `caps` applied; FieldError("caps") for a bad cap."""
    unknown = sorted(set(caps) - set(BY_NAME))
    if unknown:
        raise FieldError("caps", f"{unknown[0]} is not a generation setting")
    chosen = SETTINGS if names is None else [BY_NAME[n] for n in names]
    return {s.name: s.capped(caps[s.name]) if s.name in caps else s for s in chosen}


def check_given(values: Mapping[str, Any], given: Mapping[str, Any] | None = None) -> None:
    """What only the settings a user gave can say (a default cannot be told from a given value later): strength
    means nothing without a clip or picture to riff on, and bpm and bars go together. `values` may hold a preset's
    too; `given` (default: `values`) is what the request itself said: a preset's strength waits for a riff."""
    given = values if given is None else given
    if given.get("strength") is not None and values.get("init_audio") is None and values.get("init_picture") is None:
        raise FieldError("strength", "says how far to noise an init clip or picture; give init_audio or init_picture")
    if (values.get("bpm") is None) != (values.get("bars") is None):
        raise FieldError("bars" if values.get("bars") is None else "bpm",
                         "bpm and bars go together: give both or neither")


def fit_to_bars(values: dict[str, Any]) -> None:
    """With bpm and bars and no seconds, the canvas is made as long as the bars, so that fitting the clip to them
    stretches it by less than one column (FieldError on `bars` when the bars are longer than a clip may be)."""
    if values.get("bpm") is None or values.get("bars") is None or values.get("seconds") is not None:
        return
    seconds = values["bars"] * 4 * 60 / values["bpm"]
    limit = BY_NAME["seconds"]
    if not limit.low <= seconds <= limit.high:
        raise FieldError("bars", f"{values['bars']} bars of 4/4 at {values['bpm']:g} bpm last {seconds:.3g} s; "
                                 f"a clip is {limit.low:g} to {limit.high:g} s long")
    values["seconds"] = seconds


def bounds(table: Mapping[str, Setting]) -> list[Any]:
    """`[name, low, high]...` for each numeric setting: ints as int, reals as float (the `/sonocanvas/limits` reply)."""
    flat: list[Any] = []
    for s in table.values():
        if s.numeric and s.low is not None and s.high is not None:
            low = s.low if s.random is None else s.random
            flat += [s.name, s.kind(low), s.kind(s.high)]
    return flat


def number_text(value: float | None) -> str:
    """A bound or value as a person writes it: whole numbers in full (2147483647, not 2.14748e+09)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]

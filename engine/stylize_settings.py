"""What a stylisation is made from (engine/stylize.py), with no torch: the command line's help and a record
read it before any model loads. The numbers of the recipe are here, each said once."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FieldError
from .schedulers import SCHEDULERS
from .settings import MAX_INIT_SECONDS, MAX_SEED, Setting

DEFAULT_TEMPERATURE = 0.05
"""Softmax temperature over cosine similarities: CLAP's own logit scale is about 1/0.07; lower is sharper."""
DEFAULT_TOP = 5
LEVEL_FLOOR_DB = -60.0
"""RMS level (dBFS) at and below which a sound is silence: strength 0."""
LEVEL_FULL_DB = -14.0
"""RMS level (dBFS) from which the strength is MAX_STRENGTH; in between it grows linearly in dB."""
MAX_STRENGTH = 0.75
"""SDEdit beyond this loses the picture's structure, which avstyle keeps."""
REFERENCE_DB = -20.0
"""The RMS level each sound is brought to before CLAP hears it."""
SOUND_RATE = 48000
"""The rate a sound is read at: CLAP's processor's (it resamples any other)."""
MAX_PICTURE_SIDE = 4096
"""The longest side of a picture stylize takes (a phone's photo, 4032 px, is one); a larger one is refused on the
picture's field, before it is decoded."""
DENOISED_SIDE = 768
"""The longest side a picture is denoised at, its aspect kept: Stable Diffusion 1.5 learned at 512 px and repeats
itself far above it, and a step costs about the square of the side (2048 px: 16 times as much). The result is
brought back to the picture's own size."""


def level_db(sound: np.ndarray) -> float:
    """RMS level in dBFS of `sound` (float samples, full scale 1.0); -inf for digital silence."""
    power = float(np.mean(np.square(sound, dtype=np.float64))) if sound.size else 0.0
    return 10 * math.log10(power) if power > 0 else -math.inf


def strength_for(level: float) -> float:
    """The SDEdit strength a sound of RMS `level` dBFS restyles with: monotonic, 0 to MAX_STRENGTH."""
    share = (level - LEVEL_FLOOR_DB) / (LEVEL_FULL_DB - LEVEL_FLOOR_DB)
    return MAX_STRENGTH * min(1.0, max(0.0, share)) if math.isfinite(level) else 0.0


STYLIZE: tuple[Setting, ...] = (
    Setting("strength", float, None, "how far to restyle, 0 to 1 (default: from the sound's level, 0 at "
            f"{LEVEL_FLOOR_DB:g} dBFS RMS rising to {MAX_STRENGTH:g} at {LEVEL_FULL_DB:g})", low=0, high=1),
    Setting("temperature", float, DEFAULT_TEMPERATURE, "softmax temperature of the phrases' weights (lower is "
            "sharper)", low=0, high=10, low_open=True),
    Setting("top", int, DEFAULT_TOP, "phrases kept, the most like the sound", low=1, high=64),
    Setting("mix", float, None, "with a second sound: its share, 0 (the first alone) to 1 (the second alone)",
            low=0, high=1),
    Setting("sound_start", float, 0.0, "where in the (first) sound the part to hear starts, in seconds (a Live "
            "clip's start marker)", low=0, high=MAX_INIT_SECONDS),
    Setting("sound_end", float, None, "where that part ends, in seconds (default: the sound's end; past it "
            "means its end)", low=0, high=MAX_INIT_SECONDS),
    Setting("steps", int, 25, "sampling steps (dpm++ needs about 25)", low=1, high=1000),
    Setting("scheduler", str, "dpm++", "the sampler", choices=tuple(SCHEDULERS)),
    Setting("seed", int, 0, "the noise's seed", low=0, high=MAX_SEED),
    Setting("image_guidance", float, 7.5, "classifier-free guidance of the image model", low=0, high=50),
)
"""The keys of a stylisation, one definition: `sonocanvas stylize`'s options and `/sonocanvas/stylize`'s keys
come from it, and `StylizeSettings` is checked by it."""
BY_NAME = {setting.name: setting for setting in STYLIZE}


@dataclass(frozen=True)
class StylizeSettings:
    """What a stylisation is made from, besides its files (STYLIZE's rows, and the vocabulary); frozen, and to
    and from a record's dict."""

    mix: float | None = BY_NAME["mix"].default
    sound_start: float = BY_NAME["sound_start"].default
    sound_end: float | None = BY_NAME["sound_end"].default
    temperature: float = BY_NAME["temperature"].default
    top: int = BY_NAME["top"].default
    strength: float | None = BY_NAME["strength"].default
    steps: int = BY_NAME["steps"].default
    scheduler: str = BY_NAME["scheduler"].default
    seed: int = BY_NAME["seed"].default
    image_guidance: float = BY_NAME["image_guidance"].default
    negative_prompt: str = ""
    vocabulary: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        for setting in STYLIZE:  # typed and in range, else FieldError naming it
            object.__setattr__(self, setting.name, setting.parse(getattr(self, setting.name)))
        if not self.vocabulary:
            raise FieldError("vocabulary", "holds no phrase")
        if self.sound_end is not None and self.sound_end <= self.sound_start:
            raise FieldError("sound_end", f"must be after sound_start ({self.sound_start:g} s), "
                                          f"got {self.sound_end:g} s")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "vocabulary": list(self.vocabulary)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StylizeSettings:
        return cls(**{**values, "vocabulary": tuple(values.get("vocabulary", ()))})

"""What a stylisation is made from (engine/stylize.py), with no torch: the command line's help and a record
read it before any model loads. The numbers of the recipe are here, each said once."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FieldError

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


def level_db(sound: np.ndarray) -> float:
    """RMS level in dBFS of `sound` (float samples, full scale 1.0); -inf for digital silence."""
    power = float(np.mean(np.square(sound, dtype=np.float64))) if sound.size else 0.0
    return 10 * math.log10(power) if power > 0 else -math.inf


def strength_for(level: float) -> float:
    """The SDEdit strength a sound of RMS `level` dBFS restyles with: monotonic, 0 to MAX_STRENGTH."""
    share = (level - LEVEL_FLOOR_DB) / (LEVEL_FULL_DB - LEVEL_FLOOR_DB)
    return MAX_STRENGTH * min(1.0, max(0.0, share)) if math.isfinite(level) else 0.0


@dataclass(frozen=True)
class StylizeSettings:
    """What a stylisation is made from, besides its files; frozen, and to and from a record's dict."""

    mix: float | None = None  # with two sounds: the second's share (0 the first alone, 1 the second)
    temperature: float = DEFAULT_TEMPERATURE
    top: int = DEFAULT_TOP
    strength: float | None = None  # None: from the sound's level
    steps: int = 25
    scheduler: str = "dpm++"
    seed: int = 0
    image_guidance: float = 7.5
    negative_prompt: str = ""
    vocabulary: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise FieldError("temperature", f"must be above 0, got {self.temperature}")
        if self.top < 1:
            raise FieldError("top", f"must be at least 1, got {self.top}")
        if self.mix is not None and not 0 <= self.mix <= 1:
            raise FieldError("mix", f"must be between 0 and 1, got {self.mix}")
        if self.strength is not None and not 0 <= self.strength <= 1:
            raise FieldError("strength", f"must be between 0 and 1, got {self.strength}")
        if not 1 <= self.steps <= 1000:
            raise FieldError("steps", f"must be between 1 and 1000, got {self.steps}")
        if not self.vocabulary:
            raise FieldError("vocabulary", "holds no phrase")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "vocabulary": list(self.vocabulary)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StylizeSettings:
        return cls(**{**values, "vocabulary": tuple(values.get("vocabulary", ()))})

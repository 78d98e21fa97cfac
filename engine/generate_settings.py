"""The settings of one generation as a typed, checked value: what the pipeline runs and the record keeps.

Apart from the pipeline so that building a request (the command line's parser, the OSC server's) needs neither
torch nor diffusers."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FieldError
from .input_file import InputFile
from .schedulers import first_step
from .settings import BY_NAME, ENGINE, MAX_SEED, RANDOM_SEED


@dataclass(frozen=True)
class InterpolationEnd:
    """The far end of a Riffusion-style interpolation: its prompts and seed (alpha = 1 gives exactly this)."""

    image_prompt: str
    audio_prompt: str
    seed: int


def _default(name: str):
    return BY_NAME[name].default


@dataclass(frozen=True, kw_only=True)
class GenerateSettings:
    """Everything one generation depends on: the "engine" rows of `engine/settings.py`, whose defaults are the
    paper's (with the picture size of the audio model) and whose ranges are checked here.

    A plain value: each field holds what the pipeline uses, so the settings (and the record) say exactly what
    was made. `GenerateSettings.resolved` is the way in from a request's values, where two settings have a
    "work it out" value: seed -1 draws a fresh seed, and no image_start_step takes `image_start` of the steps
    (the paper's 10 of 100; DPM-Solver++ with 25 steps starts the image model at step 2, the same noise level).
    init_audio / init_picture with strength: riffing (start from that clip or picture, noised to `strength`).
    init_start / init_end: the region of init_audio to riff on, in seconds into it (a Live clip's markers);
    init_end None is the clip's end.
    method "imprint": the paper's baseline (image and spectrogram sampled alone, the image multiplied in).
    to_image_prompt / to_audio_prompt / to_seed with alpha: slerp of the noises and lerp of the text embeddings
    towards another prompt and seed.
    """

    image_prompt: str = _default("image_prompt")
    audio_prompt: str = _default("audio_prompt")
    image_negative_prompt: str = _default("image_negative_prompt")
    audio_negative_prompt: str = _default("audio_negative_prompt")
    seed: int
    steps: int = _default("steps")
    scheduler: str = _default("scheduler")
    image_guidance: float = _default("image_guidance")
    audio_guidance: float = _default("audio_guidance")
    audio_weight: float = _default("audio_weight")
    image_start: float = _default("image_start")
    image_start_step: int
    audio_start_step: int = _default("audio_start_step")
    variations: int = _default("variations")
    height: int | None = _default("height")
    width: int | None = _default("width")
    crop_last_columns: bool = _default("crop_last_columns")
    seconds: float | None = _default("seconds")
    loop: bool = _default("loop")
    method: str = _default("method")
    imprint_ratio: float = _default("imprint_ratio")
    init_audio: Path | InputFile | np.ndarray | None = field(default=_default("init_audio"), compare=False)
    init_start: float = _default("init_start")
    init_end: float | None = _default("init_end")
    init_picture: Path | InputFile | None = _default("init_picture")
    strength: float = _default("strength")
    to_image_prompt: str | None = _default("to_image_prompt")
    to_audio_prompt: str | None = _default("to_audio_prompt")
    to_seed: int | None = _default("to_seed")
    alpha: float = _default("alpha")

    @classmethod
    def resolved(cls, **values: Any) -> GenerateSettings:
        """The settings a request's values (by setting name; the rest take their defaults) ask for, with seed -1
        (or no seed) drawn here, leaving room for every variation's seed + i, and no image_start_step derived
        from image_start. The values these need are checked first, so a bad one is named as itself."""
        given = {name: BY_NAME[name].parse(values.get(name, _default(name)))
                 for name in ("seed", "variations", "steps", "image_start", "image_start_step")}
        seed = given["seed"]
        if seed == RANDOM_SEED:
            seed = random.randint(0, MAX_SEED - given["variations"] + 1)
        start = given["image_start_step"]
        if start is None:
            start = math.floor(given["image_start"] * given["steps"] + 1e-9)
        return cls(**{**values, "seed": seed, "image_start_step": start})

    def __post_init__(self) -> None:
        self.validate()
        for name in ("seed", "image_start_step"):  # what only `resolved` works out
            if getattr(self, name) in (RANDOM_SEED, None):
                raise FieldError(name, f"{getattr(self, name)} is worked out by GenerateSettings.resolved; "
                                       "give the value itself here")
        self._check_together()

    def validate(self) -> None:
        """Type and range of each field from the settings table; FieldError for the first bad one."""
        for name in ENGINE:
            value = getattr(self, name)
            if name == "init_audio" and isinstance(value, np.ndarray):
                if value.ndim != 1 or value.size == 0:
                    raise FieldError("init_audio", f"must be mono samples (1-D), got shape {value.shape}")
                if not np.isfinite(value).all():
                    raise FieldError("init_audio", "holds NaN or infinite samples")
                continue
            object.__setattr__(self, name, BY_NAME[name].parse(value))

    def _check_together(self) -> None:
        """What no single setting's range can say: settings that only make sense together."""
        if self.init_audio is not None and self.init_picture is not None:
            raise FieldError("init_audio", "give an init clip or an init picture, not both")
        if self.init_end is not None and self.init_end <= self.init_start:
            raise FieldError("init_end", f"must be after init_start ({self.init_start:g} s), got {self.init_end:g} s")
        if self.init_audio is None and (self.init_start or self.init_end is not None):
            raise FieldError("init_start" if self.init_start else "init_end",
                             "a region of init_audio; give init_audio too")
        if self.seed + self.variations - 1 > MAX_SEED:
            raise FieldError("seed", f"variation {self.variations - 1} would have seed "
                                     f"{self.seed + self.variations - 1}, past the largest, {MAX_SEED}; "
                                     f"give a seed at most {MAX_SEED - self.variations + 1}")
        if self.seconds is not None and self.width is not None:
            raise FieldError("seconds", "gives the picture's width; give seconds or width, not both")
        if self.loop and self.crop_last_columns:
            raise FieldError("crop_last_columns", "a loop keeps every column, or its end would not meet its start")
        if self.alpha and self.interpolate_to is None:
            raise FieldError("alpha", "needs an end to interpolate towards (to_image_prompt, to_audio_prompt "
                                      "or to_seed)")
        if self.method == "joint" and 0 < self.audio_weight < 1:  # both models must get to act
            for name in ("image_start_step", "audio_start_step"):
                if getattr(self, name) >= self.steps:
                    raise FieldError(name, f"{getattr(self, name)} leaves that model out of all {self.steps} steps "
                                           f"(they count from 0); use audio_weight 0 or 1 for one model alone")
            first = first_step(self.steps, self.strength) if self.riffing else 0
            if min(self.image_start_step, self.audio_start_step) > first:
                raise FieldError("image_start_step", f"one model must act from the first step that runs ({first}), "
                                                     f"but the image model starts at {self.image_start_step} and "
                                                     f"the audio model at {self.audio_start_step}")

    @property
    def interpolate_to(self) -> InterpolationEnd | None:
        """The far end when any `to_*` setting is given; the ones not given are this end's."""
        if self.to_image_prompt is None and self.to_audio_prompt is None and self.to_seed is None:
            return None
        return InterpolationEnd(
            self.image_prompt if self.to_image_prompt is None else self.to_image_prompt,
            self.audio_prompt if self.to_audio_prompt is None else self.to_audio_prompt,
            self.seed if self.to_seed is None else self.to_seed)

    @property
    def riffing(self) -> bool:
        return self.init_audio is not None or self.init_picture is not None

    @property
    def seeds(self) -> list[int]:
        """Variation i uses seed + i, so each variation can be made again alone."""
        return [self.seed + i for i in range(self.variations)]

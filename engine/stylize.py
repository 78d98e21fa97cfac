"""See a sound: a picture restyled so that it looks the way a sound sounds (after avstyle, with no training).

Li, Liu, Owens and Zhao's avstyle learns, from one hiking dataset, to restyle a picture by its sound. Their GAN's
weights are not to be had, and the models sonocanvas loads can do the job without training:
1. CLAP hears the sound (mono, at its processor's rate, its first `max_length_s` seconds, as the CLAP score
   reads it), brought to REFERENCE_DB first, so that its level never changes what it sounds like;
2. its cosine similarity to each phrase of a vocabulary of visual scenes ("heavy rain", "snow") is taken, the
   `top` most similar are kept, and a softmax of their similarities over `temperature` gives their weights;
3. the image model (Stable Diffusion 1.5) is conditioned on the weighted sum of those phrases' text embeddings;
4. the picture is restyled by SDEdit (partly noised, then denoised: what `--init-picture` does) at a strength
   that grows with the sound's level (`strength_for`): 0 below LEVEL_FLOOR_DB, MAX_STRENGTH from LEVEL_FULL_DB.
A silent sound returns the picture unchanged, and says so.

Two sounds mix by their embeddings: `(1 - mix) * a + mix * b` of the two (each of unit length) is what is
compared with the phrases, and the level is that of the mix's power, `(1 - mix) * P_a + mix * P_b`. A silent
sound in a mix brings no style, only its silence to the level.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from .denoisers import GuidedDenoiser
from .errors import FieldError
from .input_file import FileSource
from .models import DiffusionModel
from .sampler import make_scheduler, sample, timesteps_from
from .scorers import ClapScorer
from .stylize_settings import (
    DENOISED_SIDE,
    LEVEL_FLOOR_DB,
    MAX_PICTURE_SIDE,
    REFERENCE_DB,
    SOUND_RATE,
    StylizeSettings,
    level_db,
    strength_for,
)


@dataclass(frozen=True)
class Style:
    """What a sound looks like: the phrases kept, their weights (summing to 1), and how strongly to restyle."""

    phrases: list[str]
    weights: list[float]
    temperature: float
    level_db: float
    strength: float
    note: str = ""  # why nothing changes (silence), where that is so


_TEXT_CACHE: dict[tuple[int, tuple[str, ...]], torch.Tensor] = {}


def phrase_embeddings(clap: ClapScorer, phrases: Sequence[str]) -> torch.Tensor:
    """CLAP's text embeddings of a vocabulary, computed once per loaded CLAP model and vocabulary."""
    key = (id(clap.model), tuple(phrases))
    if key not in _TEXT_CACHE:
        _TEXT_CACHE[key] = clap.text_embeddings(list(phrases))
    return _TEXT_CACHE[key]


def hear(sources: Sequence[FileSource], fields: Sequence[str],
         settings: StylizeSettings) -> list[tuple[np.ndarray, int]]:
    """The sounds as `style_of` takes them (samples, rate): each read at SOUND_RATE with its silence kept (it
    changes nothing, and says so), the first between its clip's markers (`sound_start`, `sound_end`); FieldError
    on its field (`fields`, one per source) for a file that is no sound, or on the marker's for a region it does
    not hold."""
    from .audio import Region, load_audio

    region = Region(settings.sound_start, settings.sound_end, "sound_start", "sound_end")
    return [(load_audio(source, SOUND_RATE, field=field, silence=True, region=region if i == 0 else None),
             SOUND_RATE) for i, (source, field) in enumerate(zip(sources, fields, strict=True))]


def style_of(clap: ClapScorer, sounds: Sequence[tuple[np.ndarray, int]], settings: StylizeSettings) -> Style:
    """The style of one sound, or of two mixed by `settings.mix` (samples, sample rate each)."""
    if not 1 <= len(sounds) <= 2:
        raise FieldError("sound", f"give one sound, or two with mix; got {len(sounds)}")
    mix = settings.mix
    if len(sounds) == 2 and mix is None:
        raise FieldError("mix", "two sounds need mix: the second's share, 0 to 1")
    shares = [1.0] if mix is None or len(sounds) == 1 else [1 - mix, mix]
    heard = [clap.prepare(samples, rate) for samples, rate in sounds]
    levels = [level_db(h) for h in heard]
    power = sum((share * (10 ** (level / 10) if math.isfinite(level) else 0.0)
                 for share, level in zip(shares, levels, strict=True)), 0.0)
    level = 10 * math.log10(power) if power > 0 else -math.inf
    strength = strength_for(level) if settings.strength is None else settings.strength
    loud = [(share, h, lv) for share, h, lv in zip(shares, heard, levels, strict=True)
            if share > 0 and lv > LEVEL_FLOOR_DB]
    if not loud or strength == 0:
        note = (f"silent: the sound's level ({level:.1f} dBFS RMS) is at or below {LEVEL_FLOOR_DB:g} dBFS, so the "
                "picture is returned unchanged") if not loud else "strength 0: the picture is returned unchanged"
        return Style([], [], settings.temperature, level, 0.0, note)
    gain = [10 ** ((REFERENCE_DB - lv) / 20) for _, _, lv in loud]
    embeddings = clap.sound_embeddings([h * g for (_, h, _), g in zip(loud, gain, strict=True)], clap.sample_rate)
    embeddings = torch.nn.functional.normalize(embeddings, dim=-1)
    mixed = sum((share * e for (share, _, _), e in zip(loud, embeddings, strict=True)),
                torch.zeros_like(embeddings[0]))
    phrases = phrase_embeddings(clap, settings.vocabulary)
    similarity = torch.nn.functional.cosine_similarity(mixed[None], phrases, dim=-1)
    kept = torch.topk(similarity, min(settings.top, len(settings.vocabulary)))
    weights = torch.softmax(kept.values / settings.temperature, dim=0)
    return Style([settings.vocabulary[i] for i in kept.indices.tolist()], weights.tolist(), settings.temperature,
                 level, strength)


def picture_to_restyle(source: FileSource, field: str) -> Image.Image:
    """The picture a stylisation restyles, from `source`; FieldError(field) for none, or for one over
    MAX_PICTURE_SIDE pixels a side."""
    from .spectrogram import open_picture

    return open_picture(source, field, largest=MAX_PICTURE_SIDE)


def restyle(image: DiffusionModel, picture: Image.Image, style: Style, settings: StylizeSettings,
            on_step: Callable[[int, int], None] | None = None) -> Image.Image:
    """`picture` restyled by SDEdit towards the weighted phrases of `style`, at its strength, returned at the
    picture's own size (it is denoised at most DENOISED_SIDE pixels on its longer side, in multiples of 8); the
    picture itself where strength is 0."""
    rgb = picture.convert("RGB")
    if style.strength == 0 or not style.phrases:
        return rgb.copy()
    scale = min(1.0, DENOISED_SIDE / max(rgb.size))
    width, height = (max(8, round(side * scale / 8) * 8) for side in rgb.size)
    pixels = torch.from_numpy(np.asarray(rgb.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
                              / 255).permute(2, 0, 1)[None]
    latents = image.encode(pixels)
    phrases = image.encode_prompts(style.phrases)
    weights = torch.tensor(style.weights, dtype=phrases.dtype, device=phrases.device)[:, None, None]
    conditioning = (weights * phrases).sum(dim=0, keepdim=True)
    embeddings = torch.cat([image.encode_prompts([settings.negative_prompt]), conditioning])
    scheduler = make_scheduler(settings.scheduler, image.scheduler_config)
    timesteps, first = timesteps_from(scheduler, settings.steps, style.strength)
    if len(timesteps) == 0:
        return rgb.copy()
    generator = torch.Generator("cpu").manual_seed(settings.seed)
    noise = torch.randn(latents.shape, generator=generator, dtype=latents.dtype).to(latents.device)
    start = scheduler.add_noise(latents, noise, timesteps[:1])
    denoiser = GuidedDenoiser(image.unet, embeddings, settings.image_guidance)
    out = image.decode(sample(denoiser, scheduler, start, timesteps, first, on_step, [generator]))
    restyled = Image.fromarray((out[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8))
    return restyled.resize(rgb.size, Image.Resampling.LANCZOS)


def stylize_record(settings: StylizeSettings, style: Style, picture: Any, sounds: Sequence[Any],
                   image: DiffusionModel, clap: str, size: tuple[int, int]) -> dict:
    """The JSON record of a stylisation, which `sonocanvas replay` makes again: `stylize` (what the sound was
    seen as), every setting, the files by path and content (`picture`, `sounds`: paths or `InputFile`s), the
    models, the device and the versions."""
    from datetime import datetime, timezone

    from .record import file_identity, package_versions

    return {
        "sonocanvas": "stylize", "record": 1, "settings": settings.to_dict(),
        "stylize": {"phrases": style.phrases, "weights": style.weights, "temperature": style.temperature,
                    "level_db": style.level_db, "strength": style.strength,  # -inf (silence): null in the file
                    **({"note": style.note} if style.note else {})},
        "inputs": {"picture": file_identity(picture), "sounds": [file_identity(sound) for sound in sounds]},
        "models": {"image": image.identity(), "clap": str(clap)},
        "size": list(size), "device": str(image.device), "dtype": str(image.dtype).removeprefix("torch."),
        "versions": package_versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

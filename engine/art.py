"""Spectrogram art: any picture becomes a sound whose spectrogram shows it, any sound becomes a picture.

Bright is loud whatever the format: art uses its format with `inverted=False`, so Riffusion's
dark-is-loud convention stays with pictures that go to and from its model. A picture that already
carries spectrogram parameters (one `decode` wrote, or one from Riffusion) is read in its own
format and convention, so it turns back into the sound it came from.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from .errors import FieldError
from .spectrogram import SpectrogramFormat, get_format, open_picture, picture_from_png

MAX_SECONDS = 60.0
"""Longest sound `encode` makes: Griffin-Lim holds whole spectrograms, about 1.5 GB a minute for Riffusion."""


def art_format(fmt: SpectrogramFormat) -> SpectrogramFormat:
    """`fmt` with bright = loud."""
    return dataclasses.replace(fmt, inverted=False)


def load_art(
    path: str | os.PathLike[str], format_name: str | None = None, seconds: float | None = None,
    field: str = "picture",
) -> tuple[SpectrogramFormat, torch.Tensor]:
    """The format and picture `(n_mels, frames)` in [0, 1] that a picture file turns into.

    A picture with spectrogram parameters keeps its format, convention and width, unless
    `format_name` names another format (it is then art like any other picture). Other pictures
    become art in `format_name` (default auffusion): grey, transparent as black (silent), resized
    to the format's height and to `seconds` (default: the model's width). `field` names the picture
    in a FieldError, as the caller calls it.
    """
    chosen = get_format(format_name) if format_name is not None else None
    if seconds is not None and not 0 < seconds <= MAX_SECONDS:
        raise FieldError("seconds", f"{seconds} is out of range; give more than 0 and at most {MAX_SECONDS:g}")
    image = open_picture(path, field)
    fmt, picture = _spectrogram_of(image)
    if fmt is None or (chosen is not None and chosen.name != fmt.name):
        fmt, picture = art_format(chosen or get_format("auffusion")), _grey(image)
        width = fmt.frames
    else:
        width = picture.shape[-1]
    if seconds is not None:
        width = fmt.frames_for(round(seconds * fmt.sample_rate))
        if width < 2:
            raise FieldError("seconds", f"{seconds} is shorter than two {fmt.name} frames")
    return fmt, _resize(picture, fmt.n_mels, width)


def sound_from_picture(
    fmt: SpectrogramFormat, picture: torch.Tensor, n_iter: int = 64, seed: int = 0
) -> np.ndarray:
    """Mono float32 audio at `fmt.sample_rate` (not normalised); the same picture always gives the same sound."""
    generator = torch.Generator(device=picture.device).manual_seed(seed)
    return fmt.audio_from_picture(picture, n_iter=n_iter, generator=generator).cpu().numpy()


def picture_from_sound(fmt: SpectrogramFormat, audio: np.ndarray) -> Image.Image:
    """A bright-is-loud picture of mono audio at `fmt.sample_rate`, carrying its parameters for `encode`."""
    art = art_format(fmt)
    return art.png(art.picture_from_audio(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))))


def _spectrogram_of(image: Image.Image) -> tuple[SpectrogramFormat | None, torch.Tensor | None]:
    try:
        return picture_from_png(image)
    except ValueError:
        return None, None


def _grey(image: Image.Image) -> torch.Tensor:
    """Brightness in [0, 1], the right way up (phone photos are stored sideways with an EXIF note),
    transparent as black; 16-bit and float greys keep their depth rather than saturate in 8 bits."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16L", "I;16B", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        full = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1e-12)
        return torch.from_numpy(np.clip(values / full, 0, 1))
    rgba = image.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba).convert("L")
    return torch.from_numpy(np.asarray(flat, dtype=np.float32) / 255)


def _resize(picture: torch.Tensor, height: int, width: int) -> torch.Tensor:
    if picture.shape == (height, width):
        return picture
    resized = F.interpolate(picture[None, None], size=(height, width), mode="bilinear", antialias=True)
    return resized[0, 0].clamp(0, 1)

"""Spectrogram art: any picture becomes a sound whose spectrogram shows it, any sound becomes a picture.

Bright is loud whatever the format: art uses its format with `inverted=False`, so Riffusion's
dark-is-loud convention stays with pictures that go to and from its model. A picture that already
carries spectrogram parameters (one `decode` wrote, or one from Riffusion) is read in its own
format and convention, so it turns back into the sound it came from.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr
import torch
import torch.nn.functional as F
from pedalboard.io import AudioFile
from PIL import Image, ImageOps

from .audio import audio_format, check_depth
from .errors import FieldError
from .files import atomic_write
from .input_file import FileSource
from .spectrogram import SpectrogramFormat, get_format, open_picture, picture_from_png

MAX_SECONDS = 3600.0
"""Longest sound `load_art` makes: an hour. Memory does not grow with it (`write_sound`); time does, linearly."""


def art_format(fmt: SpectrogramFormat) -> SpectrogramFormat:
    """`fmt` with bright = loud."""
    return dataclasses.replace(fmt, inverted=False)


def load_art(
    path: FileSource, format_name: str | None = None, seconds: float | None = None,
    field: str = "picture", max_seconds: float = MAX_SECONDS,
) -> tuple[SpectrogramFormat, torch.Tensor]:
    """The format and picture `(n_mels, frames)` in [0, 1] that a picture file turns into.

    A picture with spectrogram parameters keeps its format, convention and width, unless
    `format_name` names another format (it is then art like any other picture). Other pictures
    become art in `format_name` (default auffusion): grey, transparent as black (silent), resized
    to the format's height and to `seconds` (default: the model's width). `field` names the picture
    in a FieldError, as the caller calls it. A sound longer than `max_seconds` is refused before any work:
    a picture's own metadata (anyone's) never lifts the bound.
    """
    chosen = get_format(format_name) if format_name is not None else None
    if seconds is not None and not 0 < seconds <= MAX_SECONDS:
        raise FieldError("seconds", f"{seconds} is out of range; give more than 0 and at most {MAX_SECONDS:g}")
    image = open_picture(path, field)
    own = _spectrogram_of(image)
    if own is None or (chosen is not None and chosen.name != own[0].name):
        fmt, picture = art_format(chosen or get_format("auffusion")), _grey(image)
        width = fmt.frames
    else:
        fmt, picture = own
        width = picture.shape[-1]
    if seconds is not None:
        width = fmt.frames_for(round(seconds * fmt.sample_rate))
        if width < 2:
            raise FieldError("seconds", f"{seconds} is shorter than two {fmt.name} frames")
    length = (width - 1) * fmt.hop_length / fmt.sample_rate
    if length > max_seconds:
        raise FieldError("seconds" if seconds is not None else field,
                         f"the sound would last {length:.0f} s ({width} columns of {fmt.hop_length} samples at "
                         f"{fmt.sample_rate} Hz); at most {max_seconds:g} s")
    return fmt, _resize(picture, fmt.n_mels, width)


def sound_from_picture(
    fmt: SpectrogramFormat, picture: torch.Tensor, n_iter: int = 64, seed: int = 0,
    on_chunk: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Mono float32 audio at `fmt.sample_rate` (not normalised); the same picture always gives the same sound."""
    generator = torch.Generator(device=picture.device).manual_seed(seed)
    return fmt.audio_from_picture(picture, n_iter=n_iter, generator=generator, on_chunk=on_chunk).cpu().numpy()


def write_sound(
    fmt: SpectrogramFormat, picture: torch.Tensor, path: str | os.PathLike[str], sample_rate: int,
    bit_depth: int = 24, n_iter: int = 64, seed: int = 0, peak_db: float = -1.0, exclusive: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
) -> int:
    """`sound_from_picture`, resampled to `sample_rate`, peak-normalised to `peak_db` and written to `path` (its
    extension names the format), in memory that does not grow with the sound's length: the pieces are resampled
    as a stream into a float32 scratch file beside `path` (the peak tracked on the way), then scaled into `path`
    through `atomic_write`. Returns the number of samples written."""
    path = Path(path)
    kind = check_depth(audio_format(path), bit_depth)
    generator = torch.Generator(device=picture.device).manual_seed(seed)
    stream = None if fmt.sample_rate == sample_rate else \
        soxr.ResampleStream(fmt.sample_rate, sample_rate, 1, dtype="float32", quality="VHQ")
    peak, samples = 0.0, 0
    with tempfile.TemporaryFile(dir=path.parent, prefix=".sonocanvas-", suffix=".f32") as scratch:
        pieces = (p.reshape(-1).cpu().numpy().astype(np.float32) for p in
                  fmt.audio_pieces(picture, n_iter, generator, on_chunk))
        for block in itertools.chain(pieces, [None]):
            if stream is not None:
                block = stream.resample_chunk(np.zeros(0, np.float32) if block is None else block, last=block is None)
            if block is None or not block.size:
                continue
            peak = max(peak, float(np.abs(block).max()))
            samples += block.size
            scratch.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        scale = np.float32(10.0 ** (peak_db / 20.0) / peak) if peak > 0 else np.float32(1)

        def write(f) -> None:
            scratch.seek(0)
            with AudioFile(f, "w", samplerate=sample_rate, num_channels=1, bit_depth=bit_depth, format=kind) as out:
                while block := scratch.read(1 << 22):
                    out.write(np.frombuffer(block, np.float32)[None] * scale)

        atomic_write(path, write, exclusive=exclusive)
    return samples


def picture_from_sound(fmt: SpectrogramFormat, audio: np.ndarray,
                       on_chunk: Callable[[int, int], None] | None = None) -> Image.Image:
    """A bright-is-loud picture of mono audio at `fmt.sample_rate`, carrying its parameters for `encode`."""
    art = art_format(fmt)
    samples = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    return art.png(art.picture_from_mel(art.mel_from_audio(samples, on_chunk)))


def _spectrogram_of(image: Image.Image) -> tuple[SpectrogramFormat, torch.Tensor] | None:
    """The format and picture `image` carries, or None when it carries no spectrogram parameters."""
    try:
        return picture_from_png(image)
    except ValueError:
        return None


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

"""Canvases wider than a model's window, and canvases circular in time: long clips and seamless loops.

Two training-free techniques, both as wrappers around the ordinary pieces so that the sampling loop stays one loop:

- **MultiDiffusion** (Bar-Tal et al., 2023): `WindowedDenoiser` runs any denoiser (the joint one: both models, each
  with its own guidance) on overlapping windows of the model's native width and averages the predictions where
  windows overlap. Windows start every `stride` latent columns; the last one is flush with the right edge, so every
  column is covered. A smaller stride means more overlap: smoother joins, proportionally more model calls.
- **Circular time**: `circular_time(*modules)` makes every 2-D convolution of the given modules pad the time axis
  (the last one) circularly instead of with zeros, and restores them afterwards so that other jobs are unaffected.
  A latent denoised that way is periodic in time: a picture that tiles and a sound that loops. With a canvas wider
  than one window, the windows themselves wrap around the canvas (`wrap=True`) instead, since a window is only a
  piece of the circle: padding it circularly would join its own two ends.

`loop_sound` is the last piece of a loop: the spectrogram is rendered with a few columns of its own other end on
each side, then cropped to exactly one period, so the last sample flows into the first.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from .denoisers import Denoiser

LOOP_MARGIN = 16
"""Spectrogram columns of a loop's other end rendered on each side of it: well beyond the vocoder's and
Griffin-Lim's reach (a few frames), so the cropped period's edges hear their true neighbours."""

_Sound = TypeVar("_Sound", torch.Tensor, np.ndarray)
"""What `loop_sound`'s renderer gives (a vocoder's tensor, or a pipeline's numpy array): the period is cut from it."""


def window_stride(window: int) -> int:
    """Latent columns between window starts: half a window, so every column away from the canvas's ends is
    denoised by two windows and each join is averaged over half a window (MultiDiffusion uses an eighth: smoother,
    four times the model calls). The cost is about twice the windows needed to tile the canvas."""
    return max(1, window // 2)


def window_seconds(window: int, scale: int, column_seconds: float) -> tuple[float, float]:
    """A window of `window` latent columns, and its stride (`window_stride`), in seconds of sound: each latent
    column is `scale` picture columns (the VAE's factor) of `column_seconds` each."""
    return window * scale * column_seconds, window_stride(window) * scale * column_seconds


def window_starts(width: int, window: int, stride: int, wrap: bool = False) -> list[int]:
    """Left edges of the windows that cover a canvas `width` latent columns wide.

    One window when the canvas fits in it. Otherwise windows every `stride` columns: plain, the last one moved
    flush with the right edge; wrapped, around the circle, the last ones crossing the edge.
    """
    if not 0 < stride <= window:
        raise ValueError(f"stride: must be between 1 and the window's {window} columns, got {stride}")
    if width <= window:
        return [0]
    if wrap:
        return [i * stride for i in range(math.ceil(width / stride))]
    count = math.ceil((width - window) / stride) + 1
    return [min(i * stride, width - window) for i in range(count)]


@dataclass
class WindowedDenoiser:
    """MultiDiffusion over any denoiser: the average, column by column, of its predictions on each window."""

    denoiser: Denoiser
    window: int  # the model's native width, in latent columns
    stride: int  # latent columns between window starts
    wrap: bool = False  # a circular canvas: windows wrap around its end
    heard_at: Callable[[int], Denoiser] | None = None
    """With a prompt per section (engine/sections.py): the denoiser of the window from a column, hearing its
    sections' prompts; None: `denoiser` in every window."""

    def __call__(self, latents: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor:
        width = latents.shape[-1]
        starts = window_starts(width, self.window, self.stride, self.wrap)
        if len(starts) == 1:
            return self.denoiser(latents, t, step)
        total = torch.zeros_like(latents)
        count = torch.zeros(width, dtype=latents.dtype, device=latents.device)
        for start in starts:
            columns = torch.arange(start, start + self.window, device=latents.device) % width
            denoiser = self.denoiser if self.heard_at is None else self.heard_at(start)
            total.index_add_(latents.dim() - 1, columns, denoiser(latents[..., columns], t, step))
            count.index_add_(0, columns, torch.ones_like(columns, dtype=latents.dtype))
        return total / count


@contextmanager
def circular_time(*modules: torch.nn.Module) -> Iterator[None]:
    """Within the block, each zero-padded `Conv2d` in `modules` pads time (the last axis) circularly and
    frequency (or picture height) with zeros, as before. Convolutions without padding along time are left alone."""
    patched = []
    for module in modules:
        for conv in module.modules():
            if isinstance(conv, torch.nn.Conv2d) and conv.padding_mode == "zeros" and isinstance(conv.padding, tuple) \
                    and conv.padding[1] > 0 and "_conv_forward" not in vars(conv):
                # an instance attribute shadows the class's method (set through vars(): a type checker refuses
                # assigning to a method; nn.Module's __setattr__ would store a function there all the same)
                vars(conv)["_conv_forward"] = _circular_forward(conv)
                patched.append(conv)
    try:
        yield
    finally:
        for conv in patched:
            del conv._conv_forward


def _circular_forward(
    conv: torch.nn.Conv2d,
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]:
    assert isinstance(conv.padding, tuple)  # circular_time patches only convolutions with numeric padding
    rows, columns = conv.padding

    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        x = F.pad(F.pad(x, (columns, columns, 0, 0), mode="circular"), (0, 0, rows, rows))
        return F.conv2d(x, weight, bias, conv.stride, 0, conv.dilation, conv.groups)

    return forward


def loop_sound(to_sound: Callable[[torch.Tensor], _Sound], spectrogram: torch.Tensor, hop: int,
               margin: int) -> _Sound:
    """One period of the sound of a spectrogram that is circular in time: exactly `columns * hop` samples.

    `to_sound` (a vocoder or Griffin-Lim) renders the spectrogram with `margin` columns of its other end on each
    side, and the result is cropped to the period in the middle, so its edges were rendered with their true
    neighbours and the last sample flows into the first.
    """
    columns = spectrogram.shape[-1]
    margin = min(margin, columns)
    wrapped = torch.cat([spectrogram[..., columns - margin:], spectrogram, spectrogram[..., :margin]], dim=-1)
    sound = to_sound(wrapped)
    return sound[..., margin * hop: (margin + columns) * hop]

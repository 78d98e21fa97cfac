"""Previews while sampling: the latent canvas as a small colour picture, with no VAE.

Stable Diffusion 1.5's four latent channels map to RGB almost linearly. The 4 x 3 matrix below is the
approximation the image tools musicians know (ComfyUI's `latent_rgb_factors` for SD 1.5, A1111's "Approx
cheap" preview), applied to latents in diffusers' scaled space, as those tools apply it. Auffusion and Riffusion
are SD 1.5 fine-tunes with its VAE, so the one matrix serves every latent sonocanvas samples. A preview costs a
matrix product over the latents and a resize: nothing next to a UNet call.

What is previewed is the sampler's current estimate of the clean canvas where its scheduler gives one
(`pred_original_sample`: DDIM, DDPM, the Euler family), else the noisy latents themselves (DPM-Solver++, UniPC),
which come clear only towards the end. Of a batch, the first variation is previewed: the musician watches one
picture form, and the others share its prompts.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

LATENT_RGB = torch.tensor([
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
])
"""Each latent channel's contribution to R, G, B, for SD 1.5's VAE (values in about -1 ... 1)."""
MAX_WIDTH = 256
"""A preview is at most this wide: small to write, to send and to draw."""


def preview_picture(latents: torch.Tensor, max_width: int = MAX_WIDTH) -> Image.Image:
    """The first of `latents` (batch, 4, rows, columns) as an RGB picture with the canvas's aspect (columns over
    rows), at most `max_width` pixels wide and at least one high."""
    first = latents[0].detach().to("cpu", torch.float32)  # (4, rows, columns)
    rgb = torch.einsum("chw,cd->hwd", first, LATENT_RGB)
    pixels = ((rgb + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    rows, columns = pixels.shape[:2]
    scale = 8 if columns * 8 <= max_width else max_width / columns  # the picture's own size where it fits
    size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
    return Image.fromarray(np.ascontiguousarray(pixels)).resize(size, Image.Resampling.BILINEAR)


@dataclass(frozen=True)
class Previews:
    """Every `every` steps (every > 0), `show(step, total, picture)` with the canvas as it stands."""

    every: int
    show: Callable[[int, int, Image.Image], None]

    def __call__(self, step: int, total: int, latents: torch.Tensor) -> None:
        """The sampler's hook: after `step` of `total`, with its current estimate of the canvas."""
        if step % self.every == 0 and step < total:  # at the last step the clip itself follows at once
            self.show(step, total, preview_picture(latents))

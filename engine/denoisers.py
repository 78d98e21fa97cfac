"""Denoisers: callables (latents, timestep, step index) -> predicted noise, k-diffusion style.

One shape, `Denoiser`, for all of them, so that each can stand wherever another does (the sampling loop, a
window of the canvas): `GuidedDenoiser` is one model with classifier-free guidance over its own prompt and
negative prompt; `JointDenoiser` is the paper's weighted sum of two, each active from its own start step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from .errors import FieldError


class Denoiser(Protocol):
    def __call__(self, latents: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor: ...


@dataclass
class GuidedDenoiser:
    """eps = eps_uncond + g * (eps_cond - eps_uncond), both halves from ONE batched UNet call.

    `embeddings` is (2 * batch, tokens, width): the negative prompt's rows first, then the prompt's.
    """

    unet: torch.nn.Module
    embeddings: torch.Tensor
    guidance: float

    def __call__(self, latents: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor:
        """`step` is not used: one guided model acts the same at every step."""
        both = torch.cat([latents, latents]).to(self.embeddings.dtype)
        uncond, cond = self.unet(both, t, encoder_hidden_states=self.embeddings).sample.chunk(2)
        return (uncond + self.guidance * (cond - uncond)).to(latents.dtype)


@dataclass
class JointDenoiser:
    """(1 - w) * eps_image + w * eps_audio once both act; before that, the one that acts alone.

    A model that is absent (None) is never evaluated, so w = 0 or w = 1 is exactly single-model sampling.
    """

    image: GuidedDenoiser | None
    audio: GuidedDenoiser | None
    audio_weight: float
    image_start_step: int
    audio_start_step: int

    def __call__(self, latents: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor:
        image = self.image if step >= self.image_start_step or self.audio is None else None
        audio = self.audio if step >= self.audio_start_step or self.image is None else None
        if image is not None and audio is not None:
            w = self.audio_weight
            return (1.0 - w) * image(latents, t, step) + w * audio(latents, t, step)
        if image is not None:
            return image(latents, t, step)
        if audio is not None:
            return audio(latents, t, step)
        raise FieldError("image_start_step", f"no model acts at step {step} (image from {self.image_start_step}, "
                         f"audio from {self.audio_start_step})")

"""The sampling loop over any diffusers scheduler, and the schedulers of `schedulers.py` built by name."""
from __future__ import annotations

import inspect
from collections.abc import Callable

import torch

from .denoisers import Denoiser
from .errors import FieldError
from .schedulers import SCHEDULERS, first_step


def make_scheduler(name: str, config: dict):
    """A fresh scheduler of the named kind, from a model's scheduler config (its noise schedule)."""
    import diffusers

    if name not in SCHEDULERS:
        raise FieldError("scheduler", f"unknown {name!r}; choose one of {', '.join(SCHEDULERS)}")
    class_name, overrides = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config({**config, **overrides})


def timesteps_from(scheduler, steps: int, strength: float = 1.0) -> tuple[torch.Tensor, int]:
    """Set `steps` steps and keep the last `strength` of them (img2img): (timesteps, index of the first one).

    The index counts whole steps of the full schedule, so start steps mean the same noise level with or without
    an init picture.
    """
    scheduler.set_timesteps(steps)
    first = first_step(steps, strength)
    begin = first * scheduler.order
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(begin)
    return scheduler.timesteps[begin:], first


def sample(denoiser: Denoiser, scheduler, latents: torch.Tensor, timesteps: torch.Tensor, first_step: int = 0,
           on_step: Callable[[int, int], None] | None = None,
           generator: list[torch.Generator] | None = None,
           on_latents: Callable[[int, int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """One denoiser evaluation and one scheduler step per timestep; `on_step(done, total)` after each.

    `generator` (one per batch item) feeds the stochastic schedulers (euler_a, ddpm), so a variation made in a batch
    equals the same seed made alone. `on_latents(done, total, canvas)` (previews) gets the scheduler's estimate of
    the clean latents where it gives one (`pred_original_sample`), else the latents after the step; it only
    reads them, so the result is the same with it or without.
    """
    extra = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
    for i, t in enumerate(timesteps):
        eps = denoiser(scheduler.scale_model_input(latents, t), t, first_step + i // scheduler.order)
        out = scheduler.step(eps, t, latents, **extra)
        latents = out.prev_sample
        if on_step is not None:  # first: a cancel it raises stops before a preview is made
            on_step(i + 1, len(timesteps))
        if on_latents is not None:
            estimate = getattr(out, "pred_original_sample", None)
            on_latents(i + 1, len(timesteps), latents if estimate is None else estimate)
    return latents

"""The sampling loop over any diffusers scheduler, and the schedulers it can use, by name."""
from __future__ import annotations

import inspect
from typing import Callable, Protocol

import torch

from .errors import FieldError

# Names a user can give -> (diffusers class, config overrides). "dpm++" is DPM-Solver++(2M), the fast choice.
# Each one lands on the same result from a part-way start (riffing) as from the full schedule, and counts its
# evaluations in whole steps, so start steps mean one noise level. Not offered for that reason: PNDM (its PLMS
# warm-up repeats a timestep, which shifts the step count by one and cannot be sliced part-way) and LMS (it takes
# its full order from the first step of a part-way start, with only one derivative stored).
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "ddim": ("DDIMScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "dpm++-karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
}


class Denoiser(Protocol):
    def __call__(self, latents: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor: ...


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


def first_step(steps: int, strength: float) -> int:
    """The first of `steps` steps that runs when only the last `strength` of the schedule does (at least one)."""
    return steps - min(max(int(steps * strength), 1), steps)


def sample(denoiser: Denoiser, scheduler, latents: torch.Tensor, timesteps: torch.Tensor, first_step: int = 0,
           on_step: Callable[[int, int], None] | None = None,
           generator: list[torch.Generator] | None = None) -> torch.Tensor:
    """One denoiser evaluation and one scheduler step per timestep; `on_step(done, total)` after each.

    `generator` (one per batch item) feeds the stochastic schedulers (euler_a, ddpm), so a variation made in a batch
    equals the same seed made alone.
    """
    extra = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
    for i, t in enumerate(timesteps):
        eps = denoiser(scheduler.scale_model_input(latents, t), t, first_step + i // scheduler.order)
        latents = scheduler.step(eps, t, latents, **extra).prev_sample
        if on_step is not None:
            on_step(i + 1, len(timesteps))
    return latents

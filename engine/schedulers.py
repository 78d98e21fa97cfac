"""The schedulers a user can name, as data: the settings table offers them without importing torch or
diffusers (`sonocanvas --help` answers at once); `engine/sampler.py` builds them."""
from __future__ import annotations

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


def first_step(steps: int, strength: float) -> int:
    """The first of `steps` steps that runs when only the last `strength` of the schedule does (at least one)."""
    return steps - min(max(int(steps * strength), 1), steps)

"""The models sonocanvas knows by name: the default hub ids, and one registry of audio-model kinds.

Plain data, with no torch: the settings table's choices, the command line's help, the server's config, the
tiny-random set, the studio and `/sonocanvas/limits` all read it without loading a model library. Adding an
audio model means one `AudioModelKind` here (and its spectrogram format and loading in `spectrogram` and
`models`).
"""
from __future__ import annotations

from dataclasses import dataclass

IMAGE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
"""Stable Diffusion 1.5, the image model of Images that Sound."""
IMAGE_SIZE = (512, 512)
"""Its native picture size (height, width)."""
CLIP_MODEL = "openai/clip-vit-base-patch16"
"""The CLIP model that scores a clip's picture against its image prompt (`keep`, docs/ranking.md)."""
CLAP_MODEL = "laion/clap-htsat-unfused"
"""The CLAP model that scores a clip's sound against its audio prompt."""


@dataclass(frozen=True)
class AudioModelKind:
    """A kind of spectrogram model that denoises beside the image model."""

    name: str
    hub_id: str
    """Its default weights."""
    native_size: tuple[int, int]
    """The picture size it was trained on (height, width); a UNet whose config names a size (tiny-random)
    uses that instead."""
    vocoder: bool
    """Whether its folder carries a HiFi-GAN `vocoder/` (Auffusion); without one, Griffin-Lim makes the sound."""
    column_seconds: float
    """The sound one picture column holds: its format's hop over its sample rate (`tests/test_catalog.py` holds
    the two equal). A request that gives a `width` and no `seconds` is as long as its columns, and is bounded
    as such before any work."""

    @property
    def format(self) -> str:
        """Its spectrogram format (`spectrogram.FORMATS`): each kind draws its pictures its own way."""
        return self.name


AUDIO_MODELS: dict[str, AudioModelKind] = {kind.name: kind for kind in (
    AudioModelKind("auffusion", "auffusion/auffusion-full-no-adapter", (256, 1024), vocoder=True,
                   column_seconds=160 / 16000),
    AudioModelKind("riffusion", "riffusion/riffusion-model-v1", (512, 512), vocoder=False,
                   column_seconds=441 / 44100),
)}
"""By name, the default first."""
DEFAULT_AUDIO_MODEL = next(iter(AUDIO_MODELS))
DEFAULT_AUDIO_MODELS: dict[str, str] = {name: kind.hub_id for name, kind in AUDIO_MODELS.items()}
"""By kind, its default hub id: what a config names when it names nothing."""


DEVICES = ("auto", "cuda", "mps", "cpu")
"""Where the models run: `auto` takes cuda, else mps, else cpu; `cuda:N` names one GPU of several."""
DTYPES = ("fp16", "bf16", "fp32")
DTYPE_NAMES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
"""torch's name of each dtype (as a record holds it) to the name an option takes."""


def device_problem(device: str) -> str | None:
    """Why `device` names no device sonocanvas can run on, or None: one of DEVICES, or `cuda:N`."""
    if device in DEVICES or (device.startswith("cuda:") and device[5:].isdigit()):
        return None
    return f"must be auto, cuda (cuda:N for one GPU of several), mps or cpu, got {device!r}"

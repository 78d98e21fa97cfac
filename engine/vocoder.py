"""Auffusion's vocoder: a HiFi-GAN generator (natural-log mel in, waveform out), built from `vocoder/config.json`.

The checkpoint (`vocoder/vocoder.pt`, state dict under the key "generator") was saved with the old
`torch.nn.utils.weight_norm`, whose parameters are `weight_g` / `weight_v`; we build the convolutions with
`torch.nn.utils.parametrizations.weight_norm` and rename those keys on load, then fold the norm into plain weights
as Auffusion does for inference.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from .errors import FieldError

LRELU_SLOPE = 0.1


class VocoderError(FieldError):
    """The vocoder folder is missing, incomplete or does not match its config."""


@dataclass(frozen=True)
class VocoderConfig:
    """The keys of HiFi-GAN's config.json that fix the generator's architecture and rate."""

    num_mels: int
    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock: str
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    sampling_rate: int
    hop_size: int

    @classmethod
    def from_json(cls, path: Path) -> VocoderConfig:
        raw = json.loads(Path(path).read_text())
        try:
            return cls(
                num_mels=int(raw["num_mels"]),
                upsample_rates=tuple(raw["upsample_rates"]),
                upsample_kernel_sizes=tuple(raw["upsample_kernel_sizes"]),
                upsample_initial_channel=int(raw["upsample_initial_channel"]),
                resblock=str(raw["resblock"]),
                resblock_kernel_sizes=tuple(raw["resblock_kernel_sizes"]),
                resblock_dilation_sizes=tuple(tuple(d) for d in raw["resblock_dilation_sizes"]),
                sampling_rate=int(raw["sampling_rate"]),
                hop_size=int(raw["hop_size"]),
            )
        except KeyError as error:
            raise VocoderError("vocoder", f"{path} lacks the key {error.args[0]!r}") from error

    def to_json(self) -> dict:
        return {
            "num_mels": self.num_mels,
            "upsample_rates": list(self.upsample_rates),
            "upsample_kernel_sizes": list(self.upsample_kernel_sizes),
            "upsample_initial_channel": self.upsample_initial_channel,
            "resblock": self.resblock,
            "resblock_kernel_sizes": list(self.resblock_kernel_sizes),
            "resblock_dilation_sizes": [list(d) for d in self.resblock_dilation_sizes],
            "sampling_rate": self.sampling_rate,
            "hop_size": self.hop_size,
        }


def _padding(kernel_size: int, dilation: int = 1) -> int:
    return (kernel_size * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """Three dilated convolutions, each followed by an undilated one, with residual connections."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=_padding(kernel_size, d)))
            for d in dilation
        )
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, padding=_padding(kernel_size)))
            for _ in dilation
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class ResBlock2(nn.Module):
    """Dilated convolutions with residual connections (the lighter HiFi-GAN variant)."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple[int, ...]):
        super().__init__()
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=_padding(kernel_size, d)))
            for d in dilation
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
        return x


class HifiGan(nn.Module):
    """The HiFi-GAN generator: (batch, num_mels, frames) log mel -> (batch, frames * hop) waveform in [-1, 1]."""

    def __init__(self, config: VocoderConfig):
        super().__init__()
        self.config = config
        c0 = config.upsample_initial_channel
        self.conv_pre = weight_norm(nn.Conv1d(config.num_mels, c0, 7, 1, padding=3))
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes, strict=True)):
            odd = (k - u) % 2
            self.ups.append(weight_norm(nn.ConvTranspose1d(
                c0 // 2**i, c0 // 2 ** (i + 1), k, u, padding=(k - u) // 2 + odd, output_padding=odd)))
        block = ResBlock1 if config.resblock == "1" else ResBlock2
        self.resblocks = nn.ModuleList(
            block(c0 // 2 ** (i + 1), k, d)
            for i in range(len(self.ups))
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes, strict=True)
        )
        self.conv_post = weight_norm(nn.Conv1d(c0 // 2 ** len(self.ups), 1, 7, 1, padding=3))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        kernels = len(self.config.resblock_kernel_sizes)
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            x = sum(self.resblocks[i * kernels + j](x) for j in range(kernels)) / kernels
        x = torch.tanh(self.conv_post(F.leaky_relu(x)))
        return x.squeeze(1)

    def fold_weight_norm(self) -> HifiGan:
        """Replace each weight-normalised weight by its value: the same output, less work per call."""
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self


def from_legacy_weight_norm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename old `weight_norm` keys (`weight_g`, `weight_v`) to the parametrization's (`original0`, `original1`)."""
    renamed = {}
    for key, value in state_dict.items():
        for old, new in (("weight_g", "parametrizations.weight.original0"),
                         ("weight_v", "parametrizations.weight.original1")):
            if key.endswith(old):
                key = key[: -len(old)] + new
        renamed[key] = value
    return renamed


def to_legacy_weight_norm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of `from_legacy_weight_norm`: how Auffusion's checkpoint names the parameters."""
    renamed = {}
    for key, value in state_dict.items():
        key = key.replace("parametrizations.weight.original0", "weight_g")
        key = key.replace("parametrizations.weight.original1", "weight_v")
        renamed[key] = value
    return renamed


def load_vocoder(folder: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> HifiGan:
    """Build the generator from `folder/config.json` and load `folder/vocoder.pt`; errors name the file and the
    fault."""
    folder = Path(folder)
    config_path, weights_path = folder / "config.json", folder / "vocoder.pt"
    for path in (config_path, weights_path):
        if not path.is_file():
            raise VocoderError("vocoder", f"{path} is missing; an Auffusion model needs vocoder/config.json "
                               "and vocoder/vocoder.pt")
    try:
        config = VocoderConfig.from_json(config_path)
    except (json.JSONDecodeError, TypeError, ValueError) as error:
        if isinstance(error, VocoderError):
            raise
        raise VocoderError("vocoder", f"{config_path} is not a valid HiFi-GAN config ({error})") from error
    try:
        checkpoint = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise VocoderError("vocoder", f"{weights_path} cannot be read ({type(error).__name__}: {error})") from error
    if not isinstance(checkpoint, dict) or "generator" not in checkpoint:
        raise VocoderError("vocoder", f"{weights_path} holds no state dict under the key 'generator'")
    model = HifiGan(config)
    try:
        model.load_state_dict(from_legacy_weight_norm(checkpoint["generator"]))
    except RuntimeError as error:
        raise VocoderError("vocoder", f"{weights_path} does not match {config_path}: {error}") from error
    return model.fold_weight_norm().eval().to(device=device, dtype=dtype)

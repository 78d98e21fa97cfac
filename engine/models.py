"""Loading Stable Diffusion 1.x, Auffusion and Riffusion from hub ids or folders.

Each model becomes a `DiffusionModel`: its diffusers/transformers components plus what the sampler needs to know
(kind, native picture size, scheduler config, vocoder). A component whose files are identical in two models (e.g.
the VAE that SD 1.5, Auffusion and Riffusion share) is loaded once and shared, keyed by a content hash.
"""
from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch

from .catalog import AUDIO_MODELS, DEFAULT_AUDIO_MODEL, IMAGE_MODEL, IMAGE_SIZE
from .devices import choose_device, choose_dtype
from .errors import FieldError
from .vocoder import HifiGan, VocoderError, load_vocoder

if TYPE_CHECKING:  # imported lazily at run time: loading diffusers and transformers takes seconds
    # From their modules: to a type checker, diffusers' top-level names are its no-torch placeholder classes.
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

# The paper's and Riffusion's picture sizes (height, width); a model whose UNet config names a (h, w) sample size
# (the tiny-random set does) uses that instead.
NATIVE_SIZES = {"image": IMAGE_SIZE, **{kind.name: kind.native_size for kind in AUDIO_MODELS.values()}}
COMPONENTS = ("tokenizer", "text_encoder", "unet", "vae", "scheduler")
WEIGHTED = ("text_encoder", "unet", "vae")
# Only what sonocanvas loads: no safety checker, no fp16/EMA variants, no single-file checkpoints.
_DOWNLOAD = ["model_index.json", "vocoder/*",
             *(f"{component}/*.{ext}" for component in COMPONENTS for ext in ("json", "txt", "safetensors"))]
_DOWNLOAD_BIN = [f"{component}/*.bin" for component in WEIGHTED]  # for repos without safetensors
_SKIP = ["*.fp16.*", "*non_ema*", "*.ckpt", "*.onnx", "*.msgpack"]


class ModelError(FieldError):
    """A model cannot be used; the message starts with the field that named it."""


class ModelNotFoundError(ModelError):
    """A model is neither a folder nor fetchable from the hub."""


@dataclass(eq=False)
class DiffusionModel:
    """One latent diffusion model, ready to run on `device` in `dtype`."""

    name: str  # the hub id or folder the user gave
    kind: str  # "image", "auffusion" or "riffusion"
    path: Path
    revision: str | None  # the hub commit, when it came from the hub
    content_hash: str  # sha256 over its components' files
    tokenizer: CLIPTokenizer
    text_encoder: CLIPTextModel
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    scheduler_config: dict
    device: torch.device
    dtype: torch.dtype
    vocoder: HifiGan | None = None

    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae.config["block_out_channels"]) - 1)

    @property
    def native_size(self) -> tuple[int, int]:
        """The picture size (height, width) the model was made for."""
        size = self.unet.config["sample_size"]
        if isinstance(size, (list, tuple)):
            return size[0] * self.vae_scale_factor, size[1] * self.vae_scale_factor
        return NATIVE_SIZES[self.kind]

    @property
    def sample_rate(self) -> int | None:
        return self.vocoder.config.sampling_rate if self.vocoder is not None else None

    @torch.no_grad()
    def encode_prompts(self, prompts: list[str]) -> torch.Tensor:
        """CLIP's last hidden states, padded to the tokenizer's full length, as Stable Diffusion conditions on."""
        tokens = self.tokenizer(prompts, padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt")
        return self.text_encoder(tokens.input_ids.to(self.device))[0].to(self.dtype)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents -> pictures (batch, 3, H, W) in [0, 1], float32."""
        pictures = self.vae.decode(latents.to(self.dtype) / self.vae.config["scaling_factor"]).sample
        return (pictures.float() / 2 + 0.5).clamp(0, 1)

    @torch.no_grad()
    def encode(self, pictures: torch.Tensor) -> torch.Tensor:
        """Pictures (batch, 3, H, W) in [0, 1] -> latents (the posterior mean: the same picture gives the same
        latent)."""
        moments = self.vae.encode((pictures * 2 - 1).to(self.device, self.dtype)).latent_dist
        return moments.mean * self.vae.config["scaling_factor"]

    def identity(self) -> dict:
        """What the record stores to say exactly which model this was."""
        return {"name": self.name, "kind": self.kind, "revision": self.revision, "sha256": self.content_hash}


def load_image_model(name: str | Path = IMAGE_MODEL, device: str | torch.device | None = None,
                     dtype: str | torch.dtype | None = None) -> DiffusionModel:
    """A Stable Diffusion 1.x model from a hub id or a folder."""
    return _load(str(name), "image", "image_model", device, dtype)


def load_audio_model(name: str | Path | None = None, kind: str | None = None, device: str | torch.device | None = None,
                     dtype: str | torch.dtype | None = None) -> DiffusionModel:
    """Auffusion (a folder with `vocoder/`) or Riffusion (a plain SD folder, played through the Riffusion codec)."""
    if kind is not None and kind not in AUDIO_MODELS:
        raise FieldError("audio_kind", f"unknown {kind!r}; choose {' or '.join(AUDIO_MODELS)}")
    name = str(name) if name is not None else AUDIO_MODELS[kind or DEFAULT_AUDIO_MODEL].hub_id
    path, revision = resolve_model(name, "audio_model")
    if kind is None:  # the folder says which: a vocoder/ is Auffusion's
        has_vocoder = (path / "vocoder").is_dir()
        kind = next(k.name for k in AUDIO_MODELS.values() if k.vocoder == has_vocoder)
    return _load(name, kind, "audio_model", device, dtype, resolved=(path, revision))


def resolve_model(name: str, field_name: str, patterns: list[str] | None = None,
                  cached_only: bool = False) -> tuple[Path, str | None]:
    """A folder as given, or the hub snapshot of that id (from the cache when offline): (path, hub revision).

    `patterns` names the files of a transformers model to fetch (the scorers'); by default, a diffusers one's.
    `cached_only`: never download; a model not in the cache is not found.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path, None
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") != 1:
        raise ModelNotFoundError(field_name, f"no model folder at {path.resolve()} (and {name!r} is not a hub id "
                                 f"like 'owner/name'); pass the folder holding "
                                 f"{'config.json' if patterns else 'model_index.json'}")
    from huggingface_hub import constants, snapshot_download

    try:
        snapshot = Path(snapshot_download(name, allow_patterns=patterns or _DOWNLOAD, ignore_patterns=_SKIP,
                                          local_files_only=cached_only))
        if patterns is None and not all(any((snapshot / component).glob("*.safetensors")) for component in WEIGHTED):
            snapshot = Path(snapshot_download(name, allow_patterns=[*_DOWNLOAD, *_DOWNLOAD_BIN], ignore_patterns=_SKIP))
    except Exception as error:  # huggingface_hub raises many types: offline, unknown repo, network, gated
        raise ModelNotFoundError(
            field_name, f"model {name!r} was not found: it is not a folder, and it is not in the Hugging Face "
            f"cache at {constants.HF_HUB_CACHE} nor could it be downloaded ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}). Get it with `hf download {name}` "
            "(`huggingface-cli download` on older huggingface_hub) while online, or pass the model's folder."
        ) from error
    revision = snapshot.name if re.fullmatch(r"[0-9a-f]{40}", snapshot.name) else None
    return snapshot, revision


# Loaded components by (component, content hash, device, dtype): a component shared by two models is loaded once,
# and freed when no model holds it.
_LOADED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _load(name: str, kind: str, field_name: str, device, dtype,
          resolved: tuple[Path, str | None] | None = None) -> DiffusionModel:
    path, revision = resolved or resolve_model(name, field_name)
    quiet_progress_bars()
    device = choose_device(device)
    dtype = choose_dtype(device, dtype)
    for component in COMPONENTS:
        if not (path / component).is_dir():
            raise ModelNotFoundError(field_name, f"{path} has no {component}/ folder; a Stable Diffusion 1.x "
                                     f"layout needs {', '.join(COMPONENTS)}")
    hashes = {component: _folder_hash(path / component) for component in COMPONENTS}
    loaders: dict[str, Callable[[], object]] = {
        "tokenizer": lambda: _tokenizer(path),
        "text_encoder": lambda: _text_encoder(path, device, dtype),
        "unet": lambda: _diffusers(path, "unet", device, dtype),
        "vae": lambda: _diffusers(path, "vae", device, dtype),
    }
    parts: dict[str, Any] = {}  # the components, each of its own type
    for component, loader in loaders.items():
        key = (component, hashes[component], str(device), dtype)
        part = _LOADED.get(key)
        if part is None:
            try:
                part = loader()
            except Exception as error:  # a damaged file raises whatever its parser raises
                raise ModelError(field_name, f"cannot load {path / component} ({type(error).__name__}: "
                                 f"{str(error).splitlines()[0] if str(error) else ''}); the files are damaged or "
                                 "incomplete: download the model again") from error
            _LOADED[key] = part
        parts[component] = part
    vocoder = None
    if kind in AUDIO_MODELS and AUDIO_MODELS[kind].vocoder:
        try:
            vocoder = load_vocoder(path / "vocoder", device, dtype)
        except VocoderError as error:
            raise ModelError(field_name, f"{name} is not a usable Auffusion model: {error}") from error
        hashes["vocoder"] = _folder_hash(path / "vocoder")
    scheduler_config = json.loads((path / "scheduler" / "scheduler_config.json").read_text())
    content_hash = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    return DiffusionModel(
        name=name, kind=kind, path=path, revision=revision, content_hash=content_hash,
        scheduler_config=scheduler_config, device=device, dtype=dtype, vocoder=vocoder,
        **parts,
    )


def quiet_progress_bars() -> None:
    """diffusers and transformers draw a bar per file loaded; sonocanvas reports its own progress."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


def _tokenizer(path: Path):
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(path, subfolder="tokenizer")


def _text_encoder(path: Path, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    from transformers import CLIPTextModel

    # as a Module: transformers wraps `to` in functools.wraps, which type checkers read as taking the model twice
    model = cast(torch.nn.Module, CLIPTextModel.from_pretrained(path, subfolder="text_encoder", dtype=dtype))
    return model.to(device).eval()


def _diffusers(path: Path, component: str, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    from diffusers import AutoencoderKL, UNet2DConditionModel

    cls = UNet2DConditionModel if component == "unet" else AutoencoderKL
    return cls.from_pretrained(path, subfolder=component, torch_dtype=dtype).to(device).eval()


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    """sha256 of a file. Hub-cache files are links to blobs named by their sha256, so that costs nothing."""
    target = path.resolve()
    if path.is_symlink() and re.fullmatch(r"[0-9a-f]{64}", target.name):
        return target.name
    stat = target.stat()
    key = (str(target), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        digest = hashlib.sha256()
        with open(target, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        _FILE_HASHES[key] = digest.hexdigest()
    return _FILE_HASHES[key]


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{path.relative_to(folder)}\0{_file_hash(path)}\0".encode())
    return digest.hexdigest()

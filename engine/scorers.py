"""CLIP and CLAP scores of finished clips, and the rule that ranks candidates by them.

Joint sampling succeeds only now and then, so the paper's authors make many candidates per prompt pair and keep
the best, scored as here:

- **`clip`**: the cosine similarity between the CLIP image embedding of the clip's colour picture and the CLIP text
  embedding of the image prompt.
- **`clap`**: the cosine similarity between the CLAP audio embedding of the clip's dry sound (before any effect
  chain), resampled to the CLAP processor's rate and limited to its first `max_length_s` seconds (so that the
  processor never crops at random), and the CLAP text embedding of the audio prompt.

Both go through the models' own processors. The defaults are the paper's two models. Each scorer loads once, lazily,
on the device it is given.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

import numpy as np
import torch
from PIL import Image

from .catalog import CLAP_MODEL, CLIP_MODEL
from .errors import FieldError

if TYPE_CHECKING:  # imported lazily at run time: loading transformers takes seconds
    from transformers import ClapModel, ClapProcessor, CLIPModel, CLIPProcessor, PreTrainedModel, ProcessorMixin

RANKS = ("clip", "clap", "both")
# What a transformers model folder holds; nothing else of a hub repository is downloaded.
_DOWNLOAD = ["*.json", "*.txt", "*.safetensors"]


def _features(output) -> torch.Tensor:
    """`get_*_features` returns the projected embedding (transformers 4) or an output holding it (5)."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def _cosine(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    return torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=-1).tolist()


_S = TypeVar("_S", bound="_Scorer")


@dataclass
class _Scorer:
    """A transformers model and its own processor, on one device."""

    model: torch.nn.Module
    processor: object
    device: torch.device
    field_name: ClassVar[str]  # the option or key that names the model, for errors
    classes: ClassVar[tuple[str, str]]  # transformers' model and processor classes

    @classmethod
    def load(cls: type[_S], name: str | Path, device: torch.device) -> _S:
        import transformers

        model, processor = (getattr(transformers, class_name) for class_name in cls.classes)
        path = _resolve(str(name), cls.field_name)
        return cls(_model(model, path, cls.field_name, device), _processor(processor, path, cls.field_name), device)


class ClipScorer(_Scorer):
    """CLIP: a picture against the image prompt."""

    model: CLIPModel
    processor: CLIPProcessor
    field_name = "clip_model"
    classes = ("CLIPModel", "CLIPProcessor")

    @torch.no_grad()
    def __call__(self, pictures: Sequence[Image.Image], prompt: str) -> list[float]:
        inputs = self.processor(text=[prompt], images=list(pictures), return_tensors="pt", padding=True,
                                truncation=True)  # a prompt past CLIP's 77 tokens is cut, as Stable Diffusion cuts it
        images = _features(self.model.get_image_features(pixel_values=inputs["pixel_values"].to(self.device)))
        text = _features(self.model.get_text_features(input_ids=inputs["input_ids"].to(self.device),
                                                      attention_mask=inputs["attention_mask"].to(self.device)))
        return _cosine(images, text)


class ClapScorer(_Scorer):
    """CLAP: a sound against the audio prompt."""

    model: ClapModel
    processor: ClapProcessor
    field_name = "clap_model"
    classes = ("ClapModel", "ClapProcessor")

    @property
    def sample_rate(self) -> int:
        return int(self.processor.feature_extractor.sampling_rate)

    @property
    def max_samples(self) -> int:
        return int(self.processor.feature_extractor.max_length_s * self.sample_rate)

    def prepare(self, sound: np.ndarray, sample_rate: int) -> np.ndarray:
        """Mono at the processor's rate, at most its first `max_length_s` seconds."""
        from .audio import resample

        mono = sound if sound.ndim == 1 else sound.mean(axis=0)
        return resample(np.asarray(mono, dtype=np.float32), sample_rate, self.sample_rate)[: self.max_samples]

    @torch.no_grad()
    def __call__(self, sounds: Sequence[np.ndarray], sample_rate: int, prompt: str) -> list[float]:
        return _cosine(self.sound_embeddings(sounds, sample_rate), self.text_embeddings([prompt]))

    @torch.no_grad()
    def sound_embeddings(self, sounds: Sequence[np.ndarray], sample_rate: int) -> torch.Tensor:
        """CLAP's projected embedding of each sound (`prepare`d), (sounds, dim)."""
        audio = [self.prepare(sound, sample_rate) for sound in sounds]
        features = self.processor.feature_extractor(audio, sampling_rate=self.sample_rate, return_tensors="pt")
        is_longer = features.get("is_longer")
        return _features(self.model.get_audio_features(
            input_features=features["input_features"].to(self.device, self.model.dtype),  # fp16 on a GPU
            **({"is_longer": is_longer.to(self.device)} if is_longer is not None else {}))).float()

    @torch.no_grad()
    def text_embeddings(self, texts: Sequence[str]) -> torch.Tensor:
        """CLAP's projected embedding of each text, (texts, dim)."""
        text_config = self.model.config.text_config
        assert text_config is not None and not isinstance(text_config, dict)  # ClapConfig makes it a ClapTextConfig
        tokens = self.processor.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True,
                                          max_length=text_config.max_position_embeddings - 2)
        return _features(self.model.get_text_features(input_ids=tokens["input_ids"].to(self.device),
                                                      attention_mask=tokens["attention_mask"].to(self.device))).float()


@dataclass
class Scorers:
    """The two scorers a server or command may rank with, loaded on first use. A name of None means not
    configured: ranking that needs it is refused, naming the missing model and how to get it."""

    clip_model: str | None = CLIP_MODEL
    clap_model: str | None = CLAP_MODEL
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _loaded: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def clip(self) -> ClipScorer:
        return self._get("clip", self.clip_model, ClipScorer)

    def clap(self) -> ClapScorer:
        return self._get("clap", self.clap_model, ClapScorer)

    def found(self) -> Scorers:
        """These scorers less those whose model is neither a folder nor in the Hugging Face cache: a server offers
        ranking with what it has, and never downloads a scorer unasked."""
        def have(name: str | None) -> str | None:
            if not name:
                return None
            try:
                return str(_resolve(name, "model", cached_only=True))  # the folder found: loading never downloads
            except FieldError:
                return None

        return Scorers(have(self.clip_model), have(self.clap_model), self.device)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The scores these scorers can give."""
        return tuple(kind for kind in ("clip", "clap") if getattr(self, f"{kind}_model"))

    def require(self, kind: str) -> None:
        """FieldError("rank") naming the missing model and how to get it, when `kind`'s model is not configured."""
        if getattr(self, f"{kind}_model") is None:
            default = CLIP_MODEL if kind == "clip" else CLAP_MODEL
            raise FieldError("rank", f"ranking by {kind} needs a {kind.upper()} model, and this one has none: get the "
                                     f"paper's with `hf download {default}`, or give --{kind}-model a folder")

    def _get(self, kind: str, name: str | None, scorer: type[_S]) -> _S:
        self.require(kind)
        assert name is not None  # require() refused a scorer whose model is not configured
        with self._lock:
            if kind not in self._loaded:
                self._loaded[kind] = scorer.load(name, self.device)
            return self._loaded[kind]


def rank(scores: Sequence[dict[str, float]], by: str) -> list[int]:
    """Candidate indices, best first. `clip` or `clap`: by that score, higher first. `both`: by the sum of the
    candidate's CLIP rank and CLAP rank (1 is best), ties going to the higher CLAP score, then to the lower index,
    so the order is deterministic: close to the paper's "in the top of both"."""
    if by not in RANKS:
        raise FieldError("rank", f"unknown {by!r}; choose {', '.join(RANKS)}")
    order = range(len(scores))
    if by != "both":
        return sorted(order, key=lambda i: (-scores[i][by], i))
    places = {kind: {index: place for place, index in enumerate(rank(scores, kind), start=1)}
              for kind in ("clip", "clap")}
    return sorted(order, key=lambda i: (places["clip"][i] + places["clap"][i], -scores[i]["clap"], i))


def _resolve(name: str, field_name: str, cached_only: bool = False) -> Path:
    from .models import resolve_model

    return resolve_model(name, field_name, patterns=_DOWNLOAD, cached_only=cached_only)[0]


def _model(cls: type[PreTrainedModel], path: Path, field_name: str, device: torch.device) -> torch.nn.Module:
    try:
        # as a Module: transformers wraps `to` in functools.wraps, which type checkers read as taking the model twice
        return cast(torch.nn.Module, cls.from_pretrained(path)).to(device).eval()
    except Exception as error:  # a damaged or foreign folder raises whatever its parser raises
        raise FieldError(field_name, f"cannot load {path} as {cls.__name__} ({type(error).__name__}: "
                                     f"{str(error).splitlines()[0] if str(error) else ''})") from error


def _processor(cls: type[ProcessorMixin], path: Path, field_name: str) -> ProcessorMixin:
    try:
        return cls.from_pretrained(path)
    except Exception as error:
        raise FieldError(field_name, f"cannot load the processor of {path} ({type(error).__name__}: "
                                     f"{str(error).splitlines()[0] if str(error) else ''})") from error

"""The model options `serve` and `generate` share, spelled once: where each model comes from.

`--image-model-source ID_OR_DIR`, `--audio-model-source [KIND=]ID_OR_DIR` (repeatable; without `KIND=` it is
the source of the audio model a `generate` uses), `--clip-model`, `--clap-model` and `--models tiny-random`.
`--audio-model` stays the settings table's key: which kind of audio model makes a clip. Spellings of an
older sonocanvas are refused with a message naming the new one.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ...engine.catalog import (
    AUDIO_MODELS,
    CLAP_MODEL,
    CLIP_MODEL,
    DEFAULT_AUDIO_MODELS,
    DTYPES,
    IMAGE_MODEL,
    device_problem,
)
from ...engine.errors import FieldError

TINY = "tiny-random"


class _Renamed(argparse.Action):
    """An option of an older sonocanvas: refused with the one that replaced it."""

    def __init__(self, option_strings: Sequence[str], dest: str, new: str, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=1, help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        parser.error(f"{option_string} is now {self.new}")


def add_model_options(parser: argparse.ArgumentParser | Any, renamed: dict[str, str] | None = None) -> None:
    """The model options, onto `parser` (or an argument group); `renamed`: old spellings to refuse."""
    parser.add_argument("--image-model-source", metavar="ID_OR_DIR",
                        help=f"Stable Diffusion 1.x hub id or folder (default {IMAGE_MODEL})")
    parser.add_argument("--audio-model-source", action="append", metavar="[KIND=]ID_OR_DIR",
                        help="an audio model's hub id or folder, e.g. riffusion=~/models/riffusion (repeatable; "
                             "default " + ", ".join(f"{kind}: {name}" for kind, name in DEFAULT_AUDIO_MODELS.items())
                             + ")")
    parser.add_argument("--clip-model", metavar="ID_OR_DIR",
                        help=f"CLIP model that scores pictures for keep (default {CLIP_MODEL}; \"\" for none)")
    parser.add_argument("--clap-model", metavar="ID_OR_DIR",
                        help=f"CLAP model that scores sounds for keep (default {CLAP_MODEL}; \"\" for none)")
    parser.add_argument("--models", choices=(TINY,),
                        help="tiny models with random weights instead, to check the plumbing (the output is noise); "
                             "a --clip-model or --clap-model you name is still used")
    for old, new in (renamed or {}).items():
        parser.add_argument(old, action=_Renamed, new=new)


def add_device_options(parser: argparse.ArgumentParser | Any, device_default: str, dtype_default: str | None) -> None:
    """`--device` (and, with `dtype_default`, `--dtype`) onto `parser`, spelled the same in every command."""
    parser.add_argument("--device", type=_device, metavar="DEVICE",
                        help=f"auto, cuda (cuda:N for one GPU of several), mps or cpu (default: {device_default})")
    if dtype_default is not None:
        parser.add_argument("--dtype", choices=DTYPES, help=f"default: {dtype_default}")


def _device(value: str) -> str:
    if problem := device_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


def audio_sources(given: list[str] | None, kind: str | None = None) -> dict[str, str]:
    """By kind, the `--audio-model-source` values; a value without `KIND=` is `kind`'s (generate's model),
    refused where there is none (serve runs every kind)."""
    sources: dict[str, str] = {}
    for item in given or []:
        named, sep, source = item.partition("=")
        if sep and named in AUDIO_MODELS:
            target = named
        elif (sep and named.isidentifier()) or kind is None:
            raise FieldError("audio_model_source", f"expected KIND=ID_OR_DIR with KIND one of "
                                                   f"{', '.join(AUDIO_MODELS)}, got {item!r}")
        else:
            target, source = kind, item
        if not source:
            raise FieldError("audio_model_source", f"{item!r} names no model")
        sources[target] = source
    return sources

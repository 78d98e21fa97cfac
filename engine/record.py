"""The JSON record stored beside every clip: everything needed to make it again."""
from __future__ import annotations

import dataclasses
import hashlib
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ("sonocanvas", "torch", "diffusers", "transformers", "huggingface_hub", "numpy", "soxr", "pedalboard")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):  # an init clip handed over in memory: its shape and content hash
        return {"samples": list(value.shape), "sha256": hashlib.sha256(value.tobytes()).hexdigest()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _file_identity(path: Path) -> dict[str, str]:
    """An init file by name and content, so a record says which clip or picture was riffed even if it moves."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "sha256": digest.hexdigest()}


def make_record(settings, *, index: int, seed: int, models: dict[str, dict], sample_rate: int, samples: int,
                height: int, width: int, device: str, dtype: str) -> dict:
    """A JSON-serialisable dict: the models (with hub revision and content hash), every setting, the seed of
    this variation, the init file riffed (name and content hash), the output's shape and the package versions."""
    inputs = {name: _file_identity(getattr(settings, name)) for name in ("init_audio", "init_picture")
              if isinstance(getattr(settings, name, None), Path)}
    return {
        "sonocanvas": "clip",
        "models": models,
        "settings": _jsonable(settings),
        "inputs": inputs,
        "variation": index,
        "seed": seed,
        "height": height,
        "width": width,
        "sample_rate": sample_rate,
        "samples": samples,
        "seconds": samples / sample_rate,
        "device": device,
        "dtype": dtype,
        "versions": package_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

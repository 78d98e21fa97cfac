"""The JSON record stored beside every clip: everything needed to make it again, both ways (`make_record` writes
one, `read_record` turns one back into settings, those of records from before a change included)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .input_file import InputFile

RECORD_VERSION = 2
"""2: settings are the rows of engine/settings.py (interpolation as to_image_prompt, to_audio_prompt, to_seed;
image_start), and Riffusion's Griffin-Lim phases come from the clip's seed. Records without a version are 1."""
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
    if isinstance(value, (Path, InputFile)):  # a file read by a server: the client's own path
        return str(value)
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):  # an init clip handed over in memory: its shape and content hash
        return {"samples": list(value.shape), "sha256": hashlib.sha256(value.tobytes()).hexdigest()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def record_bytes(record: dict) -> bytes:
    """A record as its `.json` file holds it: strict JSON, which every reader takes (a browser's, Max's `dict`,
    jq). A non-finite number (a NaN score, say; Python would write `NaN`) is written as null, so that one number
    never costs a finished clip; paths and the like are written as their text."""
    return json.dumps(_finite(record), indent=2, default=str, allow_nan=False).encode()


def _finite(value: Any) -> Any:
    """`value` with numpy's scalars as Python's (numbers and bools, which `default=str` would make strings) and
    each non-finite number None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def file_identity(source: Path | InputFile) -> dict[str, str]:
    """An init file by name and content, so a record says which clip or picture was riffed even if it moves."""
    if isinstance(source, InputFile):
        return {"path": source.path, "sha256": hashlib.sha256(source.data).hexdigest()}
    digest = hashlib.sha256()
    with open(source, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(source), "sha256": digest.hexdigest()}


def make_record(settings, *, index: int, seed: int, models: dict[str, dict], sample_rate: int, samples: int,
                height: int, width: int, device: str, dtype: str) -> dict:
    """A JSON-serialisable dict: the models (with hub revision and content hash), every setting, the seed of
    this variation, the init file riffed (name and content hash), the output's shape and the package versions."""
    inputs = {name: file_identity(getattr(settings, name)) for name in ("init_audio", "init_picture")
              if isinstance(getattr(settings, name, None), (Path, InputFile))}
    return {
        "sonocanvas": "clip",
        "record": RECORD_VERSION,
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


@dataclass(frozen=True)
class Replayable:
    """What a record says to make its clip again: the settings (as `GenerateSettings` takes them), which variation of
    the batch it was, and why the result may differ from the recorded one ("" when it should be bit-identical)."""

    settings: dict
    variation: int
    caveat: str


def read_record(record: dict) -> Replayable:
    """The settings of a clip record, upgraded from older versions; FieldError("record") when it cannot be replayed."""
    from .errors import FieldError
    from .settings import BY_NAME, ENGINE

    if (not isinstance(record, dict) or record.get("sonocanvas") != "clip"
            or not isinstance(record.get("settings"), dict)):
        kind = record.get("sonocanvas") if isinstance(record, dict) else None
        hint = "; spectrogram art is made again with `sonocanvas encode`" if kind == "art" else ""
        raise FieldError("record", f"not a sonocanvas clip record{hint}")
    version = record.get("record", 1)
    if not isinstance(version, int) or version > RECORD_VERSION:
        raise FieldError("record", f"version {version!r} is newer than this sonocanvas reads ({RECORD_VERSION}); "
                                   "update sonocanvas")
    settings = dict(record["settings"])
    caveat = ""
    if version < 2:
        end = settings.pop("interpolate_to", None)
        if end:
            settings.update(to_image_prompt=end["image_prompt"], to_audio_prompt=end["audio_prompt"],
                            to_seed=end["seed"])
        if record.get("models", {}).get("audio", {}).get("kind") == "riffusion":
            caveat = ("made before Griffin-Lim's phases were seeded: the picture will be the same, the sound close "
                      "but not identical")
    unknown = sorted(set(settings) - set(ENGINE))
    if unknown:
        raise FieldError("record", f"holds settings this sonocanvas does not know: {', '.join(unknown)}")
    init = settings.get("init_audio")
    if isinstance(init, dict):
        raise FieldError("init_audio", "the record's init clip was handed over in memory, not as a file, so it "
                                       "cannot be replayed from the record alone")
    for name, identity in record.get("inputs", {}).items():
        path = Path(identity["path"])
        if not path.is_file():
            raise FieldError(name, f"the clip was riffed on {path}, which is gone; put it back to replay")
        if file_identity(path)["sha256"] != identity["sha256"]:
            raise FieldError(name, f"{path} has changed since the clip was made (its sha256 differs)")
        settings[name] = path
    for name in ("init_audio", "init_picture"):
        if isinstance(settings.get(name), str):
            settings[name] = Path(settings[name])
    settings = {k: v for k, v in settings.items() if v is not None or BY_NAME[k].default is None}
    return Replayable(settings, int(record.get("variation", 0)), caveat)

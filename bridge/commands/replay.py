"""`sonocanvas replay RECORD.json`: make a clip again from its JSON record alone.

The record names the models (with their content hashes), every setting, the seed and variation, the init file riffed
(with its hash), the device and dtype, and how the clip was written. Replayed on the machine that made it (the same
device, dtype and libraries) the result is bit-identical, for Auffusion and Riffusion alike; on another CPU model or
build it is close, not identical (vectorised kernels round differently). What cannot be had (a model not on this
machine, an init file gone or changed, a record from a newer sonocanvas) is named, with how to get it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ...engine.catalog import DTYPE_NAMES
from ...engine.errors import FieldError
from ...engine.generate_settings import GenerateSettings
from . import cannot_write, one_line_errors
from ._model_options import TINY, add_device_options
from .generate import write_clips

if TYPE_CHECKING:  # torch: loaded only when a command runs, so that --help answers at once
    from ...engine.pipeline import JointPipeline


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "replay", help="make a clip again from its JSON record",
        description="Make the clip a JSON record describes again, with the record's models, settings, seed, "
                    "device and dtype: bit-identical on the machine that made it, close elsewhere.")
    p.add_argument("record", type=Path, help="the clip's .json record")
    p.add_argument("-o", "--output", type=Path, metavar="DIR",
                   help="folder to write into, made if missing (default: the record's own; nothing is overwritten)")
    p.add_argument("--image-model-source", metavar="ID_OR_DIR", help="where the recorded image model is now")
    p.add_argument("--audio-model-source", metavar="ID_OR_DIR", help="where the recorded audio model is now")
    add_device_options(p, "the record's (another is not bit-identical)", "the record's")
    one_line_errors(p).set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...engine.record import read_record
    from ..output.drop import check_clip_folder

    try:
        record = _read(args.record)
        check_clip_folder(args.output or args.record.parent, "output")  # before any model loads
        if record.get("sonocanvas") == "stylize":  # a restyled picture (sonocanvas stylize)
            from .stylize import replay as replay_stylize

            written = replay_stylize(record, args.record, args.output or args.record.parent, args.device, args.dtype)
            print(f"sonocanvas replay: wrote {written} and {written.with_suffix('.json').name}", file=sys.stderr)
            return 0
        replay = read_record(record)
        settings = GenerateSettings.resolved(**replay.settings)
        output = _output(record)
        recorded = (record.get("device", "cpu").split(":")[0],
                    DTYPE_NAMES.get(record.get("dtype", ""), "fp32"))
        device, dtype = args.device or recorded[0], args.dtype or recorded[1]
        if device == "auto":
            from ...engine.devices import choose_device

            device = choose_device(device).type
        pipe = load_recorded(record["models"], args, device, dtype)
        if replay.caveat:
            print(f"sonocanvas replay: note: this record was {replay.caveat}", file=sys.stderr)
        if (device, dtype) != recorded:
            print(f"sonocanvas replay: note: {device}/{dtype}, not the record's {recorded[0]}/{recorded[1]}: the clip "
                  "will be close, not bit-identical", file=sys.stderr)
        # the whole batch: a variation alone is computed a hair apart
        clip = pipe(settings, bpm=output.bpm)[replay.variation]
        clip.record["replay_of"] = str(args.record)
        folder = args.output or args.record.parent
        files = record.get("files", {})
        stem = Path(files.get("wav") or files.get("audio") or "clip.wav").stem  # "audio": records before version 2
        write_clips([clip], output, folder, [stem], tiny=pipe.image.name.startswith(TINY), command="replay")
    except OSError as error:
        raise cannot_write(error, args.output or args.record.parent) from None
    return 0


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FieldError("record", f"cannot read {path} as a JSON record ({error})") from None


def _output(record: dict):
    """How the clip was written: the drop writer's `output`, or a record from before it had one."""
    from ..request.build import Output

    if isinstance(record.get("output"), dict):
        return Output(**record["output"])
    return Output(sample_rate=record.get("file_sample_rate", record["sample_rate"]),
                  bit_depth=record.get("bit_depth", 32))


def load_recorded(models: dict, args: argparse.Namespace, device: str, dtype: str) -> JointPipeline:
    """The record's models, each checked against its recorded content hash; FieldError("models") naming every
    one missing or different, and how to get it."""
    from ...engine.models import ModelNotFoundError, load_audio_model, load_image_model
    from ...engine.pipeline import JointPipeline

    problems, loaded = [], {}
    for role, source in (("image", args.image_model_source), ("audio", args.audio_model_source)):
        identity = models[role]
        name, kind = identity["name"], identity["kind"]
        where = source or name
        if not source and name.startswith(f"{TINY}/"):
            from ...engine.tiny import tiny_models

            where = str(getattr(tiny_models(), kind))
        get = f"`hf download {name}" + (f" --revision {identity['revision']}`" if identity.get("revision") else "`")
        try:
            model = load_image_model(where, device, dtype) if role == "image" else \
                load_audio_model(where, kind=kind, device=device, dtype=dtype)
        except ModelNotFoundError:
            problems.append(f"the {role} model {name!r} is not on this machine: get it with {get}, or pass its "
                            f"folder with --{role}-model-source")
            continue
        if model.content_hash != identity["sha256"]:
            problems.append(f"the {role} model at {model.path} is not the recorded {name!r} (its files differ: sha256 "
                            f"{model.content_hash[:12]}…, recorded {identity['sha256'][:12]}…): get it with {get}")
            continue
        model.name = name
        loaded[role] = model
    if problems:
        raise FieldError("models", "; ".join(problems))
    return JointPipeline(loaded["image"], loaded["audio"])

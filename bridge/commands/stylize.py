"""`sonocanvas stylize PICTURE --sound CLIP -o OUT.png`: the picture restyled the way the sound sounds
(engine/stylize.py; docs/stylize.md), with a JSON record beside it that `sonocanvas replay` makes again."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...engine.catalog import CLAP_MODEL, IMAGE_MODEL
from ...engine.errors import FieldError
from ...engine.files import atomic_write_all
from ...engine.record import record_bytes
from ..store.vocabulary import read_vocabulary
from . import cannot_write, check_output, one_line_errors, setting_option
from ._model_options import TINY, add_device_options

RECORD = "stylize"


def register(subparsers: argparse._SubParsersAction) -> None:
    from ...engine import stylize_settings as defaults  # no torch: --help answers at once

    p = subparsers.add_parser(
        "stylize", help="restyle a picture the way a sound sounds (see a sound)",
        description="Restyle a picture so that it looks the way a sound sounds (after avstyle, with no training): "
                    "CLAP weighs a vocabulary of visual scenes by the sound, and Stable Diffusion restyles the "
                    "picture towards them, more strongly the louder the sound. Writes OUT.png at the picture's "
                    "size and OUT.json, its record (docs/stylize.md).",
    )
    p.add_argument("picture", type=Path, help="the picture to restyle")
    p.add_argument("--sound", type=Path, action="append", required=True,
                   help="the sound (WAV, FLAC, MP3, OGG); twice, with --mix, to mix two")
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write (.png); its record beside it")
    for setting in defaults.STYLIZE:  # --strength, --temperature, --top, --mix, --steps, ...: the table's rows
        p.add_argument(setting.option, dest=setting.name, default=setting.default, **setting_option(setting))
    p.add_argument("--vocabulary", type=Path, help="a YAML list of phrases (default: the shipped one)")
    p.add_argument("--image-model-source", metavar="ID_OR_DIR",
                   help=f"Stable Diffusion 1.x hub id or folder (default {IMAGE_MODEL})")
    p.add_argument("--clap-model", metavar="ID_OR_DIR", help=f"CLAP model that hears the sound (default {CLAP_MODEL})")
    p.add_argument("--models", choices=(TINY,), help="tiny models with random weights, to check the plumbing")
    add_device_options(p, "auto: cuda, else mps, else cpu", "fp16 on GPUs, fp32 on cpu")
    p.add_argument("--overwrite", action="store_true", help="replace the output files if they exist")
    one_line_errors(p).set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...engine.stylize_settings import STYLIZE, StylizeSettings

    if args.output.suffix.lower() != ".png":
        raise FieldError("output", f"{args.output} must end in .png")
    check_output(args.output, args.overwrite, "seen.png")
    record_path = args.output.with_suffix(".json")
    if record_path.is_dir():  # not a folder to name a file in: the record's name follows the picture's
        raise FieldError("output", f"'{record_path}' is a folder, where the record of {args.output.name} goes; "
                                   "move it, or choose another -o")
    check_output(record_path, args.overwrite)
    settings = StylizeSettings(**{s.name: getattr(args, s.name) for s in STYLIZE},
                               vocabulary=read_vocabulary(args.vocabulary))
    models = {"image": args.image_model_source, "clap": args.clap_model}
    result, record = stylize(args.picture, args.sound, settings, models, args.models == TINY, args.device,
                             args.dtype)
    data = record_bytes(record)
    try:  # both written before either is moved in, the picture last, as the drop folder places them: never a
        # picture without its record, nor a record of another picture, a full disk and --overwrite included
        atomic_write_all([(record_path, lambda f: f.write(data)),
                          (args.output, lambda f: result.save(f, format="PNG"))], exclusive=not args.overwrite)
    except OSError as error:
        raise cannot_write(error, args.output) from None
    style = record[RECORD]
    told = (f"strength {style['strength']:.2f} at {style['level_db']:.1f} dBFS: " +
            ", ".join(f"{p} {w:.2f}" for p, w in zip(style["phrases"], style["weights"], strict=True))
            if style["phrases"] else style["note"])
    print(f"sonocanvas stylize: wrote {args.output} and {record_path.name} ({told})",
          file=sys.stderr)
    return 0


def stylize(picture: Path, sounds: list[Path], settings: Any, models: dict[str, str | None], tiny: bool,
            device: str | None, dtype: str | None) -> tuple[Any, dict]:
    """`picture` restyled by `sounds` (a PIL picture), and its record."""
    from ...engine.models import load_image_model
    from ...engine.scorers import ClapScorer
    from ...engine.stylize import hear, picture_to_restyle, restyle, style_of, stylize_record

    source = picture_to_restyle(picture, "picture")
    heard = hear(sounds, ["sound"] * len(sounds), settings)  # before the models load: a bad file fails at once
    image_source: str | Path
    clap_source: str | Path
    if tiny:
        from ...engine.tiny import scorer_or_tiny, tiny_models

        paths = tiny_models()
        image_source, clap_source = paths.image, scorer_or_tiny(models["clap"] or CLAP_MODEL, CLAP_MODEL, paths.clap)
    else:
        image_source, clap_source = models["image"] or IMAGE_MODEL, models["clap"] or CLAP_MODEL
    image = load_image_model(image_source, device=device, dtype=dtype)
    if tiny:
        image.name = f"{TINY}/image"
    clap = ClapScorer.load(clap_source, image.device)
    style = style_of(clap, heard, settings)
    result = restyle(image, source, style, settings, _progress())
    return result, stylize_record(settings, style, picture, sounds, image, str(clap_source), result.size)


def _progress():
    from ..jobs.queue import Progress, text_bar

    return Progress(text_bar("restyling"))


def replay(record: dict, path: Path, folder: Path, device: str | None, dtype: str | None) -> Path:
    """Make a stylize record's picture again (its files checked unchanged) in `folder`, as the drop folder places
    a picture: whole, never over another (`<stem>-2.png`, ...). Returns the picture written."""
    from ...engine.catalog import DTYPE_NAMES
    from ...engine.record import file_identity
    from ...engine.stylize_settings import StylizeSettings
    from ..output.drop import DropFolder

    inputs = record.get("inputs", {})
    files = [inputs.get("picture"), *inputs.get("sounds", [])]
    for identity in files:
        source = Path(identity["path"])
        if not source.is_file():
            raise FieldError("record", f"the picture was made from {source}, which is gone; put it back to replay")
        if file_identity(source)["sha256"] != identity["sha256"]:
            raise FieldError("record", f"{source} has changed since the picture was made (its sha256 differs)")
    settings = StylizeSettings.from_dict(record["settings"])
    image = record["models"]["image"]["name"]
    tiny = image.startswith(f"{TINY}/")
    result, again = stylize(Path(files[0]["path"]), [Path(f["path"]) for f in files[1:]], settings,
                            {"image": None if tiny else image, "clap": record["models"]["clap"]}, tiny,
                            device or record.get("device", "cpu").split(":")[0],
                            dtype or DTYPE_NAMES.get(record.get("dtype", ""), "fp32"))
    # makes the folder, as a clip's replay does
    return DropFolder(folder, field="output").drop_picture(result, path.stem, again).png

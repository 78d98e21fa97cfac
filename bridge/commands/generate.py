"""`sonocanvas generate`: images that sound from the command line, with everything a server request has.

Its options are the settings table (`engine/settings.py`) with the server's defaults: `--steps` is the OSC key
`steps`, and so on. Clips are written by the drop folder's writer: `-o DIR` gives `DIR/clip.wav` (with
variations `clip_v0.wav`, ...), `-o DIR/NAME.flac` names the clip and its format. Beside each: its spectrogram
PNG, its colour picture (`.picture.png`) and its JSON record. A name already taken gets `-2`, ...: nothing
is overwritten, and every file appears whole or not at all.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...engine.audio import AUDIO_FORMATS, audio_format, check_depth
from ...engine.catalog import CLAP_MODEL, CLIP_MODEL, IMAGE_MODEL
from ...engine.errors import FieldError
from ...engine.settings import DEFAULT_CAPS, SETTINGS
from ..request.build import GenerateRequest, Limits, Output, build_generate
from ..studio.ranking import Choice, make_and_choose
from . import cannot_write, one_line_errors, setting_option
from ._model_options import TINY, add_device_options, add_model_options, audio_sources
from ._stores import effect_chains, presets

COMMAND_LINE = [setting for setting in SETTINGS if setting.command_line]
"""The settings `generate` takes, as options spelled from their names."""

if TYPE_CHECKING:  # torch: loaded only when a command runs, so that --help answers at once
    from ...engine.generate_settings import GenerateSettings
    from ...engine.pipeline import JointPipeline



def register(subparsers) -> None:
    p = subparsers.add_parser(
        "generate", help="make a sound whose spectrogram is a picture (Images that Sound)",
        description="Denoise one latent with an image model and a spectrogram model at once, so the result looks "
                    "like the image prompt and sounds like the audio prompt. Every option is a key of "
                    "/sonocanvas/generate (docs/osc.md), with the same default and range.")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR_OR_FILE",
                   help=f"folder to write into (its files named as serve names them: time, prompts, seed), or a "
                        f"file whose extension picks the format "
                        f"({', '.join(AUDIO_FORMATS)}); missing folders are made")
    groups: dict[str, Any] = {}
    for setting in COMMAND_LINE:
        group = groups.setdefault(setting.scope, p.add_argument_group(setting.scope))
        group.add_argument(setting.option, dest=setting.name, default=None, **setting_option(setting))
    models = p.add_argument_group("models")
    add_model_options(models)
    add_device_options(models, "auto: cuda, else mps, else cpu", "fp16 on GPUs, fp32 on cpu")
    p.add_argument("--keep-all", action="store_true",
                   help="with --keep, write the candidates not kept too, into a candidates/ folder beside the kept")
    one_line_errors(p).set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    folder = None
    try:
        request = request_of(args)
        settings = request.settings
        output, folder, stem = output_of(args, request.output)
        pipe = load_pipeline(args, request.audio_model)
        pipe.sections(settings, *pipe.size(settings), output.bpm)  # what these models cannot make fails now
        choice = Choice(request.keep, request.rank)
        scorers = load_scorers(args, pipe)
        choice.check(settings.variations, scorers)
        print(f"sonocanvas generate: seed {settings.seed}", file=sys.stderr)
        when = datetime.now()  # as the server names a clip: when it was asked for
        kept, rest = make_and_choose(pipe, settings, choice, scorers, output, int(DEFAULT_CAPS["variations"]),
                                     _progress())
        write_clips(kept, output, folder, clip_names(kept, stem, settings, when), tiny=args.models == TINY)
        if args.keep_all and rest:
            write_clips(rest, output, folder / "candidates", clip_names(rest, stem, settings, when),
                        tiny=args.models == TINY)
    except OSError as error:  # the disk, not a setting: still the output's fault as the user sees it
        raise cannot_write(error, args.output) from None
    return 0


def request_of(args: argparse.Namespace) -> GenerateRequest:
    """This run's request, built as the server builds one (`build_generate`), with the command line's limits
    (`Limits.local`: any file, every model, no policy caps)."""
    given = {s.name: getattr(args, s.name) for s in COMMAND_LINE if getattr(args, s.name) is not None}
    return build_generate("", given, Limits.local(frozenset(effect_chains().names())), presets().get)


def output_of(args: argparse.Namespace, output: Output) -> tuple[Output, Path, str | None]:
    """(Output in the format `-o` names, folder, the file's stem, or None for a folder) from `-o`: checked now, so
    that a run that cannot write fails before sampling (and leaves no folder behind)."""
    from ..output.drop import check_clip_folder

    path: Path = args.output
    stem: str | None
    if path.suffix and not path.is_dir():
        fmt, folder, stem = audio_format(path), path.parent, path.stem
    else:
        fmt, folder, stem = "wav", path, None
    if folder.exists() and not folder.is_dir():
        raise FieldError("output", f"{folder} is a file, not a folder")
    check_clip_folder(folder, "output")
    existing = next(parent for parent in [folder, *folder.parents] if parent.exists())
    try:  # a real probe: permissions alone miss read-only and pseudo file systems (/proc), and root passes them
        if not existing.is_dir():
            raise NotADirectoryError(existing)
        tempfile.TemporaryFile(dir=existing).close()
    except OSError:
        raise FieldError("output", f"cannot write into {existing}") from None
    check_depth(fmt, output.bit_depth)
    return dataclasses.replace(output, format=fmt), folder, stem


def load_pipeline(args: argparse.Namespace, kind: str) -> JointPipeline:
    from ...engine.models import load_audio_model, load_image_model
    from ...engine.pipeline import JointPipeline

    sources = audio_sources(args.audio_model_source, kind)
    if set(sources) - {kind}:
        raise FieldError("audio_model_source", f"this clip is made with {kind}; give its source, not "
                                               f"{', '.join(sorted(set(sources) - {kind}))}'s")
    if args.models == TINY:
        if args.image_model_source or sources:
            raise FieldError("models", f"--models {TINY} replaces --image-model-source and --audio-model-source; "
                                       "give one or the other")
        from ...engine.tiny import tiny_models

        paths = tiny_models()
        print(f"sonocanvas generate: using the {TINY} models: random weights, the output is noise", file=sys.stderr)
        image = load_image_model(paths.image, device=args.device, dtype=args.dtype)
        audio = load_audio_model(paths.audio[kind], kind=kind, device=args.device, dtype=args.dtype)
        image.name, audio.name = f"{TINY}/image", f"{TINY}/{kind}"
    else:
        image = load_image_model(args.image_model_source or IMAGE_MODEL, device=args.device, dtype=args.dtype)
        audio = load_audio_model(sources.get(kind), kind=kind, device=args.device, dtype=args.dtype)
    return JointPipeline(image, audio)


def load_scorers(args: argparse.Namespace, pipe: JointPipeline):
    """The CLIP and CLAP scorers --keep ranks with, loaded on use: those named, else the defaults (with
    --models tiny-random, the tiny ones in place of the defaults)."""
    from ...engine.scorers import Scorers

    clip = CLIP_MODEL if args.clip_model is None else args.clip_model
    clap = CLAP_MODEL if args.clap_model is None else args.clap_model
    if args.models == TINY:
        from ...engine.tiny import scorer_or_tiny, tiny_models

        paths = tiny_models()
        clip, clap = scorer_or_tiny(clip, CLIP_MODEL, paths.clip), scorer_or_tiny(clap, CLAP_MODEL, paths.clap)
    return Scorers(clip or None, clap or None, device=pipe.device)


def clip_names(clips: list, stem: str | None, settings: GenerateSettings, when: datetime) -> list[str]:
    """Each clip's file stem. Into a folder (`stem` None), the names the server's drop folder gives: the time,
    the prompts, the seed, and the variation when there are several. As a named file, its stem, with `_r<rank>`
    (ranked) or `_v<variation>` when there is more than one."""
    if stem is None:
        from ..output.drop import clip_stem

        return [clip_stem(when, settings.image_prompt, settings.audio_prompt, clip.seed,
                          clip.index if settings.variations > 1 else None) for clip in clips]
    names = []
    for clip in clips:
        rank = clip.record.get("rank")
        names.append(stem if len(clips) == 1 and rank in (None, 1) else f"{stem}_r{rank}" if rank
                     else f"{stem}_v{clip.index}")
    return names


def write_clips(clips, output, folder: Path, names: list[str], tiny: bool, command: str = "generate") -> list:
    """Each clip through the drop folder's writer (the server's), into `folder` under its name (`names`, one per
    clip; a taken one gets `-2`, ...); returns what was dropped."""
    from ..output.drop import DropFolder

    drop = DropFolder(folder, effect_chains() if output.fx else None, field="output")
    written = []
    for clip, name in zip(clips, names, strict=True):
        record = dict(clip.record)
        if tiny:
            record["tiny_random"] = "made with the tiny-random models: random weights, the output is noise"
        dropped = drop.drop(clip, output, name, record)
        print(f"sonocanvas {command}: wrote {dropped.wav} ({len(clip.audio) / clip.sample_rate:.2f} s, seed "
              f"{clip.seed}, {output.sample_rate} Hz {output.bit_depth}-bit), {dropped.png.name}, "
              f"{dropped.picture.name}, {dropped.json.name}", file=sys.stderr)
        written.append(dropped)
    return written


def _progress():
    from ..jobs.queue import Progress, text_bar

    return Progress(text_bar("sampling"))

"""`sonocanvas generate`: images that sound from the command line.

Writes into DIR, for one clip: clip.wav, spectrogram.png (grey, with format metadata), picture.png (colour) and
clip.json (the record that reproduces it); for N variations the same names with -1 ... -N. Nothing existing is
ever overwritten, and every file appears whole or not at all.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ...engine.files import atomic_write
from ...engine.pipeline import GenerateSettings, InterpolationEnd, JointPipeline
from ...engine.sampler import SCHEDULERS

TINY = "tiny-random"
KINDS = ("joint", "imprint")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "generate", help="make a sound whose spectrogram is a picture (Images that Sound)",
        description="Denoise one latent with an image model and a spectrogram model at once, so the result looks "
                    "like the image prompt and sounds like the audio prompt. Defaults are the paper's.")
    p.add_argument("--image-prompt", required=True, help="what the picture shows")
    p.add_argument("--audio-prompt", required=True, help="what the sound is")
    p.add_argument("--image-negative-prompt", help="what the picture should not show")
    p.add_argument("--audio-negative-prompt", help="what the sound should not be")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder to write the clip into")
    models = p.add_argument_group("models")
    models.add_argument("--image-model", metavar="ID_OR_DIR",
                        help="Stable Diffusion 1.x hub id or folder (default stable-diffusion-v1-5/stable-diffusion-v1-5)")
    models.add_argument("--audio-model", metavar="ID_OR_DIR",
                        help="Auffusion or Riffusion hub id or folder (default auffusion/auffusion-full-no-adapter)")
    models.add_argument("--audio-kind", choices=("auffusion", "riffusion"),
                        help="what the audio model is (read from the folder when not given)")
    models.add_argument("--models", choices=(TINY,),
                        help="use the tiny random models instead (plumbing checks: the output is noise)")
    models.add_argument("--device", choices=("cpu", "cuda", "mps"), help="default: cuda, else mps, else cpu")
    models.add_argument("--dtype", choices=("fp16", "bf16", "fp32"), help="default: fp16 on GPUs, fp32 on cpu")
    sampling = p.add_argument_group("sampling")
    sampling.add_argument("--seed", type=int)
    sampling.add_argument("--steps", type=int, help="default 100")
    sampling.add_argument("--scheduler", choices=sorted(SCHEDULERS), help="default ddim; dpm++ with 25 steps is fast")
    sampling.add_argument("--image-guidance", type=float, help="classifier-free guidance of the image model (10)")
    sampling.add_argument("--audio-guidance", type=float, help="classifier-free guidance of the audio model (10)")
    sampling.add_argument("--audio-weight", type=float, help="w in (1 - w) eps_image + w eps_audio (0.5)")
    sampling.add_argument("--image-start-step", type=int,
                          help="step from which the image model acts (default: a tenth of --steps, 10 of the paper's 100)")
    sampling.add_argument("--audio-start-step", type=int, help="step from which the audio model acts (0)")
    sampling.add_argument("--variations", type=int, help="N clips in one batch, seeds seed ... seed+N-1")
    sampling.add_argument("--height", type=int, help="picture height (default: the audio model's)")
    sampling.add_argument("--width", type=int, help="picture width (default: the audio model's)")
    sampling.add_argument("--crop", action="store_true", help="crop the last 32/1024 columns, as the paper does")
    sampling.add_argument("--method", choices=KINDS, help="joint (default) or the paper's imprint baseline")
    riff = p.add_argument_group("riffing and interpolation")
    riff.add_argument("--init-audio", type=Path, metavar="FILE", help="start from this clip (WAV/FLAC/MP3/OGG)")
    riff.add_argument("--init-picture", type=Path, metavar="FILE", help="start from this picture")
    riff.add_argument("--strength", type=float, help="how far to noise the start, 0..1 (0.7)")
    riff.add_argument("--to-image-prompt", help="interpolate towards this image prompt")
    riff.add_argument("--to-audio-prompt", help="interpolate towards this audio prompt")
    riff.add_argument("--to-seed", type=int, help="interpolate towards this seed")
    riff.add_argument("--alpha", type=float, help="where between the two ends, 0..1")
    out = p.add_argument_group("output")
    out.add_argument("--sample-rate", type=int, metavar="HZ", help="resample the WAV to this rate (default: the model's)")
    out.add_argument("--bit-depth", type=int, choices=(24, 32), default=32, help="WAV sample format (32 = float)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        names = output_names(settings.variations)
        check_free(args.output, names)
        if args.sample_rate is not None and not 8000 <= args.sample_rate <= 384000:
            raise ValueError(f"sample_rate: must be between 8000 and 384000 Hz, got {args.sample_rate}")
        pipe = load_pipeline(args)
        pipe.size(settings)  # settings these models cannot make fail here, before the output folder is made
        args.output.mkdir(parents=True, exist_ok=True)  # and a folder that cannot be made fails before sampling
        clips = pipe(settings, on_step=Progress())
        write_clips(args, clips, names)
    except (ValueError, OSError) as error:
        print(f"sonocanvas generate: error: {error}", file=sys.stderr)
        return 2
    return 0


def settings_from(args: argparse.Namespace) -> GenerateSettings:
    """Only the options given; the rest keep GenerateSettings' (the paper's) defaults."""
    given = {name: getattr(args, name) for name in (
        "image_prompt", "audio_prompt", "image_negative_prompt", "audio_negative_prompt", "seed", "steps",
        "scheduler", "image_guidance", "audio_guidance", "audio_weight", "image_start_step", "audio_start_step",
        "variations", "height", "width", "method", "init_audio", "init_picture", "strength", "alpha")}
    ends = (args.to_image_prompt, args.to_audio_prompt, args.to_seed)
    if any(end is not None for end in ends):
        given["interpolate_to"] = InterpolationEnd(
            image_prompt=args.to_image_prompt if args.to_image_prompt is not None else args.image_prompt,
            audio_prompt=args.to_audio_prompt if args.to_audio_prompt is not None else args.audio_prompt,
            seed=args.to_seed if args.to_seed is not None else (args.seed or 0))
    elif args.alpha is not None:
        raise ValueError("alpha: needs an end to interpolate towards (--to-image-prompt, --to-audio-prompt or --to-seed)")
    if args.strength is not None and args.init_audio is None and args.init_picture is None:
        raise ValueError("strength: says how far to noise an init clip or picture; give --init-audio or --init-picture")
    for path_field in ("init_audio", "init_picture"):
        if given[path_field] is not None and not given[path_field].is_file():
            raise ValueError(f"{path_field}: no such file {given[path_field]}")
    return GenerateSettings(crop_last_columns=args.crop, **{k: v for k, v in given.items() if v is not None})


def output_names(variations: int) -> list[dict[str, str]]:
    suffixes = [""] if variations == 1 else [f"-{i + 1}" for i in range(variations)]
    return [{kind: f"{stem}{suffix}.{ext}" for kind, stem, ext in (
        ("audio", "clip", "wav"), ("spectrogram", "spectrogram", "png"), ("picture", "picture", "png"),
        ("record", "clip", "json"))} for suffix in suffixes]


def check_free(folder: Path, names: list[dict[str, str]]) -> None:
    """Refuse before any work is done if a finished clip would be overwritten."""
    taken = [name for files in names for name in files.values() if (folder / name).exists()]
    if taken:
        raise ValueError(f"output: {folder} already holds {', '.join(taken)}; choose another folder")


def load_pipeline(args: argparse.Namespace) -> JointPipeline:
    from ...engine.models import DEFAULT_IMAGE_MODEL, load_audio_model, load_image_model

    if args.models == TINY:
        if args.image_model or args.audio_model:
            raise ValueError("models: --models tiny-random replaces --image-model and --audio-model; give one or the other")
        from ...engine.tiny import tiny_models

        paths = tiny_models()
        print(f"sonocanvas generate: using the {TINY} models: random weights, the output is noise", file=sys.stderr)
        kind = args.audio_kind or "auffusion"
        image = load_image_model(paths.image, device=args.device, dtype=args.dtype)
        audio = load_audio_model(getattr(paths, kind), kind=kind, device=args.device, dtype=args.dtype)
        image.name, audio.name = f"{TINY}/image", f"{TINY}/{kind}"
    else:
        image = load_image_model(args.image_model or DEFAULT_IMAGE_MODEL, device=args.device, dtype=args.dtype)
        audio = load_audio_model(args.audio_model, kind=args.audio_kind, device=args.device, dtype=args.dtype)
    return JointPipeline(image, audio)


def write_clips(args: argparse.Namespace, clips, names: list[dict[str, str]]) -> None:
    from PIL import PngImagePlugin

    from ...engine.audio import resample, within_full_scale, write_wav

    for clip, files in zip(clips, names):
        rate = args.sample_rate or clip.sample_rate
        audio = resample(clip.audio, clip.sample_rate, rate)
        record = {**clip.record, "files": files, "file_sample_rate": rate, "bit_depth": args.bit_depth}
        if np.abs(audio).max() > 1:  # would clip in the DAW, in PCM or float alike
            audio = within_full_scale(audio)
            record["normalized_to_dbfs"] = -1.0
        if args.models == TINY:
            record["tiny_random"] = "made with the tiny-random models: random weights, the output is noise"
        text = json.dumps(record, indent=2)
        write_wav(args.output / files["audio"], audio, rate,
                  bit_depth=args.bit_depth, exclusive=True)
        for kind in ("spectrogram", "picture"):
            image = getattr(clip, kind)
            info = getattr(image, "encoderinfo", {}).get("pnginfo") or PngImagePlugin.PngInfo()
            info.add_text("sonocanvas.record", text)
            atomic_write(args.output / files[kind], lambda f, image=image, info=info: image.save(
                f, format="PNG", pnginfo=info), exclusive=True)
        atomic_write(args.output / files["record"], lambda f: f.write(text.encode()), exclusive=True)
        print(f"sonocanvas generate: wrote {args.output / files['audio']} ({len(clip.audio) / clip.sample_rate:.2f} s"
              f" at {rate} Hz), {files['spectrogram']}, {files['picture']}, {files['record']}", file=sys.stderr)


class Progress:
    """A text progress bar on stderr: redrawn in place on a terminal, a line per tenth in a log."""

    def __init__(self, width: int = 30):
        self.width = width
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.live and done != total and done % max(1, total // 10):
            return
        filled = self.width * done // total
        bar = f"sampling [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        end = "\n" if done == total or not self.live else ""
        print(("\r" if self.live else "") + bar, end=end, file=sys.stderr, flush=True)

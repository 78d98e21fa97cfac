"""`sonocanvas encode` and `sonocanvas decode`: spectrogram art with no model at all.

encode: a picture becomes a sound whose spectrogram shows it. decode: a sound becomes its picture.
Bright is loud in both. Nothing is written unless the whole result is, and nothing is overwritten
without --overwrite.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...engine import art
from ...engine.audio import load_audio, normalize_peak, resample, write_audio
from ...engine.errors import FieldError
from ...engine.files import atomic_write
from ...engine.spectrogram import FORMATS, get_format


def register(subparsers: argparse._SubParsersAction) -> None:
    encode = subparsers.add_parser(
        "encode", help="turn a picture into a sound whose spectrogram shows it",
        description="Turn any picture (PNG, JPEG, ...; colour or grey) into a sound whose spectrogram shows it: "
                    "bright is loud. A picture `decode` made turns back into its sound.",
    )
    encode.add_argument("picture", type=Path, help="the picture")
    encode.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    encode.add_argument("--format", help=f"spectrogram format: {' or '.join(FORMATS)} "
                                         "(default: the picture's own, else auffusion)")
    encode.add_argument("--seconds", type=float, help="length of the sound (default: the format's, "
                                                      "10.24 s auffusion, 5.12 s riffusion)")
    encode.add_argument("--sample-rate", type=int, default=48000, help="sample rate of the WAV (default 48000)")
    encode.add_argument("--bit-depth", type=int, choices=[24, 32], default=24,
                        help="24-bit PCM or 32-bit float (default 24)")
    encode.add_argument("--iterations", type=int, default=64, help="Griffin-Lim iterations (default 64)")
    encode.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    encode.set_defaults(run=run_encode)

    decode = subparsers.add_parser(
        "decode", help="show a sound as a picture of its spectrogram",
        description="Show any sound (WAV, FLAC, MP3, OGG) as a picture of its spectrogram: bright is loud, "
                    "low frequencies at the bottom. The PNG carries the format, so `encode` can play it back.",
    )
    decode.add_argument("audio", type=Path, help="the sound")
    decode.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    decode.add_argument("--format", default="auffusion", help=f"spectrogram format: {' or '.join(FORMATS)} "
                                                              "(default auffusion)")
    decode.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    decode.set_defaults(run=run_decode)


def run_encode(args: argparse.Namespace) -> int:
    try:
        _check_output(args.output, args.overwrite)
        if not 8000 <= args.sample_rate <= 384000:
            raise FieldError("sample_rate", f"{args.sample_rate} Hz is out of range; give 8000 to 384000")
        if not 1 <= args.iterations <= 1000:
            raise FieldError("iterations", f"{args.iterations} is out of range; give 1 to 1000")
        fmt, picture = art.load_art(args.picture, args.format, args.seconds)
        sound = art.sound_from_picture(fmt, picture, n_iter=args.iterations)
        sound = normalize_peak(resample(sound, fmt.sample_rate, args.sample_rate), peak_db=-1.0)
        write_audio(args.output, sound, args.sample_rate, bit_depth=args.bit_depth, exclusive=not args.overwrite)
    except (ValueError, FileExistsError) as error:
        return _fail("encode", error)
    print(f"{args.output}: {sound.shape[-1] / args.sample_rate:.2f} s at {args.sample_rate} Hz ({fmt.name})")
    return 0


def run_decode(args: argparse.Namespace) -> int:
    try:
        _check_output(args.output, args.overwrite)
        fmt = get_format(args.format)
        audio = load_audio(args.audio, sample_rate=fmt.sample_rate)
        image = art.picture_from_sound(fmt, audio)
        atomic_write(args.output, lambda f: image.save(f, format="PNG", **image.encoderinfo),  # the metadata
                     exclusive=not args.overwrite)
    except (ValueError, FileExistsError) as error:
        return _fail("decode", error)
    print(f"{args.output}: {image.width}x{image.height} ({fmt.name})")
    return 0


def _check_output(path: Path, overwrite: bool) -> None:
    """Fail before the slow part: the folder must exist, and an existing file needs --overwrite."""
    if not path.parent.is_dir():
        raise FieldError("output", f"folder '{path.parent}' does not exist")
    if path.exists() and not overwrite:
        raise FieldError("output", f"'{path}' exists; pass --overwrite to replace it")


def _fail(command: str, error: Exception) -> int:
    if isinstance(error, FileExistsError):
        error = FieldError("output", f"'{error.filename2 or error.filename}' appeared meanwhile; nothing replaced")
    print(f"sonocanvas {command}: {error}", file=sys.stderr)
    return 2


"""`sonocanvas encode` and `sonocanvas decode`: spectrogram art with no model at all, up to an hour long.

encode: a picture becomes a sound whose spectrogram shows it. decode: a sound becomes its picture.
Bright is loud in both. Memory does not grow with the length (Griffin-Lim and the STFT run in chunks), and
anything longer than a couple of seconds shows a progress bar. Nothing is written unless the whole result is,
and nothing is overwritten without --overwrite. The codecs (torch) load only when a command runs, so that
`--help` answers at once.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ...engine.audio import AUDIO_FORMATS, audio_format, check_depth
from ...engine.catalog import AUDIO_MODELS
from ...engine.errors import FieldError
from ...engine.files import atomic_write
from ...engine.settings import BY_NAME
from . import cannot_write, check_output, one_line_errors

FORMATS = tuple(kind.format for kind in AUDIO_MODELS.values())
"""The spectrogram formats, named without loading the codecs (torch): `engine.spectrogram.FORMATS`' keys."""

LONG_SECONDS = 2.0
"""Longer than this, encode and decode show a progress bar."""


def register(subparsers: argparse._SubParsersAction) -> None:
    encode = subparsers.add_parser(
        "encode", help="turn a picture into a sound whose spectrogram shows it",
        description="Turn any picture (PNG, JPEG, ...; colour or grey) into a sound whose spectrogram shows it: "
                    "bright is loud. A picture `decode` made turns back into its sound.",
    )
    encode.add_argument("picture", type=Path, help="the picture")
    encode.add_argument("-o", "--output", type=Path, required=True,
                        help=f"audio file to write; its extension names the format ({', '.join(AUDIO_FORMATS)})")
    encode.add_argument("--format", help=f"spectrogram format: {' or '.join(FORMATS)} "
                                         "(default: the picture's own, else auffusion)")
    encode.add_argument("--seconds", type=float, help="length of the sound (default: the format's, "
                                                      "10.24 s auffusion, 5.12 s riffusion)")
    for name in ("sample_rate", "bit_depth"):  # as `generate` and the server have them
        setting = BY_NAME[name]
        encode.add_argument(setting.option, dest=name, type=int, default=setting.default,
                            choices=list(setting.choices) or None, help=f"{setting.help} (default {setting.default})")
    encode.add_argument("--iterations", type=int, default=64, help="Griffin-Lim iterations (default 64)")
    encode.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    one_line_errors(encode).set_defaults(run=run_encode)

    decode = subparsers.add_parser(
        "decode", help="show a sound as a picture of its spectrogram",
        description="Show any sound (WAV, FLAC, MP3, OGG) as a picture of its spectrogram: bright is loud, "
                    "low frequencies at the bottom. The PNG carries the format, so `encode` can play it back.",
    )
    decode.add_argument("audio", type=Path, help="the sound")
    decode.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write (.png)")
    decode.add_argument("--format", default="auffusion", help=f"spectrogram format: {' or '.join(FORMATS)} "
                                                              "(default auffusion)")
    decode.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    one_line_errors(decode).set_defaults(run=run_decode)


def run_encode(args: argparse.Namespace) -> int:
    from ...engine import art

    try:
        check_output(args.output, args.overwrite)
        check_depth(audio_format(args.output), BY_NAME["bit_depth"].parse(args.bit_depth))
        BY_NAME["sample_rate"].parse(args.sample_rate)
        if not 1 <= args.iterations <= 1000:
            raise FieldError("iterations", f"{args.iterations} is out of range; give 1 to 1000")
        fmt, picture = art.load_art(args.picture, args.format, args.seconds)
        long = picture.shape[-1] * fmt.hop_length / fmt.sample_rate > LONG_SECONDS
        samples = art.write_sound(fmt, picture, args.output, args.sample_rate, args.bit_depth, args.iterations,
                                  exclusive=not args.overwrite, on_chunk=_progress("encoding") if long else None)
    except OSError as error:
        raise cannot_write(error, args.output) from None
    print(f"{args.output}: {samples / args.sample_rate:.2f} s at {args.sample_rate} Hz ({fmt.name})")
    return 0


def run_decode(args: argparse.Namespace) -> int:
    from ...engine import art
    from ...engine.audio import load_audio
    from ...engine.spectrogram import get_format

    try:
        check_output(args.output, args.overwrite)
        if args.output.suffix.lower() != ".png":
            raise FieldError("output", f"decode writes PNG pictures; name the file .png, not {args.output.name!r}")
        fmt = get_format(args.format)
        audio = load_audio(args.audio, sample_rate=fmt.sample_rate)
        long = len(audio) / fmt.sample_rate > LONG_SECONDS
        image = art.picture_from_sound(fmt, audio, on_chunk=_progress("decoding") if long else None)
        atomic_write(args.output, lambda f: image.save(f, format="PNG", **image.encoderinfo),  # the metadata
                     exclusive=not args.overwrite)
    except OSError as error:
        raise cannot_write(error, args.output) from None
    print(f"{args.output}: {image.width}x{image.height} ({fmt.name})")
    return 0


def _progress(label: str):
    from ..jobs.queue import Progress, text_bar

    return Progress(text_bar(label))

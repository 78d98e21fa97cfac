"""Audio in and out: reading any common file as mono, resampling, peak normalising, writing WAV safely.

Files are read and written through pedalboard's `AudioFile` (one decoder for every format) and
rates changed with libsoxr (`soxr`, very high quality): next to pedalboard's windowed-sinc
resampler it leaves images 120 dB lower and runs about 25 times faster, which is most of the
time between a clip's last sampling step and its drop. Samples are float32 numpy arrays,
channels first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from pedalboard.io import AudioFile

from .errors import FieldError
from .files import atomic_write
from .input_file import FileSource, is_present, readable

SILENCE_PEAK = 1e-6
"""A file whose loudest sample is below this (-120 dBFS) holds nothing to show or to normalise."""


@dataclass(frozen=True)
class Region:
    """The part of a sound from `start` to `end` seconds (None: to its end), as a Live clip's markers give it.
    `start_field` and `end_field` are the request's names for the two, which its errors name: a riff's
    `init_start`/`init_end`, stylize's `sound_start`/`sound_end`."""

    start: float
    end: float | None = None
    start_field: str = "init_start"
    end_field: str = "init_end"


def load_audio(source: FileSource, sample_rate: int | None = None, field: str = "audio",
               region: Region | None = None, silence: bool = False) -> np.ndarray:
    """Read WAV, FLAC, MP3 or OGG as mono float32 `(samples,)`, resampled to `sample_rate` if given.

    With `region`, only that part is decoded, by seeking (`region_frames`): a 150-minute file costs what the
    region costs, never the whole file in memory. A region the file does not hold is refused on its own field.

    Raises FieldError(field) for a missing file, one that is not audio, or audio that is empty, silent (unless
    `silence`: a sound whose silence means something, as stylize's) or holds NaN/infinite samples, since none can
    become a picture; `field` is the caller's name for the file.
    `source` is a path, or a file's bytes already read (`InputFile`), named by the path it came from.
    """
    path = str(source)
    if not is_present(source):
        raise FieldError(field, f"no such file '{path}'")
    try:
        with AudioFile(readable(source)) as f:
            rate = f.samplerate
            first, last = (0, f.frames) if region is None or not f.frames else region_frames(f.frames, rate, region,
                                                                                             field)
            f.seek(first)
            samples = f.read(last - first) if last > first else np.zeros((f.num_channels, 0), np.float32)
    except FieldError:
        raise  # the region's own, not the file's: a FieldError is a ValueError too
    except (ValueError, RuntimeError, OSError) as e:
        raise FieldError(field, f"'{path}' is not an audio file pedalboard can read ({e})") from e
    if samples.size == 0:
        raise FieldError(field, f"'{path}' is empty (zero samples)")
    if not np.isfinite(samples).all():
        raise FieldError(field, f"'{path}' holds NaN or infinite samples")
    mono = samples.mean(axis=0, dtype=np.float32)
    if not silence and np.abs(mono).max() < SILENCE_PEAK:
        raise FieldError(field, f"'{path}' is silent")
    return mono if sample_rate is None else resample(mono, rate, sample_rate)


def region_frames(frames: int, rate: float, region: Region, of: str) -> tuple[int, int]:
    """(first, last) sample of `region` in `frames` samples at `rate` of the sound the request names `of`. An end
    past the sound's end is its end (Live's markers may round past the last sample); a start at or past it leaves
    nothing to hear, which is the user's error, named by the region's field."""
    start, end = region.start, region.end
    first = round(start * rate)
    if first >= frames:
        raise FieldError(region.start_field, f"{start:g} s is at or past the end of {of}, which lasts "
                                             f"{frames / rate:g} s")
    last = frames if end is None else min(frames, round(end * rate))
    if last <= first:
        raise FieldError(region.end_field, f"the region {start:g} s to {end:g} s holds no whole sample at "
                                           f"{rate:g} Hz")
    return first, last


def resample(audio: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """Change the sample rate of `(samples,)` or `(channels, samples)`: round(samples * to / from) samples."""
    audio = np.asarray(audio, dtype=np.float32)
    if from_rate == to_rate:
        return audio
    planar = np.atleast_2d(audio)
    out = soxr.resample(planar.T, float(from_rate), float(to_rate), quality="VHQ").T  # soxr: (samples, channels)
    return np.ascontiguousarray(out).reshape(audio.shape[:-1] + out.shape[-1:])


def normalize_peak(audio: np.ndarray, peak_db: float = -1.0) -> np.ndarray:
    """Scale so the loudest sample sits at `peak_db` dBFS (<= 0, so the result never clips); silence stays silence."""
    if peak_db > 0:
        raise FieldError("peak_db", f"{peak_db} would clip; use 0 dBFS or less")
    audio = np.asarray(audio, dtype=np.float32)
    peak = float(np.abs(audio).max(initial=0.0))
    if peak == 0.0:
        return audio.copy()
    return (audio * np.float32(10.0 ** (peak_db / 20.0) / peak)).astype(np.float32)


def within_full_scale(audio: np.ndarray) -> np.ndarray:
    """Leave audio that fits alone; bring a louder one (a codec's or an effect's overshoot) to -1 dBFS."""
    return normalize_peak(audio, -1.0) if np.abs(audio).max(initial=0.0) > 1.0 else audio


AUDIO_FORMATS = ("wav", "flac", "ogg", "mp3", "aiff")
"""What `write_audio` writes (pedalboard's writers), named by the file's extension."""


def audio_format(path: str | os.PathLike[str], field: str = "output") -> str:
    """The format a file name asks for by its extension; FieldError for one sonocanvas cannot write."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in AUDIO_FORMATS:
        raise FieldError(field, f"cannot write {suffix.upper() or 'a file without an extension'}; name the file "
                                f".{', .'.join(AUDIO_FORMATS)}")
    return suffix


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    bit_depth: int = 24,
    exclusive: bool = False,
) -> Path:
    """Write `(samples,)` or `(channels, samples)` atomically, in the format its extension names (`audio_format`):
    24-bit PCM or 32-bit float where the format has sample depths (FLAC: 24 only).

    Refuses samples outside [-1, 1] for 24-bit (they would clip; normalise first) and NaN for both.
    `exclusive=True` raises FileExistsError rather than replace an existing file.
    """
    kind = check_depth(audio_format(path), bit_depth)
    planar = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if not np.isfinite(planar).all():
        raise FieldError("audio", "holds NaN or infinite samples")
    if bit_depth == 24 and np.abs(planar).max(initial=0.0) > 1.0:
        raise FieldError("audio", "samples exceed full scale and would clip in 24-bit PCM; normalise first")

    def write(f) -> None:
        with AudioFile(f, "w", samplerate=sample_rate, num_channels=planar.shape[0],
                       bit_depth=bit_depth, format=kind) as out:
            out.write(planar)

    return atomic_write(path, write, exclusive=exclusive)


def check_depth(kind: str, bit_depth: int) -> str:
    """`kind` if a file of that format can hold `bit_depth`, else FieldError("bit_depth")."""
    if bit_depth not in (24, 32):
        raise FieldError("bit_depth", f"{bit_depth} is not supported; choose 24 or 32")
    if kind == "flac" and bit_depth == 32:
        raise FieldError("bit_depth", "FLAC holds at most 24 bits; choose 24, or a .wav for 32-bit float")
    return kind

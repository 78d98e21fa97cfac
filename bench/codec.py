"""Benchmark: mel analysis and Griffin-Lim (32 iterations) for both formats, ours against librosa, in one run;
and `sonocanvas encode` of long Riffusion pictures, time and peak memory side by side.

    python3 bench/codec.py [--repeats 3] [--threads N]
    python3 bench/codec.py --encode-seconds 6 60 600

With `--encode-seconds`, each length is encoded by the real command in a fresh process (its own peak RSS, read
with wait4), from the same picture stretched to that length, in one run: the rows show whether memory stays
flat and time grows linearly with the length.

Prints a Markdown table of the best of `--repeats` timings (machines shared with other work give
noisy single runs), the ratio librosa / ours (above 1: ours is faster) and how many times faster
than real time ours is. librosa gets exactly the same parameters: the same framing, filter bank,
magnitude and momentum 0.99, and the same linear magnitude to rebuild.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import torch
from sonocanvas.engine.griffinlim import griffin_lim
from sonocanvas.engine.spectrogram import AuffusionFormat, RiffusionFormat, SpectrogramFormat


def best_time(run: Callable[[], object], repeats: int) -> float:
    run()  # warm caches: filter banks, FFT plans
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def test_clip(fmt: SpectrogramFormat, seconds: float) -> np.ndarray:
    """Music-like material: a few harmonic notes and some noise, so neither side meets a trivial signal."""
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * fmt.sample_rate)) / fmt.sample_rate
    notes = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220.0, 277.2, 329.6) for k in (1, 2, 3))
    return (0.2 * notes + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def librosa_mel(fmt: SpectrogramFormat, audio: np.ndarray) -> np.ndarray:
    """The same analysis in librosa: the format's padding and framing, magnitude (power 1), same bank."""
    if isinstance(fmt, AuffusionFormat):
        audio = np.pad(audio / np.abs(audio).max() * fmt.peak, fmt.pad, mode="reflect")
    return librosa.feature.melspectrogram(
        y=audio, sr=fmt.sample_rate, n_fft=fmt.n_fft, hop_length=fmt.hop_length, win_length=fmt.win_length,
        center=fmt.pad == fmt.n_fft // 2, pad_mode="reflect", power=1.0, n_mels=fmt.n_mels, fmin=fmt.f_min,
        fmax=fmt.f_max, htk=fmt.mel_scale == "htk", norm=fmt.mel_norm)


def rows(fmt: SpectrogramFormat, seconds: float, repeats: int) -> list[tuple[str, float, float, float]]:
    audio = test_clip(fmt, seconds)
    tensor = torch.from_numpy(audio)
    mel = fmt.mel_from_audio(tensor)
    linear = fmt.linear_from_mel(mel)  # what the codec rebuilds from
    full = np.zeros((fmt.n_fft // 2 + 1, linear.shape[-1]), dtype=np.float32)
    full[: linear.shape[0]] = linear.numpy()  # librosa takes every bin; the ones above the bank are zero

    ours_mel = best_time(lambda: fmt.mel_from_audio(tensor), repeats)
    theirs_mel = best_time(lambda: librosa_mel(fmt, audio), repeats)
    ours_gl = best_time(lambda: griffin_lim(linear, fmt.n_fft, fmt.hop_length, fmt.win_length, n_iter=32,
                                            momentum=0.99), repeats)
    theirs_gl = best_time(lambda: librosa.griffinlim(full, n_iter=32, hop_length=fmt.hop_length,
                                                     win_length=fmt.win_length, n_fft=fmt.n_fft, center=True,
                                                     pad_mode="reflect", momentum=0.99, init="random",
                                                     random_state=0), repeats)
    label = f"{fmt.name} {seconds:g} s"
    return [
        (f"{label}: mel analysis", ours_mel, theirs_mel, seconds),
        (f"{label}: Griffin-Lim, 32 iterations", ours_gl, theirs_gl, seconds),
        (f"{label}: both", ours_mel + ours_gl, theirs_mel + theirs_gl, seconds),
    ]


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown CPU"


def encode_rows(lengths: list[float]) -> None:
    """`sonocanvas encode --format riffusion --seconds N` per length, each in its own process: wall time, peak RSS."""
    from PIL import Image, ImageDraw

    with tempfile.TemporaryDirectory() as folder:
        picture = Path(folder) / "art.png"
        image = Image.new("L", (800, 512))
        draw = ImageDraw.Draw(image)
        for i in range(0, 800, 40):  # stripes and a diagonal: a picture with detail all along
            draw.rectangle((i, 0, i + 15, 511), fill=90 + i % 160)
        draw.line((0, 511, 799, 0), fill=255, width=9)
        image.save(picture)
        print("| Riffusion encode | wall s | s per minute of sound | peak RSS MB | RSS / first row |")
        print("| --- | ---: | ---: | ---: | ---: |")
        first = None
        for seconds in lengths:
            out = Path(folder) / f"{seconds:g}.wav"
            command = [sys.executable, "-m", "sonocanvas.bridge.cli", "encode", str(picture), "-o", str(out),
                       "--format", "riffusion", "--seconds", f"{seconds:g}"]
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            if status:
                raise SystemExit(f"{' '.join(command)} failed ({status})")
            rss = usage.ru_maxrss / 1024  # kB on Linux
            first = first or rss
            print(f"| {seconds:g} s | {wall:.1f} | {wall / seconds * 60:.1f} | {rss:.0f} | {rss / first:.2f} |",
                  flush=True)
            out.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each step; the best counts")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--encode-seconds", type=float, nargs="+", metavar="S",
                        help="instead: encode Riffusion pictures this long, each in its own process")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    if args.encode_seconds:
        print(f"CPU: {cpu_model()}; torch {torch.__version__}; `sonocanvas encode` with its defaults "
              f"(64 iterations, 48 kHz, 24-bit)\n")
        encode_rows(args.encode_seconds)
        return

    print(f"CPU: {cpu_model()}; torch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"librosa {librosa.__version__}; numpy {np.__version__}; best of {args.repeats}\n")
    print("| clip and step | ours (s) | librosa (s) | librosa / ours | ours, × real time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for fmt, seconds in ((AuffusionFormat(), 10.24), (RiffusionFormat(), 5.12)):
        for name, ours, theirs, clip in rows(fmt, seconds, args.repeats):
            print(f"| {name} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} | {clip / ours:.1f} |", flush=True)


if __name__ == "__main__":
    main()

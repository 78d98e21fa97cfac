"""Long clips and seamless loops (issue 13) end to end on the tiny-random models: the pipeline, and the WAVs
the command line writes, read back.

The tiny Auffusion's window is 128 columns (1.28 s); its latent window 16 columns, so windows start every 8.
"""
from __future__ import annotations

import numpy as np
import pytest
from pedalboard.io import AudioFile
from sonocanvas.bridge.cli import main
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.pipeline import JointPipeline

QUICK = dict(image_prompt="castle towers", audio_prompt="bells", steps=4, scheduler="dpm++", seed=3)


def test_one_windows_worth_of_seconds_is_exactly_todays_clip(auffusion_pipe):
    [plain] = auffusion_pipe(GenerateSettings.resolved(**QUICK))
    [one] = auffusion_pipe(GenerateSettings.resolved(**QUICK, seconds=1.28))
    assert np.array_equal(plain.audio, one.audio)
    assert np.array_equal(np.asarray(plain.picture), np.asarray(one.picture))


def test_a_long_clip_is_as_long_as_asked_and_its_picture_spans_the_canvas(auffusion_pipe):
    [clip] = auffusion_pipe(GenerateSettings.resolved(**QUICK, seconds=3.0))
    assert clip.audio.shape == (3 * 16000,)  # exact: cut from whole latent columns (304 picture columns)
    assert clip.picture.size == (304, 32) and clip.spectrogram.size == (304, 32)
    assert clip.record["settings"]["seconds"] == 3.0
    assert np.isfinite(clip.audio).all() and np.abs(clip.audio).max() > 0


def adjacent_column_jumps(picture) -> np.ndarray:
    pixels = np.asarray(picture, dtype=np.float64)
    return np.abs(np.diff(pixels, axis=1)).mean(axis=(0, 2))  # one value per pair of neighbouring columns


def test_overlapping_windows_join_without_a_seam(auffusion_pipe):
    """Where one window ends and the next takes over, the picture is no rougher than anywhere else in it."""
    [clip] = auffusion_pipe(GenerateSettings.resolved(**QUICK, seconds=3.0))
    jumps = adjacent_column_jumps(clip.picture)
    # latent window edges: windows at latent 0, 8, 16, 22 (of 38), each 16 wide; x8 picture columns
    edges = sorted({8 * e for s in (0, 8, 16, 22) for e in (s, s + 16)} - {0, 304})
    at_edges = jumps[[e - 1 for e in edges]]
    assert at_edges.max() <= np.quantile(jumps, 0.99)


def test_seconds_and_width_together_are_refused_by_name():
    with pytest.raises(FieldError, match="^seconds: "):
        GenerateSettings.resolved(**QUICK, seconds=3.0, width=256)


def test_a_loop_cannot_crop_its_last_columns():
    with pytest.raises(FieldError, match="^crop_last_columns: "):
        GenerateSettings.resolved(**QUICK, loop=True, crop_last_columns=True)


@pytest.fixture
def tiny_cli(sonocanvas_cache, tiny_model_paths, monkeypatch):
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
    return lambda *args: main(["generate", "--image-prompt", "castle", "--audio-prompt", "bells", "--models",
                               "tiny-random", "--steps", "4", "--scheduler", "dpm++", "--seed", "11", *args])


def read_wav(path) -> tuple[np.ndarray, int]:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)[0], f.samplerate


def spectral_flux(frames: np.ndarray) -> np.ndarray:
    """The change of the magnitude spectrum from each frame to the next."""
    spectra = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[-1]), axis=-1))
    return np.sqrt((np.diff(spectra, axis=0) ** 2).sum(axis=-1))


def seam_and_inside(audio: np.ndarray, frame: int = 512) -> tuple[float, float, float, float]:
    """The loop played end to start: (sample jump at the seam, largest jump inside, spectral flux across the
    seam, largest flux between neighbouring frames inside)."""
    steps = np.abs(np.diff(audio))
    seam = abs(audio[0] - audio[-1])
    starts = np.arange(0, len(audio) - frame + 1, frame // 2)
    inside = spectral_flux(np.stack([audio[s:s + frame] for s in starts]))
    across = np.concatenate([audio[-frame // 2:], audio[: frame // 2]])
    seam_flux = spectral_flux(np.stack([audio[-frame:], across, audio[:frame]])).max()
    return seam, steps.max(), seam_flux, inside.max()


@pytest.mark.parametrize("seconds", [None, "3"])
def test_a_written_loop_flows_from_its_end_into_its_start(tiny_cli, tmp_path, seconds):
    """One window (circular convolutions) and a canvas of windows that wrap: the WAV read back, played end to
    start, jumps no more at the seam than inside, in samples and in spectral flux."""
    out = tmp_path / "loop.wav"
    assert tiny_cli("-o", str(out), "--loop", *(["--seconds", seconds] if seconds else [])) == 0
    audio, rate = read_wav(out)
    columns = 304 if seconds else 128  # whole latent columns: 3 s is 300 columns, rounded up to 38 x 8
    assert len(audio) == columns * 160 * rate // 16000
    seam, step, seam_flux, flux = seam_and_inside(audio)
    assert seam <= step and seam_flux <= flux


def test_a_clip_that_is_not_a_loop_fails_the_same_seam_measure(tiny_cli, tmp_path):
    """The measure above can fail: an ordinary clip, played end to start, changes abruptly at the seam."""
    out = tmp_path / "plain.wav"
    assert tiny_cli("-o", str(out), "--seconds", "3") == 0
    seam, step, seam_flux, flux = seam_and_inside(read_wav(out)[0])
    assert seam_flux > flux


def test_riffusion_makes_long_clips_too(tiny_loaded):
    image, _, riffusion = tiny_loaded
    [clip] = JointPipeline(image, riffusion)(GenerateSettings.resolved(**QUICK, seconds=2.0))
    assert clip.audio.shape == (2 * 44100,) and clip.picture.size[0] == 208  # 201 columns, in whole latent ones
    assert np.isfinite(clip.audio).all()


def test_a_loop_in_bars_is_exactly_that_many_bars_at_the_output_rate(tiny_cli, tmp_path):
    out = tmp_path / "bars.wav"
    assert tiny_cli("-o", str(out), "--loop", "--bpm", "120", "--bars", "1", "--sample-rate", "44100") == 0
    audio, rate = read_wav(out)
    assert rate == 44100 and len(audio) == 2 * 44100  # one bar of 4/4 at 120 bpm: 2 s


def test_bars_longer_than_a_clip_may_be_are_refused_by_name(tiny_cli, tmp_path, capsys):
    assert tiny_cli("-o", str(tmp_path / "x.wav"), "--bpm", "20", "--bars", "64") == 2
    assert "error: bars: 64 bars of 4/4 at 20 bpm last 768 s" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()

"""Audio files in and out through pedalboard, and atomic writes: real files, read back."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from sonocanvas.engine.audio import Region, load_audio, normalize_peak, resample, within_full_scale, write_audio
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.files import atomic_write


def sine(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def dominant_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * rate / len(audio))


def write_with_pedalboard(path: Path, audio: np.ndarray, rate: int, **kwargs) -> Path:
    with AudioFile(str(path), "w", samplerate=rate, num_channels=np.atleast_2d(audio).shape[0], **kwargs) as f:
        f.write(np.atleast_2d(audio))
    return path


def wav_format(path: Path) -> tuple[int, int]:
    """(format tag, bits per sample) from the WAV's fmt chunk; an extensible header's real tag is its sub-format."""
    data = path.read_bytes()
    at = 12
    while at < len(data):
        chunk, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        if chunk == b"fmt ":
            tag, _, _, _, _, bits = struct.unpack("<HHIIHH", data[at + 8 : at + 24])
            if tag == 0xFFFE:
                tag = struct.unpack("<H", data[at + 32 : at + 34])[0]
            return tag, bits
        at += 8 + size + (size & 1)
    raise AssertionError("no fmt chunk")


# atomic_write ---------------------------------------------------------------------------------------
def test_atomic_write_writes_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "a.bin", lambda f: f.write(b"hello"))
    assert path.read_bytes() == b"hello"
    assert os.listdir(tmp_path) == ["a.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not mkstemp's private one


def test_atomic_write_replaces_unless_exclusive(tmp_path):
    atomic_write(tmp_path / "a.bin", lambda f: f.write(b"one"))
    atomic_write(tmp_path / "a.bin", lambda f: f.write(b"two"))
    assert (tmp_path / "a.bin").read_bytes() == b"two"
    with pytest.raises(FileExistsError):
        atomic_write(tmp_path / "a.bin", lambda f: f.write(b"three"), exclusive=True)
    assert (tmp_path / "a.bin").read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_failed_write_leaves_the_old_file_and_nothing_else(tmp_path):
    atomic_write(tmp_path / "a.bin", lambda f: f.write(b"finished"))

    def half_then_fail(f):
        f.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(tmp_path / "a.bin", half_then_fail)
    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "b.bin", half_then_fail)
    assert (tmp_path / "a.bin").read_bytes() == b"finished"
    assert os.listdir(tmp_path) == ["a.bin"]


# write_audio ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bit_depth, tag, tolerance", [(24, 1, 2**-22), (32, 3, 0.0)])
def test_write_audio_reads_back(tmp_path, bit_depth, tag, tolerance):
    audio = np.stack([sine(440, 48000, 0.1), sine(660, 48000, 0.1)])
    path = write_audio(tmp_path / "x.wav", audio, 48000, bit_depth=bit_depth)
    assert wav_format(path) == (tag, bit_depth)  # PCM 24-bit or IEEE float 32-bit
    with AudioFile(str(path)) as f:
        assert (f.samplerate, f.num_channels, f.frames) == (48000, 2, 4800)
        assert np.abs(f.read(f.frames) - audio).max() <= tolerance


@pytest.mark.parametrize("suffix, tolerance", [(".flac", 1e-6), (".ogg", 0.05), (".mp3", 0.05), (".aiff", 1e-6)])
def test_the_extension_decides_the_format(tmp_path, suffix, tolerance):
    """What the name says is what is written: read back by the format's own decoder, at the same rate and length
    (MP3's encoder pads; lossy formats are close, not exact)."""
    t = np.arange(48000) / 48000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    write_audio(tmp_path / f"clip{suffix}", tone, 48000)
    with AudioFile(str(tmp_path / f"clip{suffix}")) as f:
        assert f.samplerate == 48000 and abs(f.frames - 48000) <= 2400
        back = f.read(f.frames)[0]
    assert np.isclose(np.sqrt(np.mean(back ** 2)), np.sqrt(np.mean(tone ** 2)), atol=tolerance)
    with open(tmp_path / f"clip{suffix}", "rb") as f:
        head = f.read(4)
    magic = {".flac": [b"fLaC"], ".ogg": [b"OggS"], ".mp3": [b"ID3\x03", b"ID3\x04"], ".aiff": [b"FORM"]}
    assert head in magic[suffix] \
        or (suffix == ".mp3" and head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xfa"))


def test_an_extension_that_names_no_writable_format_is_refused(tmp_path):
    for name in ("clip.xyz", "clip", "clip.flac"):
        with pytest.raises(FieldError) as caught:
            write_audio(tmp_path / name, np.zeros(100, np.float32), 48000, bit_depth=32)
        assert caught.value.field == ("bit_depth" if name.endswith("flac") else "output")
    assert list(tmp_path.iterdir()) == []


def test_write_audio_refuses_what_would_clip_or_is_not_a_number(tmp_path):
    with pytest.raises(ValueError, match="^audio: samples exceed full scale"):
        write_audio(tmp_path / "loud.wav", np.array([0.5, 1.5], dtype=np.float32), 48000)
    with pytest.raises(ValueError, match="^audio: holds NaN"):
        write_audio(tmp_path / "nan.wav", np.array([0.5, np.nan], dtype=np.float32), 48000, bit_depth=32)
    with pytest.raises(ValueError, match="^bit_depth: 16 is not supported"):
        write_audio(tmp_path / "x.wav", np.zeros(4, dtype=np.float32), 48000, bit_depth=16)
    assert os.listdir(tmp_path) == []


def test_write_audio_exclusive_never_replaces(tmp_path):
    write_audio(tmp_path / "x.wav", sine(440, 8000, 0.1), 8000)
    before = (tmp_path / "x.wav").read_bytes()
    with pytest.raises(FileExistsError):
        write_audio(tmp_path / "x.wav", sine(880, 8000, 0.1), 8000, exclusive=True)
    assert (tmp_path / "x.wav").read_bytes() == before


# load_audio -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["wav", "flac", "ogg", "mp3"])
def test_load_audio_reads_each_format_as_mono_at_the_asked_rate(tmp_path, suffix):
    stereo = np.stack([sine(1000, 44100), sine(1000, 44100)])
    path = write_with_pedalboard(tmp_path / f"x.{suffix}", stereo, 44100)
    audio = load_audio(path, sample_rate=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16000) <= 1200  # MP3 and OGG add encoder padding
    assert dominant_frequency(audio, 16000) == pytest.approx(1000, abs=2)
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.05)


def test_load_audio_mixes_channels_down(tmp_path):
    left, right = sine(300, 16000), sine(300, 16000, amplitude=0.1)
    path = write_with_pedalboard(tmp_path / "x.wav", np.stack([left, right]), 16000, bit_depth=32)
    assert np.allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_load_audio_keeps_the_files_rate_when_none_is_asked(tmp_path):
    path = write_with_pedalboard(tmp_path / "x.wav", sine(300, 22050), 22050)
    assert len(load_audio(path)) == 22050


def test_load_audio_names_each_problem(tmp_path):
    with pytest.raises(ValueError, match="^audio: no such file"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("this is not audio")
    with pytest.raises(ValueError, match="^audio: .*text.wav' is not an audio file"):
        load_audio(tmp_path / "text.wav")
    empty = write_with_pedalboard(tmp_path / "empty.wav", np.zeros((1, 0), dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="^audio: .*empty.wav' is empty"):
        load_audio(empty)
    silent = write_with_pedalboard(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="^audio: .*silent.wav' is silent"):
        load_audio(silent, sample_rate=16000)
    nan = sine(300, 16000)
    nan[100] = np.nan
    nan_path = write_with_pedalboard(tmp_path / "nan.wav", nan, 16000, bit_depth=32)
    with pytest.raises(ValueError, match="^audio: .*nan.wav' holds NaN"):
        load_audio(nan_path)


# resample, normalize_peak ----------------------------------------------------------------------------
def test_resample_keeps_pitch_level_and_channels():
    up = resample(sine(1000, 16000), 16000, 48000)
    assert up.shape == (48000,) and up.dtype == np.float32
    assert dominant_frequency(up, 48000) == pytest.approx(1000, abs=1)
    assert np.abs(up[1000:-1000]).max() == pytest.approx(0.5, abs=0.01)
    stereo = resample(np.stack([sine(500, 44100), sine(700, 44100)]), 44100, 16000)
    assert stereo.shape == (2, 16000)
    assert dominant_frequency(stereo[1], 16000) == pytest.approx(700, abs=1)


def test_resample_leaves_no_images_above_the_old_band():
    """Upsampling a 7 kHz tone from 16 to 48 kHz mirrors it to 9, 23, 25 kHz unless the filter removes
    the copies: a DAW clip must not carry them (a 32-tap windowed sinc leaves them at about -40 dB)."""
    up = resample(sine(7000, 16000, seconds=4.0), 16000, 48000)
    segment = up[48000:48000 + 65536].astype(np.float64) * np.blackman(65536)
    spectrum = np.abs(np.fft.rfft(segment))
    freqs = np.fft.rfftfreq(65536, 1 / 48000)
    tone, images = spectrum[np.abs(freqs - 7000) < 20].max(), spectrum[freqs > 8500].max()
    assert 20 * np.log10(images / tone) < -100


def test_normalize_peak_never_clips():
    audio = sine(440, 8000) * 3
    out = normalize_peak(audio, peak_db=-1.0)
    assert np.abs(out).max() == pytest.approx(10 ** (-1 / 20), rel=1e-6)
    assert np.abs(normalize_peak(audio, peak_db=0.0)).max() <= 1.0
    assert not normalize_peak(np.zeros(10, dtype=np.float32)).any()
    with pytest.raises(ValueError, match="^peak_db: 0.5 would clip"):
        normalize_peak(audio, peak_db=0.5)


def test_within_full_scale_leaves_what_fits_and_brings_an_overshoot_to_minus_1_dbfs():
    fits = sine(440, 8000, amplitude=0.9)
    assert within_full_scale(fits) is fits
    loud = within_full_scale(fits * 1.6)
    assert np.abs(loud).max() == pytest.approx(10 ** (-1 / 20), rel=1e-6)



def test_a_region_of_an_hour_long_file_decodes_only_the_region(tmp_path):
    """Issue 24, finding 4: an hour of DC is a FLAC of under 100 kB, and decoded whole it is 115 MB of float32.
    A riff region is read by seeking (pedalboard's AudioFile.seek/read), so memory is the region's, not the
    file's (tracemalloc sees numpy's buffers)."""
    import tracemalloc

    from pedalboard.io import AudioFile

    rate, path = 8000, tmp_path / "hour.flac"
    with AudioFile(str(path), "w", rate, 1) as f:
        minute = np.full((1, rate * 60), 0.5, np.float32)
        for _ in range(60):
            f.write(minute)
    tracemalloc.start()
    try:
        region = load_audio(path, region=Region(1800.0, 1802.0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(region) == 2 * rate and np.allclose(region, 0.5, atol=1e-4)
    assert peak < 100 * region.nbytes < 60 * 60 * rate * 4  # the region's order, far below the whole hour's


@pytest.mark.parametrize("region, field, reason", [
    (Region(5.0), "init_start", "5 s is at or past the end of init_audio, which lasts 2 s"),
    (Region(2.0, 3.0, "sound_start", "sound_end"), "sound_start", "2 s is at or past the end of init_audio"),
    (Region(1.0, 1.00001, "sound_start", "sound_end"), "sound_end", "holds no whole sample at 8000 Hz"),
])
def test_a_region_the_file_does_not_hold_is_refused_on_its_own_field(tmp_path, region, field, reason):
    """Not as a file pedalboard cannot read: the file is fine, the markers are not."""
    write_audio(tmp_path / "two.wav", np.full(16000, 0.5, np.float32), 8000)
    with pytest.raises(FieldError, match=reason) as caught:
        load_audio(tmp_path / "two.wav", field="init_audio", region=region)
    assert caught.value.field == field and "pedalboard" not in str(caught.value)

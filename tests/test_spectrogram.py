"""The two spectrogram formats against their published definitions: librosa as a peer, and the PNG
Riffusion's own converter made of a real clip."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch
from pedalboard.io import AudioFile
from PIL import Image
from sonocanvas.engine.spectrogram import (
    PNG_KEY,
    AuffusionFormat,
    RiffusionFormat,
    get_format,
    mel_bank,
    picture_from_png,
)

pytestmark = pytest.mark.usefixtures("single_thread_torch")

PEERS = Path(__file__).parent / "data" / "riffusion"  # Riffusion's own clip and picture: see tests/data/README.md
FORMATS = [AuffusionFormat(), RiffusionFormat()]


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.numpy().ravel(), b.numpy().ravel())[0, 1])


def test_get_format_names_the_choices():
    assert get_format("auffusion") == AuffusionFormat()
    assert get_format("riffusion") == RiffusionFormat()
    with pytest.raises(ValueError, match=r"^format: unknown 'x'; choose auffusion or riffusion$"):
        get_format("x")


def test_published_parameters():
    a, r = AuffusionFormat(), RiffusionFormat()
    assert (a.sample_rate, a.n_fft, a.win_length, a.hop_length, a.pad, a.n_mels, a.frames) == (
        16000, 2048, 1024, 160, 944, 256, 1024)
    assert (r.sample_rate, r.n_fft, r.win_length, r.hop_length, r.pad, r.n_mels, r.frames) == (
        44100, 17640, 4410, 441, 8820, 512, 512)
    assert a.frames_for(163840) == 1024  # 10.24 s
    assert r.frames_for(round(5.12 * 44100)) == 513  # centred frames: one more than 5.12 s of hops


@pytest.mark.parametrize("fmt, htk, norm", [(AuffusionFormat(), False, "slaney"), (RiffusionFormat(), True, None)],
                         ids=["auffusion", "riffusion"])
def test_mel_bank_equals_librosa(fmt, htk, norm):
    ours = mel_bank(fmt).numpy()
    theirs = librosa.filters.mel(sr=fmt.sample_rate, n_fft=fmt.n_fft, n_mels=fmt.n_mels, fmin=fmt.f_min,
                                 fmax=fmt.f_max, htk=htk, norm=norm)
    used = ours.shape[1]
    assert np.abs(ours - theirs[:, :used]).max() < 1e-6
    assert not theirs[:, used:].any()  # the bins we cut are zero in every band


def test_auffusion_mel_equals_librosa_on_its_framing():
    fmt = AuffusionFormat()
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(16000) + np.sin(np.arange(16000) * 0.2)).astype(np.float32)
    ours = fmt.mel_from_audio(torch.from_numpy(audio)).numpy()
    prepared = audio / np.abs(audio).max() * 0.95
    padded = np.pad(prepared, fmt.pad, mode="reflect")
    theirs = librosa.feature.melspectrogram(y=padded, sr=16000, n_fft=2048, hop_length=160, win_length=1024,
                                            center=False, power=1.0, n_mels=256, fmin=0, fmax=8000)
    assert ours.shape == theirs.shape == (256, 100)
    assert np.abs(ours - theirs).max() < 1e-4 * theirs.max()  # the 1e-9 magnitude floor is all that differs


def test_riffusion_mel_equals_librosa_centred():
    fmt = RiffusionFormat()
    rng = np.random.default_rng(1)
    audio = (0.3 * rng.standard_normal(44100)).astype(np.float32)
    ours = fmt.mel_from_audio(torch.from_numpy(audio)).numpy()
    theirs = librosa.feature.melspectrogram(y=audio, sr=44100, n_fft=17640, hop_length=441, win_length=4410,
                                            center=True, pad_mode="reflect", power=1.0, n_mels=512, fmin=0,
                                            fmax=10000, htk=True, norm=None)
    assert ours.shape == theirs.shape == (512, 101)
    assert np.abs(ours - theirs).max() < 1e-4 * theirs.max()


def test_riffusion_matches_riffusions_own_picture_of_a_real_clip():
    """The peer PNG is riffusion-hobby's `spectrogram_image_from_audio` of the clip (its EXIF holds the
    parameters). It was made from the clip's left channel: measured, the left channel agrees to
    within one 8-bit level, the stereo mixdown differs by up to 82."""
    fmt, peer = picture_from_png(PEERS / "tired_traveler_clip2.png")
    assert fmt == RiffusionFormat()
    with AudioFile(str(PEERS / "tired_traveler_clip2.wav")) as f:
        assert f.samplerate == 44100
        left = f.read(f.frames)[0]
    ours = fmt.picture_from_audio(torch.from_numpy(left))
    assert ours.shape == peer.shape == (512, 568)
    levels = torch.floor(ours * 255) - peer * 255  # riffusion truncates to uint8
    assert levels.abs().max() <= 1
    assert (levels != 0).float().mean() < 1e-3  # measured: 0.019 % of pixels are one level off
    assert pearson(torch.floor(ours * 255), peer) > 0.99999


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_sine_sweep_is_a_rising_diagonal(fmt):
    seconds, low, high = 2.0, 200.0, 0.9 * fmt.f_max
    t = np.arange(int(seconds * fmt.sample_rate)) / fmt.sample_rate
    sweep = np.sin(2 * np.pi * (low * t + (high - low) / (2 * seconds) * t**2)).astype(np.float32)
    picture = fmt.picture_from_audio(torch.from_numpy(sweep))
    loud = picture.argmin(dim=0) if fmt.inverted else picture.argmax(dim=0)  # Riffusion: loud is dark
    row_from_bottom = (fmt.n_mels - 1 - loud).numpy()
    # Where the sweep should be: the band that weighs the sweep's frequency most, at each frame's centre.
    centres = np.arange(picture.shape[-1]) * fmt.hop_length - fmt.pad + fmt.n_fft // 2
    frequency = low + (high - low) * np.clip(centres / fmt.sample_rate, 0, seconds) / seconds
    bins = np.round(frequency * fmt.n_fft / fmt.sample_rate).astype(int)
    expected = mel_bank(fmt).numpy()[:, bins].argmax(axis=0)
    inner = slice(5, -5)  # edges hold the reflection of the sweep's ends
    # within 3 bands: Riffusion's lowest bands are 3 Hz wide and the sweep moves 440 Hz per 100 ms window
    assert np.abs(row_from_bottom[inner] - expected[inner]).max() <= 3
    assert expected[inner][-1] - expected[inner][0] > 0.5 * fmt.n_mels  # it really climbs the picture


def test_audio_is_peak_normalised_before_auffusion_analysis():
    fmt = AuffusionFormat()
    noise = torch.randn(16000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(fmt.picture_from_audio(noise), fmt.picture_from_audio(0.01 * noise), atol=1e-4)


def test_auffusion_log_mel_is_what_the_vocoder_takes():
    fmt = AuffusionFormat()
    audio = torch.sin(torch.arange(32000) * 0.05) * torch.linspace(0, 1, 32000)
    log_mel = fmt.log_mel_from_picture(fmt.picture_from_audio(audio))
    expected = fmt.mel_from_audio(audio).clamp(min=1e-5).log().clamp(max=math.log(200))
    assert torch.allclose(log_mel, expected, atol=1e-4)
    # the picture spans [ln 1e-5, ln 200] linearly, low frequencies at the bottom
    edge = torch.zeros(256, 4)
    edge[-1] = 1.0  # bottom row = lowest band
    log_edge = fmt.log_mel_from_picture(edge)
    assert log_edge[0, 0].item() == pytest.approx(math.log(200), abs=1e-5)
    assert log_edge[1:].max().item() == pytest.approx(math.log(1e-5), abs=1e-5)


def test_riffusion_picture_is_inverted_power_law():
    fmt = RiffusionFormat()
    mel = torch.zeros(512, 3)
    mel[0, 0], mel[0, 1], mel[0, 2] = 16.0, 1.0, 0.0  # lowest band
    picture = fmt.picture_from_mel(mel)
    assert picture[-1].tolist() == pytest.approx([0.0, 0.5, 1.0])  # loud is dark; 1/16 ** 0.25 = 0.5
    assert torch.allclose(fmt.mel_from_picture(picture)[0] / fmt.max_value, mel[0] / 16)


def test_batches_match_single_clips():
    fmt = AuffusionFormat()
    batch = torch.randn(2, 8000)
    pictures = fmt.picture_from_audio(batch)
    assert pictures.shape == (2, 256, 50)
    assert torch.allclose(pictures[1], fmt.picture_from_audio(batch[1]), atol=1e-6)
    audio = fmt.audio_from_picture(pictures, n_iter=2)
    assert audio.shape == (2, 8000)


def test_long_audio_is_analysed_in_bounded_chunks_without_seams():
    fmt = RiffusionFormat()
    audio = torch.randn(441 * 1100)  # more than two chunks of frames
    whole = fmt.mel_from_audio(audio)
    assert whole.shape[-1] == 1101
    # Frames 480..560 straddle the seam between the first two chunks and reach no padding.
    part = fmt.mel_from_audio(audio[441 * 480 - fmt.pad : 441 * 560 + fmt.pad])
    lead = fmt.pad // fmt.hop_length
    assert torch.allclose(whole[:, 480:561], part[:, lead : lead + 81], rtol=1e-3, atol=1e-3)


def test_too_short_audio_is_refused():
    with pytest.raises(ValueError, match="^audio: 100 samples is too short for the riffusion format"):
        RiffusionFormat().picture_from_audio(torch.randn(100))


def smooth_picture(fmt, width: int) -> torch.Tensor:
    """A picture with large shapes, as art and generated spectrograms have: a lit ellipse over a dim gradient."""
    rows, cols = torch.meshgrid(torch.linspace(-1, 1, fmt.n_mels), torch.linspace(-1, 1, width), indexing="ij")
    ellipse = ((cols / 0.8) ** 2 + (rows / 0.6) ** 2 < 1).float()
    return 0.15 + 0.25 * (1 - rows) / 2 + 0.5 * ellipse


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_picture_to_audio_to_picture(fmt):
    width = 256  # any width will do; a quarter or half of the model's keeps the test quick
    picture = smooth_picture(fmt, width)
    if fmt.inverted:
        picture = 1 - picture
    audio = fmt.audio_from_picture(picture, n_iter=32, generator=torch.Generator().manual_seed(0))
    assert audio.shape == ((width - 1) * fmt.hop_length + fmt.n_fft - 2 * fmt.pad,)
    again = fmt.picture_from_audio(audio)
    assert again.shape == picture.shape
    assert pearson(again, picture) >= 0.9


def test_auffusion_audio_lines_up_with_the_picture_it_came_from():
    """Auffusion's frames start (n_fft - hop) / 2 samples early, not n_fft / 2 as Griffin-Lim's centred
    ones: without the 80-sample correction every sound would come back 5 ms late."""
    fmt = AuffusionFormat()
    generator = torch.Generator().manual_seed(0)
    audio = torch.zeros(32000)
    audio[12800:16000] = 0.5 * torch.randn(3200, generator=generator)  # a 0.2 s burst
    rebuilt = fmt.audio_from_picture(fmt.picture_from_audio(audio), n_iter=32, generator=generator)
    assert rebuilt.shape == audio.shape

    def centre(signal: torch.Tensor) -> float:
        energy = signal.square()
        return float((torch.arange(len(signal)) * energy).sum() / energy.sum())

    assert abs(centre(rebuilt) - centre(audio)) < 20  # measured: 5 samples


@pytest.mark.parametrize("fmt", [AuffusionFormat(), RiffusionFormat(frames=64)], ids=lambda f: f.name)
def test_png_carries_the_format(fmt, tmp_path):
    picture = torch.rand(fmt.n_mels, 40)
    fmt.png(picture).save(tmp_path / "p.png")
    with Image.open(tmp_path / "p.png") as image:
        assert image.mode == "L" and image.size == (40, fmt.n_mels)
    read_fmt, read = picture_from_png(tmp_path / "p.png")
    assert read_fmt == fmt
    assert (read - picture).abs().max() <= 0.5 / 255 + 1e-6


def test_png_picture_knows_its_format_before_it_is_saved():
    fmt = RiffusionFormat(inverted=False)
    picture = torch.rand(512, 10)
    read_fmt, read = picture_from_png(fmt.png(picture))
    assert read_fmt == fmt and (read - picture).abs().max() <= 0.5 / 255 + 1e-6


def test_metadata_that_no_stft_can_use_is_refused(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    params = dataclasses.asdict(AuffusionFormat()) | {"n_fft": 10**9}
    info.add_text(PNG_KEY, json.dumps({"format": "auffusion", "params": params}))
    Image.new("L", (8, 256)).save(tmp_path / "huge.png", pnginfo=info)
    with pytest.raises(ValueError, match="^picture: its 'sonocanvas.spectrogram' metadata is malformed "
                                         r"\(format: auffusion n_fft 1000000000 is not 16 to 65536\)"):
        picture_from_png(tmp_path / "huge.png")
    with pytest.raises(ValueError, match="^format: riffusion need 0 <= f_min"):
        RiffusionFormat(f_max=30000.0)


def test_png_without_parameters_is_refused(tmp_path):
    Image.new("L", (8, 256)).save(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="^picture: .*plain.png' carries no spectrogram parameters"):
        picture_from_png(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="^picture: no such file"):
        picture_from_png(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not a picture")
    with pytest.raises(ValueError, match="^picture: .*text.png' is not a picture"):
        picture_from_png(tmp_path / "text.png")


def test_png_with_the_wrong_height_is_refused(tmp_path):
    AuffusionFormat().png(torch.rand(100, 8)).save(tmp_path / "short.png")
    with pytest.raises(ValueError, match="^picture: .* is 100 pixels high, but the auffusion format has 256"):
        picture_from_png(tmp_path / "short.png")

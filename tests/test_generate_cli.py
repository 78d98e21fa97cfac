"""`sonocanvas generate` end to end on the tiny-random models: files read back, errors, nothing overwritten."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from pedalboard.io import AudioFile

from sonocanvas.bridge.cli import main
from sonocanvas.engine.spectrogram import picture_from_png

PROMPTS = ["--image-prompt", "a castle", "--audio-prompt", "bells"]


@pytest.fixture
def tiny_cli(sonocanvas_cache, tiny_model_paths, monkeypatch):
    """The CLI's `--models tiny-random` finds the session's tiny set through $SONOCANVAS_CACHE."""
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
    return lambda *args: main(["generate", *PROMPTS, "--models", "tiny-random", *args])


def read_wav(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames), f.samplerate


def test_one_clip_writes_wav_pngs_and_a_record(tiny_cli, tmp_path, capsys):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--steps", "4", "--seed", "5", "--sample-rate", "48000",
                    "--scheduler", "dpm++") == 0
    assert sorted(p.name for p in out.iterdir()) == ["clip.json", "clip.wav", "picture.png", "spectrogram.png"]
    audio, rate = read_wav(out / "clip.wav")
    assert rate == 48000 and audio.shape[0] == 1
    assert abs(audio.shape[1] - 1.28 * 48000) <= 64  # 128 columns x 160 samples at 16 kHz, resampled
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0
    record = json.loads((out / "clip.json").read_text())
    assert record["seed"] == 5 and record["settings"]["steps"] == 4 and record["settings"]["scheduler"] == "dpm++"
    assert record["settings"]["audio_weight"] == 0.5 and record["settings"]["image_start_step"] == 0  # 4 // 10
    assert record["models"]["image"]["name"] == "tiny-random/image"
    assert record["models"]["audio"]["name"] == "tiny-random/auffusion" and len(record["models"]["audio"]["sha256"]) == 64
    assert "tiny-random" in record["tiny_random"]
    assert record["sample_rate"] == 16000 and record["file_sample_rate"] == 48000
    assert record["versions"]["torch"] and record["versions"]["diffusers"]
    with Image.open(out / "spectrogram.png") as grey, Image.open(out / "picture.png") as colour:
        assert grey.mode == "L" and grey.size == (128, 32) and colour.mode == "RGB" and colour.size == (128, 32)
        assert json.loads(colour.text["sonocanvas.record"])["tiny_random"]
        assert "sonocanvas.spectrogram" in grey.text
    fmt, picture = picture_from_png(out / "spectrogram.png")
    assert fmt.name == "auffusion" and tuple(picture.shape) == (32, 128)
    assert "sampling [" in capsys.readouterr().err


def test_variations_write_numbered_files_with_consecutive_seeds(tiny_cli, tmp_path):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--steps", "3", "--variations", "2", "--seed", "7") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["clip-1.json", "clip-1.wav", "clip-2.json", "clip-2.wav", "picture-1.png", "picture-2.png",
                     "spectrogram-1.png", "spectrogram-2.png"]
    seeds = [json.loads((out / f"clip-{i}.json").read_text())["seed"] for i in (1, 2)]
    assert seeds == [7, 8]
    (a, rate), (b, _) = read_wav(out / "clip-1.wav"), read_wav(out / "clip-2.wav")
    assert rate == 16000 and a.shape == b.shape == (1, 128 * 160) and not np.allclose(a, b)


def test_riffusion_and_an_init_clip(tiny_cli, tmp_path):
    from sonocanvas.engine.audio import write_wav

    t = np.arange(44100 * 2) / 44100
    write_wav(tmp_path / "riff.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--audio-kind", "riffusion", "--steps", "4", "--init-audio",
                    str(tmp_path / "riff.wav"), "--strength", "0.5", "--image-start-step", "0") == 0
    audio, rate = read_wav(out / "clip.wav")
    assert rate == 44100 and audio.shape[1] > 0
    record = json.loads((out / "clip.json").read_text())
    assert record["settings"]["init_audio"] == str(tmp_path / "riff.wav") and record["settings"]["strength"] == 0.5
    assert record["models"]["audio"]["kind"] == "riffusion"


def test_a_finished_clip_is_never_overwritten(tiny_cli, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "clip.wav").write_bytes(b"my earlier take")
    assert tiny_cli("-o", str(out), "--steps", "2") == 2
    assert (out / "clip.wav").read_bytes() == b"my earlier take"
    assert sorted(p.name for p in out.iterdir()) == ["clip.wav"]
    assert "error: output: " in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "error: steps: must be between 1 and 1000, got 0"),
    (["--audio-weight", "2"], "error: audio_weight: must be between"),
    (["--alpha", "0.5"], "error: alpha: needs an end"),
    (["--init-audio", "/nonexistent.wav"], "error: init_audio: no such file"),
    (["--strength", "0.5"], "error: strength: says how far to noise an init clip or picture"),
    (["--steps", "4", "--image-start-step", "4"], "error: image_start_step: 4 leaves that model out of all 4 steps"),
    (["--steps", "2", "--width", "16", "--crop"], "error: width: cropping the last 32/1024 of the columns"),
])
def test_bad_options_name_the_field_and_write_nothing(tiny_cli, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_model_missing_offline_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    code = main(["generate", *PROMPTS, "-o", str(tmp_path / "out"), "--image-model", "nobody/nothing"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: image_model: model 'nobody/nothing' was not found" in err and "hf download nobody/nothing" in err


def test_an_output_folder_that_cannot_be_made_fails_before_sampling(tiny_cli, tmp_path, capsys):
    (tmp_path / "file").write_bytes(b"not a folder")
    assert tiny_cli("-o", str(tmp_path / "file" / "out"), "--steps", "2") == 2
    err = capsys.readouterr().err
    assert "error: " in err and "file" in err and "sampling [" not in err  # no progress: no step was taken


"""`sonocanvas replay`: a record alone makes its clip again, bit for bit, or says exactly what is missing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from sonocanvas.bridge.cli import main

PROMPTS = ["--image-prompt", "a castle", "--audio-prompt", "bells"]
DATA = Path(__file__).parent / "data"


@pytest.fixture
def tiny_cache(sonocanvas_cache, tiny_model_paths, monkeypatch):
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))


def samples(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


@pytest.mark.parametrize("model", ["auffusion", "riffusion"])
def test_replay_is_bit_identical_for_both_audio_models(tiny_cache, tmp_path, model):
    made = tmp_path / "made"
    assert main(["generate", *PROMPTS, "--models", "tiny-random", "--audio-model", model, "--steps", "3",
                 "--variations", "2", "--to-seed", "4", "--alpha", "0.3", "--bit-depth", "32",
                 "-o", str(made / "clip.wav")]) == 0
    again = tmp_path / "again"
    assert main(["replay", str(made / "clip_v1.json"), "-o", str(again)]) == 0
    np.testing.assert_array_equal(samples(again / "clip_v1.wav"), samples(made / "clip_v1.wav"))
    first, second = (json.loads(p.read_text()) for p in (made / "clip_v1.json", again / "clip_v1.json"))
    assert second["seed"] == first["seed"] and second["settings"] == first["settings"]
    assert second["replay_of"] == str(made / "clip_v1.json")


def test_replay_into_the_records_folder_never_overwrites(tiny_cache, tmp_path):
    assert main(["generate", *PROMPTS, "--models", "tiny-random", "--steps", "2",
                 "-o", str(tmp_path / "clip.wav")]) == 0
    assert main(["replay", str(tmp_path / "clip.json")]) == 0
    np.testing.assert_array_equal(samples(tmp_path / "clip-2.wav"), samples(tmp_path / "clip.wav"))


def test_missing_models_are_named_with_how_to_get_them(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    record = json.loads((DATA / "record-v1-tiny-auffusion.json").read_text())
    record["models"]["image"].update(name="owner/image-model", revision="a" * 40)
    record["models"]["audio"].update(name="owner/audio-model", revision=None)
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(record))
    assert main(["replay", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: models: the image model 'owner/image-model' is not on this machine" in err
    assert f"`hf download owner/image-model --revision {'a' * 40}`" in err
    assert ("the audio model 'owner/audio-model' is not on this machine: get it with "
            "`hf download owner/audio-model`") in err
    assert not (tmp_path / "out").exists()


def test_a_model_whose_files_differ_is_named(tiny_cache, tmp_path, capsys):
    record = json.loads((DATA / "record-v1-tiny-auffusion.json").read_text())
    record["models"]["audio"]["sha256"] = "0" * 64
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(record))
    assert main(["replay", str(path)]) == 2
    assert "error: models: the audio model at " in capsys.readouterr().err


@pytest.mark.parametrize("name", ["record-v1-tiny-auffusion", "record-v1-tiny-riffusion"])
def test_a_record_from_before_this_change_replays(tiny_cache, tmp_path, capsys, name):
    """Records written by sonocanvas before the settings table (tests/data/README.md): interpolation as
    `interpolate_to`, no record version. Auffusion's clip comes back within float rounding (the stored WAV was
    made on another CPU: another build of the same kernels may round a few samples by an ulp or so, so this
    compares with a tolerance; a replay in this process is bit-identical, tested above); Riffusion's phases
    were not seeded then, so its replay says the sound will be close, not identical."""
    for suffix in (".json", ".wav"):
        shutil.copy(DATA / f"{name}{suffix}", tmp_path / f"clip{suffix}")
    assert main(["replay", str(tmp_path / "clip.json"), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    old, new = samples(tmp_path / "clip.wav"), samples(tmp_path / "out" / "clip.wav")
    if "riffusion" in name:
        assert "not identical" in err and old.shape == new.shape
    else:
        assert "note" not in err
        np.testing.assert_allclose(new, old, rtol=1e-4, atol=1e-6 * np.abs(old).max())


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(sonocanvas="art"), "record: not a sonocanvas clip record; spectrogram art is made again"),
    (lambda r: r.update(record=99), "record: version 99 is newer than this sonocanvas reads"),
    (lambda r: r["settings"].update(colour="red"), "record: holds settings this sonocanvas does not know: colour"),
    (lambda r: r["settings"].update(init_audio={"samples": [5], "sha256": "0"}),
     "init_audio: the record's init clip was"),
    (lambda r: r.update(inputs={"init_audio": {"path": "/nonexistent.wav", "sha256": "0"}}),
     "init_audio: the clip was riffed on /nonexistent.wav, which is gone"),
])
def test_a_record_that_cannot_be_replayed_says_why(tmp_path, capsys, change, message):
    record = json.loads((DATA / "record-v1-tiny-auffusion.json").read_text())
    change(record)
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(record))
    assert main(["replay", str(path), "-o", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()

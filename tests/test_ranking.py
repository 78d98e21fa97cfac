"""Make many, keep the best (issue 16): bridge/ranking.py and `sonocanvas generate --keep`, on the tiny-random
models and the tiny CLIP and CLAP, with files read back and scores recomputed by transformers directly."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pedalboard.io import AudioFile
from PIL import Image
from sonocanvas.bridge.cli import main
from sonocanvas.bridge.request.build import Output
from sonocanvas.bridge.studio.ranking import Choice, make_and_choose
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.scorers import Scorers

QUICK = dict(image_prompt="castle towers", audio_prompt="bells", steps=3, scheduler="dpm++", seed=21)
OUTPUT = Output(sample_rate=48000)


@pytest.fixture(scope="module")
def scorers(tiny_model_paths):
    return Scorers(str(tiny_model_paths.clip), str(tiny_model_paths.clap))


def test_batches_make_the_same_candidates_as_one_batch_each_reproducible_alone(auffusion_pipe, scorers):
    settings = GenerateSettings.resolved(**QUICK, variations=5)
    kept, rest = make_and_choose(auffusion_pipe, settings, Choice(keep=2, rank="clip"), scorers, OUTPUT, batch=2)
    one_batch, _ = make_and_choose(auffusion_pipe, settings, Choice(keep=2, rank="clip"), scorers, OUTPUT, batch=5)
    assert [c.index for c in kept] == [c.index for c in one_batch]
    assert len(kept) == 2 and len(rest) == 3
    assert sorted(c.index for c in kept + rest) == [0, 1, 2, 3, 4]
    best = kept[0]
    [alone] = auffusion_pipe(GenerateSettings.resolved(**{**QUICK, "seed": QUICK["seed"] + best.index}))
    assert np.allclose(alone.audio, best.audio, atol=1e-5)
    assert best.seed == QUICK["seed"] + best.index and best.record["index"] == best.index


def test_kept_clips_come_in_rank_order_by_the_score_asked_for(auffusion_pipe, scorers):
    settings = GenerateSettings.resolved(**QUICK, variations=4)
    kept, rest = make_and_choose(auffusion_pipe, settings, Choice(keep=3, rank="clap"),
                                 scorers, OUTPUT, batch=4)
    claps = [c.record["scores"]["clap"] for c in kept]
    assert claps == sorted(claps, reverse=True) and [c.record["rank"] for c in kept] == [1, 2, 3]
    assert rest[0].record["scores"]["clap"] <= claps[-1] and rest[0].record["rank"] == 4
    assert all(c.record["candidates"] == 4 and c.record["rank_by"] == "clap" for c in kept + rest)


def test_progress_counts_every_candidates_steps_then_the_scoring(auffusion_pipe, scorers):
    reports = []
    settings = GenerateSettings.resolved(**QUICK, variations=3)
    make_and_choose(auffusion_pipe, settings, Choice(keep=1), scorers, OUTPUT, batch=2,
                    on_step=lambda done, total: reports.append((done, total)))
    assert {total for _, total in reports} == {2 * 3 + 3}  # two batches of 3 steps, then 3 candidates scored
    assert [done for done, _ in reports] == list(range(1, 10))


def test_keeping_more_than_are_made_or_without_a_scorer_is_refused_before_sampling():
    with pytest.raises(FieldError, match="^keep: keeps 3 of 2 candidates"):
        Choice(keep=3).check(2, Scorers())
    with pytest.raises(FieldError, match="^rank: ranking by clip needs a CLIP model.*--clip-model"):
        Choice(keep=1, rank="clip").check(2, Scorers(clip_model=None))
    with pytest.raises(FieldError, match="^rank: ranking by clap needs a CLAP model"):
        Choice(keep=1, rank="both").check(2, Scorers(clap_model=None))


@pytest.fixture
def tiny_cli(sonocanvas_cache, tiny_model_paths, monkeypatch):
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
    return lambda *args: main(["generate", "--image-prompt", "castle towers", "--audio-prompt", "bells", "--models",
                               "tiny-random", "--steps", "3", "--scheduler", "dpm++", "--seed", "4", *args])


def test_the_command_line_writes_the_best_in_rank_order_with_scores_a_direct_computation_repeats(
        tiny_cli, tmp_path, tiny_model_paths):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out / "clip.wav"), "--variations", "4", "--keep", "2", "--rank", "both",
                    "--keep-all") == 0
    assert sorted(p.name for p in out.glob("*.wav")) == ["clip_r1.wav", "clip_r2.wav"]
    assert sorted(p.name for p in (out / "candidates").glob("*.wav")) == ["clip_r3.wav", "clip_r4.wav"]
    from transformers import ClapModel, ClapProcessor, CLIPModel, CLIPProcessor

    clip_model = CLIPModel.from_pretrained(tiny_model_paths.clip)
    clip_processor = CLIPProcessor.from_pretrained(tiny_model_paths.clip)
    clap_model = ClapModel.from_pretrained(tiny_model_paths.clap)
    clap_processor = ClapProcessor.from_pretrained(tiny_model_paths.clap)
    for rank, folder in ((1, out), (2, out), (3, out / "candidates")):
        record = json.loads((folder / f"clip_r{rank}.json").read_text())
        assert record["rank"] == rank and record["candidates"] == 4 and set(record["scores"]) == {"clip", "clap"}
        with Image.open(folder / f"clip_r{rank}.picture.png") as picture:
            inputs = clip_processor(text=["castle towers"], images=[picture.convert("RGB")], return_tensors="pt",
                                    padding=True)
        with torch.no_grad():
            clip = (clip_model(**inputs).logits_per_image[0, 0] / clip_model.logit_scale.exp()).item()
        with AudioFile(str(folder / f"clip_r{rank}.wav")) as f:  # no effect chain: this is the dry WAV
            assert f.samplerate == 48000
            sound = f.read(f.frames)[0]
        inputs = clap_processor(audio=[sound], text=["bells"], sampling_rate=48000, return_tensors="pt", padding=True)
        with torch.no_grad():
            clap = (clap_model(**inputs).logits_per_audio[0, 0] / clap_model.logit_scale_a.exp()).item()
        assert record["scores"]["clip"] == pytest.approx(clip, abs=1e-4)
        assert record["scores"]["clap"] == pytest.approx(clap, abs=1e-4)


def test_the_command_line_refuses_keeping_more_than_it_makes(tiny_cli, tmp_path, capsys):
    assert tiny_cli("-o", str(tmp_path / "out"), "--variations", "2", "--keep", "3") == 2
    assert "error: keep: keeps 3 of 2 candidates" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""engine/scorers.py on the tiny-random CLIP and CLAP, saved in the real layouts with their processors.

The scores are checked against each model's own forward pass (its logits are the scaled cosine similarity), a
different path through transformers than the scorers' `get_*_features`.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.scorers import Scorers, rank


@pytest.fixture(scope="module")
def scorers(tiny_model_paths) -> Scorers:
    return Scorers(clip_model=str(tiny_model_paths.clip), clap_model=str(tiny_model_paths.clap))


def pictures() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (48, 96, 3), dtype=np.uint8)) for _ in range(3)]


def test_clip_scores_are_the_cosine_of_clips_own_forward_pass(scorers):
    clip = scorers.clip()
    got = clip(pictures(), "castle towers")
    inputs = clip.processor(text=["castle towers"], images=pictures(), return_tensors="pt", padding=True)
    with torch.no_grad():
        out = clip.model(**inputs)
    expected = (out.logits_per_image[:, 0] / clip.model.logit_scale.exp()).tolist()
    assert got == pytest.approx(expected, abs=1e-5)
    assert len(set(got)) == 3  # three pictures, three scores


def test_clap_scores_are_the_cosine_of_claps_own_forward_pass(scorers):
    clap = scorers.clap()
    rng = np.random.default_rng(1)
    sounds = [rng.standard_normal(16000 * 2).astype(np.float32) * 0.1 for _ in range(2)]
    got = clap(sounds, 16000, "bells ringing")
    prepared = [clap.prepare(sound, 16000) for sound in sounds]
    assert all(len(p) == 48000 * 2 for p in prepared)  # resampled to the processor's 48 kHz
    inputs = clap.processor(audio=prepared, text=["bells ringing"], sampling_rate=48000, return_tensors="pt",
                            padding=True)
    with torch.no_grad():
        out = clap.model(**inputs)
    expected = (out.logits_per_audio[:, 0] / clap.model.logit_scale_a.exp()).tolist()
    assert got == pytest.approx(expected, abs=1e-5)


def test_a_long_sound_is_scored_on_its_first_seconds_never_a_random_crop(scorers):
    """The processor crops sounds over max_length_s at random (rand_trunc); the scorer cuts them first."""
    clap = scorers.clap()
    rng = np.random.default_rng(2)
    long = rng.standard_normal(48000 * 15).astype(np.float32) * 0.1
    scores = {clap([long], 48000, "wind")[0] for _ in range(3)}
    assert len(scores) == 1
    assert scores.pop() == pytest.approx(clap([long[: clap.max_samples]], 48000, "wind")[0], abs=1e-6)


def test_rank_by_one_score_puts_the_highest_first_ties_to_the_earlier_candidate():
    scores = [{"clip": 0.1, "clap": 0.5}, {"clip": 0.3, "clap": 0.2}, {"clip": 0.3, "clap": 0.9}]
    assert rank(scores, "clip") == [1, 2, 0]
    assert rank(scores, "clap") == [2, 0, 1]


def test_rank_by_both_sums_the_two_places_ties_to_the_higher_clap():
    scores = [
        {"clip": 0.9, "clap": 0.1},  # clip 1st, clap 4th: 5
        {"clip": 0.8, "clap": 0.2},  # clip 2nd, clap 3rd: 5, higher clap than 0
        {"clip": 0.1, "clap": 0.9},  # clip 4th, clap 1st: 5, highest clap of the three
        {"clip": 0.5, "clap": 0.5},  # clip 3rd, clap 2nd: 5
    ]
    assert rank(scores, "both") == [2, 3, 1, 0]
    scores[3] = {"clip": 0.85, "clap": 0.5}  # now clip 2nd, clap 2nd: 4, alone in front
    assert rank(scores, "both")[0] == 3


def test_an_unknown_rank_names_the_field():
    with pytest.raises(FieldError, match="^rank: unknown 'loud'") as error:
        rank([], "loud")
    assert error.value.field == "rank"


def test_ranking_without_a_scorer_names_the_missing_model_and_how_to_get_it():
    with pytest.raises(FieldError, match="CLAP model.*hf download laion/clap-htsat-unfused.*--clap-model") as error:
        Scorers(clap_model=None).clap()
    assert error.value.field == "rank"


def test_a_folder_that_is_not_a_clip_model_names_the_field(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FieldError, match="^clip_model: cannot load"):
        Scorers(clip_model=str(tmp_path)).clip()


def test_half_precision_scorers_take_their_inputs_in_the_models_dtype(scorers):
    """On a GPU the scorers run in fp16; CLAP's feature extractor gives float32, which its first layer (a batch
    norm) refused (found by the full-size GPU benchmark). bfloat16 on CPU stands in for fp16 on CUDA."""
    from sonocanvas.engine.scorers import ClapScorer, ClipScorer

    clap, clip = scorers.clap(), scorers.clip()
    half_clap = ClapScorer(clap.model.to(torch.bfloat16), clap.processor, clap.device)
    half_clip = ClipScorer(clip.model.to(torch.bfloat16), clip.processor, clip.device)
    try:
        rng = np.random.default_rng(3)
        sounds = [rng.standard_normal(16000).astype(np.float32) * 0.1 for _ in range(2)]
        assert all(-1 <= s <= 1 for s in half_clap(sounds, 16000, "rain"))
        assert all(-1 <= s <= 1 for s in half_clip(pictures(), "rain"))
    finally:
        clap.model.to(torch.float32)
        clip.model.to(torch.float32)

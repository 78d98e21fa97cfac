"""A prompt per section of a long clip (issue 22, part 4): the plan in seconds and bars, what each window hears,
and the tiny-random models showing each section where it lies, with the record saying where."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.sections import Section, SectionedEmbeddings, plan

# Auffusion's window at full size: 10.24 s, every 5.12 s
WINDOW, STRIDE = 10.24, 5.12


def test_a_prompt_without_sections_is_one_section_the_prompt_as_written():
    assert plan("bells @4", "audio_prompt", 30.0, WINDOW, STRIDE, None) == [Section("bells @4", 0.0, 30.0)]


def test_sections_share_the_clip_evenly_or_take_their_bars_at_the_tempo():
    assert plan("church bells | choir | thunder", "audio_prompt", 30.0, WINDOW, STRIDE, None) == [
        Section("church bells", 0.0, 10.0), Section("choir", 10.0, 20.0), Section("thunder", 20.0, 30.0)]
    # 16 bars at 120 bpm: 32 s; 4 bars = 8 s, 8 bars = 16 s, the rest (8 s) to the one without a length
    assert plan("church bells @4 | choir @8 | thunder", "audio_prompt", 32.0, WINDOW, STRIDE, 120) == [
        Section("church bells", 0.0, 8.0), Section("choir", 8.0, 24.0), Section("thunder", 24.0, 32.0)]
    # a word after @ is a word, not a length
    assert plan("party @home | club", "audio_prompt", 30.0, WINDOW, STRIDE, None) == [
        Section("party @home", 0.0, 15.0), Section("club", 15.0, 30.0)]


@pytest.mark.parametrize("prompt, seconds, bpm, reason", [
    ("a | b", 10.0, None, "need a clip longer than one window"),
    ("a | b | c | d | e", 20.0, None, "shorter than a window's stride"),
    ("a @4 | b", 30.0, None, "need the tempo: give bpm and bars"),
    ("a | | b", 30.0, None, "has no prompt"),
    ("a @0 | b", 32.0, 120, "0 bars long"),
    ("a @16 | b", 32.0, 120, "no room is left for the others"),
    ("a @4 | b @4", 32.0, 120, "give as many bars as the clip's"),
    ("a @-1 | b", 32.0, 120, "section 'a @-1': '@-1' is no length in bars; give @N"),
    ("a @2.5 | b", 32.0, 120, "'@2.5' is no length in bars"),
    ("a | b @", 32.0, 120, "section 'b @': '@' is no length in bars"),
    ("a @65 | b", 32.0, 120, "section 'a' is 65 bars long; a clip holds at most 64"),
    ("a @" + "9" * 400 + " | b", 32.0, 120, "a clip holds at most 64"),  # never a float too large
])
def test_sections_a_clip_cannot_hold_are_refused_on_the_prompts_field(prompt, seconds, bpm, reason):
    with pytest.raises(FieldError, match=f"^image_prompt: .*{reason}"):
        plan(prompt, "image_prompt", seconds, WINDOW, STRIDE, bpm)


def test_a_window_hears_its_section_alone_or_the_sections_it_straddles_blended_by_their_columns():
    a, b = torch.full((2, 3, 4), 1.0), torch.full((2, 3, 4), 3.0)
    sectioned = SectionedEmbeddings([Section("a", 0.0, 2.0), Section("b", 2.0, 4.0)], [a, b], width=40, seconds=4.0)
    assert sectioned.at(0, 16) is a and sectioned.at(20, 16) is b and sectioned.at(24, 16) is b  # wholly inside
    assert torch.equal(sectioned.at(12, 16), torch.full((2, 3, 4), 0.5 * 1 + 0.5 * 3))  # 8 columns of each
    assert torch.equal(sectioned.at(16, 16), torch.full((2, 3, 4), 0.25 * 1 + 0.75 * 3))  # 4 of a, 12 of b
    assert torch.equal(sectioned.at(32, 16), torch.full((2, 3, 4), 0.5 * 3 + 0.5 * 1))  # a loop's last into its first
    plain = SectionedEmbeddings([Section("a", 0.0, 4.0)], [a], width=40, seconds=4.0)
    assert all(plain.at(start, 16) is a for start in range(0, 40, 8))  # one section: the very same embeddings


def quick(**overrides) -> GenerateSettings:
    values = dict(image_prompt="a castle", audio_prompt="bells", steps=4, image_start_step=1, seed=2, seconds=3.0,
                  scheduler="dpm++")
    return GenerateSettings.resolved(**{**values, **overrides})


def columns(clip) -> np.ndarray:
    return np.asarray(clip.spectrogram, dtype=np.float32) / 255  # (rows, columns)


def test_each_section_sounds_where_it_lies_and_the_record_says_where(auffusion_pipe):
    """With "a | b", the first quarter of the spectrogram is nearer to "a" alone than the last quarter is, and the
    last quarter nearer to "b" alone than the first is."""
    prompts = ("church bells ringing", "thunder and heavy rain")
    (both,) = auffusion_pipe(quick(audio_prompt=" | ".join(prompts)))
    (first,) = auffusion_pipe(quick(audio_prompt=prompts[0]))
    (second,) = auffusion_pipe(quick(audio_prompt=prompts[1]))
    mixed, a, b = columns(both), columns(first), columns(second)
    quarter = mixed.shape[1] // 4

    def distance(x, y, part):
        cut = slice(0, quarter) if part == "first" else slice(-quarter, None)
        return float(np.abs(x[:, cut] - y[:, cut]).mean())

    assert distance(mixed, a, "first") < distance(mixed, a, "last")
    assert distance(mixed, b, "last") < distance(mixed, b, "first")
    assert both.record["sections"] == {"audio_prompt": [
        {"prompt": prompts[0], "start": 0.0, "end": 1.5}, {"prompt": prompts[1], "start": 1.5, "end": 3.0}]}
    assert "sections" not in first.record


def test_the_picture_takes_sections_too_and_a_loop_wraps_them(auffusion_pipe):
    (clip,) = auffusion_pipe(quick(image_prompt="a castle | a forest", loop=True))
    assert [s["prompt"] for s in clip.record["sections"]["image_prompt"]] == ["a castle", "a forest"]
    assert np.isfinite(clip.audio).all()


def test_interpolation_moves_every_section_towards_one_prompt(auffusion_pipe):
    (clip,) = auffusion_pipe(quick(audio_prompt="bells | rain", to_audio_prompt="wind", alpha=0.5))
    assert np.isfinite(clip.audio).all()
    with pytest.raises(FieldError, match="^to_audio_prompt: interpolates every section towards one prompt"):
        auffusion_pipe(quick(audio_prompt="bells | rain", to_audio_prompt="wind | fire", alpha=0.5))
    with pytest.raises(FieldError, match="^to_audio_prompt: interpolates every section towards one prompt"):
        auffusion_pipe(quick(audio_prompt="bells", to_audio_prompt="wind | fire", alpha=0.5))  # `|` is never words


def test_sections_in_a_clip_of_one_window_are_refused_before_sampling(auffusion_pipe):
    with pytest.raises(FieldError, match="^audio_prompt: 2 sections need a clip longer than one window"):
        auffusion_pipe(quick(audio_prompt="bells | rain", seconds=None))


@pytest.fixture(scope="module")
def server(tiny_server):
    return tiny_server


def test_sections_over_osc_land_in_the_record_and_a_clip_that_cannot_hold_them_is_refused_on_its_field(client):
    import json
    from pathlib import Path

    client.send("/sonocanvas/generate", "sections", "image_prompt", "a castle", "audio_prompt", "bells @1 | rain",
                "bpm", 120, "bars", 2, "steps", 2)
    done = client.expect("/sonocanvas/done")
    record = json.loads(Path(done[4]).read_text())
    assert record["sections"]["audio_prompt"] == [
        {"prompt": "bells", "start": 0.0, "end": 2.0}, {"prompt": "rain", "start": 2.0, "end": 4.0}]
    client.send("/sonocanvas/generate", "short", "image_prompt", "a castle", "audio_prompt", "bells | rain",
                "steps", 2)
    client.expect("/sonocanvas/queued")  # checked when the job starts, where the models' window is known
    job_id, field, message = client.expect_error()
    assert (job_id, field) == ("short", "audio_prompt") and "need a clip longer than one window" in message

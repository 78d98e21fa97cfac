"""The riff region: `init_start` / `init_end` (a Live clip's markers, in seconds) choose the part of `init_audio` to
riff on."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from sonocanvas.bridge.request.build import PRESET_KEYS, Limits, ProtocolError, parse_generate
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.pipeline import JointPipeline, riff_region

RATE = 16000


def test_the_region_is_the_samples_between_the_markers() -> None:
    clip = np.arange(10 * RATE, dtype=np.float32)
    region = riff_region(clip, RATE, 1.5, 3.25)
    assert region[0] == 1.5 * RATE and len(region) == 1.75 * RATE
    assert len(riff_region(clip, RATE, 9.0, None)) == RATE, "no end: to the clip's end"
    assert len(riff_region(clip, RATE, 9.0, 12.0)) == RATE, "an end past the clip is its end"


@pytest.mark.parametrize("start, end, field, reason", [
    (10.0, None, "init_start", "10 s is at or past the end of init_audio, which lasts 10 s"),
    (12.0, 13.0, "init_start", "12 s is at or past the end"),
    (1.0, 1.00001, "init_end", "holds no whole sample at 16000 Hz"),
])
def test_a_region_outside_the_clip_is_refused_by_field(start, end, field, reason) -> None:
    with pytest.raises(FieldError, match=reason) as caught:
        riff_region(np.ones(10 * RATE, np.float32), RATE, start, end)
    assert caught.value.field == field


@pytest.mark.parametrize("values, message", [
    (dict(init_start=-1.0), "init_start: must be between 0 and 86400, got -1"),
    (dict(init_start=float("nan")), "init_start: expected a number, got nan"),
    (dict(init_start=2.0, init_end=2.0), "init_end: must be after init_start (2 s), got 2 s"),
    (dict(init_start=3.0, init_end=1.0), "init_end: must be after init_start (3 s), got 1 s"),
    (dict(init_start=1.0, init_audio=None), "init_start: a region of init_audio; give init_audio too"),
    (dict(init_end=4.0, init_audio=None), "init_end: a region of init_audio; give init_audio too"),
])
def test_bad_region_settings_name_their_field(values, message) -> None:
    base = dict(image_prompt="a", audio_prompt="b", init_audio=np.ones(RATE, np.float32))
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        GenerateSettings.resolved(**{**base, **values})


def test_the_protocol_carries_the_region_and_presets_cannot_hold_it(tmp_path: Path) -> None:
    clip = tmp_path / "loop.wav"
    soundfile.write(clip, np.sin(np.arange(RATE * 4) / 10).astype(np.float32) * 0.5, RATE)
    limits = Limits(read_roots=(tmp_path,), fx_names=frozenset(), audio_models=frozenset({"auffusion"}))
    args = ["j1", "image_prompt", "a", "audio_prompt", "b", "init_audio", str(clip), "init_start", 1.25, "init_end", 3]
    no_presets = {}.__getitem__
    settings = parse_generate(args, limits, no_presets).settings
    assert (settings.init_start, settings.init_end) == (1.25, 3.0)
    with pytest.raises(ProtocolError) as caught:
        parse_generate(args[:-2] + ["init_end", 1.0], limits, no_presets)
    assert caught.value.field == "init_end"
    assert not {"init_start", "init_end"} & set(PRESET_KEYS)


def test_riffing_on_a_region_is_riffing_on_that_part_of_the_file(tiny_loaded, tmp_path: Path) -> None:
    """The pipeline with init_start/init_end gives exactly what it gives for a file cut to that region."""
    image, auffusion, _ = tiny_loaded
    pipe = JointPipeline(image, auffusion)
    rate = pipe.format(*auffusion.native_size).sample_rate
    t = np.arange(rate * 6) / rate
    song = (0.4 * np.sin(2 * np.pi * (220 + 60 * t) * t)).astype(np.float32)
    whole, cut = tmp_path / "whole.wav", tmp_path / "cut.wav"
    soundfile.write(whole, song, rate, subtype="FLOAT")
    soundfile.write(cut, song[round(1.5 * rate):round(4.0 * rate)], rate, subtype="FLOAT")
    common = dict(image_prompt="a castle", audio_prompt="bells", seed=3, steps=4, strength=0.5)
    (region,) = pipe(GenerateSettings.resolved(**common, init_audio=whole, init_start=1.5, init_end=4.0))
    (trimmed,) = pipe(GenerateSettings.resolved(**common, init_audio=cut))
    np.testing.assert_array_equal(region.audio, trimmed.audio)
    (everything,) = pipe(GenerateSettings.resolved(**common, init_audio=whole))
    assert not np.allclose(region.audio, everything.audio), "the region changed what was riffed on"

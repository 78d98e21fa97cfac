"""The joint pipeline on tiny random models loaded through the real loaders."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.pipeline import Clip, JointPipeline


@pytest.fixture(scope="module")
def riffusion_pipe(tiny_loaded):
    image, _, riffusion = tiny_loaded
    return JointPipeline(image, riffusion)


def quick(**overrides) -> GenerateSettings:
    values = dict(image_prompt="a castle with bell towers", audio_prompt="bell ringing", steps=6, image_start_step=2,
                  seed=0)
    return GenerateSettings.resolved(**{**values, **overrides})


def test_auffusion_outputs_have_the_models_rate_shape_and_duration(auffusion_pipe):
    steps_seen = []
    clips = auffusion_pipe(quick(), on_step=lambda done, total: steps_seen.append((done, total)))
    assert steps_seen == [(i, 6) for i in range(1, 7)]
    (clip,) = clips
    assert isinstance(clip, Clip) and clip.index == 0 and clip.seed == 0
    assert auffusion_pipe.sample_rate == clip.sample_rate == 16000
    # 128 spectrogram columns at Auffusion's hop of 160 samples: 1.28 s (the real 1024 columns give 10.24 s)
    assert clip.audio.dtype == np.float32 and clip.audio.shape == (128 * 160,)
    assert np.isfinite(clip.audio).all() and np.abs(clip.audio).max() > 0
    assert clip.spectrogram.mode == "L" and clip.spectrogram.size == (128, 32)
    assert clip.picture.mode == "RGB" and clip.picture.size == (128, 32)


def test_riffusion_outputs_are_44k1_audio_from_the_riffusion_codec(riffusion_pipe):
    (clip,) = riffusion_pipe(quick(steps=3, image_start_step=1))
    assert riffusion_pipe.sample_rate == clip.sample_rate == 44100
    assert clip.spectrogram.size == (64, 64) and clip.picture.size == (64, 64)
    assert clip.audio.dtype == np.float32 and np.isfinite(clip.audio).all() and np.abs(clip.audio).max() > 0
    # 64 columns at Riffusion's hop of 441 samples (10 ms): 0.64 s, within one hop (the real 512 give 5.12 s)
    assert clip.audio.ndim == 1 and abs(len(clip.audio) - 64 * 441) <= 441


def test_same_seed_same_output_and_another_seed_differs(auffusion_pipe):
    a, b, c = (auffusion_pipe(quick(seed=seed))[0] for seed in (7, 7, 8))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert np.asarray(a.picture).tolist() == np.asarray(b.picture).tolist()
    assert not np.array_equal(a.audio, c.audio)
    assert np.asarray(a.picture).tolist() != np.asarray(c.picture).tolist()


def test_riffusion_same_seed_same_sound_and_a_variation_alone_is_the_same_clip(riffusion_pipe):
    """Griffin-Lim's phases come from the clip's seed: one seed is one sound (it was up to 0.41 apart)."""
    a, b = (riffusion_pipe(quick(steps=3, image_start_step=1, seed=7))[0] for _ in range(2))
    np.testing.assert_array_equal(a.audio, b.audio)
    _, second = riffusion_pipe(quick(steps=3, image_start_step=1, seed=6, variations=2))
    assert second.seed == 7  # a batch of two computes the picture a hair apart from one alone; the phases are its own
    np.testing.assert_allclose(second.audio, a.audio, atol=1e-3)


def test_no_seed_draws_a_fresh_one_that_the_settings_hold():
    seeds = {GenerateSettings.resolved(steps=4).seed for _ in range(8)}
    assert len(seeds) > 1 and all(0 <= seed < 2**31 for seed in seeds)
    assert GenerateSettings.resolved(seed=-1).seed != -1
    assert GenerateSettings.resolved(seed=5).seed == 5


def test_exception_in_on_step_propagates_and_stops_the_run(auffusion_pipe):
    calls = []

    def cancel(done, total):
        calls.append(done)
        if done == 2:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        auffusion_pipe(quick(), on_step=cancel)
    assert calls == [1, 2]


@pytest.mark.parametrize("field, value, message", [
    ("steps", 0, "steps: must be between 1 and 1000, got 0"),
    ("audio_weight", 1.5, "audio_weight: must be between"),
    ("scheduler", "nope", "scheduler: unknown 'nope'"),
    ("variations", 0, "variations: must be between 1"),
    ("width", 100, "width: must be a multiple of 8"),
    ("strength", 0.0, "strength: must be above 0 and at most 1, got 0"),
    ("image_start_step", 6, "image_start_step: 6 leaves that model out of all 6 steps"),
    ("audio_start_step", 7, "audio_start_step: 7 leaves that model out of all 6 steps"),
    ("seed", -2, "seed: must be between"),
    ("init_audio", np.array([0.1, np.nan], dtype=np.float32), "init_audio: holds NaN or infinite samples"),
])
def test_bad_settings_name_the_field(field, value, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        quick(**{field: value})


def test_the_image_model_starts_a_tenth_of_the_way_in_unless_told():
    """The paper's 10 of 100 steps is one noise level, whatever the number of steps."""
    assert GenerateSettings.resolved().image_start_step == 10
    assert GenerateSettings.resolved(steps=25, scheduler="dpm++").image_start_step == 2
    assert GenerateSettings.resolved(steps=5).image_start_step == 0
    assert GenerateSettings.resolved(steps=25, image_start_step=7).image_start_step == 7


def test_riffing_needs_a_model_from_its_first_step_not_from_step_0(tmp_path):
    """With 10 steps at strength 0.3, steps 7 to 9 run: start steps 6 and 5 are fine, 8 and 9 are not."""
    riff = dict(steps=10, strength=0.3, init_picture=tmp_path / "any.png")
    assert quick(**riff, image_start_step=6, audio_start_step=5).audio_start_step == 5
    with pytest.raises(ValueError, match=r"^image_start_step: one model must act from the first step that runs \(7\)"):
        quick(**riff, image_start_step=9, audio_start_step=8)
    with pytest.raises(ValueError, match=r"^image_start_step: one model must act from the first step that runs \(0\)"):
        quick(steps=10, image_start_step=6, audio_start_step=5)


def test_pictures_not_as_high_as_the_vocoder_takes_fail_before_sampling(auffusion_pipe):
    calls = []
    hook = auffusion_pipe.audio.unet.register_forward_pre_hook(lambda *args: calls.append(1))
    try:
        with pytest.raises(ValueError, match="^height: the audio model's vocoder takes 32 mel rows"):
            auffusion_pipe(quick(height=64))
    finally:
        hook.remove()
    assert calls == []


def test_crop_needs_32_columns(auffusion_pipe):
    with pytest.raises(ValueError, match="^width: cropping the last 32/1024 of the columns needs at least 32"):
        auffusion_pipe(quick(width=16, crop_last_columns=True))


def test_crop_removes_the_last_32_of_1024_columns_from_picture_spectrogram_and_audio(auffusion_pipe):
    (full,) = auffusion_pipe(quick())
    (crop,) = auffusion_pipe(quick(crop_last_columns=True))
    assert crop.picture.size == crop.spectrogram.size == (124, 32)  # 128 - 128/32
    assert crop.audio.shape == (128 * 160 - 4 * 160,)
    np.testing.assert_array_equal(crop.audio, full.audio[: 124 * 160])
    assert np.asarray(crop.picture).tolist() == np.asarray(full.picture)[:, :124].tolist()


def test_an_init_picture_is_riffed(auffusion_pipe, tmp_path):
    from PIL import Image

    y, x = np.mgrid[0:32, 0:128]
    Image.fromarray(((x + y) % 32 * 8).astype(np.uint8)).convert("RGB").save(tmp_path / "stripes.png")
    seen = []
    (riff,) = auffusion_pipe(quick(init_picture=tmp_path / "stripes.png", strength=0.5),
                             on_step=lambda d, n: seen.append(n))
    assert seen == [3, 3, 3]
    (plain,) = auffusion_pipe(quick())
    assert not np.allclose(riff.audio, plain.audio)
    picture_hash = hashlib.sha256((tmp_path / "stripes.png").read_bytes()).hexdigest()
    assert riff.record["inputs"] == {"init_picture": {"path": str(tmp_path / "stripes.png"), "sha256": picture_hash}}
    assert plain.record["inputs"] == {}
    with pytest.raises(ValueError, match="^init_picture: no such file"):
        auffusion_pipe(quick(init_picture=tmp_path / "missing.png"))


def test_the_record_holds_what_reproduces_the_clip(auffusion_pipe):
    import json

    (clip,) = auffusion_pipe(quick(seed=4, scheduler="dpm++", audio_weight=0.25))
    record = json.loads(json.dumps(clip.record))  # JSON-serialisable
    assert record["seed"] == 4 and record["sample_rate"] == 16000 and record["samples"] == 128 * 160
    settings = record["settings"]
    assert (settings["image_prompt"], settings["audio_prompt"]) == ("a castle with bell towers", "bell ringing")
    assert (settings["steps"], settings["scheduler"], settings["audio_weight"]) == (6, "dpm++", 0.25)
    assert (settings["image_start_step"], settings["audio_start_step"]) == (2, 0)
    assert (settings["image_guidance"], settings["audio_guidance"]) == (10.0, 10.0)
    for role in ("image", "audio"):
        assert len(record["models"][role]["sha256"]) == 64
    assert record["models"]["audio"]["kind"] == "auffusion"
    assert {"python", "torch", "diffusers", "transformers"} <= set(record["versions"])
    again = auffusion_pipe(GenerateSettings.resolved(**settings))[0]  # the record's settings make the same clip again
    np.testing.assert_array_equal(again.audio, clip.audio)


def test_an_audio_model_with_its_own_vae_decodes_the_spectrogram_with_it(tiny_model_paths, tiny_loaded, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file
    from sonocanvas.engine.models import load_audio_model

    image, auffusion, _ = tiny_loaded
    folder = tmp_path / "auffusion-own-vae"
    shutil.copytree(tiny_model_paths.auffusion, folder)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    state = load_file(weights)
    for key in ("decoder.conv_out.weight", "decoder.conv_out.bias"):  # negated output: pictures become 1 - x
        state[key] = -state[key]
    save_file(state, weights)
    own = load_audio_model(folder, device="cpu")
    assert own.vae is not image.vae and own.unet is auffusion.unet
    (shared,) = JointPipeline(image, auffusion)(quick())
    (separate,) = JointPipeline(image, own)(quick())
    assert np.asarray(separate.picture).tolist() == np.asarray(shared.picture).tolist()
    inverted = 255 - np.asarray(shared.spectrogram, int)
    assert np.abs(np.asarray(separate.spectrogram, int) - inverted).max() <= 1

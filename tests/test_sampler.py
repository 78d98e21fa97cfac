"""The sampling algorithm against independent computations: raw UNet calls, diffusers' own pipeline, counted calls."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sonocanvas.engine.denoisers import GuidedDenoiser, JointDenoiser
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.pipeline import JointPipeline, slerp
from sonocanvas.engine.sampler import SCHEDULERS, make_scheduler, sample, timesteps_from


@pytest.fixture(scope="module")
def models(tiny_loaded):
    image, auffusion, _ = tiny_loaded
    return image, auffusion


def settings(**overrides) -> GenerateSettings:
    values = dict(image_prompt="a castle", audio_prompt="bells", image_negative_prompt="blurry",
                  audio_negative_prompt="noise", seed=3, steps=5, image_guidance=7.0, audio_guidance=4.0,
                  audio_weight=0.3, image_start_step=0)
    return GenerateSettings.resolved(**{**values, **overrides})


def test_two_joint_ddim_steps_match_an_independent_computation_from_the_raw_unets(models):
    image, audio = models
    s = settings()
    steps, w, g_image, g_audio = 50, s.audio_weight, s.image_guidance, s.audio_guidance

    def embed(model, prompt, negative):
        ids = model.tokenizer([negative, prompt], padding="max_length", max_length=77, return_tensors="pt").input_ids
        return model.text_encoder(ids)[0]

    with torch.no_grad():
        x = torch.randn((1, 4, 4, 16), generator=torch.Generator("cpu").manual_seed(s.seed))
        # Stable Diffusion's "scaled_linear" betas, DDIM with "leading" spacing and steps_offset 1, eta 0
        alphas_cumprod = torch.cumprod(1 - torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2, 0)
        e_image = embed(image, s.image_prompt, s.image_negative_prompt)
        e_audio = embed(audio, s.audio_prompt, s.audio_negative_prompt)
        expected = x.clone()
        for t in (981, 961):
            def cfg(unet, embeddings, guidance, expected=expected, t=t):
                uncond = unet(expected, t, encoder_hidden_states=embeddings[:1]).sample
                cond = unet(expected, t, encoder_hidden_states=embeddings[1:]).sample
                return uncond + guidance * (cond - uncond)
            eps = (1 - w) * cfg(image.unet, e_image, g_image) + w * cfg(audio.unet, e_audio, g_audio)
            a_t, a_prev = alphas_cumprod[t].float(), alphas_cumprod[t - 1000 // steps].float()
            x0 = (expected - (1 - a_t).sqrt() * eps) / a_t.sqrt()
            expected = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps

        denoiser = JointDenoiser(
            GuidedDenoiser(image.unet, image.encode_prompts([s.image_negative_prompt, s.image_prompt]), g_image),
            GuidedDenoiser(audio.unet, audio.encode_prompts([s.audio_negative_prompt, s.audio_prompt]), g_audio),
            w, 0, 0)
        scheduler = make_scheduler("ddim", image.scheduler_config)
        timesteps, first = timesteps_from(scheduler, steps)
        assert timesteps[:2].tolist() == [981, 961] and first == 0
        got = sample(denoiser, scheduler, x.clone(), timesteps[:2])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_before_image_start_step_only_the_audio_model_is_evaluated(models):
    image, audio = models
    calls = []
    hooks = [model.unet.register_forward_pre_hook(lambda module, args, name=name: calls.append((name, int(args[1]))))
             for name, model in (("image", image), ("audio", audio))]
    try:
        JointPipeline(image, audio)(settings(steps=6, image_start_step=2, audio_weight=0.5))
    finally:
        for hook in hooks:
            hook.remove()
    timesteps = [831 - 166 * i for i in range(6)]  # 1000 // 6 = 166 apart, "leading", steps_offset 1
    assert [t for name, t in calls if name == "audio"] == timesteps
    assert [t for name, t in calls if name == "image"] == timesteps[2:]
    assert calls[:2] == [("audio", 831), ("audio", 665)]  # one batched (cond + uncond) call per model per step


def diffusers_alone(model, prompt, negative, guidance, steps, seed):
    """The same model sampled alone by diffusers' own StableDiffusionPipeline: pictures (1, 3, H, W) in [0, 1]."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=model.vae, text_encoder=model.text_encoder, tokenizer=model.tokenizer, unet=model.unet,
        scheduler=make_scheduler("ddim", model.scheduler_config), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    height, width = 32, 128
    return pipe(prompt, negative_prompt=negative, guidance_scale=guidance, num_inference_steps=steps,
                height=height, width=width, generator=torch.Generator("cpu").manual_seed(seed),
                output_type="pt").images


def test_audio_weight_zero_is_the_image_model_alone_and_one_is_the_audio_model_alone(models):
    image, audio = models
    pipe = JointPipeline(image, audio)
    s = settings(steps=4, image_start_step=2)

    (only_image,) = pipe(settings(steps=4, image_start_step=2, audio_weight=0.0))
    reference = diffusers_alone(image, s.image_prompt, s.image_negative_prompt, s.image_guidance, 4, s.seed)
    expected = (reference[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(only_image.picture), expected)

    (only_audio,) = pipe(settings(steps=4, image_start_step=2, audio_weight=1.0))
    reference = diffusers_alone(audio, s.audio_prompt, s.audio_negative_prompt, s.audio_guidance, 4, s.seed)
    expected = (reference[0].mean(0).numpy() * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(only_audio.spectrogram), expected)

    (joint,) = pipe(s)  # and the mix really is something else
    assert np.asarray(joint.picture).tolist() != np.asarray(only_image.picture).tolist()


@pytest.mark.parametrize("scheduler", ["ddim", "euler_a"])
def test_each_variation_equals_its_seed_run_alone(models, scheduler):
    pipe = JointPipeline(*models)
    batch = pipe(settings(seed=10, variations=3, steps=3, scheduler=scheduler))
    assert [clip.seed for clip in batch] == [10, 11, 12] and [clip.index for clip in batch] == [0, 1, 2]
    for clip in batch:
        (alone,) = pipe(settings(seed=clip.seed, steps=3, scheduler=scheduler))
        np.testing.assert_allclose(clip.audio, alone.audio, atol=1e-4)
        assert np.abs(np.asarray(clip.picture, int) - np.asarray(alone.picture, int)).max() <= 1
    assert not np.allclose(batch[0].audio, batch[1].audio)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_named_scheduler_samples(models, name):
    scheduler = make_scheduler(name, models[0].scheduler_config)
    assert type(scheduler).__name__ == SCHEDULERS[name][0]
    (clip,) = JointPipeline(*models)(settings(steps=3, scheduler=name))
    assert np.isfinite(clip.audio).all()


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_named_scheduler_lands_alike_from_a_part_way_start_and_counts_whole_steps(models, name):
    """With a perfect noise predictor for a known x0, a trajectory started on x0's noising path stays on it, so
    a run started part-way along it (riffing) must end where the full run ends; and the step numbers the denoiser
    sees must be exactly the steps that run, so start steps mean the same noise level in every scheduler."""
    g = torch.Generator().manual_seed(0)
    x0, noise = 0.8 * torch.randn((1, 4, 8, 8), generator=g, dtype=torch.float64), \
        torch.randn((1, 4, 8, 8), generator=g, dtype=torch.float64)

    def run(strength: float) -> tuple[torch.Tensor, list[int]]:
        scheduler = make_scheduler(name, models[0].scheduler_config)
        timesteps, first = timesteps_from(scheduler, 20, strength)
        start = scheduler.add_noise(x0, noise, timesteps[:1])  # on x0's path, for the full run too
        steps: list[int] = []

        def perfect(x: torch.Tensor, t: torch.Tensor, step: int) -> torch.Tensor:
            steps.append(step)
            a = scheduler.alphas_cumprod[int(t)].double()  # the scheduler's own noise schedule
            return (x - a.sqrt() * x0) / (1 - a).sqrt()

        out = sample(perfect, scheduler, start, timesteps, first, generator=[torch.Generator().manual_seed(1)])
        assert sorted(set(steps)) == list(range(first, 20)) and steps == sorted(steps)
        return out, steps

    full, _ = run(1.0)
    for strength in (0.5, 0.3):
        torch.testing.assert_close(run(strength)[0], full, rtol=0, atol=1e-3)


def test_an_unknown_scheduler_is_a_value_error_naming_scheduler(models):
    with pytest.raises(ValueError, match="^scheduler: unknown 'warp'"):
        make_scheduler("warp", models[0].scheduler_config)


def test_riffing_strength_sets_how_much_of_the_schedule_runs(models):
    pipe = JointPipeline(*models)
    t = np.arange(128 * 160 + 1024) / 16000
    clip = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    seen = []
    (riff,) = pipe(settings(steps=10, init_audio=clip, strength=0.3), on_step=lambda d, n: seen.append(n))
    assert seen == [3, 3, 3]
    (again,) = pipe(settings(steps=10, init_audio=clip, strength=0.3))
    np.testing.assert_array_equal(riff.audio, again.audio)
    (other,) = pipe(settings(steps=10, init_audio=np.roll(clip, 4000) * 0.1, strength=0.3))
    assert not np.allclose(riff.audio, other.audio)
    (plain,) = pipe(settings(steps=10))
    assert not np.allclose(riff.audio, plain.audio)


def test_interpolation_ends_are_the_two_prompts_and_seeds(models):
    pipe = JointPipeline(*models)
    end = dict(to_image_prompt="a forest", to_audio_prompt="birds", to_seed=99)
    (start,) = pipe(settings(**end, alpha=0.0))
    (plain_start,) = pipe(settings())
    (finish,) = pipe(settings(**end, alpha=1.0))
    (plain_end,) = pipe(settings(image_prompt="a forest", audio_prompt="birds", seed=99))
    (middle,) = pipe(settings(**end, alpha=0.5))
    np.testing.assert_allclose(start.audio, plain_start.audio, atol=1e-5)
    np.testing.assert_allclose(finish.audio, plain_end.audio, atol=1e-4)
    assert not np.allclose(middle.audio, start.audio) and not np.allclose(middle.audio, finish.audio)
    recorded = json.loads(json.dumps(middle.record["settings"]))
    (again,) = pipe(GenerateSettings.resolved(**recorded))  # the record makes the same in-between clip again
    np.testing.assert_array_equal(again.audio, middle.audio)


def test_slerp_keeps_noise_at_the_norm_of_noise_where_lerp_shrinks_it():
    a, b = (torch.randn((2, 4, 16, 16), generator=torch.Generator().manual_seed(s)) for s in (1, 2))
    mid = slerp(0.5, a, b)
    assert torch.allclose(mid.flatten(1).norm(dim=1), a.flatten(1).norm(dim=1), rtol=0.05)
    assert ((a + b) / 2).flatten(1).norm(dim=1).max() < 0.8 * a.flatten(1).norm(dim=1).min()
    torch.testing.assert_close(slerp(0.0, a, b), a)
    torch.testing.assert_close(slerp(1.0, a, b), b)


def test_imprint_multiplies_the_image_alone_into_the_spectrogram_alone(models):
    pipe = JointPipeline(*models)
    seen = []
    (imprint,) = pipe(settings(steps=3, method="imprint"), on_step=lambda d, n: seen.append((d, n)))
    assert seen == [(i, 6) for i in range(1, 7)]
    (image_alone,) = pipe(settings(steps=3, audio_weight=0.0))
    (audio_alone,) = pipe(settings(steps=3, audio_weight=1.0))
    grey = np.asarray(image_alone.picture, float).mean(axis=2) / 255
    expected = np.asarray(audio_alone.spectrogram, float) * (1 - 0.5 * (1 - grey))  # the paper's inverse_image
    assert np.abs(np.asarray(imprint.spectrogram, float) - expected).max() <= 1.5

"""Benchmark of the joint sampler: the paper's loop and the engine's loops side by side, in one run.

    python bench/sampler.py                                    # CPU, tiny-random models (plumbing, loop overhead)
    python bench/sampler.py --full-size --device cuda --dtype fp16   # SD 1.5 / Auffusion architectures, random weights

Rows, all for one clip one window long (full size: Auffusion's 1024 spectrogram columns at 16 kHz, 10.24 s; tiny:
128 columns, 1.28 s):
  paper loop   each model's guidance as two separate UNet passes (uncond, cond), DDIM 100 steps
  engine       one batched (uncond + cond) UNet call per model per step, any diffusers scheduler
Per row: time per step, time per clip (prompts, sampling, both VAE decodes, vocoder), real-time factor
(clip time / clip duration; below 1 is faster than real time), clips per second, peak memory.
On CPU it also measures the loop's own overhead over the raw UNet calls it makes.

Scoring (issue 16): CLIP ViT-B/16 and CLAP HTSAT-unfused, always at full size with random weights, score the
batched row's candidates (the colour picture against the image prompt, the dry sound against the audio prompt,
through the models' own processors), timed per candidate beside that row's generation time per candidate.

Long clips (issue 13): one clip of 10, 30 and 60 s (`seconds`), DPM++, time per second of audio side by side:
MultiDiffusion's windows make the cost grow linearly with the number of windows, so this column should stay flat.

Previews (issue 22): one clip sampled with a preview every step (the latent picture, its PNG written atomically
into a preview folder, as the server does) against the same clip with none, alternately, best of the repeats each;
the overhead is the ratio. `--only previews` runs these rows alone.

Stylize (issue 21): a stylisation (CLAP hears a 10 s sound, then SDEdit at strength 0.75 in 25 DPM++ steps on a
picture of the canvas's height squared) beside the one-clip DPM++ generation; `--only stylize` runs these alone.

Full size builds the real architectures from their configs in code (SD 1.5's UNet, VAE and CLIP ViT-L/14 text
encoder; a HiFi-GAN with 256 mels and a hop of 160) with random weights: the same arithmetic as the real models,
with no download.
"""
from __future__ import annotations

import argparse
import dataclasses
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from sonocanvas.engine.canvas import window_starts, window_stride
from sonocanvas.engine.denoisers import GuidedDenoiser, JointDenoiser
from sonocanvas.engine.devices import choose_device, choose_dtype
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.models import DiffusionModel
from sonocanvas.engine.pipeline import JointPipeline
from sonocanvas.engine.preview import Previews
from sonocanvas.engine.sampler import make_scheduler, sample, timesteps_from
from sonocanvas.engine.tiny import SD_SCHEDULER, byte_tokenizer
from sonocanvas.engine.vocoder import HifiGan, VocoderConfig


@dataclass
class Row:
    name: str
    steps: int
    batch: int
    step_s: float
    clip_s: float
    peak_mib: float | None

    def cells(self, seconds: float) -> list[str]:
        return [self.name, str(self.steps), str(self.batch), f"{self.step_s * 1000:.1f}", f"{self.clip_s:.3f}",
                f"{self.clip_s / seconds:.3f}", f"{1 / self.clip_s:.2f}",
                "-" if self.peak_mib is None else f"{self.peak_mib:.0f}"]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(name: str, run, steps: int, batch: int, device: torch.device, repeats: int) -> Row:
    """Best of `repeats` (after one warm-up): per-step time from the step callbacks, per-clip from the whole run."""
    best_clip, best_step = float("inf"), float("inf")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stamps: list[float] = []

    def on_step(done: int, total: int) -> None:
        sync(device)
        stamps.append(time.perf_counter())

    for repeat in range(repeats + 1):
        stamps.clear()
        sync(device)
        start = time.perf_counter()
        run(on_step)
        sync(device)
        elapsed = time.perf_counter() - start
        if repeat:  # the first run warms up kernels and caches
            best_clip = min(best_clip, elapsed / batch)
            best_step = min(best_step, (stamps[-1] - stamps[0]) / (len(stamps) - 1))
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    return Row(name, steps, batch, best_step, best_clip, peak)


@torch.no_grad()
def paper_clip(image: DiffusionModel, audio: DiffusionModel, s: GenerateSettings, height: int, width: int, on_step):
    """The paper's denoise() with each guidance pass run separately: 4 UNet calls of batch 1 per joint step."""
    def embeds(model, prompt, negative):
        return model.encode_prompts([negative]), model.encode_prompts([prompt])

    def estimate(model, x, t, pair, guidance):
        uncond = model.unet(x, t, encoder_hidden_states=pair[0]).sample
        cond = model.unet(x, t, encoder_hidden_states=pair[1]).sample
        return uncond + guidance * (cond - uncond)

    image_pair = embeds(image, s.image_prompt, s.image_negative_prompt)
    audio_pair = embeds(audio, s.audio_prompt, s.audio_negative_prompt)
    scheduler = make_scheduler("ddim", image.scheduler_config)
    scheduler.set_timesteps(s.steps)
    latents = torch.randn((1, 4, height // 8, width // 8), generator=torch.manual_seed(s.seed),
                          dtype=image.dtype).to(image.device)
    for i, t in enumerate(scheduler.timesteps):
        audio_noise = estimate(audio, latents, t, audio_pair, s.audio_guidance)
        if i >= s.image_start_step:
            image_noise = estimate(image, latents, t, image_pair, s.image_guidance)
            noise = (1 - s.audio_weight) * image_noise + s.audio_weight * audio_noise
        else:
            noise = audio_noise
        latents = scheduler.step(noise, t, latents).prev_sample
        on_step(i + 1, s.steps)
    image.decode(latents)
    spectrogram = audio.decode(latents).mean(dim=1)
    fmt = JointPipeline(image, audio).format(height, width)
    return audio.vocoder(fmt.log_mel_from_picture(spectrogram).to(audio.dtype))


@torch.no_grad()
def loop_overhead(image: DiffusionModel, audio: DiffusionModel, height: int, width: int, steps: int,
                  repeats: int) -> tuple[float, float]:
    """(loop seconds, seconds inside UNet forward calls) of the engine's sampling loop, timed in the same run by
    hooks on the UNets, so load from other processes hits both alike. The median run of `repeats`."""
    e_image = image.encode_prompts(["", "a castle"])
    e_audio = audio.encode_prompts(["", "bells"])
    denoiser = JointDenoiser(GuidedDenoiser(image.unet, e_image, 10.0), GuidedDenoiser(audio.unet, e_audio, 10.0),
                             0.5, 0, 0)
    x = torch.randn((1, 4, height // 8, width // 8), generator=torch.manual_seed(0)).to(image.device, image.dtype)
    scheduler = make_scheduler("ddim", image.scheduler_config)
    inside = [0.0]
    started = [0.0]

    def before(module, args):
        sync(image.device)
        started[0] = time.perf_counter()

    def after(module, args, output):
        sync(image.device)
        inside[0] += time.perf_counter() - started[0]

    hooks = [h for unet in (image.unet, audio.unet)
             for h in (unet.register_forward_pre_hook(before), unet.register_forward_hook(after))]
    runs = []
    try:
        for repeat in range(repeats + 1):
            inside[0] = 0.0
            start = time.perf_counter()
            timesteps, _ = timesteps_from(scheduler, steps)
            sample(denoiser, scheduler, x, timesteps)
            sync(image.device)
            if repeat:
                runs.append((time.perf_counter() - start, inside[0]))
    finally:
        for h in hooks:
            h.remove()
    runs.sort(key=lambda run: run[0] / run[1])
    return runs[len(runs) // 2]


def full_size_models(device: torch.device, dtype: torch.dtype) -> tuple[DiffusionModel, DiffusionModel]:
    """SD 1.5 and Auffusion architectures with random weights, built in code (no download)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = byte_tokenizer(Path(tempfile.mkdtemp()) / "tokenizer")  # token ids only; the encoder is full size
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
        sample_size=512).to(device, dtype).eval()

    def model(kind: str, vocoder: HifiGan | None) -> DiffusionModel:
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(320, 640, 1280, 1280),
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32).to(device, dtype).eval()
        text = CLIPTextModel(CLIPTextConfig(
            vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
            max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768)).to(device, dtype).eval()
        return DiffusionModel(name=f"full-size-random/{kind}", kind=kind, path=Path("."), revision=None,
                              content_hash="random", tokenizer=tokenizer, text_encoder=text, unet=unet, vae=vae,
                              scheduler_config=dict(SD_SCHEDULER), device=device, dtype=dtype, vocoder=vocoder)

    vocoder = HifiGan(VocoderConfig(
        num_mels=256, upsample_rates=(5, 4, 2, 2, 2), upsample_kernel_sizes=(11, 8, 4, 4, 4),
        upsample_initial_channel=1024, resblock="1", resblock_kernel_sizes=(3, 7, 11),
        resblock_dilation_sizes=((1, 3, 5),) * 3, sampling_rate=16000, hop_size=160,
    )).fold_weight_norm().to(device, dtype).eval()
    return model("image", None), model("auffusion", vocoder)


def tiny_size_models(device: torch.device, dtype: torch.dtype) -> tuple[DiffusionModel, DiffusionModel]:
    from sonocanvas.engine.models import load_audio_model, load_image_model
    from sonocanvas.engine.tiny import tiny_models

    paths = tiny_models()
    return (load_image_model(paths.image, device=device, dtype=dtype),
            load_audio_model(paths.auffusion, device=device, dtype=dtype))


def full_size_scorers(device: torch.device, dtype: torch.dtype):
    """CLIP ViT-B/16 and CLAP HTSAT-unfused architectures with random weights (no download), with their
    processors as the hub's models configure them; the tokenizers are byte-level stand-ins (token ids only)."""
    from sonocanvas.engine.scorers import ClapScorer, ClipScorer
    from sonocanvas.engine.tiny import roberta_byte_tokenizer
    from transformers import (
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapProcessor,
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
    )

    scratch = Path(tempfile.mkdtemp())
    clip = CLIPModel(CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                         num_attention_heads=8, max_position_embeddings=77),
        vision_config=dict(image_size=224, patch_size=16, hidden_size=768, intermediate_size=3072,
                           num_hidden_layers=12, num_attention_heads=12),
        projection_dim=512)).to(device, dtype).eval()
    clap = ClapModel(ClapConfig(  # transformers' defaults are HTSAT-unfused with a RoBERTa-base text tower
        text_config=dict(vocab_size=50265), audio_config=dict(enable_fusion=False),
        projection_dim=512)).to(device, dtype).eval()
    clip_processor = CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=byte_tokenizer(scratch / "clip"))
    clap_processor = ClapProcessor(feature_extractor=ClapFeatureExtractor(truncation="rand_trunc"),
                                   tokenizer=roberta_byte_tokenizer(scratch / "clap"))
    return ClipScorer(clip, clip_processor, device), ClapScorer(clap, clap_processor, device)


def scoring_rows(clips, image_prompt: str, audio_prompt: str, device: torch.device, dtype: torch.dtype,
                 repeats: int) -> list[tuple[str, float]]:
    """Best-of-`repeats` seconds per candidate for each score, on these clips."""
    clip, clap = full_size_scorers(device, dtype)
    rows = []
    for name, score in (("CLIP ViT-B/16", lambda: clip([c.picture for c in clips], image_prompt)),
                        ("CLAP HTSAT-unfused", lambda: clap([c.audio for c in clips], clips[0].sample_rate,
                                                            audio_prompt))):
        best = float("inf")
        for repeat in range(repeats + 1):
            sync(device)
            start = time.perf_counter()
            score()
            sync(device)
            if repeat:
                best = min(best, (time.perf_counter() - start) / len(clips))
        rows.append((name, best))
    return rows


def preview_rows(pipe: JointPipeline, settings: GenerateSettings, device: torch.device, repeats: int) -> list[Row]:
    """The clip with no previews and with one every step, measured alternately (so that load from other
    processes hits both alike): each row the best of `repeats` after a warm-up of both."""
    from sonocanvas.bridge.output.previews import PreviewFolder

    folder = PreviewFolder(Path(tempfile.mkdtemp()))
    shown = folder.job()
    previews = Previews(1, lambda step, total, picture: shown.show(step, picture, lambda path: None))
    runs = {"no previews": lambda cb: pipe(settings, on_step=cb),
            "a preview every step": lambda cb: pipe(settings, on_step=cb, previews=previews)}
    best = {name: measure(name, run, settings.steps, 1, device, 1) for name, run in runs.items()}
    for _ in range(repeats - 1):
        for name, run in runs.items():
            row = measure(name, run, settings.steps, 1, device, 1)
            if row.clip_s < best[name].clip_s:
                best[name] = row
    shown.close()
    return [dataclasses.replace(row, name=f"engine DPM++, {label}") for label, row in best.items()]


def stylize_rows(args, image: DiffusionModel, pipe: JointPipeline, fast: GenerateSettings, height: int,
                 seconds: float, device: torch.device, dtype: torch.dtype) -> None:
    """A stylisation's time beside a generation's, each the best of the repeats after a warm-up."""
    import numpy as np
    from PIL import Image
    from sonocanvas.engine.stylize import restyle, style_of
    from sonocanvas.engine.stylize_settings import StylizeSettings

    if args.full_size:
        _, clap = full_size_scorers(device, dtype)
    else:
        from sonocanvas.engine.scorers import ClapScorer
        from sonocanvas.engine.tiny import tiny_models

        clap = ClapScorer.load(tiny_models().clap, device)
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (height, height, 3), dtype=np.uint8))
    sound = (0.3 * rng.standard_normal(48000 * 10)).astype(np.float32)
    settings = StylizeSettings(strength=0.75, steps=args.fast_steps, vocabulary=tuple(f"scene {i}" for i in range(40)))

    def stylize(on_step) -> None:
        restyle(image, picture, style_of(clap, [(sound, 48000)], settings), settings, on_step)

    generation = measure("generation: one clip, engine DPM++", lambda cb: pipe(fast, on_step=cb), args.fast_steps, 1,
                         device, args.repeats)
    styled = measure(f"stylize: CLAP + SDEdit 0.75, {height} x {height} picture", stylize,
                     round(0.75 * args.fast_steps), 1, device, args.repeats)
    print(table(["loop", "steps", "batch", "ms/step", "s/clip", "RTF", "clips/s", "peak MiB"],
                [row.cells(seconds) for row in (generation, styled)]))
    print(f"a stylisation costs {styled.clip_s / generation.clip_s:.2f}x a generation", flush=True)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", action="store_true", help="real architectures with random weights")
    parser.add_argument("--device", help="cpu, cuda or mps (default: the best present)")
    parser.add_argument("--dtype", choices=("fp16", "bf16", "fp32"), help="default: fp16 on GPUs, fp32 on CPU")
    parser.add_argument("--repeats", type=int, default=3, choices=range(1, 101), metavar="N",
                        help="timed runs per row, after one warm-up (default 3)")
    parser.add_argument("--paper-steps", type=int, default=100, help="steps of the DDIM rows (the paper's 100)")
    parser.add_argument("--fast-steps", type=int, default=25, help="steps of the DPM-Solver++ rows")
    parser.add_argument("--batch", type=int, default=8, help="variations in the batched row")
    parser.add_argument("--overhead-steps", type=int, default=50, help="steps of the loop-overhead measurement")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--width", type=int, help="picture columns (default: the audio model's window, 1024 = "
                                                  "10.24 s at full size; wider canvases are denoised in windows)")
    parser.add_argument("--long-seconds", type=float, nargs="*", default=[10, 30, 60],
                        help="lengths of the long-clip rows, in seconds (none: skip them)")
    parser.add_argument("--only", choices=("previews", "stylize"), help="run only these rows")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = choose_device(args.device)
    dtype = choose_dtype(device, args.dtype)
    torch.set_grad_enabled(False)
    image, audio = (full_size_models if args.full_size else tiny_size_models)(device, dtype)
    # One window of the audio model (full size: 256 x 1024, 10.24 s; tiny: 32 x 128): the engine rows then run the
    # same UNet calls as the paper's loop, with no MultiDiffusion windows (the long-clip rows measure those).
    height, width = audio.native_size[0], args.width or audio.native_size[1]
    seconds = width * 160 / 16000
    pipe = JointPipeline(image, audio)
    base = dict(image_prompt="a castle with bell towers, grayscale, lithograph style", audio_prompt="bell ringing",
                height=height, width=width)
    # the paper's defaults: DDIM 100, guidance 10, w 0.5, the image model from a tenth of the steps (10 of 100)
    paper = GenerateSettings.resolved(**base, steps=args.paper_steps)
    fast = GenerateSettings.resolved(**base, scheduler="dpm++", steps=args.fast_steps)
    batched = GenerateSettings.resolved(**{**base, "variations": args.batch}, scheduler="dpm++", steps=args.fast_steps)
    if device.type == "cuda":
        name = torch.cuda.get_device_name()
    else:
        name = f"{device.type}, {torch.get_num_threads()} threads"
    header = (f"sonocanvas joint sampler, {'full-size' if args.full_size else 'tiny-random'} models, {height}x{width} "
              f"({seconds} s clip), {name}, {str(dtype).removeprefix('torch.')}, torch {torch.__version__}")
    if args.only:
        print(header)
    else:
        sampler_rows(args, image, audio, pipe, paper, fast, batched, base, height, width, seconds, header, device,
                     dtype)
    if args.only in (None, "stylize"):
        stylize_rows(args, image, pipe, fast, height, seconds, device, dtype)
    if args.only == "stylize":
        return
    plain, shown = preview_rows(pipe, fast, device, args.repeats)
    print(table(["loop", "steps", "batch", "ms/step", "s/clip", "RTF", "clips/s", "peak MiB"],
                [row.cells(seconds) for row in (plain, shown)]))
    print(f"previews every step cost {100 * (shown.clip_s / plain.clip_s - 1):.2f} % of the clip's time")


def sampler_rows(args, image, audio, pipe, paper, fast, batched, base, height, width, seconds, header, device,
                 dtype) -> None:
    """The sampler's rows: the paper's loop against the engine's, batches, scoring, long clips, overhead."""
    rows = [
        measure("paper loop (separate CFG passes), DDIM", lambda cb: paper_clip(image, audio, paper, height, width, cb),
                args.paper_steps, 1, device, args.repeats),
        measure("engine (batched CFG), DDIM", lambda cb: pipe(paper, on_step=cb), args.paper_steps, 1, device,
                args.repeats),
        measure("engine (batched CFG), DPM++", lambda cb: pipe(fast, on_step=cb), args.fast_steps, 1, device,
                args.repeats),
        measure("engine (batched CFG), DPM++, variations", lambda cb: pipe(batched, on_step=cb), args.fast_steps,
                args.batch, device, args.repeats),
    ]
    print(header)
    print(table(["loop", "steps", "batch", "ms/step", "s/clip", "RTF", "clips/s", "peak MiB"],
                [row.cells(seconds) for row in rows]), flush=True)
    p, e, f, b = rows
    print(f"engine DDIM vs paper loop: {p.clip_s / e.clip_s:.2f}x faster per clip; "
          f"batch {args.batch} vs batch 1: {f.clip_s / b.clip_s:.2f}x the clips per second")
    candidates = pipe(batched)
    scores = scoring_rows(candidates, base["image_prompt"], base["audio_prompt"], device, dtype, args.repeats)
    print(table([f"per candidate (batch of {args.batch})", "seconds", "x generation"],
                [["generation, engine DPM++ batched (row above)", f"{b.clip_s:.3f}", "1.00"],
                 *([f"scoring, {name}, full size", f"{sec:.3f}", f"{sec / b.clip_s:.2f}"] for name, sec in scores)]),
          flush=True)
    long_rows = []
    for seconds in args.long_seconds:
        settings = GenerateSettings.resolved(**{**base, "width": None}, scheduler="dpm++", steps=args.fast_steps,
                                    seconds=seconds)
        columns = pipe.size(settings)[1] // audio.vae_scale_factor
        window = audio.native_size[1] // audio.vae_scale_factor
        row = measure(f"{seconds:g} s", lambda cb, settings=settings: pipe(settings, on_step=cb), args.fast_steps,
                      1, device, args.repeats)
        long_rows.append([row.name, str(len(window_starts(columns, window, window_stride(window)))),
                          f"{row.clip_s:.3f}", f"{row.clip_s / seconds:.4f}"])
    if long_rows:
        print(table(["long clip, DPM++", "windows", "s/clip", "s per second of audio"], long_rows), flush=True)
    if device.type == "cpu":
        print(f"CPU process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        loop_s, unet_s = loop_overhead(image, audio, height, width, args.overhead_steps, args.repeats)
        print(table(["measure (median run)", "seconds"], [
            [f"engine sampling loop, DDIM {args.overhead_steps}, both models every step", f"{loop_s:.4f}"],
            ["of which inside the raw UNet calls", f"{unet_s:.4f}"],
            ["loop overhead over the UNet calls", f"{100 * (loop_s / unet_s - 1):.2f} %"],
        ]))


if __name__ == "__main__":
    main()

"""Images that sound: one latent denoised by an image model and a spectrogram model at once.

Chen, Geng & Owens, "Images that Sound" (2024): at every step each model estimates the noise with its own
classifier-free guidance, the estimates are mixed as (1 - w) * eps_image + w * eps_audio, and one scheduler step
is taken. The final latent is decoded by the image model's VAE (the colour picture) and by the audio model's
(the spectrogram, which becomes sound through Auffusion's vocoder or the Riffusion codec).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from .canvas import LOOP_MARGIN, WindowedDenoiser, circular_time, loop_sound, window_seconds, window_stride
from .denoisers import Denoiser, GuidedDenoiser, JointDenoiser
from .errors import FieldError
from .generate_settings import GenerateSettings
from .models import DiffusionModel
from .preview import Previews
from .record import make_record
from .sampler import make_scheduler, sample, timesteps_from
from .sections import Section, SectionedEmbeddings, has_sections, plan


@dataclass
class Clip:
    """One result: its sound, its spectrogram (grey, with format metadata), its colour picture, and its record."""

    index: int
    seed: int
    audio: np.ndarray
    sample_rate: int
    spectrogram: Image.Image
    picture: Image.Image
    record: dict
    loop: bool = False  # its end flows into its start: whatever processes it must treat it as circular


class JointPipeline:
    """Images that sound with an image model and an audio model (Auffusion or Riffusion). Cheap to build."""

    def __init__(self, image: DiffusionModel, audio: DiffusionModel):
        if (image.device, image.dtype) != (audio.device, audio.dtype):
            raise FieldError("audio_model", f"on {audio.device}/{audio.dtype} but the image model is on "
                             f"{image.device}/{image.dtype}; load both with the same device and dtype")
        if audio.kind not in ("auffusion", "riffusion"):
            raise FieldError("audio_model", f"must be an Auffusion or Riffusion model, got kind {audio.kind!r}")
        self.image, self.audio = image, audio
        self.device, self.dtype = image.device, image.dtype

    @property
    def sample_rate(self) -> int:
        return self.audio.sample_rate or self.format(*self.audio.native_size).sample_rate

    def format(self, height: int, width: int):
        """The audio model's spectrogram format, for pictures of `height` mel rows."""
        from .spectrogram import get_format

        fmt = get_format(self.audio.kind)
        return fmt if fmt.n_mels == height else dataclasses.replace(fmt, n_mels=height)

    def size(self, settings: GenerateSettings) -> tuple[int, int]:
        """The picture's (height, width) for these settings on these models; ValueError if they cannot make it,
        so callers can check before they prepare anything."""
        height, width = settings.height or self.audio.native_size[0], settings.width or self.audio.native_size[1]
        scale = self.audio.vae_scale_factor
        if settings.seconds is not None:  # whole latent columns; the sound is then cut to the exact length
            fmt = self.format(height, width)
            width = math.ceil(fmt.frames_for(math.ceil(settings.seconds * fmt.sample_rate)) / scale) * scale
        if height % scale or width % scale:
            raise FieldError("height", f"{height}x{width} is not a multiple of the VAE's {scale}")
        vocoder = self.audio.vocoder
        if vocoder is not None and height != vocoder.config.num_mels:
            raise FieldError("height", f"the audio model's vocoder takes {vocoder.config.num_mels} mel rows, "
                             f"so pictures must be {vocoder.config.num_mels} high, not {height}")
        if settings.crop_last_columns and width < 32:
            raise FieldError("width", f"cropping the last 32/1024 of the columns needs at least 32, got {width}")
        return height, width

    @torch.no_grad()
    def __call__(self, settings: GenerateSettings, on_step: Callable[[int, int], None] | None = None,
                 previews: Previews | None = None, bpm: float | None = None) -> list[Clip]:
        """The clips `settings` describe (one per variation); `on_step(done, total)` after each sampling step, and
        `previews` (engine/preview.py) shows the canvas as it forms. `bpm`: the tempo that sections' lengths in
        bars are read at (the request's, which fits the clip to bars; engine/sections.py)."""
        s = settings
        height, width = self.size(s)
        scale = self.audio.vae_scale_factor
        window = self.audio.native_size[1] // scale

        # 1. Each model's prompt and negative prompt -> its own CFG embeddings [negative rows; prompt rows]; with a
        #    prompt per section, one set per section, which each window hears as the sections it covers.
        sections = self.sections(s, height, width, bpm)
        canvas = (width // scale, width * self._column_seconds(height, width))  # latent columns, seconds
        image_embeddings = self._sectioned(self.image, sections["image_prompt"], s.image_negative_prompt, s,
                                           "to_image_prompt", canvas)
        audio_embeddings = self._sectioned(self.audio, sections["audio_prompt"], s.audio_negative_prompt, s,
                                           "to_audio_prompt", canvas)

        # 2. One standard-normal latent per variation, from a CPU generator seeded with its seed (as the paper).
        shape = (1, self.audio.unet.config["in_channels"], height // scale, width // scale)
        generators = [torch.Generator("cpu").manual_seed(seed) for seed in s.seeds]
        noise = torch.cat([torch.randn(shape, generator=g, dtype=self.dtype) for g in generators])
        if s.interpolate_to is not None:
            end = [torch.Generator("cpu").manual_seed(s.interpolate_to.seed + i) for i in range(s.variations)]
            noise = slerp(s.alpha, noise, torch.cat([torch.randn(shape, generator=g, dtype=self.dtype) for g in end]))
        noise = noise.to(self.device)

        # 3. The schedule (the image model's noise schedule, any diffusers scheduler); riffing starts part-way.
        init = self._init_latents(s, height, width)

        def schedule():
            scheduler = make_scheduler(s.scheduler, self.image.scheduler_config)
            return (scheduler, *timesteps_from(scheduler, s.steps, s.strength if init is not None else 1.0))

        scheduler, timesteps, first = schedule()
        if init is None:
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(init.expand_as(noise), noise, timesteps[:1])

        # 4. Denoise: each model with its own guidance, mixed (1 - w) * eps_image + w * eps_audio; a canvas wider
        #    than the audio model's window in overlapping windows (MultiDiffusion), each hearing its sections, a loop
        #    circular in time.
        def image_at(start: int) -> GuidedDenoiser:
            return GuidedDenoiser(self.image.unet, image_embeddings.at(start, window), s.image_guidance)

        def audio_at(start: int) -> GuidedDenoiser:
            return GuidedDenoiser(self.audio.unet, audio_embeddings.at(start, window), s.audio_guidance)

        def joint_at(start: int) -> JointDenoiser:
            return JointDenoiser(image_at(start) if s.audio_weight < 1 else None,
                                 audio_at(start) if s.audio_weight > 0 else None,
                                 s.audio_weight, s.image_start_step, s.audio_start_step)

        sectioned = len(image_embeddings.sections) > 1 or len(audio_embeddings.sections) > 1

        def windowed(at: Callable[[int], Denoiser]) -> WindowedDenoiser:
            return WindowedDenoiser(at(0), window, window_stride(window), s.loop, at if sectioned else None)

        one_window = latents.shape[-1] <= window
        def circular(*modules: torch.nn.Module):
            return circular_time(*modules) if s.loop else nullcontext()

        with circular(self.image.unet, self.audio.unet) if one_window else nullcontext():
            if s.method == "joint":
                latents = sample(windowed(joint_at), scheduler, latents, timesteps, first, on_step, generators,
                                 previews)
            else:  # the imprint baseline: each model alone from the same start, the picture multiplied into the sound
                halves, shown = _halves(on_step, len(timesteps)), _halves(previews, len(timesteps))
                image_latents = sample(windowed(image_at), scheduler, latents, timesteps,
                                       first, halves[0], generators, shown[0])
                scheduler, timesteps, first = schedule()  # a fresh one: multistep schedulers keep history
                audio_latents = sample(windowed(audio_at), scheduler, latents, timesteps,
                                       first, halves[1], generators, shown[1])
        with circular(self.image.vae, self.audio.vae):
            if s.method == "joint":
                picture = self.image.decode(latents)
                shared_vae = self.audio.vae is self.image.vae  # one decode serves both (SD, Auffusion, Riffusion)
                spectrogram = (picture if shared_vae else self.audio.decode(latents)).mean(dim=1)
            else:
                picture = self.image.decode(image_latents)
                # as the paper's code (inverse_image): dark parts of the picture quieten the sound, bright keep it
                darkness = 1 - picture.mean(dim=1)
                spectrogram = self.audio.decode(audio_latents).mean(dim=1) * (1 - s.imprint_ratio * darkness)

        # 5. The spectrogram becomes sound: a loop's wrapped around so that its end flows into its start, a clip
        #    of given seconds cut to them; optionally crop the last 32/1024 columns, as the paper does.
        fmt = self.format(height, width)
        if s.loop:
            sound = loop_sound(lambda wrapped: self._sound(wrapped, fmt, s.seeds), spectrogram, fmt.hop_length,
                               margin=LOOP_MARGIN)
        else:
            sound = self._sound(spectrogram, fmt, s.seeds)
            if s.seconds is not None:
                sound = sound[:, : round(s.seconds * fmt.sample_rate)]
        if s.crop_last_columns:
            columns = width // 32
            sound = sound[:, : sound.shape[1] - round(columns / width * sound.shape[1])]
            picture, spectrogram = picture[..., :-columns], spectrogram[..., :-columns]
        return [self._clip(s, i, seed, sound[i], spectrogram[i], picture[i], fmt, height, width, sections)
                for i, seed in enumerate(s.seeds)]

    def sections(self, s: GenerateSettings, height: int, width: int, bpm: float | None) -> dict[str, list[Section]]:
        """Each prompt's sections over this canvas (one, the prompt itself, for a prompt without `|`); FieldError
        on the prompt's field for sections this canvas cannot hold (engine/sections.py's `plan`)."""
        column = self._column_seconds(height, width)
        scale = self.audio.vae_scale_factor
        window = self.audio.native_size[1] // scale
        seconds = s.seconds if s.seconds is not None else width * column
        span, stride = window_seconds(window, scale, column)
        return {field: plan(getattr(s, field), field, seconds, span, stride, bpm)
                for field in ("image_prompt", "audio_prompt")}

    def _column_seconds(self, height: int, width: int) -> float:
        """Seconds of sound per picture column of the audio model's format."""
        fmt = self.format(height, width)
        return fmt.hop_length / fmt.sample_rate

    def _sectioned(self, model: DiffusionModel, sections: list[Section], negative: str, s: GenerateSettings,
                   far_field: str, canvas: tuple[int, float]) -> SectionedEmbeddings:
        """The CFG embeddings of each section over a canvas of (latent columns, seconds). With an interpolation
        each section moves towards the prompt `far_field` names (to_image_prompt or to_audio_prompt), one prompt,
        or, where it is not given, towards itself (as a prompt without sections always did)."""
        to = getattr(s, far_field)
        if to is not None and has_sections(to):
            raise FieldError(far_field, "interpolates every section towards one prompt; give it without sections")
        interpolating = s.interpolate_to is not None
        embeddings = [self._embeddings(model, section.prompt, negative, s,
                                       (section.prompt if to is None else to) if interpolating else None)
                      for section in sections]
        return SectionedEmbeddings(sections, embeddings, *canvas)

    def _embeddings(self, model: DiffusionModel, prompt: str, negative: str, s: GenerateSettings,
                    end_prompt: str | None) -> torch.Tensor:
        negative_rows, prompt_rows = model.encode_prompts([negative]), model.encode_prompts([prompt])
        if end_prompt is not None:  # Riffusion's interpolation: a straight line between the two prompts
            prompt_rows = torch.lerp(prompt_rows, model.encode_prompts([end_prompt]), s.alpha)
        n = s.variations
        return torch.cat([negative_rows.expand(n, -1, -1), prompt_rows.expand(n, -1, -1)])

    def _init_latents(self, s: GenerateSettings, height: int, width: int) -> torch.Tensor | None:
        """Riffing: the init clip through the audio format and VAE, or the init picture through the image VAE."""
        if s.init_audio is not None:
            from .audio import Region, load_audio

            fmt = self.format(height, width)
            needed = (width - 1) * fmt.hop_length + fmt.n_fft - 2 * fmt.pad
            if isinstance(s.init_audio, np.ndarray):
                clip = riff_region(s.init_audio, fmt.sample_rate, s.init_start, s.init_end)
            else:  # only the region, and of it only what the picture holds, is decoded
                end = s.init_start + needed / fmt.sample_rate
                clip = load_audio(s.init_audio, fmt.sample_rate, field="init_audio",
                                  region=Region(s.init_start, end if s.init_end is None else min(end, s.init_end)))
            clip = np.pad(clip, (0, max(0, needed - len(clip))))[:needed]
            grey = fmt.picture_from_audio(torch.from_numpy(np.ascontiguousarray(clip, dtype=np.float32)))
            return self.audio.encode(grey[..., :width].expand(1, 3, -1, -1))
        if s.init_picture is not None:
            from .spectrogram import open_picture

            rgb = open_picture(s.init_picture, "init_picture").convert("RGB").resize((width, height),
                                                                                   Image.Resampling.LANCZOS)
            pixels = torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255).permute(2, 0, 1)[None]
            return self.image.encode(pixels)
        return None

    def _sound(self, spectrogram: torch.Tensor, fmt, seeds: list[int]) -> np.ndarray:
        """(batch, rows, columns) pictures -> (batch, samples) float32 audio at the model's rate. Griffin-Lim's
        starting phases come from each clip's own seed, so a seed means one sound, alone or among variations."""
        if self.audio.vocoder is not None:
            mel = fmt.log_mel_from_picture(spectrogram.float()).to(self.dtype)
            return self.audio.vocoder(mel).float().cpu().numpy()
        return np.stack([
            fmt.audio_from_picture(picture.float(), generator=torch.Generator(picture.device).manual_seed(seed))
            .cpu().numpy().astype(np.float32)
            for picture, seed in zip(spectrogram, seeds, strict=True)])

    def _clip(self, s: GenerateSettings, index: int, seed: int, sound: np.ndarray, spectrogram: torch.Tensor,
              picture: torch.Tensor, fmt, height: int, width: int, sections: dict[str, list[Section]]) -> Clip:
        rgb = (picture.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
        record = make_record(
            s, index=index, seed=seed, sample_rate=self.sample_rate, samples=len(sound), height=height, width=width,
            models={"image": self.image.identity(), "audio": self.audio.identity()},
            device=str(self.device), dtype=str(self.dtype).removeprefix("torch."),
        )
        if any(len(parts) > 1 for parts in sections.values()):  # each prompt that has sections: where each lies
            record["sections"] = {field: [dataclasses.asdict(part) for part in parts]
                                  for field, parts in sections.items() if len(parts) > 1}
        return Clip(index=index, seed=seed, audio=np.ascontiguousarray(sound, dtype=np.float32),
                    sample_rate=self.sample_rate, spectrogram=fmt.png(spectrogram), picture=Image.fromarray(rgb),
                    record=record, loop=s.loop)


def slerp(alpha: float, a: torch.Tensor, b: torch.Tensor, dot_threshold: float = 0.9995) -> torch.Tensor:
    """Spherical interpolation per batch item (Riffusion's): keeps interpolated noise at the norm of noise."""
    flat_a, flat_b = a.flatten(1).double(), b.flatten(1).double()
    dot = (flat_a * flat_b).sum(1) / (flat_a.norm(dim=1) * flat_b.norm(dim=1))
    theta = torch.arccos(dot.clamp(-1, 1))
    sin = torch.sin(theta)
    straight = dot.abs() > dot_threshold
    wa = torch.where(straight, 1 - alpha, torch.sin((1 - alpha) * theta) / sin)
    wb = torch.where(straight, torch.full_like(dot, alpha), torch.sin(alpha * theta) / sin)
    view = (-1,) + (1,) * (a.dim() - 1)
    return (wa.view(view) * a.double() + wb.view(view) * b.double()).to(a.dtype)


def riff_region(clip: np.ndarray, rate: int, start: float, end: float | None) -> np.ndarray:
    """The samples of `clip` (at `rate`) from `start` to `end` seconds (`audio.region_frames`): the region of a
    Live clip between its markers, for a clip handed over in memory."""
    from .audio import Region, region_frames

    first, last = region_frames(len(clip), rate, Region(start, end), "init_audio")
    return clip[first:last]


def _halves(report: Callable[..., None] | None, n: int) -> tuple[Any, Any]:
    """A step callback (progress, previews) for two passes of n steps, told as one run of 2n."""
    if report is None:
        return None, None
    return (lambda done, _, *rest: report(done, 2 * n, *rest)), (lambda done, _, *rest: report(n + done, 2 * n, *rest))


"""The models, loaded once, and the one job function that turns a request into dropped clips.

This is where the server meets the engine: a `GenerateRequest`'s settings go to the joint
pipeline of its audio model, an `EncodeRequest` becomes spectrogram art (`Studio.make`); each clip is
then handed to the drop folder (`deliver`). The two halves are apart so that a Ray worker
(`bridge/cluster.py`) can make the clips on another machine while the server drops them here. It runs on
the job queue's worker threads only.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from ...engine.scorers import Scorers
from ...engine.settings import DEFAULT_CAPS
from ..jobs.queue import Job
from ..output.drop import DELIVERY, DropFolder, clip_stem, slug
from ..request.build import EncodeRequest, GenerateRequest, StylizeRequest
from .ranking import Choice, make_and_choose

TINY_LABEL = "tiny-random (random weights, plumbing only)"
Done = Callable[..., None]
"""`done(index, wav, png, json, ranked=None)` per clip delivered; `ranked` is (rank, candidates, scores) for a
clip chosen among candidates, so the client hears its scores with it."""


@dataclasses.dataclass(frozen=True)
class Made:
    """One finished clip before it is dropped: the clip, the file name it asks for, and its full record."""

    clip: Any  # engine.pipeline.Clip
    stem: str
    record: dict


@dataclasses.dataclass(frozen=True)
class Restyled:
    """A stylisation's result before it is dropped: a picture (no sound) and its record."""

    picture: Any  # PIL.Image
    record: dict


@dataclasses.dataclass(frozen=True)
class Models:
    """What to load: the image model and each audio model (hub ids or folders), or the tiny-random set."""

    image: str
    audio: dict[str, str]
    device: str | None = None
    tiny_random: bool = False
    clip: str = ""  # the scorers that rank candidates; "" for none
    clap: str = ""

    @property
    def label(self) -> str:
        if self.tiny_random:
            return TINY_LABEL
        return " ".join([f"image={self.image}", *(f"{kind}={name}" for kind, name in self.audio.items())])


class Studio:
    """One `JointPipeline` per audio model, sharing one loaded image model."""

    def __init__(self, pipelines: dict[str, Any], device: str, label: str, drop: DropFolder | None, version: str,
                 scorers: Scorers | None = None, batch: int = int(DEFAULT_CAPS["variations"])):
        self.pipelines = pipelines
        self.device = device
        self.label = label
        self.drop = drop
        self.version = version
        self.scorers = scorers or Scorers(None, None)
        self.batch = batch  # candidates sampled at once: the per-request variations cap

    @property
    def audio_models(self) -> frozenset[str]:
        return frozenset(self.pipelines)

    @classmethod
    def load(cls, models: Models, drop: DropFolder | None, version: str,
             batch: int = int(DEFAULT_CAPS["variations"])) -> Studio:
        """The models loaded; the scorers found (a folder or the Hugging Face cache: never downloaded unasked), to
        load on first use. `drop` None: a Ray worker, whose clips are dropped elsewhere."""
        from ...engine.models import load_audio_model, load_image_model
        from ...engine.pipeline import JointPipeline

        if models.tiny_random:
            from ...engine.catalog import CLAP_MODEL, CLIP_MODEL
            from ...engine.tiny import scorer_or_tiny, tiny_models

            tiny = tiny_models()
            models = dataclasses.replace(
                models, image=str(tiny.image),
                audio={kind: str(path) for kind, path in tiny.audio.items()},
                clip=scorer_or_tiny(models.clip, CLIP_MODEL, tiny.clip),
                clap=scorer_or_tiny(models.clap, CLAP_MODEL, tiny.clap),
            )
        image = load_image_model(models.image, device=models.device)
        pipelines = {
            kind: JointPipeline(image, load_audio_model(name, kind=kind, device=models.device))
            for kind, name in models.audio.items()
        }
        label = TINY_LABEL if models.tiny_random else models.label
        scorers = Scorers(models.clip or None, models.clap or None, image.device).found()
        return cls(pipelines, image.device.type, label, drop, version, scorers, batch)

    def run(self, job: Job, on_step: Callable[[int, int], None], done: Done) -> None:
        """The job queue's runner: sample (or encode), then drop each clip and report it at once."""
        if self.drop is None:
            raise RuntimeError("a studio without a drop folder (a cluster worker's) makes clips, and the server that "
                               "sent the job drops them: call make, not run")
        deliver(self.drop, job, self.make(job, on_step), done)

    def make(self, job: Job, on_step: Callable[[int, int], None], when: datetime | None = None) -> list[Made]:
        """Sample (or encode) the job's clips, each with its file stem and its record (job and server included).
        The stem says when the job was asked for: `when`, else the job's time in this machine's time zone."""
        request = job.request
        when = when or datetime.fromtimestamp(job.queued_at)
        clips: list[Any]  # pipeline Clips, or a Restyled picture
        if isinstance(request, GenerateRequest):
            from ...engine.preview import Previews

            shown = Previews(request.preview, job.show_preview) if request.preview and job.show_preview else None
            try:
                clips, _ = make_and_choose(self.pipelines[request.audio_model], request.settings,
                                           Choice(request.keep, request.rank), self.scorers, request.output, self.batch,
                                           on_step, shown)
            except torch.OutOfMemoryError:
                torch.cuda.empty_cache()  # give the failed job's memory back before the next one
                raise
            stems = [
                clip_stem(when, request.settings.image_prompt, request.settings.audio_prompt, clip.seed,
                          clip.index if request.settings.variations > 1 else None)
                for clip in clips
            ]
        elif isinstance(request, StylizeRequest):
            clips = [self.stylize(request, on_step)]
            stems = [f"{when:%Y%m%d-%H%M%S}_{slug(Path(request.picture_path.name).stem)}_seen-"
                     f"{slug(Path(request.sound_path.name).stem)}"]
        else:
            clips = [self.encode(request, on_step)]
            stems = [f"{when:%Y%m%d-%H%M%S}_{slug(Path(request.picture_path.name).stem)}_{request.format}"]
        server = {"version": self.version, "models": self.label}
        return [Made(clip, stem, {**clip.record, "job_id": job.job_id, "server": server})
                for clip, stem in zip(clips, stems, strict=True)]

    def stylize(self, request: StylizeRequest, on_step: Callable[[int, int], None]) -> Restyled:
        """See a sound: the picture restyled by it (engine/stylize.py) with the image model every pipeline
        shares and the server's CLAP, and its record."""
        from ...engine.stylize import hear, picture_to_restyle, restyle, style_of, stylize_record

        picture = picture_to_restyle(request.picture_path, "picture_path")
        given = [(source, field) for source, field in ((request.sound_path, "sound_path"),
                                                       (request.second_sound, "second_sound")) if source is not None]
        sources, fields = [source for source, _ in given], [field for _, field in given]
        style = style_of(self.scorers.clap(), hear(sources, fields, request.settings), request.settings)
        image = next(iter(self.pipelines.values())).image
        result = restyle(image, picture, style, request.settings, on_step)
        record = stylize_record(request.settings, style, request.picture_path, sources, image,
                                self.scorers.clap_model or "", result.size)
        return Restyled(result, record)

    @staticmethod
    def encode(request: EncodeRequest, on_step: Callable[[int, int], None]):
        """Spectrogram art: the picture becomes a sound whose spectrogram shows it (no model involved); progress
        (and a cancel) comes a chunk of Griffin-Lim at a time."""
        from ...engine.art import load_art, sound_from_picture
        from ...engine.audio import normalize_peak
        from ...engine.pipeline import Clip
        from ...engine.spectrogram import open_picture

        fmt, picture = load_art(request.picture_path, request.format, request.seconds, field="picture_path",
                                max_seconds=request.longest)
        audio = normalize_peak(sound_from_picture(fmt, picture, on_chunk=on_step), -1.0)
        record = {
            "sonocanvas": "art", "picture_path": str(request.picture_path), "format": fmt.name,
            "sample_rate": fmt.sample_rate, "samples": int(audio.shape[-1]),
            "seconds": audio.shape[-1] / fmt.sample_rate,
        }
        return Clip(index=0, seed=0, audio=audio, sample_rate=fmt.sample_rate, spectrogram=fmt.png(picture),
                    picture=open_picture(request.picture_path, "picture_path").convert("RGB"), record=record)


def deliver(drop: DropFolder, job: Job, made: list[Made], done: Done) -> None:
    """Drop each clip and report it at once; a cancel stops before the next clip, and is refused from the last."""
    for i, item in enumerate(made):
        job.check(last=i == len(made) - 1)
        delivery = {} if job.journal_id is None else {
            DELIVERY: {"journal_entry": job.journal_id, "clip": i, "clips": len(made)}}
        if isinstance(item.clip, Restyled):  # a picture, no sound: PNG + JSON, told with an empty wav_path
            picture = drop.drop_picture(item.clip.picture, item.stem, {**item.record, **delivery})
            done(i, None, picture.png, picture.json)
            continue
        dropped = drop.drop(item.clip, job.request.output, item.stem, {**item.record, **delivery})
        record = item.record
        ranked = (record["rank"], record["candidates"], record["scores"]) if "rank" in record else None
        done(i, dropped.wav, dropped.png, dropped.json, ranked=ranked)

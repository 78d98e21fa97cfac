"""Make many, keep the best: candidates generated in batches, scored with CLIP and CLAP, the best kept.

Joint sampling succeeds only now and then, so the paper's authors made 50 to 100 candidates per prompt pair and
kept the best. Here `variations` candidates are made in batches of at most `batch` (the server's per-request cap),
each candidate i with seed + i so that it can be made again alone; each is scored as `engine/scorers.py` defines
(the CLAP score hears the dry sound as the drop folder writes it); `rank` orders them; the best `keep` are returned
in rank order, their records holding their rank, scores and the candidate count. The command line and the server
share this, so "best" means one thing everywhere.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...engine.audio import within_full_scale
from ...engine.errors import FieldError
from ...engine.generate_settings import GenerateSettings
from ..output.drop import finish
from ..request.build import Output

if TYPE_CHECKING:  # torch and the models load only when a job makes candidates, not with the OSC handlers
    from ...engine.pipeline import Clip, JointPipeline
    from ...engine.preview import Previews
    from ...engine.scorers import Scorers

Step = Callable[[int, int], None]


@dataclass(frozen=True)
class Choice:
    """`keep` of the candidates, the best by `rank` (clip, clap or both); None keeps every candidate unscored."""

    keep: int | None = None
    rank: str = "both"

    def check(self, candidates: int, scorers: Scorers) -> None:
        """Refuse before anything is sampled: keeping more than are made, or ranking with a scorer not
        there."""
        if self.keep is None:
            return
        if self.keep > candidates:
            raise FieldError("keep",
                             f"keeps {self.keep} of {candidates} candidates; make more variations or keep fewer")
        for kind in self.kinds:
            scorers.require(kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("clip", "clap") if self.rank == "both" else (self.rank,)


def make_and_choose(pipe: JointPipeline, settings: GenerateSettings, choice: Choice, scorers: Scorers,
                    output: Output, batch: int, on_step: Step | None = None,
                    previews: Previews | None = None) -> tuple[list[Clip], list[Clip]]:
    """(the clips to deliver, the candidates left out): every candidate and none (no `keep`), or the best `keep` in
    rank order and the rest in the order they were made, every one's record holding its scores. `previews` shows
    the first batch forming (its first candidate)."""
    from ...engine.scorers import rank  # with torch: see the imports above

    if choice.keep is None:
        return pipe(settings, on_step=on_step, previews=previews, bpm=output.bpm), []
    batches = math.ceil(settings.variations / batch)
    progress = _Progress(on_step, batches, settings.variations)
    candidates: list[Clip] = []
    for b in range(batches):
        offset = b * batch
        size = min(batch, settings.variations - offset)
        part = dataclasses.replace(settings, seed=settings.seed + offset, variations=size)
        for clip in pipe(part, on_step=progress.sampling(b), previews=previews if b == 0 else None, bpm=output.bpm):
            candidates.append(dataclasses.replace(clip, index=offset + clip.index,
                                                  record={**clip.record, "index": offset + clip.index}))
    scores = score(candidates, settings, choice, scorers, output, progress.scored)
    places = {i: place for place, i in enumerate(rank(scores, choice.rank), start=1)}
    ranked = [dataclasses.replace(clip, record={
        **clip.record, "scores": scores[i], "rank": places[i], "candidates": len(candidates), "rank_by": choice.rank,
    }) for i, clip in enumerate(candidates)]
    kept = sorted((clip for clip in ranked if clip.record["rank"] <= choice.keep), key=lambda c: c.record["rank"])
    return kept, [clip for clip in ranked if clip.record["rank"] > choice.keep]


def score(clips: list[Clip], settings: GenerateSettings, choice: Choice, scorers: Scorers, output: Output,
          on_scored: Callable[[], None] = lambda: None) -> list[dict[str, float]]:
    """Each clip's scores by the kinds `choice` ranks with: CLIP on its colour picture against the image prompt,
    CLAP on its dry sound as the drop folder writes it against the audio prompt."""
    scores: list[dict[str, float]] = []
    for clip in clips:
        values = {}
        if "clip" in choice.kinds:
            values["clip"] = scorers.clip()([clip.picture], settings.image_prompt)[0]
        if "clap" in choice.kinds:
            dry = within_full_scale(finish(clip.audio, clip.sample_rate, output, clip.loop))
            values["clap"] = scorers.clap()([np.asarray(dry)], output.sample_rate, settings.audio_prompt)[0]
        scores.append(values)
        on_scored()
    return scores


class _Progress:
    """One count over every batch's sampling steps, then one step per candidate scored."""

    def __init__(self, on_step: Step | None, batches: int, candidates: int):
        self.on_step, self.batches, self.candidates = on_step, batches, candidates
        self.steps = 0  # a batch's steps, known from its first report
        self.done = 0

    def sampling(self, batch: int) -> Step:
        def report(done: int, total: int) -> None:
            self.steps = total
            self.done = batch * total + done
            self._report()
        return report

    def scored(self) -> None:
        self.done += 1
        self._report()

    def _report(self) -> None:
        if self.on_step is not None:
            self.on_step(self.done, self.batches * self.steps + self.candidates)

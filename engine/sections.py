"""A prompt per section of a long clip: `"church bells @4 | choir @8 | thunder"`.

A prompt may give sections separated by `|`, each optionally with a length in bars of 4/4 (`@4`) at the
clip's tempo (`bpm`); sections without one share the rest of the clip evenly. The image prompt may have them
too, so the picture changes along time as the sound does. A prompt without `|` is one section, the prompt as
written, and makes exactly the clip it made before sections existed.

A long canvas is denoised in MultiDiffusion windows (engine/canvas.py), and each window is conditioned by the
sections it covers: one window inside a section hears that section's prompt alone; one that straddles a
boundary hears the two (or more) sections' embeddings blended by how many of its columns lie in each. So the
transitions are denoised together, not crossfaded afterwards. On a loop, the windows wrap, and the last
section flows into the first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .errors import FieldError
from .settings import BY_NAME

SEPARATOR = "|"
_LENGTH = re.compile(r"^(?P<prompt>.*?)\s*@\s*(?P<bars>\d+)\s*$", re.DOTALL)
# What a length was meant to be but is not (`@-1`, `@2.5`, a bare `@`): refused, never read as the prompt's words.
# A word after `@` (`party @home`) is a word.
_NO_LENGTH = re.compile(r"@\s*(?P<tail>[-+.,\d]*)\s*$")
BEATS_PER_BAR = 4
_MOST_BARS = int(BY_NAME["bars"].high or 0)  # a clip's own bound on bars: no section may be longer
assert _MOST_BARS > 0, "the bars setting has an upper bound"


@dataclass(frozen=True)
class Section:
    """One section of a prompt: its own prompt, from `start` to `end` seconds into the clip."""

    prompt: str
    start: float
    end: float


def has_sections(prompt: str) -> bool:
    return SEPARATOR in prompt


def plan(prompt: str, field: str, seconds: float, window_seconds: float, stride_seconds: float,
         bpm: float | None) -> list[Section]:
    """The sections of `prompt` over a clip `seconds` long, denoised in windows of `window_seconds` every
    `stride_seconds`; FieldError(field) for sections that cannot be made: in a clip of one window, shorter than a
    window's stride, in bars without a tempo, or whose bars do not fit the clip."""
    if not has_sections(prompt):
        return [Section(prompt, 0.0, seconds)]
    parts = []
    for part in prompt.split(SEPARATOR):
        found = _LENGTH.match(part.strip())
        text, bars = (found["prompt"].strip(), int(found["bars"])) if found else (part.strip(), None)
        if not found and (bad := _NO_LENGTH.search(part)):
            raise FieldError(field, f"section {part.strip()!r}: '@{bad['tail']}' is no length in bars; give @N, "
                                    f"N a whole number of bars from 1")
        if not text:
            raise FieldError(field, f"a section between '{SEPARATOR}'s has no prompt: {prompt!r}")
        if bars == 0:
            raise FieldError(field, f"section {text!r} is 0 bars long; give at least 1")
        if bars is not None and bars > (most := _MOST_BARS):
            raise FieldError(field, f"section {text!r} is {bars} bars long; a clip holds at most {most}")
        parts.append((text, bars))
    if seconds <= window_seconds:
        raise FieldError(field, f"{len(parts)} sections need a clip longer than one window of the model "
                                f"({window_seconds:g} s); this one lasts {seconds:g} s: give seconds, or bpm and bars")
    given = [bars for _, bars in parts if bars is not None]
    if given and bpm is None:
        raise FieldError(field, "sections in bars (@N) need the tempo: give bpm and bars")
    bar = BEATS_PER_BAR * 60 / bpm if bpm else 0.0
    fixed = sum(given) * bar
    free = len(parts) - len(given)
    rest = seconds - fixed
    if rest < -1e-6 or (free and rest <= 1e-6):
        raise FieldError(field, f"the sections' {sum(given)} bars last {fixed:.3g} s, and the clip "
                                f"{seconds:.3g} s: {'no room is left for the others' if free else 'too long'}")
    if not free and abs(rest) > bar / 2:
        raise FieldError(field, f"the sections' {sum(given)} bars last {fixed:.3g} s, but the clip "
                                f"{seconds:.3g} s: give as many bars as the clip's, or leave one section's out")
    sections, start = [], 0.0
    for i, (text, bars) in enumerate(parts):
        end = seconds if i == len(parts) - 1 else start + (bars * bar if bars is not None else rest / free)
        sections.append(Section(text, start, end))
        start = end
    for section in sections:
        if section.end - section.start < stride_seconds:
            raise FieldError(field, f"section {section.prompt!r} lasts {section.end - section.start:.3g} s, shorter "
                                    f"than a window's stride ({stride_seconds:.3g} s): make it longer, or the clip")
    return sections


@dataclass(frozen=True)
class SectionedEmbeddings:
    """Each section's CFG embeddings over a canvas `width` latent columns wide, and what a window hears."""

    sections: list[Section]
    embeddings: list[torch.Tensor]  # one (2 * batch, tokens, dim) per section, as GuidedDenoiser takes them
    width: int
    seconds: float

    def at(self, start: int, window: int) -> torch.Tensor:
        """The embeddings the window of `window` columns from `start` hears (wrapping around the canvas):
        its sections' blended by how many of its columns each holds, exactly one section's where it holds all."""
        if len(self.embeddings) == 1:
            return self.embeddings[0]
        columns = torch.arange(start, start + min(window, self.width)) % self.width
        edges = torch.tensor([round(s.start / self.seconds * self.width) for s in self.sections[1:]])
        counts = torch.bincount(torch.bucketize(columns, edges, right=True), minlength=len(self.sections))
        if int(counts.max()) == len(columns):
            return self.embeddings[int(counts.argmax())]
        weights = counts.to(self.embeddings[0].dtype) / len(columns)
        return sum((w * e for w, e in zip(weights.tolist(), self.embeddings, strict=True) if w),
                   torch.zeros_like(self.embeddings[0]))

"""The phrases `stylize` weighs a sound against: the shipped vocabulary, or a user's YAML list."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from ...engine.errors import FieldError
from .paths import shipped_presets_dir

VOCABULARY = Path("stylize") / "vocabulary.yaml"
"""The default vocabulary, in the shipped presets folder (its provenance: README.md beside it)."""


def read_vocabulary(path: Path | None) -> tuple[str, ...]:
    """The phrases of a YAML list (the shipped one without `path`); FieldError on `vocabulary` otherwise."""
    source = path or shipped_presets_dir() / VOCABULARY
    try:
        phrases = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FieldError("vocabulary", f"cannot read {source}: {error}") from None
    if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise FieldError("vocabulary", f"{source} must be a YAML list of phrases (non-empty strings)")
    return tuple(p.strip() for p in phrases)


@functools.cache
def shipped_vocabulary() -> tuple[str, ...]:
    """The shipped vocabulary, read once: a server's requests all use it."""
    return read_vocabulary(None)

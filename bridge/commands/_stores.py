"""What several commands read as the server does: the prompt presets and the effect chains a request may name
(`generate`, `presets`, `effects`). Loaded only when a command runs, so that `--help` stays fast."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..output.effects import EffectChains
    from ..request.presets import PresetStore


def presets() -> PresetStore:
    """The shipped prompt presets and the user's (their config folder's `presets/`), as `serve` reads them."""
    from ..request.presets import PresetStore
    from ..store.config import default_config_path
    from ..store.paths import shipped_presets_dir

    return PresetStore(shipped_presets_dir(), default_config_path().parent / "presets")


def effect_chains() -> EffectChains:
    """The shipped effect chains and the user's (from the server config, when there is one)."""
    from ..output.effects import EffectChains
    from ..store.config import default_config_path, load_config
    from ..store.paths import shipped_presets_dir

    user = load_config().effects if default_config_path().exists() else {}
    return EffectChains.load(shipped_presets_dir() / "effects" / "catalogue.yaml", user)

"""The server's YAML config: one per user, created with comments on first run, overridden by flags."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...engine.catalog import CLAP_MODEL, CLIP_MODEL, DEFAULT_AUDIO_MODELS, IMAGE_MODEL, device_problem
from ...engine.errors import FieldError
from ...engine.files import atomic_write
from ...engine.settings import BY_NAME, DEFAULT_CAPS, capped

_TEMPLATE = """\
# sonocanvas server config (`sonocanvas serve`). Flags override these values.

# Where the OSC server listens, UDP and TCP (SLIP-framed OSC 1.1) on the same port.
# Keep 127.0.0.1 unless clients on other machines must reach the server.
host: 127.0.0.1
port: 9010

# Finished clips (WAV, spectrogram PNG, picture PNG, JSON record) are dropped here. The folder is
# made if it is missing, except on a drive that is not plugged in (/Volumes/<drive>/...).
drop_dir: {drop_dir}

# A secret every client's hello must carry (/sonocanvas/hello <reply_port> <token>). Required when
# host is not loopback; OSC is cleartext, so prefer 127.0.0.1 and an SSH tunnel (docs/osc.md).
token: ""

# Besides the drop folder, requests may read clips and pictures (init_audio, picture_path,
# audition) only from these folders, and, on a loopback host with read_home on, from anywhere
# in your home folder (a server on another address reads only the drop folder and read_dirs).
read_dirs: []
read_home: true

# Models: hub ids or local folders. Set an audio model to null to leave it unloaded.
image_model: {image_model}
audio_models:
{audio_models}

# The scorers that rank candidates (generate keys keep and rank): CLIP and CLAP, hub ids or local folders,
# used only when found in a folder or the Hugging Face cache (hf download ID). "" turns one off.
clip_model: {clip_model}
clap_model: {clap_model}

# auto, cuda, mps or cpu.
device: auto

# Defaults for dropped WAVs; a request may ask for others.
sample_rate: 48000
bit_depth: 24     # 24 (PCM) or 32 (float)

# Policy caps: the highest value a request may ask for, for any numeric generate key (docs/osc.md),
# on top of the key's own range. A shared GPU box may want them lower; /sonocanvas/limits reports them.
caps:
{caps}

# Audition output: a sounddevice output name or index; null for the system default.
audio_output: null

# Your own effect chains, added to the shipped catalogue (presets/effects/catalogue.yaml shows the
# format). This is the only place a VST3/AU plugin path may appear; requests name a chain, never a plugin.
effects: {{}}

# The job journal (SQLite); empty for journal.sqlite3 beside this file.
journal: ""

# Jobs on a Ray cluster (pip install 'sonocanvas[ray]'; docs/studio.md): null runs them in this process;
# local starts Ray on this machine; HOST:PORT joins the cluster whose head is there. workers: how many jobs
# run at once, each on a Ray worker with a GPU of its own; null for one per GPU of the cluster.
ray: null
workers: null
"""


class ConfigError(FieldError):
    """A bad config value; the message starts with the key."""


@dataclass(frozen=True)
class Config:
    path: Path
    host: str = "127.0.0.1"
    port: int = 9010
    drop_dir: Path = Path.home() / "Music" / "sonocanvas"
    read_dirs: tuple[Path, ...] = ()
    image_model: str = IMAGE_MODEL
    audio_models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_AUDIO_MODELS))
    device: str = "auto"
    sample_rate: int = 48000
    bit_depth: int = 24
    caps: dict = field(default_factory=lambda: dict(DEFAULT_CAPS))
    audio_output: str | int | None = None
    effects: dict = field(default_factory=dict)
    journal: Path | None = None
    token: str = ""
    read_home: bool = True
    clip_model: str = CLIP_MODEL
    clap_model: str = CLAP_MODEL
    ray: str | None = None
    workers: int | None = None
    tiny_random: bool = False

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def journal_path(self) -> Path:
        return self.journal or self.folder / "journal.sqlite3"

    @property
    def presets_dir(self) -> Path:
        return self.folder / "presets"

    def replace(self, **changes) -> Config:
        """A copy with the given values changed; `None` means "not given" and keeps the current one."""
        return _checked(dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None}))


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "sonocanvas" / "config.yaml"


def load_config(path: Path | None = None) -> Config:
    """Read the config at `path` (default: the per-user one), writing the commented template first if missing."""
    path = Path(path or default_config_path()).expanduser().absolute()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _TEMPLATE.format(drop_dir=Path.home() / "Music" / "sonocanvas", image_model=IMAGE_MODEL,
                                clip_model=CLIP_MODEL, clap_model=CLAP_MODEL,
                                audio_models=_indented(DEFAULT_AUDIO_MODELS), caps=_indented(DEFAULT_CAPS))
        try:
            atomic_write(path, lambda f: f.write(text.encode()), exclusive=True)
        except FileExistsError:
            pass  # another process wrote it first; read theirs
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError("config", f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError("config", f"{path} must hold a mapping of keys to values")
    known = {f.name for f in dataclasses.fields(Config)} - {"path", "tiny_random"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key in {path}; known keys: {', '.join(sorted(known))}")
    values = {k: v for k, v in data.items() if v is not None or k == "audio_output"}
    if "audio_models" in values:
        values["audio_models"] = {k: v for k, v in (values["audio_models"] or {}).items() if v}
    if values.get("journal") == "":
        del values["journal"]
    return _checked(Config(path=path, **values))


def _indented(mapping: dict) -> str:
    """A mapping as the template's indented YAML lines, so the template shows the one definition's values."""
    return "\n".join(f"  {key}: {value}" for key, value in mapping.items())


def _checked(config: Config) -> Config:
    """Normalise types (paths, tuples) and refuse values the server cannot use."""
    def folder(value, key: str) -> Path:
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ConfigError(key, f"expected a folder path, got {value!r}")
        return Path(value).expanduser().absolute()

    if not isinstance(config.port, int) or not 0 <= config.port <= 65535:
        raise ConfigError("port", f"must be an integer 0 ... 65535, got {config.port!r}")
    output = {}
    for key in ("sample_rate", "bit_depth"):  # the defaults of a request's keys: the settings table's ranges
        try:
            output[key] = BY_NAME[key].parse(getattr(config, key))
        except FieldError as error:
            raise ConfigError(key, error.reason) from None
    for key in ("clip_model", "clap_model"):
        if not isinstance(getattr(config, key), str):
            raise ConfigError(key, f"must be a hub id or a folder, or \"\" for none, got {getattr(config, key)!r}")
    if problem := device_problem(str(config.device)):
        raise ConfigError("device", problem)
    if not isinstance(config.audio_models, dict) or set(config.audio_models) - set(DEFAULT_AUDIO_MODELS):
        raise ConfigError("audio_models",
                          f"a mapping with keys auffusion and/or riffusion, got {config.audio_models!r}")
    if not isinstance(config.token, str):
        raise ConfigError("token", f"must be a string (quote it), got {config.token!r}")
    if not isinstance(config.read_home, bool):
        raise ConfigError("read_home", f"must be true or false, got {config.read_home!r}")
    if not isinstance(config.effects, dict):
        raise ConfigError("effects", f"must be a mapping of chain names to plugin lists, got {config.effects!r}")
    if not isinstance(config.caps, dict):
        raise ConfigError("caps", f"must be a mapping of generate keys to their highest values, got {config.caps!r}")
    try:
        capped(config.caps)
    except FieldError as error:
        raise ConfigError(error.field, error.reason) from None
    if config.ray is not None and (not isinstance(config.ray, str) or not config.ray):
        raise ConfigError("ray", f"expected local or HOST:PORT of a Ray cluster's head, got {config.ray!r}")
    if config.workers is not None:
        if isinstance(config.workers, bool) or not isinstance(config.workers, int) or config.workers < 1:
            raise ConfigError("workers", f"must be an integer 1 or more, got {config.workers!r}")
        if config.ray is None:
            raise ConfigError("workers", "runs jobs on Ray workers; set ray (local, or HOST:PORT of a cluster) too")
    read_dirs = config.read_dirs
    if not isinstance(read_dirs, (list, tuple)):
        raise ConfigError("read_dirs", f"must be a list of folders, got {read_dirs!r}")
    return dataclasses.replace(
        config,
        **output,
        drop_dir=folder(config.drop_dir, "drop_dir"),
        read_dirs=tuple(folder(d, "read_dirs") for d in read_dirs),
        journal=folder(config.journal, "journal") if config.journal else None,
    )

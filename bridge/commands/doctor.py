"""`sonocanvas doctor`: check this machine for `serve` and print what it found, one row per check.

Everything is read from where `serve` reads it (the config and its defaults, the model loader's download
patterns, the function that binds the port, the drop folder's write method), so the table tells what
`serve` would meet. It exits 1 when something would stop `serve`, else 0; a warning (no GPU, audition
off, a model to download, the device not built yet) does not.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import socket
import sys
import textwrap
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..store.config import Config, ConfigError, default_config_path, load_config

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    """One row of the table: what was checked, how it went, and what was found or what to do."""

    check: str
    status: str
    detail: str
    command: str = ""  # what to run about it, printed after the detail, ready to paste into a shell


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check this machine for serve: Python, torch, device, models, audio, port, drop folder",
        description="Check what `sonocanvas serve` needs and print a table. Exits 1 when something would stop "
                    "serve, else 0.",
    )
    parser.add_argument("--config", type=Path, help="YAML config file (default: the per-user one; not created)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    findings = diagnose(args.config)
    print(table(findings))
    failed = [f.check for f in findings if f.status == FAIL]
    print(f"\nserve would stop at: {', '.join(failed)}" if failed else "\nnothing stops serve")
    return 1 if failed else 0


COLUMNS = 100
"""The table fits a terminal this wide: a long detail goes on under itself, broken between words only, so a
path is never cut; a command goes on its own lines, joined by shell line continuations (`\\`), so that it
pastes into a shell as one."""


def table(findings: list[Finding]) -> str:
    """One row per finding (check, status, detail, command), each line at most COLUMNS wide where its words allow."""
    width = max(len(f.check) for f in findings)
    indent = " " * (width + 8)
    rows = []
    for f in findings:
        rows.append(textwrap.fill(f.detail, COLUMNS, initial_indent=f"{f.check:<{width}}  {f.status:<4}  ",
                                  subsequent_indent=indent, break_long_words=False, break_on_hyphens=False))
        if f.command:
            lines = textwrap.wrap(f.command, COLUMNS - len(indent) - 4, break_long_words=False,
                                  break_on_hyphens=False)
            rows.append(indent + f" \\\n{indent}  ".join(lines))
    return "\n".join(rows)


def diagnose(config_path: Path | None = None) -> list[Finding]:
    """Every check, in the table's order. A check that raises is a FAIL row naming the error, not a crash."""
    findings = [Finding("python", OK, f"{platform.python_version()} ({sys.executable})")]
    config, problem = _config(config_path)
    if problem:
        findings.append(problem)
    checks: list[Callable[[Config], list[Finding]]] = [
        _torch, _models, _audio, _port, _drop_folder, _device_build,
    ]
    for check in checks:
        try:
            findings.extend(check(config))
        except Exception as error:  # a check must not hide the ones after it
            findings.append(Finding(check.__name__.strip("_").replace("_", " "), FAIL,
                                    f"{type(error).__name__}: {error}"))
    return findings


def _config(path: Path | None) -> tuple[Config, Finding | None]:
    """The config serve would read; its defaults when there is none yet (doctor does not write it)."""
    path = Path(path or default_config_path()).expanduser().absolute()
    if not path.exists():
        return Config(path=path), Finding("config", OK, f"none yet at {path}: the defaults (serve writes it)")
    try:
        return load_config(path), Finding("config", OK, str(path))
    except ConfigError as error:
        return Config(path=path), Finding("config", FAIL, f"{error} (the rest below uses the defaults)")


def _torch(config: Config) -> list[Finding]:
    import torch

    from ...engine.devices import choose_device

    found = [Finding("torch", OK, torch.__version__)]
    try:
        device = choose_device(None if config.device == "auto" else config.device)
    except ValueError as error:
        return [*found, Finding("device", FAIL, f"{error} (config: device: {config.device})")]
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return [*found, Finding("device", OK, f"cuda: {props.name}, {_gib(props.total_memory)} GiB")]
    if device.type == "mps":
        memory = torch.mps.recommended_max_memory()  # the share of unified memory Metal lets torch use
        return [*found, Finding("device", OK, f"mps: Apple GPU, {_gib(memory)} GiB usable of unified memory")]
    return [*found, Finding("device", WARN, f"cpu ({_memory()}): no CUDA or MPS GPU, so a real model takes "
                                            "minutes per clip; `serve --models tiny-random` checks the plumbing")]


HUB_TIMEOUT = 5.0
"""Seconds doctor waits for the hub's host to accept a connection."""


@functools.lru_cache(maxsize=4)
def hub_unreachable(endpoint: str) -> str:
    """Why `endpoint` (the hub serve downloads from) cannot be reached, or "" if its host accepts a connection:
    a model neither in a folder nor in the cache would stop serve at its first start. Asked once per run."""
    url = urllib.parse.urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=HUB_TIMEOUT).close()
    except OSError as error:
        return f"{url.hostname}:{port}: {error.strerror or error}"
    return ""


def _models(config: Config) -> list[Finding]:
    """Each configured model (the defaults unless the config names others): a folder, in the Hugging Face
    cache, or the exact command that downloads what serve loads."""
    from huggingface_hub import constants, try_to_load_from_cache

    from ...engine.models import _DOWNLOAD, _SKIP  # what resolve_model fetches: one definition

    found = []
    for field, name in [("image_model", config.image_model),
                        *((f"audio_models.{kind}", model) for kind, model in config.audio_models.items())]:
        if Path(name).expanduser().is_dir():
            found.append(Finding(field, OK, f"folder {Path(name).expanduser().absolute()}"))
            continue
        cached = try_to_load_from_cache(name, "model_index.json")
        if isinstance(cached, str):
            found.append(Finding(field, OK, f"{name}: in the Hugging Face cache ({Path(cached).parents[2]})"))
            continue
        command = " ".join(["hf", "download", shlex.quote(name), "--include", *map(shlex.quote, _DOWNLOAD),
                            "--exclude", *map(shlex.quote, _SKIP)])
        if constants.HF_HUB_OFFLINE:
            found.append(Finding(field, FAIL, f"{name}: not in the cache, and HF_HUB_OFFLINE is set; "
                                              "download it while online:", command))
        elif unreachable := hub_unreachable(constants.ENDPOINT):
            found.append(Finding(field, FAIL, f"{name}: not in the cache, and the hub cannot be reached "
                                              f"({unreachable}); download it where it can:", command))
        else:
            found.append(Finding(field, WARN, f"{name}: not in the cache; serve downloads it on first start, "
                                              "or get it now:", command))
    return found


def _audio(config: Config) -> list[Finding]:
    """The outputs PortAudio sees and the one audition would play on; none is a warning (audition alone)."""
    try:
        import sounddevice as sd

        from ..output.audition import Player

        device = Player(config.audio_output).device
        chosen = sd.query_devices(device, "output")
    except Exception as error:  # PortAudio missing, no output at all, or the configured one gone
        from ..output.portaudio import in_words

        return [Finding("audio output", WARN, f"audition is off: {in_words(error)}; serve still generates")]
    outputs = [d["name"] for d in sd.query_devices() if d["max_output_channels"] > 0]
    return [Finding("audio output", OK, f"audition plays on {chosen['name']!r}; outputs: {'; '.join(outputs)}")]


def _port(config: Config) -> list[Finding]:
    """Bind the port as serve would (UDP and TCP), then let it go."""
    from ..osc.server import bind_pair

    try:
        sockets = bind_pair(config.host, config.port)
    except ValueError as error:
        return [Finding("osc port", FAIL, str(error))]
    for sock in sockets:
        sock.close()
    return [Finding("osc port", OK, f"{config.host}:{config.port} is free (UDP and TCP)")]


def _drop_folder(config: Config) -> list[Finding]:
    """Writable as serve writes it: a real clip (WAV, PNGs, JSON) dropped by the server's own writer in a hidden
    folder there, then removed, and how its file system lets a clip appear without replacing another."""
    from ...engine.errors import FieldError
    from ...engine.files import WriteMethod, write_method
    from ..output.drop import check_drive, nearest_existing

    folder = config.drop_dir
    try:
        check_drive(folder, "drop_dir")  # what serve would refuse to make
    except FieldError as error:
        return [Finding("drop folder", FAIL, error.reason)]
    existing = nearest_existing(folder)
    if not existing.is_dir():
        return [Finding("drop folder", FAIL, f"{folder}: {existing} is a file, not a folder")]
    try:
        method = write_method(existing)
        _drop_a_clip(existing, config)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        return [Finding("drop folder", FAIL, f"{folder}: cannot write a clip in {existing}: {reason}")]
    how = {
        WriteMethod.LINK: "hard links",
        WriteMethod.RENAME_NOREPLACE: "no hard links (exFAT, FAT32 or SMB?): a no-replace rename, as safe",
        WriteMethod.RESERVE: "no hard links and no no-replace rename: names are reserved first, so a reader "
                             "may see an empty file for a moment",
    }[method]
    later = "" if existing == folder else f" (serve creates it; checked in {existing})"
    return [Finding("drop folder", OK, f"{folder}{later}: writable; writes use {method.value}: {how}")]


def _drop_a_clip(folder: Path, config: Config) -> None:
    """A tenth of a second of silence dropped as serve drops a clip (`DropFolder`: staged, placed, the audio
    last, at the config's rate and depth), in a hidden folder of `folder` that is removed after; OSError (or a
    FieldError) if any step fails, as it would for serve's first clip."""
    import shutil
    import tempfile

    import numpy as np
    from PIL import Image

    from ...engine.pipeline import Clip
    from ..output.drop import DropFolder
    from ..request.build import Output

    probe = Path(tempfile.mkdtemp(prefix=".sonocanvas-doctor-", dir=folder))
    try:
        clip = Clip(index=0, seed=0, audio=np.zeros(1600, np.float32), sample_rate=16000,
                    spectrogram=Image.new("L", (8, 8)), picture=Image.new("RGB", (8, 8)), record={})
        DropFolder(probe).drop(clip, Output(config.sample_rate, config.bit_depth), "doctor", {})
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def _device_build(config: Config) -> list[Finding]:
    from .device import build_record_path

    record = build_record_path()
    if not record.is_file():
        return [Finding("device build", WARN, "not built yet: run `sonocanvas build-device`")]
    built = json.loads(record.read_text(encoding="utf-8"))
    if not Path(built["path"]).is_file():
        return [Finding("device build", WARN, f"{built['path']} (built {built['built']}) is gone: "
                                              "run `sonocanvas build-device` again")]
    return [Finding("device build", OK, f"{built['path']} (built {built['built']})")]


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f}"


def _memory() -> str:
    """The machine's memory, where the system tells it without extra packages (POSIX)."""
    try:
        return f"{_gib(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES'))} GiB memory"
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return "memory unknown"

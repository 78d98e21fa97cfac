"""`sonocanvas build-device`: wrap the device's patcher into the frozen `.amxd` Live loads, with its script inside."""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from ...engine.errors import FieldError
from ...engine.files import atomic_write
from ..device import amxd
from ..store.config import default_config_path
from ..store.paths import device_sources_dir
from . import cannot_write, no_folder

PATCHER = "sonocanvas.maxpat"
SCRIPT = "sonocanvas.js"
"""The device's sources, in the folder `device_sources_dir()` finds when a build needs it (not at import: every
command imports this module, and only build-device needs the sources)."""


def default_output() -> Path:
    """In a source checkout, `max4live/sonocanvas.amxd` beside its sources; from an installed package (whose
    folder is no place for a user's file), `sonocanvas.amxd` in the current folder."""
    source = device_sources_dir()
    if (source.parent / "pyproject.toml").is_file():
        return source / "sonocanvas.amxd"
    return Path.cwd() / "sonocanvas.amxd"


def build_record_path() -> Path:
    """Where the last build is recorded (`sonocanvas doctor` reports it): beside the server's config."""
    return default_config_path().parent / "device.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build-device", help="build the Max for Live device (.amxd)",
        description="Build the sonocanvas Max for Live audio effect, frozen as Max freezes a device: its "
                    "script, sonocanvas.js, is inside it, so the device is one file that Collect All and Save "
                    "carries with a set.",
    )
    parser.add_argument("-o", "--output", type=Path,
                        help="where to write the device (default: max4live/sonocanvas.amxd in a source checkout, "
                             "else sonocanvas.amxd in the current folder)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    output: Path = (args.output or default_output()).absolute()
    if output.suffix != ".amxd":
        raise FieldError("output", f"{output} must end in .amxd, or Live will not load it as a device")
    if not output.parent.is_dir():  # no folder made: a typo in the long User Library path would "succeed" unseen
        raise no_folder(output.parent, "Live shows where its User Library is under Settings > Library")
    source = device_sources_dir()
    patcher = json.loads((source / PATCHER).read_text(encoding="utf-8"))
    script = amxd.EmbeddedFile.from_path(source / SCRIPT)
    try:
        amxd.write(output, amxd.Device("audio_effect", patcher, (script,), output.name, script.modified))
    except OSError as error:
        raise cannot_write(error, output) from None
    record = build_record_path()
    record.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"path": str(output), "built": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    atomic_write(record, lambda f: f.write(text.encode()))
    print(f"wrote {output} (audio effect, {len(patcher['patcher']['boxes'])} boxes, frozen with {SCRIPT})")
    return 0

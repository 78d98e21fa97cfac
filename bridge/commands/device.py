"""`sonocanvas build-device`: wrap max4live/sonocanvas.maxpat into the `.amxd` Live loads."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import amxd
from ...engine.files import atomic_write

SOURCE = Path(__file__).resolve().parents[2] / "max4live"
PATCHER = SOURCE / "sonocanvas.maxpat"
SCRIPT = SOURCE / "sonocanvas.js"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build-device", help="build the Max for Live device (.amxd)",
        description="Build the sonocanvas Max for Live audio effect from max4live/ in this checkout. "
                    "Its script, sonocanvas.js, is put beside it: Max finds it there.",
    )
    parser.add_argument("-o", "--output", type=Path, default=SOURCE / "sonocanvas.amxd",
                        help="where to write the device (default: max4live/sonocanvas.amxd)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not PATCHER.is_file():
        raise SystemExit(f"build-device: {PATCHER} is missing; run it from a sonocanvas source checkout")
    output: Path = args.output
    if output.suffix != ".amxd":
        raise SystemExit(f"output: {output} must end in .amxd, or Live will not load it as a device")
    output.parent.mkdir(parents=True, exist_ok=True)
    patcher = json.loads(PATCHER.read_text(encoding="utf-8"))
    amxd.write(output, amxd.Device("audio_effect", patcher))
    script = output.parent / SCRIPT.name
    if script.resolve() != SCRIPT:
        atomic_write(script, lambda f: f.write(SCRIPT.read_bytes()))
    print(f"wrote {output} (audio effect, {len(patcher['patcher']['boxes'])} boxes) and {script}")
    return 0

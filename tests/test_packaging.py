"""A wheel (what `pip install sonocanvas` would put in site-packages) holds everything the editable install
finds in the checkout: every module, the subcommands the CLI discovers, and the shipped presets."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_wheel_holds_every_module_and_the_shipped_presets(tmp_path):
    # built from a copy: setuptools reuses a build/ folder it finds, which could hold files from an older build
    source = shutil.copytree(ROOT, tmp_path / "source", ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "node_modules", "__pycache__", ".whl", ".gl"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                    str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("sonocanvas-*.whl")
    inside = {name for name in zipfile.ZipFile(wheel).namelist() if not name.startswith("sonocanvas-")}
    sources = {
        f"sonocanvas/{path.relative_to(ROOT).as_posix()}"
        for folder, pattern in (("engine", "*.py"), ("bridge", "*.py"), ("presets", "*.py"), ("presets", "*.yaml"))
        for path in (ROOT / folder).rglob(pattern)
    }
    assert "sonocanvas/bridge/commands/serve.py" in sources and "sonocanvas/presets/effects/catalogue.yaml" in sources
    assert inside == sources

"""A wheel (what `pip install sonocanvas` puts in site-packages) stands alone: it holds every module, the
subcommands the CLI discovers, the shipped presets and effect catalogue and the device's sources; installed
into a fresh virtual environment and run from another folder, with no checkout in reach, `--version`,
`build-device` and `serve` work, and the server answers a hello and finishes a generate over a real socket."""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from osc_helpers import TIMEOUT, ServeProcess, UdpClient, write_config
from pedalboard.io import AudioFile
from sonocanvas.bridge.device import amxd
from sonocanvas.bridge.studio.studio import TINY_LABEL

ROOT = Path(__file__).resolve().parents[1]
VERSION = "0.1.0"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # built from a copy: setuptools reuses a build/ folder it finds, which could hold files from an older build
    folder = tmp_path_factory.mktemp("wheel")
    source = shutil.copytree(ROOT, folder / "source", ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "node_modules", "__pycache__", ".whl", ".gl", "*.amxd"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(folder), str(source)], check=True, capture_output=True)
    (built,) = folder.glob(f"sonocanvas-{VERSION}-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new virtual environment holding the wheel; its dependencies come from this environment's
    site-packages through a .pth line (a folder named in a .pth is searched, but its own .pth files, this
    checkout's editable install among them, are not run), so no download and no copy of torch."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=False)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip())
    (env_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    return env


def command(env: Path) -> Path:
    return env / ("Scripts/sonocanvas.exe" if os.name == "nt" else "bin/sonocanvas")


def test_a_wheel_holds_every_module_the_shipped_presets_and_the_device_sources(wheel):
    inside = {name for name in zipfile.ZipFile(wheel).namelist() if not name.startswith("sonocanvas-")}
    sources = {
        f"sonocanvas/{path.relative_to(ROOT).as_posix()}"
        for folder, pattern in (("engine", "*.py"), ("bridge", "*.py"), ("presets", "*.py"), ("presets", "*.yaml"),
                                ("presets/stylize", "*.md"))  # the vocabulary's provenance travels with it
        for path in (ROOT / folder).rglob(pattern)
    } | {"sonocanvas/max4live/sonocanvas.maxpat", "sonocanvas/max4live/sonocanvas.js"}
    assert "sonocanvas/bridge/commands/serve.py" in sources and "sonocanvas/presets/effects/catalogue.yaml" in sources
    assert inside == sources


def test_the_installed_wheel_runs_from_any_folder(installed, tmp_path):
    run = dict(cwd=tmp_path, check=True, capture_output=True, text=True, timeout=120)
    python = installed / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    where = subprocess.run([python, "-c", "import sonocanvas.bridge as b; print(b.__file__)"], **run).stdout
    assert Path(where).is_relative_to(installed)  # the wheel's code, not this checkout's
    assert subprocess.run([command(installed), "--version"], **run).stdout == f"sonocanvas {VERSION}\n"
    built = subprocess.run([command(installed), "build-device"], **run).stdout
    device = tmp_path / "sonocanvas.amxd"
    assert f"wrote {device} " in built
    assert device.read_bytes()[:4] == b"ampf"  # the .amxd container's first chunk
    (script,) = amxd.read(device).files  # frozen: the script is inside the device
    assert script.data == (ROOT / "max4live" / "sonocanvas.js").read_bytes()
    record = json.loads((Path(os.environ["XDG_CONFIG_HOME"]) / "sonocanvas" / "device.json").read_text())
    assert record["path"] == str(device)


def test_the_installed_wheels_server_answers_and_generates(installed, tmp_path, tiny_model_paths, sonocanvas_cache):
    config = write_config(tmp_path / "server")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    server = ServeProcess(config, cache=sonocanvas_cache, program=(str(command(installed)),), cwd=workdir)
    client = UdpClient(("127.0.0.1", server.address[1]))
    try:
        version, device, models, *_ = client.hello()
        assert (version, device, models) == (VERSION, "cpu", TINY_LABEL)
        client.send("/sonocanvas/preset/list")
        assert "corgis" in client.expect("/sonocanvas/preset/names")  # the shipped presets, from the wheel
        client.send("/sonocanvas/fx/list")
        assert {"space", "dub-echo", "minus6"} <= set(client.expect("/sonocanvas/fx/names"))  # shipped and configured
        client.send("/sonocanvas/generate", "w", "image_prompt", "bells", "audio_prompt", "bell ringing",
                    "steps", 2, "fx", "space")
        job, index, wav, png, record = client.expect("/sonocanvas/done", timeout=TIMEOUT * 4)
        assert (job, index) == ("w", 0)
        with AudioFile(wav) as f:
            assert f.frames > 0 and f.samplerate == 48000
    finally:
        client.close()
        assert server.stop() == 0  # SIGTERM: a clean stop

"""The OSC side, the settings table and the command line start without torch, diffusers or transformers
(issue 20, item 6): a request is parsed and answered by modules that never load a model library, and
`sonocanvas --version` and `sonocanvas COMMAND --help` answer at once, not after the seconds torch takes."""
import subprocess
import sys

import pytest

HEAVY = ("torch", "diffusers", "transformers")
COMMANDS = ("generate", "serve", "encode", "decode", "replay", "doctor", "build-device", "presets", "effects",
            "stylize")


def loaded_by(code: str) -> list[str]:
    """Run `code` in a fresh interpreter (this one has torch loaded already); the model libraries it loaded."""
    report = f"\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code + report], capture_output=True, text=True, check=True)
    return run.stdout.split("\n")[-2].split()


@pytest.mark.parametrize("module", [
    "sonocanvas.engine.settings", "sonocanvas.engine.generate_settings", "sonocanvas.engine.catalog",
    "sonocanvas.bridge.request.build", "sonocanvas.bridge.osc.addresses", "sonocanvas.bridge.osc.wire",
    "sonocanvas.bridge.osc.transport", "sonocanvas.bridge.osc.handlers", "sonocanvas.bridge.osc.server",
    "sonocanvas.bridge.cli",
])
def test_imports_no_model_library(module):
    assert loaded_by(f"import {module}") == [], module


@pytest.mark.parametrize("argv", [["--version"], *([command, "--help"] for command in COMMANDS)])
def test_the_command_line_answers_version_and_help_without_a_model_library(argv):
    code = ("from sonocanvas.bridge.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code")
    assert loaded_by(code) == [], argv


def test_every_command_is_checked_here(capsys):
    from sonocanvas.bridge.cli import main

    with pytest.raises(SystemExit):
        main(["no-such-command"])
    offered = capsys.readouterr().err.split("(choose from ")[1].split(")")[0]
    assert {name.strip(" '") for name in offered.split(",")} == set(COMMANDS)

"""The OSC side and the settings table start without torch, diffusers or transformers (issue 20, item 6): a
request is parsed and answered by modules that never load a model library, so a client's first message and
`sonocanvas --help` cost milliseconds, not the seconds torch takes to import."""
import subprocess
import sys

import pytest

HEAVY = ("torch", "diffusers", "transformers")


@pytest.mark.parametrize("module", [
    "sonocanvas.engine.settings", "sonocanvas.engine.generate_settings", "sonocanvas.bridge.protocol",
    "sonocanvas.bridge.wire", "sonocanvas.bridge.transport", "sonocanvas.bridge.handlers", "sonocanvas.bridge.server",
])
def test_imports_no_model_library(module):
    """A fresh interpreter (this one has torch loaded already) imports the module and lists what came with it."""
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"{module} imports {loaded}"

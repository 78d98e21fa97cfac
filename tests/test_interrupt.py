"""Ctrl-C during a command is one line and exit status 130, and leaves nothing half-written (issue 23, item 1):
a real SIGINT to a real `sonocanvas generate`, sent once the command has said it is sampling."""
from __future__ import annotations

import signal
import subprocess
import sys


def test_ctrl_c_during_generate_is_one_line_exit_130_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "sonocanvas.bridge.cli", "generate", "--models", "tiny-random",
               "--audio-prompt", "bells", "--image-prompt", "a castle", "--steps", "1000", "-o", str(out / "a.wav")]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as run:
        assert run.stderr is not None
        lines = []
        for line in run.stderr:  # the seed line comes just before sampling starts
            lines.append(line)
            if line.startswith("sonocanvas generate: seed "):
                break
        run.send_signal(signal.SIGINT)
        rest = run.stderr.read()
        code = run.wait(timeout=60)
    assert code == 130, "".join(lines) + rest
    assert rest.splitlines()[-1] == "sonocanvas generate: cancelled"
    assert "Traceback" not in rest
    assert list(out.iterdir()) == []  # no clip, no temporary

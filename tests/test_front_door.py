"""Every command meets a musician's mistakes the same way (issue 23, item 1): an output the system refuses, a
missing folder and Ctrl-C, each driven through the real `main` and the real files.

- A folder the system refuses (/proc takes no new file, even from root): one line naming the output, exit 2.
- A missing folder: one line naming the folder, exit 2, where the command does not make folders; `generate`
  and `replay` document that they do (`-o out/` in the README), and make it.
- Ctrl-C lands in the middle of writing (the first fsync of the output, which every write does before the
  file is placed), or, for the commands that only print, in the middle of printing: one line ("cancelled"),
  exit 130, and nothing half-written left anywhere in the output's folder.
A fault of sonocanvas's own (not the user's) is one line and exit 1, with the traceback at --log-level debug.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from osc_helpers import write_config
from sonocanvas.bridge.cli import main
from sonocanvas.bridge.log import setup as setup_logging

DATA = Path(__file__).parent / "data"
PICTURE = DATA / "riffusion" / "tired_traveler_clip2.png"
SOUND = DATA / "riffusion" / "tired_traveler_clip2.wav"
RECORD = DATA / "record-v1-tiny-auffusion.json"
PROMPTS = ["--image-prompt", "a castle", "--audio-prompt", "bells", "--steps", "2", "--models", "tiny-random"]

# By command: its arguments writing to OUTPUT (a file, or for replay a folder), and whether it makes folders.
WRITERS = {
    "encode": (["encode", str(PICTURE), "-o", "{out}.wav"], False),
    "decode": (["decode", str(SOUND), "-o", "{out}.png"], False),
    "build-device": (["build-device", "-o", "{out}.amxd"], False),
    "generate": (["generate", *PROMPTS, "-o", "{out}.wav"], True),
    "replay": (["replay", str(RECORD), "-o", "{out}"], True),
    "stylize": (["stylize", str(PICTURE), "--sound", str(SOUND), "--models", "tiny-random", "--steps", "2",
                 "-o", "{out}.png"], False),
}


@pytest.fixture(autouse=True)
def tiny_models(sonocanvas_cache, tiny_model_paths, monkeypatch):
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))  # the tiny-random set, built once


def run(capsys, args: list[str], out: Path) -> tuple[int, list[str]]:
    code = main([arg.format(out=out) for arg in args])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("command", WRITERS)
def test_an_output_the_system_refuses_is_one_line_exit_2(capsys, command):
    args, _ = WRITERS[command]
    code, err = run(capsys, args, Path("/proc/sonocanvas-test"))
    assert code == 2
    assert len([line for line in err if " error: " in line]) == 1
    (line,) = [line for line in err if not line.startswith(("sampling", "decoding", "encoding", "restyling"))]
    assert line.startswith(f"sonocanvas {command}: error: output: ") and "/proc" in line, err


@pytest.mark.parametrize("command", WRITERS)
def test_a_missing_folder_is_refused_naming_it_or_made_where_the_command_says_so(capsys, tmp_path, command):
    args, makes_folders = WRITERS[command]
    folder = tmp_path / "no" / "such"
    code, err = run(capsys, args, folder / "out")
    if makes_folders:
        assert code == 0 and folder.is_dir(), err
    else:
        assert (code, err) == (2, [f"sonocanvas {command}: error: output: folder '{folder}' does not exist"
                                   + (" (Live shows where its User Library is under Settings > Library)"
                                      if command == "build-device" else "") + "; nothing was written"])
        assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", WRITERS)
def test_ctrl_c_while_writing_is_one_line_exit_130_and_leaves_nothing(capsys, tmp_path, monkeypatch, command):
    args, _ = WRITERS[command]

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt  # as SIGINT's default handler raises it, wherever the main thread is

    monkeypatch.setattr(os, "fsync", interrupted)
    code, err = run(capsys, args, tmp_path / "out")
    assert (code, err[-1]) == (130, f"sonocanvas {command}: cancelled")
    assert not any("Traceback" in line for line in err)
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert left == [], left  # no clip, no temporary, no half a set


@pytest.mark.parametrize("command", [["presets"], ["effects"], ["doctor", "--config", "{out}"]])
def test_ctrl_c_in_a_command_that_prints_is_one_line_exit_130(capsys, tmp_path, monkeypatch, command):
    config = write_config(tmp_path / "config")

    class Interrupting:
        def write(self, text: str) -> int:
            raise KeyboardInterrupt

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stdout", Interrupting())
    code, err = run(capsys, command, config)
    assert (code, err) == (130, [f"sonocanvas {command[0]}: cancelled"])


def test_a_fault_of_sonocanvass_own_is_one_line_and_its_traceback_only_at_debug(capsys, tmp_path, monkeypatch):
    from sonocanvas.bridge.commands import lists

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(lists, "run_presets", broken)
    assert main(["presets"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("sonocanvas presets: fault: ZeroDivisionError: a bug (this is sonocanvas's fault")
    try:
        with pytest.raises(ZeroDivisionError):
            main(["--log-level", "debug", "presets"])
    finally:
        setup_logging("warning")  # the command line's own level again: debug logs torch's chatter at exit

"""`sonocanvas generate` end to end on the tiny-random models: files read back, errors, nothing overwritten."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from pedalboard.io import AudioFile
from PIL import Image
from sonocanvas.bridge.cli import main
from sonocanvas.engine.spectrogram import picture_from_png

PROMPTS = ["--image-prompt", "a castle", "--audio-prompt", "bells"]


@pytest.fixture
def tiny_cli(sonocanvas_cache, tiny_model_paths, monkeypatch):
    """The CLI's `--models tiny-random` finds the session's tiny set through $SONOCANVAS_CACHE."""
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
    return lambda *args: main(["generate", *PROMPTS, "--models", "tiny-random", *args])


def the(folder, suffix: str):
    """The one file in `folder` ending in `suffix` (a clip's name says when it was made, so it is found)."""
    (path,) = [p for p in folder.iterdir() if p.name.endswith(suffix) and not p.name.endswith(f".picture{suffix}")]
    return path


def read_wav(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames), f.samplerate


def test_one_clip_writes_wav_pngs_and_a_record_with_the_servers_defaults(tiny_cli, tmp_path, capsys):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--steps", "4", "--seed", "5", "--scheduler", "dpm++") == 0
    stem = the(out, ".wav").stem  # named as the server's drop folder names it: time, prompts, seed
    assert re.fullmatch(r"\d{8}-\d{6}_a-castle_bells_s5", stem), stem
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}{ext}"
                                                     for ext in (".json", ".picture.png", ".png", ".wav")]
    with AudioFile(str(out / f"{stem}.wav")) as f:  # the server's defaults: 48 kHz, 24-bit
        audio, rate, depth = f.read(f.frames), f.samplerate, f.file_dtype
    assert rate == 48000 and depth == "int24" and audio.shape[0] == 1
    assert abs(audio.shape[1] - 1.28 * 48000) <= 64  # 128 columns x 160 samples at 16 kHz, resampled
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0
    record = json.loads((out / f"{stem}.json").read_text())
    assert record["seed"] == 5 and record["settings"]["steps"] == 4 and record["settings"]["scheduler"] == "dpm++"
    assert record["settings"]["audio_weight"] == 0.5 and record["settings"]["image_start_step"] == 0  # 0.1 of 4
    assert record["models"]["image"]["name"] == "tiny-random/image"
    assert record["models"]["audio"]["name"] == "tiny-random/auffusion"
    assert len(record["models"]["audio"]["sha256"]) == 64
    assert "tiny-random" in record["tiny_random"]
    assert record["sample_rate"] == 16000 and record["output"]["sample_rate"] == 48000
    assert record["files"] == {"wav": f"{stem}.wav", "png": f"{stem}.png", "picture": f"{stem}.picture.png",
                               "json": f"{stem}.json"}
    assert record["versions"]["torch"] and record["versions"]["diffusers"]
    with Image.open(out / f"{stem}.png") as grey, Image.open(out / f"{stem}.picture.png") as colour:
        assert grey.mode == "L" and grey.size == (128, 32) and colour.mode == "RGB" and colour.size == (128, 32)
        assert "sonocanvas.spectrogram" in grey.text
    fmt, picture = picture_from_png(out / f"{stem}.png")
    assert fmt.name == "auffusion" and tuple(picture.shape) == (32, 128)
    err = capsys.readouterr().err
    assert "sampling [" in err and "seed 5" in err


def test_variations_write_numbered_files_with_consecutive_seeds(tiny_cli, tmp_path):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--steps", "3", "--variations", "2", "--seed", "7", "--sample-rate", "16000",
                    "--bit-depth", "32") == 0
    names = sorted(p.name for p in out.iterdir())
    time = names[0].split("_")[0]  # as the server names variations: each its own seed and number
    assert names == sorted(f"{time}_a-castle_bells_s{7 + i}_v{i}{ext}" for i in (0, 1)
                           for ext in (".json", ".wav", ".png", ".picture.png"))
    seeds = [json.loads((out / f"{time}_a-castle_bells_s{7 + i}_v{i}.json").read_text())["seed"] for i in (0, 1)]
    assert seeds == [7, 8]
    (a, rate), (b, _) = (read_wav(out / f"{time}_a-castle_bells_s{7 + i}_v{i}.wav") for i in (0, 1))
    assert rate == 16000 and a.shape == b.shape == (1, 128 * 160) and not np.allclose(a, b)


def test_no_seed_or_seed_minus_one_draws_a_fresh_one_printed_and_recorded(tiny_cli, tmp_path, capsys):
    seeds = []
    for i, extra in enumerate([(), ("--seed", "-1")]):
        out = tmp_path / f"out{i}"
        assert tiny_cli("-o", str(out), "--steps", "2", *extra) == 0
        seed = json.loads(the(out, ".json").read_text())["seed"]
        assert f"seed {seed}" in capsys.readouterr().err and 0 <= seed < 2**31
        seeds.append(seed)
    assert seeds[0] != seeds[1]


def test_preset_fx_tempo_and_interpolation_as_over_osc(tiny_cli, tmp_path):
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out / "bells.flac"), "--preset", "castle-bells", "--steps", "3", "--fx", "lofi",
                    "--bpm", "120", "--bars", "1", "--to-seed", "9", "--alpha", "0.5") == 0
    record = json.loads((out / "bells.json").read_text())
    assert record["settings"]["seed"] == 1234 and record["settings"]["image_start_step"] == 0  # the preset's seed
    assert (record["settings"]["to_seed"], record["settings"]["alpha"]) == (9, 0.5)
    assert record["output"]["fx"] == "lofi" and record["files"]["dry"] == "bells.dry.flac"
    with AudioFile(str(out / "bells.flac")) as f:
        assert (f.frames, f.samplerate) == (96000, 48000)  # one bar of 4/4 at 120 bpm


def test_riffusion_and_an_init_clip(tiny_cli, tmp_path):
    from sonocanvas.engine.audio import write_audio

    t = np.arange(44100 * 2) / 44100
    write_audio(tmp_path / "riff.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    out = tmp_path / "out"
    assert tiny_cli("-o", str(out), "--audio-model", "riffusion", "--steps", "4", "--init-audio",
                    str(tmp_path / "riff.wav"), "--strength", "0.5", "--image-start-step", "0") == 0
    audio, rate = read_wav(the(out, ".wav"))
    assert rate == 48000 and audio.shape[1] > 0
    record = json.loads(the(out, ".json").read_text())
    assert record["settings"]["init_audio"] == str(tmp_path / "riff.wav") and record["settings"]["strength"] == 0.5
    assert record["models"]["audio"]["kind"] == "riffusion"


def test_a_finished_clip_is_never_overwritten(tiny_cli, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "take.wav").write_bytes(b"my earlier take")
    assert tiny_cli("-o", str(out / "take.wav"), "--steps", "2", "--seed", "1") == 0
    assert (out / "take.wav").read_bytes() == b"my earlier take"
    assert "take-2.wav" in {p.name for p in out.iterdir()}


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "error: steps: must be between 1 and 1000, got 0"),
    (["--audio-weight", "2"], "error: audio_weight: must be between"),
    (["--alpha", "0.5"], "error: alpha: needs an end"),
    (["--init-audio", "/nonexistent.wav"], "error: init_audio: no such file"),
    (["--strength", "0.5"], "error: strength: says how far to noise an init clip or picture"),
    (["--steps", "4", "--image-start-step", "4"], "error: image_start_step: 4 leaves that model out of all 4 steps"),
    (["--steps", "2", "--width", "16", "--crop-last-columns"],
     "error: width: cropping the last 32/1024 of the columns"),
    (["--bpm", "120"], "error: bars: bpm and bars go together"),
    (["--steps", "many"], "error: argument --steps: invalid int value: 'many'"),
    (["--scheduler", "pndm"], "error: argument --scheduler: invalid choice: 'pndm'"),
    (["--preset", "no-such"], "error: preset: no preset 'no-such'; choose one of bells-to-thunder, blooming-garden, "),
    (["--fx", "no-such"], "error: fx: unknown chain 'no-such'"),
    (["-o", "/proc/a.wav"], "error: output: cannot write into /proc"),
    (["-o", "OUT/a.xyz"], "error: output: cannot write XYZ"),
    (["-o", "OUT/a.flac", "--bit-depth", "32"], "error: bit_depth: FLAC holds at most 24 bits"),
])
def test_bad_options_name_the_field_and_write_nothing(tiny_cli, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    args = [str(out).join(a.split("OUT")) for a in args]
    try:
        code = tiny_cli(*([] if "-o" in args else ["-o", str(out)]), *args)
    except SystemExit as exit:  # argparse's own refusals (a value that is not a number) exit at once
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("error") == 1
    assert not out.exists()


def test_a_model_missing_offline_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    code = main(["generate", *PROMPTS, "-o", str(tmp_path / "out"), "--image-model-source", "nobody/nothing"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: image_model: model 'nobody/nothing' was not found" in err and "hf download nobody/nothing" in err


def test_an_output_folder_that_cannot_be_made_fails_before_sampling(tiny_cli, tmp_path, capsys):
    (tmp_path / "file").write_bytes(b"not a folder")
    assert tiny_cli("-o", str(tmp_path / "file" / "out"), "--steps", "2") == 2
    err = capsys.readouterr().err
    assert "error: " in err and "file" in err and "sampling [" not in err  # no progress: no step was taken



def test_every_setting_of_the_table_is_an_option_with_its_range_and_default(capsys, monkeypatch):
    from sonocanvas.bridge.cli import build_parser
    from sonocanvas.engine.settings import SETTINGS

    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps its help to the terminal's width: no wrapping
    parser = build_parser()
    given = vars(parser.parse_args(["generate", "-o", "out"]))
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--help"])
    # each option's entry, from its line to the next option's (argparse may start the help on a line of its own)
    entries = [" ".join(e.split()) for e in re.split(r"\n(?=  -)", capsys.readouterr().out)]
    lines = {e.split()[0].rstrip(","): e for e in entries if e.startswith("-")}
    for setting in SETTINGS:
        if not setting.command_line:  # what only a client watching over OSC asks for (previews)
            assert setting.name not in given and setting.option not in lines
            continue
        assert given[setting.name] is None  # not given: the table fills it in
        line = lines[setting.option]  # the option, spelt as the table says
        assert setting.help in line
        if setting.choices:
            assert "{" + ",".join(map(str, setting.choices)) + "}" in line
        elif setting.numeric:
            assert setting.span in line
    # the ranges as a person writes them (issue 23, item 8)
    assert "-1 (a fresh random one) or 0 … 2147483647" in lines["--seed"]
    assert "above 0 … 1" in lines["--strength"]  # 0 itself is refused
    assert "8 … 4096, a multiple of 8" in lines["--height"] and "a multiple of 8" in lines["--width"]

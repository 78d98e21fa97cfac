"""`sonocanvas stylize` (issue 21) on the tiny-random image model and CLAP, saved in the real layouts: the weights
are CLAP's own, silence changes nothing, level means amount, two sounds mix by their embeddings, and a record
makes its picture again."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from sonocanvas.bridge.cli import main
from sonocanvas.engine.audio import write_audio
from sonocanvas.engine.stylize_settings import LEVEL_FLOOR_DB, MAX_STRENGTH, REFERENCE_DB, strength_for

RATE = 48000


@pytest.fixture(autouse=True)
def tiny(sonocanvas_cache, tiny_model_paths, monkeypatch):
    monkeypatch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))


@pytest.fixture
def files(tmp_path):
    """A picture of odd size, a noisy tone, the same 12 dB quieter, a different sound, and silence."""
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (45, 70, 3), dtype=np.uint8)).save(tmp_path / "picture.png")
    t = np.arange(RATE * 2) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    write_audio(tmp_path / "tone.wav", tone, RATE)
    write_audio(tmp_path / "quiet.wav", tone * 10 ** (-12 / 20), RATE)
    write_audio(tmp_path / "noise.wav", (0.2 * rng.standard_normal(t.size)).astype(np.float32), RATE)
    write_audio(tmp_path / "silence.wav", np.zeros(t.size, np.float32), RATE)
    return tmp_path


def stylize(folder, *args: str, out: str = "seen.png") -> dict:
    assert main(["stylize", str(folder / "picture.png"), *args, "-o", str(folder / out), "--models", "tiny-random",
                 "--steps", "4"]) == 0
    return strict_json((folder / out).with_suffix(".json").read_text())


def strict_json(text: str) -> dict:
    """JSON as every reader takes it: Python's -Infinity, Infinity and NaN are no JSON (RFC 8259)."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is no JSON")
    return json.loads(text, parse_constant=refuse)


def test_the_weights_are_a_softmax_of_claps_own_similarities_and_the_picture_keeps_its_size(files):
    from sonocanvas.bridge.store.vocabulary import read_vocabulary
    from sonocanvas.engine.audio import load_audio
    from sonocanvas.engine.tiny import tiny_models
    from transformers import ClapModel, ClapProcessor

    record = stylize(files, "--sound", str(files / "tone.wav"), "--top", "3", "--temperature", "0.1")
    style = record["stylize"]
    assert len(style["phrases"]) == 3 and sum(style["weights"]) == pytest.approx(1.0)
    assert style["weights"] == sorted(style["weights"], reverse=True)
    # the same, straight through transformers: CLAP's processor and model, the sound at REFERENCE_DB
    model, processor = ClapModel.from_pretrained(tiny_models().clap), ClapProcessor.from_pretrained(tiny_models().clap)
    sound = load_audio(files / "tone.wav", processor.feature_extractor.sampling_rate)
    sound = sound[: int(processor.feature_extractor.max_length_s * processor.feature_extractor.sampling_rate)]
    sound = sound * 10 ** ((REFERENCE_DB - 10 * np.log10(np.mean(np.square(sound, dtype=np.float64)))) / 20)
    phrases = list(read_vocabulary(None))
    with torch.no_grad():
        audio = model(**processor(audio=[sound], text=phrases, sampling_rate=processor.feature_extractor.sampling_rate,
                                  return_tensors="pt", padding=True))
    similarity = (audio.logits_per_audio[0] / model.logit_scale_a.exp())
    best = torch.topk(similarity, 3)
    assert style["phrases"] == [phrases[i] for i in best.indices.tolist()]
    assert style["weights"] == pytest.approx(torch.softmax(best.values / 0.1, dim=0).tolist(), abs=1e-4)
    with Image.open(files / "seen.png") as seen:
        assert seen.size == (70, 45) and seen.mode == "RGB"
    assert record["size"] == [70, 45] and record["inputs"]["sounds"][0]["path"] == str(files / "tone.wav")


def test_silence_returns_the_picture_unchanged_and_says_why(files):
    record = stylize(files, "--sound", str(files / "silence.wav"))
    assert record["stylize"]["strength"] == 0 and record["stylize"]["phrases"] == []
    assert record["stylize"]["note"].startswith("silent:") and record["stylize"]["level_db"] is None
    with Image.open(files / "seen.png") as seen, Image.open(files / "picture.png") as picture:
        assert np.array_equal(np.asarray(seen), np.asarray(picture.convert("RGB")))


def test_a_large_picture_is_denoised_at_most_768_px_long_and_returned_at_its_size_and_a_huge_one_refused(
        files, monkeypatch, capsys):
    from sonocanvas.engine.models import DiffusionModel
    from sonocanvas.engine.stylize_settings import MAX_PICTURE_SIDE

    Image.new("RGB", (2000, 40), (200, 90, 30)).save(files / "wide.png")
    encoded = []
    real = DiffusionModel.encode
    monkeypatch.setattr(DiffusionModel, "encode",
                        lambda self, pixels: encoded.append(pixels.shape) or real(self, pixels))
    assert main(["stylize", str(files / "wide.png"), "--sound", str(files / "tone.wav"), "-o", str(files / "w.png"),
                 "--models", "tiny-random", "--steps", "2"]) == 0
    assert encoded == [(1, 3, 16, 768)]  # 2000 x 40 at 768 / 2000, in multiples of 8
    with Image.open(files / "w.png") as seen:
        assert seen.size == (2000, 40)
    Image.new("RGB", (MAX_PICTURE_SIDE + 1, 8)).save(files / "huge.png")
    assert main(["stylize", str(files / "huge.png"), "--sound", str(files / "tone.wav"), "-o", str(files / "h.png"),
                 "--models", "tiny-random"]) == 2
    assert "error: picture: " in (said := capsys.readouterr().err)
    assert "is 4097 x 8 pixels; give a picture at most 4096 pixels a side" in said
    assert not (files / "h.png").exists()


def test_a_quieter_copy_restyles_less_with_the_same_weights(files):
    loud = stylize(files, "--sound", str(files / "tone.wav"), out="loud.png")["stylize"]
    quiet = stylize(files, "--sound", str(files / "quiet.wav"), out="quiet.png")["stylize"]
    assert quiet["level_db"] == pytest.approx(loud["level_db"] - 12, abs=0.01)
    assert 0 < quiet["strength"] < loud["strength"] <= MAX_STRENGTH
    assert quiet["phrases"] == loud["phrases"] and quiet["weights"] == pytest.approx(loud["weights"], abs=1e-4)


def test_the_level_maps_to_strength_monotonically_from_the_floor():
    levels = [-90, LEVEL_FLOOR_DB, -40, -30, -20, -14, 0]
    strengths = [strength_for(level) for level in levels]
    assert strengths[:2] == [0, 0] and strengths == sorted(strengths) and strengths[-1] == MAX_STRENGTH


def test_two_sounds_mix_by_their_embeddings(files):
    a = stylize(files, "--sound", str(files / "tone.wav"), out="a.png")["stylize"]
    b = stylize(files, "--sound", str(files / "noise.wav"), out="b.png")["stylize"]
    only_a = stylize(files, "--sound", str(files / "tone.wav"), "--sound", str(files / "noise.wav"), "--mix", "0",
                     out="mix0.png")["stylize"]
    only_b = stylize(files, "--sound", str(files / "tone.wav"), "--sound", str(files / "noise.wav"), "--mix", "1",
                     out="mix1.png")["stylize"]
    assert (only_a["phrases"], only_b["phrases"]) == (a["phrases"], b["phrases"])
    assert only_a["weights"] == pytest.approx(a["weights"], abs=1e-5)
    assert only_b["weights"] == pytest.approx(b["weights"], abs=1e-5)


def test_replay_makes_the_same_picture_beside_it(files, capsys):
    stylize(files, "--sound", str(files / "tone.wav"))
    assert main(["replay", str(files / "seen.json")]) == 0
    with Image.open(files / "seen.png") as first, Image.open(files / "seen-2.png") as again:
        assert np.array_equal(np.asarray(first), np.asarray(again))
    assert json.loads((files / "seen-2.json").read_text())["stylize"] == json.loads(
        (files / "seen.json").read_text())["stylize"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_disk_that_fills_while_the_picture_is_written_leaves_every_file_as_it_was(files, capsys, monkeypatch,
                                                                                   overwrite):
    """PIL raises the OSError of a full disk as it writes the PNG: no picture without its record, no record
    without its picture; with --overwrite the earlier pair stays whole; no temporary is left."""
    import errno

    if overwrite:
        stylize(files, "--sound", str(files / "tone.wav"))
    before = {p.name: p.read_bytes() for p in files.iterdir()}

    def disk_full(self, fp, format=None, **params):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    code = main(["stylize", str(files / "picture.png"), "--sound", str(files / "noise.wav"), "-o",
                 str(files / "seen.png"), "--models", "tiny-random", "--steps", "2", *(["--overwrite"] * overwrite)])
    assert code == 2
    assert f"error: output: cannot write {files / 'seen.png'}: No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in files.iterdir()} == before


def test_a_folder_where_the_record_goes_is_refused_naming_the_picture_it_belongs_to(files, capsys):
    (files / "seen.json").mkdir()
    code = main(["stylize", str(files / "picture.png"), "--sound", str(files / "tone.wav"), "-o",
                 str(files / "seen.png"), "--models", "tiny-random", "--overwrite"])
    assert code == 2
    assert (f"error: output: '{files / 'seen.json'}' is a folder, where the record of seen.png goes; move it, or "
            "choose another -o") in capsys.readouterr().err
    assert not (files / "seen.png").exists() and list((files / "seen.json").iterdir()) == []


def test_a_picture_that_appears_while_stylize_runs_is_never_replaced_without_overwrite(files, capsys, monkeypatch):
    """Another run of the same command finished first: its picture stays, and this run leaves no record of its
    own beside it (the check before sampling cannot see what appears during it)."""
    from sonocanvas.bridge.commands import stylize as command

    real = command.stylize

    def another_run_finishes_first(*args, **kwargs):
        made = real(*args, **kwargs)
        (files / "seen.png").write_bytes(b"another run's picture")
        return made

    monkeypatch.setattr(command, "stylize", another_run_finishes_first)
    code = main(["stylize", str(files / "picture.png"), "--sound", str(files / "tone.wav"), "-o",
                 str(files / "seen.png"), "--models", "tiny-random", "--steps", "2"])
    assert code == 2
    assert f"error: output: {files / 'seen.png'} appeared while this ran; nothing replaced" in capsys.readouterr().err
    assert (files / "seen.png").read_bytes() == b"another run's picture" and not (files / "seen.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--sound", "{folder}/noise.wav"], "error: mix: two sounds need mix"),
    (["--temperature", "0"], "error: temperature: must be above 0"),
    (["--mix", "2", "--sound", "{folder}/noise.wav"], "error: mix: must be between 0 and 1"),
])
def test_bad_input_is_one_line_on_its_field(files, capsys, args, message):
    code = main(["stylize", str(files / "picture.png"), "--sound", str(files / "tone.wav"),
                 *(a.format(folder=files) for a in args), "-o", str(files / "x.png"), "--models", "tiny-random"])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def server(tiny_server):
    return tiny_server


@pytest.fixture(scope="module")
def folder(server):
    """A picture and a sound in the server's drop folder, where a request may read them."""
    folder = server.services.drop.folder
    rng = np.random.default_rng(9)
    Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / "cover.png")
    write_audio(folder / "field recording.wav", (0.2 * rng.standard_normal(RATE)).astype(np.float32), RATE)
    return folder


def test_stylize_over_osc_lands_a_picture_and_its_record_in_the_drop_folder(client, folder):
    client.send("/sonocanvas/stylize", "see", str(folder / "cover.png"), str(folder / "field recording.wav"),
                "steps", 4, "top", 2)
    assert client.expect("/sonocanvas/queued")[0] == "see"
    job_id, index, wav, png, record_path = client.expect("/sonocanvas/done")
    assert (job_id, index, wav) == ("see", 0, "")
    assert png.endswith("_cover_seen-field-recording.png")
    with Image.open(png) as seen:
        assert seen.size == (48, 40)
    record = json.loads(open(record_path).read())
    assert len(record["stylize"]["phrases"]) == 2 and record["job_id"] == "see"
    assert record["inputs"]["sounds"][0]["path"] == str(folder / "field recording.wav")  # the client's own path
    client.send("/sonocanvas/stylize", "again", str(folder / "cover.png"), str(folder / "field recording.wav"),
                "steps", 4, "top", 2)
    assert client.expect("/sonocanvas/done")[3] != png  # a finished picture is never replaced


@pytest.mark.parametrize("keys, field", [
    (["top", 0], "top"), (["mix", 0.5], "second_sound"), (["colour", 1], "colour"), (["steps", 2.5], "steps"),
    (["seed", -1], "seed"),  # generate's -1 (a fresh random seed) is generate's alone
])
def test_a_bad_stylize_is_refused_on_its_field(client, folder, keys, field):
    client.send("/sonocanvas/stylize", "bad", str(folder / "cover.png"), str(folder / "field recording.wav"), *keys)
    assert client.expect_error()[:2] == ["bad", field]


@pytest.mark.parametrize("keys, field, reason", [
    (["sound_start", 100.0], "sound_start", "100 s is at or past the end of sound_path, which lasts"),
    (["sound_start", 0.1, "sound_end", 0.100001], "sound_end", "holds no whole sample"),
])
def test_markers_the_sound_does_not_hold_are_refused_on_their_field_as_the_job_starts(client, folder, keys, field,
                                                                                       reason):
    client.send("/sonocanvas/stylize", "far", str(folder / "cover.png"), str(folder / "field recording.wav"), *keys)
    client.expect("/sonocanvas/queued")  # the sound's length is known once it is read, as the job starts
    job_id, got, message = client.expect_error()
    assert (job_id, got) == ("far", field) and reason in message and "pedalboard" not in message


def test_the_part_of_the_sound_between_its_markers_is_what_is_heard(files):
    """A Live clip's markers (sound_start, sound_end): a second of silence, then the tone; heard from 1 s, the
    level is the tone's, 3 dB above the whole file's (half of it silence)."""
    tone = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE).astype(np.float32) * 0.3
    write_audio(files / "late.wav", np.concatenate([np.zeros(RATE, np.float32), tone]), RATE)
    whole = stylize(files, "--sound", str(files / "late.wav"), out="whole.png")["stylize"]
    part = stylize(files, "--sound", str(files / "late.wav"), "--sound-start", "1", out="part.png")
    assert part["stylize"]["level_db"] == pytest.approx(whole["level_db"] + 10 * np.log10(2), abs=0.05)
    assert part["settings"]["sound_start"] == 1.0

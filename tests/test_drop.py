"""The drop folder: complete files only, never an overwrite, the requested rate and depth, effects with the dry kept."""
import json
import os
import re
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import torch
from pedalboard.io import AudioFile
from PIL import Image
from sonocanvas.bridge.output.drop import DropFolder, clip_stem, finish, slug
from sonocanvas.bridge.output.effects import EffectChains
from sonocanvas.bridge.request.build import Output
from sonocanvas.bridge.store.paths import shipped_presets_dir
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.pipeline import Clip
from sonocanvas.engine.spectrogram import get_format, picture_from_png

RATE = 16000


def make_clip(seconds=1.0, amplitude=0.5):
    t = np.arange(int(seconds * RATE)) / RATE
    audio = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    fmt = get_format("auffusion")
    spectrogram = fmt.png(fmt.picture_from_audio(torch.from_numpy(audio)))
    picture = Image.new("RGB", (64, 32), (200, 40, 40))
    return Clip(index=0, seed=7, audio=audio, sample_rate=RATE, spectrogram=spectrogram, picture=picture,
                record={"settings": {"seed": 7}})


@pytest.fixture
def chains(tmp_path):
    return EffectChains.load(shipped_presets_dir() / "effects" / "catalogue.yaml",
                             {"minus6": [{"plugin": "Gain", "gain_db": -6.0}]})


def read(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames), f.samplerate, f.file_dtype


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_names_say_what_the_clip_is():
    when = datetime(2026, 11, 21, 13, 5, 9)
    assert clip_stem(when, "A painting of CASTLE towers, grayscale", "Bell ringing!", 42) == \
        "20261121-130509_a-painting-of-castle_bell-ringing_s42"
    assert clip_stem(when, "../../etc", "", 1, index=3) == "20261121-130509_etc_untitled_s1_v3"
    assert clip_stem(when, "城堡 🏰 cha\u0302teau", "cloches 🔔 ベル", 7) \
        == "20261121-130509_城堡-château_cloches-ベル_s7"
    assert slug("城" * 40) == "城" * 26  # 78 of SLUG_BYTES' 80 bytes


def test_drop_writes_wav_pngs_and_json_at_the_requested_rate(tmp_path, chains):
    drop = DropFolder(tmp_path / "drop", chains)
    clip = make_clip()
    out = drop.drop(clip, Output(sample_rate=48000, bit_depth=24), "stem", {**clip.record, "job_id": "1"})
    audio, rate, dtype = read(out.wav)
    assert rate == 48000 and dtype == "int24" and abs(audio.shape[1] - 48000) <= 1
    assert out.dry is None and not (tmp_path / "drop" / "stem.dry.wav").exists()
    fmt, picture = picture_from_png(out.png)  # the spectrogram PNG keeps its format metadata
    assert fmt.name == "auffusion" and picture.shape[-2] == fmt.n_mels
    assert Image.open(out.picture).mode == "RGB"
    record = json.loads(out.json.read_text())
    assert record["job_id"] == "1" and record["output"]["sample_rate"] == 48000
    assert record["files"] == {"wav": "stem.wav", "png": "stem.png", "picture": "stem.picture.png", "json": "stem.json"}
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) \
        == ["stem.json", "stem.picture.png", "stem.png", "stem.wav"]


def test_float32_on_request(tmp_path):
    out = DropFolder(tmp_path).drop(make_clip(0.5), Output(sample_rate=44100, bit_depth=32), "f", {})
    audio, rate, dtype = read(out.wav)
    assert (rate, dtype) == (44100, "float32") and abs(audio.shape[1] - 22050) <= 1


def test_effect_chain_changes_level_and_keeps_the_dry_clip(tmp_path, chains):
    out = DropFolder(tmp_path, chains).drop(make_clip(), Output(sample_rate=RATE, fx="minus6"), "fx", {})
    wet, _, _ = read(out.wav)
    dry, _, _ = read(out.dry)
    assert out.dry.name == "fx.dry.wav"
    assert rms_db(wet) - rms_db(dry) == pytest.approx(-6.0, abs=0.05)
    assert json.loads(out.json.read_text())["files"]["dry"] == "fx.dry.wav"


def test_loud_effects_are_brought_under_full_scale(tmp_path):
    chains = EffectChains.load(shipped_presets_dir() / "effects" / "catalogue.yaml",
                               {"loud": [{"plugin": "Gain", "gain_db": 12.0}]})
    out = DropFolder(tmp_path, chains).drop(make_clip(amplitude=0.9), Output(sample_rate=RATE, fx="loud"), "x", {})
    wet, _, _ = read(out.wav)
    assert 0.8 < np.abs(wet).max() <= 1.0


def test_bpm_and_bars_fit_the_clip_exactly(tmp_path):
    out = DropFolder(tmp_path).drop(make_clip(1.0), Output(sample_rate=48000, bpm=120.0, bars=1), "b", {})
    audio, rate, _ = read(out.wav)
    assert rate == 48000 and audio.shape[1] == 96000  # 4 beats at 120 bpm = 2 s
    assert rms_db(audio[:, 6000:90000]) > -12  # stretched sound, not padding
    finished = finish(np.ones(RATE, np.float32) * 0.1, RATE, Output(sample_rate=RATE, bpm=60.0, bars=1))
    assert finished.shape == (4 * RATE,)


def test_no_clip_is_ever_overwritten(tmp_path):
    drop = DropFolder(tmp_path)
    first = drop.drop(make_clip(), Output(sample_rate=RATE), "same", {})
    before = first.wav.read_bytes()
    (tmp_path / "other.png").write_bytes(b"not ours")
    second = drop.drop(make_clip(amplitude=0.2), Output(sample_rate=RATE), "same", {})
    third = drop.drop(make_clip(), Output(sample_rate=RATE), "other", {})  # a sibling name taken: moves on
    assert (first.wav.name, second.wav.name, third.wav.name) == ("same.wav", "same-2.wav", "other-2.wav")
    assert second.json.name == "same-2.json" and first.wav.read_bytes() == before
    assert (tmp_path / "other.png").read_bytes() == b"not ours"


def test_a_watcher_never_sees_a_partial_file(tmp_path):
    """Another thread lists the folder while clips are written: every visible WAV parses completely."""
    drop = DropFolder(tmp_path)
    stop, seen, problems = threading.Event(), set(), []

    def watch():
        while not stop.is_set():
            for entry in os.scandir(tmp_path):
                if entry.name.endswith(".wav") and not entry.name.startswith("."):
                    try:
                        audio, _, _ = read(entry.path)
                        if audio.shape[1] != 2 * RATE:
                            problems.append((entry.name, audio.shape))
                        seen.add(entry.name)
                    except Exception as error:  # noqa: BLE001 - any failure to parse is the bug
                        problems.append((entry.name, error))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(6):
            drop.drop(make_clip(2.0), Output(sample_rate=RATE, bit_depth=32), "w", {})
    finally:
        stop.set()
        watcher.join(10)
    assert problems == []
    assert len(seen) >= 1 and len(list(tmp_path.glob("w*.wav"))) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_a_new_drop_folder_removes_only_the_stale_temporaries_a_killed_writer_left(tmp_path):
    stale, live = tmp_path / ".clip.wav.abc123.part", tmp_path / ".clip2.wav.def456.part"
    for path in (stale, live, tmp_path / "kept.wav", tmp_path / "kept.part"):
        path.write_bytes(b"x")
    an_hour_ago = stale.stat().st_mtime - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    DropFolder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".clip2.wav.def456.part", "kept.part", "kept.wav"]



def test_every_file_of_a_clip_fits_windows_path_limit_in_a_deep_folder(tmp_path):
    """A drop folder deep in a tree: the stem is cut so that `<folder>/<stem>-1000.picture.png` stays within
    the 259 characters Windows allows (a share or an exFAT drive may be read there)."""
    deep = tmp_path / ("d" * (176 - len(str(tmp_path)) - 1))  # 176 characters: room for a 50-character stem
    drop = DropFolder(deep)
    room = 259 - len(str(deep.absolute())) - 1 - len("-1000.picture.png")  # staged files have short names
    assert drop.stem_room == room
    stem = clip_stem(datetime(2026, 12, 1, 12, 0), "castle towers over the sea at dawn", "church bells " * 5, 123456789)
    assert len(stem) > room  # the test means something: this stem would not fit
    dropped = drop.drop(make_clip(), Output(sample_rate=RATE), stem, {})
    for path in (dropped.wav, dropped.png, dropped.picture, dropped.json):
        assert path.exists() and len(str(path)) + len("-1000") <= 259
    name = dropped.wav.stem
    assert len(name) == room and name.startswith("20261201-120000_") and name.endswith("_s123456789")


def test_a_drop_folder_too_deep_for_any_readable_name_is_refused_by_name(tmp_path):
    folder = tmp_path / ("x" * 250)
    with pytest.raises(FieldError, match="^drop_dir: .* too long"):
        DropFolder(folder)
    assert not folder.exists()  # refused before anything is made


def test_a_folder_on_an_unplugged_drive_is_not_made_on_the_startup_disk_in_its_place(tmp_path, monkeypatch, capsys):
    """macOS mounts a drive at /Volumes/<drive>, a Linux desktop at /media/<user>/<drive>; a folder made there
    while the drive is away is a plain one on the startup disk, which fills. The mount folders stand in a
    temporary folder here, and os.path.ismount answers for what the test says is mounted (a test cannot mount
    a drive)."""
    from sonocanvas.bridge.cli import main
    from sonocanvas.bridge.output import drop as drop_module

    tmp_path = tmp_path.resolve()  # the mount folders are real paths (macOS's /var is a link)
    volumes, media = tmp_path / "Volumes", tmp_path / "media"
    (media / "me").mkdir(parents=True)
    volumes.mkdir()
    monkeypatch.setattr(drop_module, "MOUNT_FOLDERS", (str(volumes), str(media)))
    mounted: set[Path] = set()
    real_ismount = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) in mounted or real_ismount(path))

    def refused(folder: Path, field: str = "drop_dir") -> None:
        with pytest.raises(FieldError, match=f"^{field}: {re.escape(str(folder))} belongs on a drive that is not "
                                             r"mounted \(is it plugged in\?\)"):
            DropFolder(folder, field=field)
        assert not folder.exists()

    refused(volumes / "Samples" / "sonocanvas")  # ejected: macOS removed /Volumes/Samples
    assert list(volumes.iterdir()) == []
    (volumes / "Samples").mkdir()  # what an ejected drive may leave behind: a plain folder, no drive
    refused(volumes / "Samples" / "sonocanvas", field="output")
    refused(media / "me" / "Samples" / "sonocanvas")  # a Linux desktop's drive, two levels down
    (media / "me" / "Samples").mkdir()
    refused(media / "me" / "Samples" / "sonocanvas")
    (tmp_path / "usb").symlink_to(media / "me")  # a link on the way: seen as where it really goes
    with pytest.raises(FieldError, match=f"^drop_dir: {re.escape(str(tmp_path / 'usb' / 'Samples' / 'x'))} "
                                         f"\\(that is {re.escape(str(media / 'me' / 'Samples' / 'x'))}\\) "
                                         "belongs on a drive that is not mounted"):
        DropFolder(tmp_path / "usb" / "Samples" / "x")
    with pytest.raises(FieldError, match=r"^drop_dir: //.* \(that is /.*\) belongs on a drive that is not mounted"):
        DropFolder(Path("/" + str(media / "me" / "Samples" / "x")))  # //media/...: POSIX keeps the two slashes
    assert list((media / "me" / "Samples").iterdir()) == []  # through neither spelling was anything made
    assert main(["generate", "--models", "tiny-random", "--image-prompt", "a", "--audio-prompt", "b", "-o",
                 str(volumes / "Samples" / "renders")]) == 2  # refused before any sampling, on its own field
    assert "error: output: " in capsys.readouterr().err and list((volumes / "Samples").iterdir()) == []

    mounted.update({volumes / "Samples", media / "me" / "Samples"})  # the drives plugged in
    assert DropFolder(volumes / "Samples" / "sonocanvas" / "2026").folder.is_dir()
    assert DropFolder(media / "me" / "Samples" / "sonocanvas").folder.is_dir()
    mounted.add(media)  # a disk mounted at the mount folder itself (/mnt on a cloud GPU server)
    assert DropFolder(media / "sonocanvas").folder.is_dir()
    assert DropFolder(tmp_path / "Music" / "sonocanvas").folder.is_dir()  # elsewhere missing parents are made


def test_a_record_is_strict_json_and_a_non_finite_number_in_it_is_written_as_null():
    """Never Python's NaN or -Infinity, which node, Max's dict and jq refuse; never a clip lost over one number."""
    import math

    from sonocanvas.engine.record import record_bytes

    text = record_bytes({"path": Path("/a b/c.wav"), "scores": {"clip": math.nan, "clap": [0.5, -math.inf]},
                         "numpy": [np.float32(0.25), np.float32("nan"), np.int64(3), True, np.bool_(False)]})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is no JSON")) == {
        "path": "/a b/c.wav", "scores": {"clip": None, "clap": [0.5, None]}, "numpy": [0.25, None, 3, True, False]}
    assert '"numpy": [\n    0.25,\n    null,\n    3,\n    true,\n    false\n  ]' in text.decode()  # not 1.0 or "False"

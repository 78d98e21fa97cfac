"""bridge/jobs/inputs.py: a job reads the bytes of its files, checked as it starts, never their paths again;
its records and errors name the client's own paths from the start (issue 15, D13; issue 20)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from sonocanvas.bridge.jobs.inputs import read_inputs
from sonocanvas.bridge.request.build import MAX_INPUT_BYTES, GenerateRequest, Limits, Output
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.generate_settings import GenerateSettings
from sonocanvas.engine.input_file import InputFile
from sonocanvas.engine.record import make_record


def request_with(init_audio: Path) -> GenerateRequest:
    settings = GenerateSettings.resolved(image_prompt="a", audio_prompt="b", seed=1, init_audio=init_audio)
    return GenerateRequest("1", settings, Output(sample_rate=48000))


@pytest.fixture
def clip_and_swap(tmp_path):
    """A clip inside the read root, the limits of that root, and a function that swaps the clip for a symlink to
    a secret outside it, as an attacker would."""
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.wav").write_bytes(b"secret")
    clip = inside / "clip.wav"
    clip.write_bytes(b"the clip")

    def swap() -> None:
        clip.unlink()
        clip.symlink_to(outside / "secret.wav")

    return clip, Limits((inside,), frozenset(), frozenset()), swap


def test_a_path_swapped_after_the_job_started_is_never_read(clip_and_swap):
    clip, limits, swap = clip_and_swap
    request = read_inputs(request_with(clip), limits)  # the job starts: opened, checked, read
    swap()  # a moment later
    assert request.settings.init_audio == InputFile(str(clip), b"the clip")
    assert request.input_paths() == {}  # nothing left to read from disk: the swapped path is never opened


def test_a_bad_init_file_is_named_by_the_clients_path(clip_and_swap):
    """The engine's own error for bytes that are not audio names the path the client gave, as its record does."""
    from sonocanvas.engine.audio import load_audio

    clip, limits, _ = clip_and_swap
    request = read_inputs(request_with(clip), limits)
    with pytest.raises(FieldError, match=f"^init_audio: '{clip}' is not an audio file"):
        load_audio(request.settings.init_audio, 16000, field="init_audio")
    record = make_record(request.settings, index=0, seed=1, models={}, sample_rate=16000, samples=1, height=1,
                         width=1, device="cpu", dtype="float32")
    assert record["settings"]["init_audio"] == str(clip)
    assert record["inputs"]["init_audio"] == {
        "path": str(clip), "sha256": "7c0e5de0983261ac64439a164d25703589e98aa260c87c60802fa6feaca1e4d0"}


def test_the_decoders_own_words_name_the_file_by_its_path_not_an_object_in_memory():
    from sonocanvas.engine.audio import load_audio
    from sonocanvas.engine.spectrogram import open_picture

    junk = InputFile("/Users/me/Samples/junk.wav", b"not audio, not a picture")
    for read, field in ((lambda: load_audio(junk, field="init_audio"), "init_audio"),
                        (lambda: open_picture(junk, "init_picture"), "init_picture")):
        with pytest.raises(FieldError) as caught:
            read()
        assert caught.value.field == field
        assert str(caught.value).startswith(f"{field}: '/Users/me/Samples/junk.wav' is not a"), str(caught.value)
        assert "object at 0x" not in str(caught.value)

def test_a_file_swapped_before_the_job_starts_is_refused_by_name(clip_and_swap):
    clip, limits, swap = clip_and_swap
    request = request_with(clip)  # checked when it came
    swap()  # while it waited in the queue
    with pytest.raises(ValueError, match="^init_audio: .*outside the folders this server may read"):
        read_inputs(request, limits)


def test_a_riff_over_osc_reads_the_bytes_and_its_record_names_the_clients_file(client, server):
    """The real server riffing on a WAV in its drop folder: the record's settings and input name the client's
    path and hash its bytes."""
    folder = server.services.limits.read_roots[0]
    clip = folder / "riff source.wav"
    rate = 16000
    with AudioFile(str(clip), "w", rate, 1) as f:
        f.write(np.sin(np.linspace(0, 2000, 2 * rate, dtype=np.float32))[None] * 0.3)
    client.send("/sonocanvas/generate", "riff", "image_prompt", "a", "audio_prompt", "b", "steps", 2,
                "init_audio", str(clip), "strength", 0.5)
    client.expect("/sonocanvas/queued")
    while True:
        address, args = client.next()
        if address == "/sonocanvas/done":
            break
        assert address == "/sonocanvas/progress", (address, args)
    record = json.loads(Path(args[4]).read_text())
    assert record["settings"]["init_audio"] == str(clip)
    assert record["inputs"]["init_audio"] == {"path": str(clip),
                                              "sha256": hashlib.sha256(clip.read_bytes()).hexdigest()}


@pytest.fixture(scope="module")
def server(tiny_server):
    return tiny_server


def test_a_fifo_swapped_in_after_the_check_is_refused_on_its_field_not_waited_on(tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"the clip")
    limits = Limits((tmp_path,), frozenset(), frozenset())
    checked = limits.readable("init_audio", str(clip))  # the request is checked and queued
    clip.unlink()
    os.mkfifo(clip)  # no writer ever opens it: a blocking open would wait forever
    with pytest.raises(ValueError, match="^init_audio: .*(regular file|no such file)"):
        read_inputs(request_with(checked), limits)


def test_a_file_over_its_kinds_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"x" * 11)
    monkeypatch.setitem(MAX_INPUT_BYTES, "init_audio", 10)
    limits = Limits((tmp_path,), frozenset(), frozenset())
    with pytest.raises(ValueError, match="^init_audio: .* 11 bytes, over the 10 allowed"):
        read_inputs(request_with(limits.readable("init_audio", str(clip))), limits)
    clip.write_bytes(b"x" * 10)
    assert read_inputs(request_with(clip), limits).settings.init_audio == InputFile(str(clip), b"x" * 10)

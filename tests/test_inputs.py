"""bridge/inputs.py: a job reads the files it was given from private copies of the bytes checked as it starts,
and its records name the client's own paths (issue 15, D13)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from sonocanvas.bridge.jobs.inputs import private_copies, read_inputs, renamed
from sonocanvas.bridge.request.build import MAX_INPUT_BYTES, GenerateRequest, Limits, Output
from sonocanvas.engine.generate_settings import GenerateSettings


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
    inputs = read_inputs(request_with(clip), limits)  # the job starts: opened, checked, read
    swap()  # a moment later
    with private_copies(request_with(clip), inputs) as (request, renames):
        copy = request.settings.init_audio
        assert copy != clip and copy.name == "clip.wav" and copy.read_bytes() == b"the clip"
        assert renamed({"settings": {"init_audio": str(copy)}, "note": [f"read {copy}"]}, renames) == \
            {"settings": {"init_audio": str(clip)}, "note": [f"read {clip}"]}
    assert not copy.exists()  # the copies go with the job


def test_a_file_swapped_before_the_job_starts_is_refused_by_name(clip_and_swap):
    clip, limits, swap = clip_and_swap
    request = request_with(clip)  # checked when it came
    swap()  # while it waited in the queue
    with pytest.raises(ValueError, match="^init_audio: .*outside the folders this server may read"):
        read_inputs(request, limits)


def test_a_riff_over_osc_reads_a_copy_and_its_record_names_the_clients_file(client, server):
    """The real server riffing on a WAV in its drop folder: the record's settings and input name the client's
    path and hash its bytes; no temporary path is left anywhere in it."""
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
    assert record["inputs"]["init_audio"]["path"] == str(clip)
    assert "sonocanvas-inputs-" not in json.dumps(record)


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_paths, sonocanvas_cache):
    from osc_helpers import write_config
    from sonocanvas.bridge.commands.serve import build_server
    from sonocanvas.bridge.store.config import load_config

    config = load_config(write_config(tmp_path_factory.mktemp("serve"))).replace(tiny_random=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))
        server = build_server(config).start()
    yield server
    server.close()


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
    assert read_inputs(request_with(clip), limits) == {"init_audio": (str(clip), b"x" * 10)}

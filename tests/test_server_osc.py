"""The OSC server with the tiny-random models, started in-process on a free port, driven by python-osc clients
over real UDP and TCP sockets on 127.0.0.1. Every wait is on a reply, with a timeout."""
import json
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from osc_helpers import TIMEOUT, TcpClient, UdpClient, message
from pedalboard.io import AudioFile
from PIL import Image, ImageDraw
from pythonosc import slip
from pythonosc.osc_message import OscMessage
from sonocanvas.bridge.jobs.journal import Journal
from sonocanvas.bridge.osc.server import Server
from sonocanvas.bridge.osc.services import Services
from sonocanvas.bridge.osc.transport import MAX_TCP_CONNECTIONS, SlipDecoder
from sonocanvas.bridge.osc.wire import MAX_DEPTH
from sonocanvas.bridge.request.build import Limits
from sonocanvas.bridge.studio.studio import TINY_LABEL

FAST = ("steps", 2)
LONG = ("steps", 40)  # the first progress comes after 2 steps; cancelled jobs never run them all


@pytest.fixture(scope="module")
def server(tiny_server):
    return tiny_server


def run_job(c, job_id, *keys, prompts=("castle towers", "bell ringing")):
    """generate -> queued -> progress... -> done; returns (progress steps, done args)."""
    c.send("/sonocanvas/generate", job_id, "image_prompt", prompts[0], "audio_prompt", prompts[1], *keys)
    queued = c.expect("/sonocanvas/queued")
    assert queued[0] == job_id and queued[1] >= 1
    steps = []
    while True:
        address, args = c.next()
        assert args[0] == job_id, (address, args)
        if address == "/sonocanvas/progress":
            steps.append(tuple(args[1:]))
        elif address == "/sonocanvas/done":
            return steps, args
        else:
            raise AssertionError((address, args))


def read_wav(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames), f.samplerate, f.file_dtype


def test_hello_answers_ready(client, server):
    client.send("/sonocanvas/hello", client.port)
    version, device, models, secret, scorers = client.expect("/sonocanvas/ready")
    assert version == server.services.version and device == "cpu" and models == TINY_LABEL
    assert scorers == "clip clap"  # the tiny-random set's CLIP and CLAP: this server can rank


def test_keep_delivers_the_best_in_rank_order_each_with_its_scores_first(client):
    """Make 3, keep 2: progress counts both batches' steps (the cap is 8, so one batch here) and the scoring; then
    per kept clip `scores` and `done`, in rank order; the records say the same."""
    client.send("/sonocanvas/generate", "k", "image_prompt", "castle towers", "audio_prompt", "bells", *FAST,
                "seed", 5, "variations", 3, "keep", 2)
    client.expect("/sonocanvas/queued")
    progress, delivered = [], []
    while len(delivered) < 2:
        address, args = client.next()
        if address == "/sonocanvas/progress":
            progress.append(tuple(args[1:]))
        elif address == "/sonocanvas/scores":
            job, index, rank, candidates, *pairs = args
            assert (job, index, rank, candidates) == ("k", len(delivered), len(delivered) + 1, 3)
            scores = dict(zip(pairs[::2], pairs[1::2], strict=True))
            assert set(scores) == {"clip", "clap"}
            job, index, wav, png, record = client.expect("/sonocanvas/done")
            assert index == len(delivered)
            delivered.append((scores, json.loads(Path(record).read_text())))
        else:
            raise AssertionError((address, args))
    assert progress[-1] == (2 + 3, 2 + 3)  # one batch of 2 steps, then 3 candidates scored
    for place, (scores, record) in enumerate(delivered, start=1):
        assert record["rank"] == place and record["candidates"] == 3
        assert record["scores"] == pytest.approx(scores, abs=1e-6)  # float32 on the wire


def test_keep_is_refused_before_anything_runs_when_it_cannot_be_met(client):
    client.send("/sonocanvas/generate", "k2", "image_prompt", "a", "audio_prompt", "b", *FAST,
                "variations", 2, "keep", 3)
    assert client.expect_error()[:2] == ["k2", "keep"]
    client.send("/sonocanvas/generate", "k3", "image_prompt", "a", "audio_prompt", "b", *FAST, "variations", 9)
    assert client.expect_error()[:2] == ["k3", "variations"]  # over the cap of 8 without keep
    client.send("/sonocanvas/generate", "k4", "image_prompt", "a", "audio_prompt", "b", *FAST, "variations", 12,
                "keep", 9)
    assert client.expect_error()[:2] == ["k4", "keep"]  # with keep, the cap bounds what is kept


def test_generate_queued_progress_done_and_the_wav_reads_back(client, server):
    steps, (job_id, index, wav, png, record) = run_job(client, "1", *FAST, "seed", 11)
    assert (job_id, index) == ("1", 0) and steps[-1] == (2, 2)
    assert Path(wav).parent == server.services.limits.read_roots[0] and Path(wav).name.endswith("_s11.wav")
    audio, rate, dtype = read_wav(wav)
    info = json.loads(Path(record).read_text())
    assert rate == 48000 and dtype == "int24" and audio.shape[0] == 1
    assert abs(audio.shape[1] - info["samples"] * 48000 / info["sample_rate"]) <= 1
    assert info["seed"] == 11 and info["job_id"] == "1" and Path(png).is_file()


def test_variations_bpm_bars_and_float(client):
    client.send("/sonocanvas/generate", "v", "image_prompt", "trains", "audio_prompt", "train whistling", *FAST,
                "variations", 2, "seed", 3, "bpm", 120.0, "bars", 1, "sample_rate", 44100, "bit_depth", 32)
    client.expect("/sonocanvas/queued")
    done = [client.expect("/sonocanvas/done") for _ in range(2)]
    assert [d[1] for d in done] == [0, 1]
    assert [Path(d[2]).name.split("_", 1)[1] for d in done] == ["trains_train-whistling_s3_v0.wav",
                                                                 "trains_train-whistling_s4_v1.wav"]
    for d in done:
        audio, rate, dtype = read_wav(d[2])
        assert (audio.shape[1], rate, dtype) == (88200, 44100, "float32")  # one bar of 4/4 at 120 bpm


def test_progress_is_throttled_to_every_five_percent(client):
    client.send("/sonocanvas/generate", "p", "image_prompt", "a", "audio_prompt", "b", "steps", 40)
    client.expect("/sonocanvas/queued")
    steps = []
    while True:
        address, args = client.next()
        if address == "/sonocanvas/done":
            break
        steps.append(args[1])
    assert steps == list(range(2, 41, 2))


def test_limits_are_the_settings_table_with_the_configs_caps(client, server):
    from sonocanvas.engine.settings import BY_NAME

    client.send("/sonocanvas/limits")
    flat = client.expect("/sonocanvas/limits")
    triples = {flat[i]: (flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)}
    assert triples["steps"] == (1, 500) and triples["variations"] == (1, 8)  # the config template's caps
    assert triples["seed"] == (-1, 2**31 - 1) and triples["sample_rate"] == (8000, 192000)
    assert triples["audio_weight"] == (0.0, 1.0) and isinstance(triples["audio_weight"][1], float)
    assert set(triples) == {name for name, s in BY_NAME.items() if s.numeric}
    client.send("/sonocanvas/limits", 1)
    assert client.expect_error()[1] == "arguments"


def test_interpolation_keys_reach_the_record(client):
    _, (_, _, _, _, record) = run_job(client, "i", *FAST, "seed", 5, "to_audio_prompt", "dog barking",
                                      "to_seed", 9, "alpha", 0.25)
    settings = json.loads(Path(record).read_text())["settings"]
    assert (settings["to_audio_prompt"], settings["to_seed"], settings["alpha"]) == ("dog barking", 9, 0.25)


def test_status_when_idle_and_busy(client, server):
    assert server.jobs.wait_idle(30)
    client.send("/sonocanvas/status")
    assert client.expect("/sonocanvas/status") == ["", 0, "cpu"]
    client.send("/sonocanvas/generate", "busy", "image_prompt", "a", "audio_prompt", "b", *LONG)
    client.send("/sonocanvas/generate", "next", "image_prompt", "a", "audio_prompt", "b", *FAST)
    client.expect("/sonocanvas/progress")
    client.send("/sonocanvas/status")
    assert client.expect("/sonocanvas/status") == ["busy", 1, "cpu"]
    client.send("/sonocanvas/cancel", "busy")
    client.send("/sonocanvas/cancel", "next")
    cancelled = {client.expect("/sonocanvas/cancelled")[0] for _ in range(2)}
    assert cancelled == {"busy", "next"}


def test_right_after_a_done_the_job_is_over_for_status_and_the_next_one_starts_at_once(client, server,
                                                                                         monkeypatch):
    """The job's worker still tidies up (journal, timing) after the `done` goes out; its client, and everyone
    else, hears of it as over from then on (docs/osc.md, queued, status and cancel). The worker is held after
    the job's last `done` until the checks are made, so they are made while it tidies up."""
    tidying, release = threading.Event(), threading.Event()
    real = server.services.run

    def run_then_hold(job, on_step, done):
        real(job, on_step, done)
        if job.job_id == "over":
            tidying.set()
            assert release.wait(TIMEOUT)

    monkeypatch.setattr(server.services, "run", run_then_hold)
    try:
        client.send("/sonocanvas/generate", "over", "image_prompt", "a", "audio_prompt", "b", *FAST)
        client.expect("/sonocanvas/done")
        assert tidying.wait(TIMEOUT)
        client.send("/sonocanvas/status")
        assert client.expect("/sonocanvas/status") == ["", 0, "cpu"]
        client.send("/sonocanvas/cancel", "over")
        assert client.expect("/sonocanvas/error") == ["over", "job_id",
                                                  "job_id: no queued or running job 'over' of yours"]
        client.send("/sonocanvas/generate", "then", "image_prompt", "a", "audio_prompt", "b", *FAST)
        assert client.expect("/sonocanvas/queued") == ["then", 1]
    finally:
        release.set()
    client.expect("/sonocanvas/done")


def test_cancel_queued_and_running(client, server):
    client.send("/sonocanvas/generate", "run", "image_prompt", "a", "audio_prompt", "b", *LONG)
    client.send("/sonocanvas/generate", "wait", "image_prompt", "a", "audio_prompt", "b", *LONG)
    assert client.expect("/sonocanvas/queued") == ["run", 1]
    assert client.expect("/sonocanvas/queued") == ["wait", 2]
    client.expect("/sonocanvas/progress")
    client.send("/sonocanvas/cancel", "wait")
    assert client.expect("/sonocanvas/cancelled") == ["wait"]
    client.send("/sonocanvas/cancel", "run")
    seen = []
    while (reply := client.next())[0] != "/sonocanvas/cancelled":
        seen.append(reply)
    assert reply[1] == ["run"]
    assert all(a == "/sonocanvas/progress" and args[1] < 40 for a, args in seen)  # stopped before the end
    assert server.jobs.wait_idle(30)
    client.send("/sonocanvas/cancel", "run")
    assert client.expect("/sonocanvas/error")[:2] == ["run", "job_id"]
    assert not [r for r in client.seen if r[0] == "/sonocanvas/done"]
    states = {e.job_id: e.state for e in server.services.journal.entries()}
    assert states["run"] == "cancelled" and states["wait"] == "cancelled"


def test_two_clients_each_get_only_their_own_replies(server):
    a, b = UdpClient(server.address), TcpClient(server.address)
    try:
        a.hello()
        b.send("/sonocanvas/hello", 1)
        b.expect("/sonocanvas/ready")
        for c, prompt in ((a, "kittens"), (b, "horse heads")):
            c.send("/sonocanvas/generate", "1", "image_prompt", prompt, "audio_prompt", "meow", *FAST)
        b.send("/sonocanvas/cancel", "nobody")  # b's own id space: there is no such job of b's
        assert b.expect("/sonocanvas/error")[:2] == ["nobody", "job_id"]
        done_a, done_b = a.expect("/sonocanvas/done"), b.expect("/sonocanvas/done")
        assert "kittens" in Path(done_a[2]).name and "horse-heads" in Path(done_b[2]).name
        assert server.jobs.wait_idle(30)
        a.send("/sonocanvas/status")
        b.send("/sonocanvas/status")
        a.expect("/sonocanvas/status")
        b.expect("/sonocanvas/status")
        for c, other in ((a, "horse-heads"), (b, "kittens")):
            assert all(other not in str(args) for _, args in c.seen)
            told = [args[0] for address, args in c.seen if address in ("/sonocanvas/queued", "/sonocanvas/progress")]
            assert told and set(told) == {"1"}
    finally:
        a.close()
        b.close()


def test_a_client_cannot_cancel_anothers_job(server, client):
    other = UdpClient(server.address)
    try:
        other.hello()
        client.send("/sonocanvas/generate", "mine", "image_prompt", "a", "audio_prompt", "b", *LONG)
        client.expect("/sonocanvas/progress")
        other.send("/sonocanvas/cancel", "mine")
        assert other.expect("/sonocanvas/error")[:2] == ["mine", "job_id"]
        client.send("/sonocanvas/cancel", "mine")
        assert client.expect("/sonocanvas/cancelled") == ["mine"]
    finally:
        other.close()


def test_tcp_slip_client_generates(server):
    c = TcpClient(server.address)
    try:
        c.send("/sonocanvas/hello", 9)
        assert c.expect("/sonocanvas/ready")[2] == TINY_LABEL
        c.send("/sonocanvas/generate", "t", "image_prompt", "a pond of water lilies",
               "audio_prompt", "frog croaking", *FAST)
        _, index, wav, _, _ = c.expect("/sonocanvas/done")
        assert read_wav(wav)[1] == 48000
        c.send_raw(slip.END + b"\xdb\x01junk" + slip.END)  # a bad SLIP escape
        assert c.expect("/sonocanvas/error")[1] == "packet"
        # two packets in one write, and one split across writes
        data = slip.encode(message("/sonocanvas/status")) + slip.encode(message("/sonocanvas/fx/list"))
        c.send_raw(data[:5])
        c.send_raw(data[5:])
        c.expect("/sonocanvas/status")
        c.expect("/sonocanvas/fx/names")
    finally:
        c.close()


def test_slip_decoder_frames_and_escapes():
    packets = [b"", b"\xc0\xdb plain \xdb\xdc\xc0", bytes(range(256))]
    stream = b"".join(slip.encode(p) for p in packets)
    decoder = SlipDecoder()
    out = []
    for i in range(0, len(stream), 7):  # in awkward pieces
        out += decoder.feed(stream[i:i + 7])
    assert out == packets[1:]  # an empty frame is no packet
    assert slip.encode(b"\xc0\xdb") == b"\xc0\xdb\xdc\xdb\xdd\xc0"
    assert isinstance(SlipDecoder().feed(b"\xc0ab\xdb\xc0")[0], slip.ProtocolError)
    endless = SlipDecoder()
    assert endless.feed(b"\xc0" + b"x" * (1 << 20)) == []
    assert isinstance(endless.feed(b"y")[0], slip.ProtocolError)  # over 1 MiB without an END: dropped
    assert endless.feed(slip.encode(b"ok")) == [b"ok"]


@pytest.mark.parametrize("args, field", [
    (("/sonocanvas/nope",), "address"),
    (("/sonocanvas/generate",), "job_id"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt", "b", "steps", "many"), "steps"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt", "b", "steps", 9999), "steps"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt", "b", "tempo", 3), "tempo"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt"), "audio_prompt"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt", "b", "fx", "/x/Evil.vst3"), "fx"),
    (("/sonocanvas/generate", "e", "image_prompt", "a", "audio_prompt", "b", "init_audio", "/etc/passwd"),
     "init_audio"),
    (("/sonocanvas/encode", "e", "/etc/hosts"), "picture_path"),
    (("/sonocanvas/audition", "/etc/passwd"), "wav_path"),
    (("/sonocanvas/audition", "../../x.wav"), "wav_path"),
    (("/sonocanvas/hello", "x"), "reply_port"),
    (("/sonocanvas/status", 1), "arguments"),
    (("/sonocanvas/preset/save", "../evil", "seed", 1), "name"),
    (("/sonocanvas/preset/save", "a/b", "seed", 1), "name"),
    (("/sonocanvas/preset/save", "ok-name", "reply_port", 1), "reply_port"),
    (("/sonocanvas/preset/get", "../../etc/passwd"), "name"),
    (("/sonocanvas/preset/delete", "corgis"), "name"),
])
def test_bad_requests_get_errors_naming_the_field(client, args, field):
    client.send(*args)
    job_id, got_field, text = client.expect("/sonocanvas/error")
    assert got_field == field and text.startswith(f"{field}: ")
    assert job_id == ("e" if len(args) > 1 and args[1] == "e" else "")


def test_paths_inside_the_read_dirs_are_accepted(client, server):
    sample = server.services.limits.read_roots[1] / "riff.wav"
    with AudioFile(str(sample), "w", samplerate=16000, num_channels=1) as f:
        f.write(np.sin(np.linspace(0, 2000, 32000, dtype=np.float32))[None] * 0.5)
    steps, done = run_job(client, "riff", *FAST, "init_audio", str(sample), "strength", 0.5)
    assert read_wav(done[2])[1] == 48000
    (samples := server.services.limits.read_roots[1] / "text.wav").write_text("not audio")
    client.send("/sonocanvas/generate", "riff2", "image_prompt", "a", "audio_prompt", "b", *FAST,
                "init_audio", str(samples))
    client.expect("/sonocanvas/queued")
    job_id, field, text = client.expect_error()
    assert (job_id, field) == ("riff2", "init_audio") and "text.wav" in text


def test_encode_turns_a_picture_into_a_clip(client, server):
    samples = server.services.limits.read_roots[1]
    picture = Image.new("RGB", (200, 80), "black")
    ImageDraw.Draw(picture).ellipse((40, 10, 160, 70), fill=(255, 200, 0))
    picture.save(samples / "sun.png")
    (samples / "not-a-picture.png").write_text("hello")
    client.send("/sonocanvas/encode", "art", str(samples / "sun.png"), "seconds", 1.5, "format", "riffusion")
    assert client.expect("/sonocanvas/queued")[0] == "art"
    job_id, index, wav, png, record = client.expect("/sonocanvas/done")
    assert (job_id, index) == ("art", 0) and Path(wav).name.endswith("_sun_riffusion.wav")
    audio, rate, _ = read_wav(wav)
    assert rate == 48000 and abs(audio.shape[1] - 1.5 * 48000) < 0.05 * 48000
    assert np.abs(audio).max() > 0.5  # a real sound, brought to -1 dBFS
    client.send("/sonocanvas/encode", "bad", str(samples / "not-a-picture.png"))
    assert client.expect("/sonocanvas/error")[:2] == ["bad", "picture_path"]


def test_fx_list_and_an_effect_chain_keeps_the_dry_clip(client):
    client.send("/sonocanvas/fx/list")
    names = client.expect("/sonocanvas/fx/names")
    assert {"space", "tape", "lofi", "minus6"} <= set(names)
    _, done = run_job(client, "fx", *FAST, "fx", "minus6", "bit_depth", 32)
    wet = read_wav(done[2])[0]
    dry_path = Path(done[2][: -len(".wav")] + ".dry.wav")
    dry = read_wav(dry_path)[0]
    gain = 20 * np.log10(np.sqrt(np.mean(wet.astype(np.float64) ** 2)) / np.sqrt(np.mean(dry.astype(np.float64) ** 2)))
    assert gain == pytest.approx(-6.0, abs=0.05)
    assert json.loads(Path(done[4]).read_text())["files"]["dry"] == dry_path.name


def test_presets_round_trip_over_osc(client):
    client.send("/sonocanvas/preset/list")
    assert {"corgis", "castle-bells"} <= set(client.expect("/sonocanvas/preset/names"))
    client.send("/sonocanvas/preset/get", "corgis")
    got = client.expect("/sonocanvas/preset")
    values = dict(zip(got[1::2], got[2::2], strict=True))
    assert got[0] == "corgis" and values["audio_prompt"] == "dog barking" and values["seed"] == 2034
    client.send("/sonocanvas/preset/save", "my-bells", "image_prompt", "bells", "audio_prompt", "bell ringing",
                "seed", 5, "steps", 2, "audio_weight", 0.25)
    assert client.expect("/sonocanvas/preset/saved") == ["my-bells"]
    client.send("/sonocanvas/preset/list")
    assert "my-bells" in client.expect("/sonocanvas/preset/names")
    client.send("/sonocanvas/preset/get", "my-bells")
    got = client.expect("/sonocanvas/preset")
    assert dict(zip(got[1::2], got[2::2], strict=True)) == {"image_prompt": "bells", "audio_prompt": "bell ringing",
                                                            "seed": 5, "steps": 2, "audio_weight": 0.25}
    client.send("/sonocanvas/generate", "pre", "preset", "my-bells")
    _, done = client.expect("/sonocanvas/queued"), client.expect("/sonocanvas/done")
    assert Path(done[2]).name.endswith("_bells_bell-ringing_s5.wav")
    client.send("/sonocanvas/preset/delete", "my-bells")
    assert client.expect("/sonocanvas/preset/deleted") == ["my-bells"]
    client.send("/sonocanvas/preset/get", "my-bells")
    assert client.expect("/sonocanvas/error")[1] == "name"


def test_audition_plays_and_stops(client, server):
    _, done = run_job(client, "listen", *FAST, "sample_rate", 44100)
    client.send("/sonocanvas/audition", done[2])
    assert client.expect("/sonocanvas/playing") == [done[2]]
    player = server.services.player
    assert player.wait(30)
    assert player.frames_played == read_wav(done[2])[0].shape[1]
    client.send("/sonocanvas/audition", done[2])
    client.expect("/sonocanvas/playing")
    client.send("/sonocanvas/stop")
    assert client.expect("/sonocanvas/stopped") == []
    assert player.wait(5)


def test_same_request_twice_gets_distinct_names(client, server):
    for job_id in ("twin-1", "twin-2"):
        client.send("/sonocanvas/generate", job_id, "image_prompt", "twins", "audio_prompt", "echo", "seed", 8, *FAST)
    first, second = client.expect("/sonocanvas/done"), client.expect("/sonocanvas/done")
    assert first[2] != second[2] and all(Path(p).is_file() for p in (first[2], second[2]))
    if Path(first[2]).name[:15] == Path(second[2]).name[:15]:  # asked in the same second: the second moves aside
        assert Path(second[2]).name == Path(first[2]).name[:-len(".wav")] + "-2.wav"


def test_out_of_memory_fails_that_job_and_the_next_runs(client, server, monkeypatch):
    real = server.services.run
    calls = []

    def run(job, on_step, done):
        calls.append(job.job_id)
        if job.job_id == "huge":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        real(job, on_step, done)

    monkeypatch.setattr(server.services, "run", run)
    client.send("/sonocanvas/generate", "huge", "image_prompt", "a", "audio_prompt", "b", *FAST)
    client.send("/sonocanvas/generate", "after", "image_prompt", "a", "audio_prompt", "b", *FAST)
    job_id, field, text = client.expect("/sonocanvas/error")
    assert (job_id, field) == ("huge", "job") and "out of GPU memory" in text
    assert client.expect("/sonocanvas/done")[0] == "after"
    assert calls == ["huge", "after"]


# Transport: bundles, big errors, stuck and too many TCP clients ----------------------------------

IMMEDIATELY = struct.pack(">Q", 1)
AN_HOUR_ON = struct.pack(">II", int(time.time()) + 2208988800 + 3600, 0)  # NTP seconds


def bundle(time_tag: bytes, *elements: bytes) -> bytes:
    return b"#bundle\x00" + time_tag + b"".join(struct.pack(">i", len(e)) + e for e in elements)


@pytest.fixture
def bare_server(tmp_path):
    """A server of its own without models, for transport tests that count its connections. Its fx/list
    answer is large (200 long names), so a client that does not read fills the buffers after a few."""
    fx = frozenset(f"chain-{i:03d}-" + "x" * 40 for i in range(200))
    services = Services(run=lambda *a: None, limits=Limits((tmp_path,), fx, frozenset({"auffusion"})),
                        journal=Journal(tmp_path / "journal.sqlite3"), version="test", device="cpu", models="none")
    with Server(services, port=0) as server:
        yield server


def tcp_replies(sock: socket.socket):
    """The OSC messages a TCP socket receives, until the server closes it."""
    decoder = SlipDecoder()
    while data := sock.recv(65536):
        for packet in decoder.feed(data):
            yield OscMessage(packet)


def test_a_bundle_runs_in_order_whatever_its_time_tags(client):
    nested = bundle(IMMEDIATELY, message("/sonocanvas/fx/list"))
    client.send_raw(bundle(AN_HOUR_ON, message("/sonocanvas/status"), nested, message("/sonocanvas/preset/list")))
    assert [client.next()[0] for _ in range(5)] == ["/sonocanvas/status", "/sonocanvas/fx/names",
                                                    "/sonocanvas/fx/names/end", "/sonocanvas/preset/names",
                                                    "/sonocanvas/preset/names/end"]
    deep = message("/sonocanvas/status")
    for _ in range(MAX_DEPTH):
        deep = bundle(AN_HOUR_ON, deep)
    client.send_raw(deep)
    assert client.next()[0] == "/sonocanvas/status"
    client.send_raw(bundle(IMMEDIATELY, deep))
    address, args = client.next()
    assert address == "/sonocanvas/error" and args[:2] == ["", "packet"] and "deep" in args[2]
    client.send("/sonocanvas/status")
    assert client.next()[0] == "/sonocanvas/status"


def test_a_reply_port_in_a_bundle_is_for_its_own_message_only(client, server):
    other = UdpClient(server.address)
    try:
        client.send_raw(bundle(IMMEDIATELY, message("/sonocanvas/generate", "x", "reply_port", other.port, "bogus", 1),
                               message("/sonocanvas/status")))
        assert other.expect_error()[:2] == ["x", "bogus"]
        assert client.next()[0] == "/sonocanvas/status"
        client.send("/sonocanvas/fx/list")
        assert client.next()[0] == "/sonocanvas/fx/names"  # and nothing came before it
    finally:
        other.close()


@pytest.mark.parametrize("args, field", [
    (("ok", "image_prompt", "a", "k" * 40000, 1), "k" * 63 + "…"),
    (("j" * 40000, "image_prompt", "a"), "job_id"),
])
def test_an_error_echoing_a_huge_request_still_fits_a_datagram(client, args, field):
    client.send("/sonocanvas/generate", *args)
    job_id, got_field, text = client.expect("/sonocanvas/error")
    assert got_field == field and text.startswith(f"{field}: ") and len(text) <= 1000
    assert job_id == (args[0] if len(args[0]) <= 200 else args[0][:199] + "…")


def test_a_tcp_client_that_never_reads_is_hung_up_on_and_holds_no_one_up(bare_server):
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting, so its window stays small
    stuck.settimeout(TIMEOUT)
    stuck.connect(bare_server.address)
    flood_ended: list[OSError] = []

    def flood() -> None:
        requests = slip.encode(message("/sonocanvas/fx/list")) * 100
        try:
            while True:
                stuck.sendall(requests)
        except OSError as error:
            flood_ended.append(error)

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    udp = UdpClient(bare_server.address)
    try:
        # Statuses are answered all through the flood (each expect fails after TIMEOUT). One send to the stuck
        # client times out and the server hangs up on it, which ends the flood; were each reply to wait out the
        # timeout instead, the flood would go on past the join's bound.
        answered = 0
        while flooder.is_alive() and answered < 1000:
            udp.send("/sonocanvas/status")
            udp.expect("/sonocanvas/status")
            answered += 1
        flooder.join(TIMEOUT)
        assert not flooder.is_alive()
        assert isinstance(flood_ended[0], (ConnectionResetError, BrokenPipeError))  # the server hung up
        try:
            for _ in tcp_replies(stuck):
                pass  # what the server had sent, then the end: a TimeoutError had it kept the connection
        except ConnectionResetError:
            pass  # it closed with requests unread: a reset instead of the end
        udp.send("/sonocanvas/status")
        udp.expect("/sonocanvas/status")
    finally:
        udp.close()
        stuck.close()


def test_tcp_connections_over_the_cap_are_told_so_and_closed(bare_server):
    socks, replies = [], []
    try:
        for _ in range(MAX_TCP_CONNECTIONS):
            socks.append(socket.create_connection(bare_server.address, timeout=TIMEOUT))
            replies.append(tcp_replies(socks[-1]))
            socks[-1].sendall(slip.encode(message("/sonocanvas/status")))
            assert next(replies[-1]).address == "/sonocanvas/status"  # served
        with socket.create_connection(bare_server.address, timeout=TIMEOUT) as extra:
            (refusal,) = tcp_replies(extra)  # one error, then the server closes it
        assert refusal.address == "/sonocanvas/error" and refusal.params[:2] == ["", "connection"]
        socks[0].shutdown(socket.SHUT_WR)
        assert list(replies[0]) == []  # the server saw the end and closed: its place is free again
        with socket.create_connection(bare_server.address, timeout=TIMEOUT) as again:
            again.sendall(slip.encode(message("/sonocanvas/status")))
            assert next(tcp_replies(again)).address == "/sonocanvas/status"
    finally:
        for sock in socks:
            sock.close()

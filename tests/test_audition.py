"""Audition through real PortAudio (on Linux, ALSA's null output: see tests/conftest.py)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import sounddevice as sd
from pedalboard.io import AudioFile
from sonocanvas.bridge.output.audition import Player


def write_clip(path, seconds: float, sample_rate: int, channels: int):
    rng = np.random.default_rng(3)
    audio = (0.1 * rng.standard_normal((channels, int(seconds * sample_rate)))).astype(np.float32)
    with AudioFile(str(path), "w", sample_rate, channels, bit_depth=24) as f:
        f.write(audio)
    with AudioFile(str(path)) as f:
        return f.frames


@pytest.mark.parametrize("sample_rate, channels", [(48000, 2), (22050, 1)])
def test_plays_the_whole_file(tmp_path, sample_rate, channels):
    path = tmp_path / "clip.wav"
    frames = write_clip(path, 0.5, sample_rate, channels)
    player = Player()
    player.play(path)
    assert player.wait(timeout=10)
    assert player.frames_played == frames


def test_a_rate_the_output_cannot_take_is_resampled_to_its_own(tmp_path):
    path = tmp_path / "hi.wav"
    write_clip(path, 0.05, 768000, 1)  # PortAudio refuses 768 kHz streams
    with pytest.raises(sd.PortAudioError):
        sd.check_output_settings(samplerate=768000, channels=2, dtype="float32")
    device_rate = sd.query_devices(kind="output")["default_samplerate"]
    with AudioFile(str(path)) as f:
        frames = f.resampled_to(device_rate).frames
    player = Player()
    player.play(path)
    assert player.wait(timeout=10)
    assert player.frames_played == frames


def test_stop_ends_a_long_playback_early_without_blocking(tmp_path):
    path = tmp_path / "long.wav"
    frames = write_clip(path, 300.0, 8000, 1)
    player = Player()
    player.play(path)
    stopping = threading.Thread(target=player.stop)
    stopping.start()
    stopping.join(timeout=10)  # a stop that waited for the clip to end would take its 300 s
    assert not stopping.is_alive()
    stopped_at = player.frames_played
    assert player.wait(timeout=5)
    assert player.frames_played == stopped_at < frames  # nothing played after the stop


def test_play_replaces_what_was_playing(tmp_path):
    long, short = tmp_path / "long.wav", tmp_path / "short.wav"
    write_clip(long, 300.0, 8000, 1)
    frames = write_clip(short, 0.25, 44100, 2)
    player = Player()
    player.play(long)
    player.play(short)
    assert player.wait(timeout=10)
    assert player.frames_played == frames


def test_play_and_stop_from_many_threads_at_once(tmp_path):
    path = tmp_path / "clip.wav"
    frames = write_clip(path, 0.5, 44100, 2)
    player = Player()
    errors = []

    def hammer():
        try:
            for _ in range(10):
                player.play(path)
                player.stop()
        except Exception as error:  # noqa: BLE001 - any failure fails the test below
            errors.append(error)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert player.wait(timeout=5)
    player.play(path)  # still works afterwards
    assert player.wait(timeout=10)
    assert player.frames_played == frames


def test_output_chosen_by_name_or_index(tmp_path):
    default = sd.query_devices(kind="output")
    path = tmp_path / "clip.wav"
    frames = write_clip(path, 0.2, 44100, 2)
    for output in (default["name"], default["index"]):
        player = Player(output)
        assert player.device == default["index"]
        player.play(path)
        assert player.wait(timeout=10)
        assert player.frames_played == frames


@pytest.mark.parametrize("output", ["no such output device", 9999, 1.5, True])
def test_bad_output_is_refused(output):
    with pytest.raises(ValueError, match=r"^audio_output: "):
        Player(output)


def test_missing_or_bad_file_is_refused(tmp_path):
    player = Player()
    with pytest.raises(ValueError, match=r"^wav_path: cannot play .*missing.wav"):
        player.play(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wave file")
    with pytest.raises(ValueError, match=r"^wav_path: cannot play .*bad.wav"):
        player.play(bad)
    assert player.wait(timeout=1)  # nothing is playing


def test_portaudios_errors_are_said_in_words():
    """Issue 23: doctor said "audition is off (Error querying device -1)". PortAudio's own errors, as
    sounddevice raises them (on a machine with no sound output, query_devices(None, "output") raises the first),
    are told in words; the missing library too."""
    from sonocanvas.bridge.output.portaudio import NO_LIBRARY, in_words

    assert in_words(sd.PortAudioError("Error querying device -1")) == (
        "there is no default sound output (none is connected, or the system has no sound device)")
    assert in_words(OSError("PortAudio library not found")) == NO_LIBRARY
    assert in_words(sd.PortAudioError("Invalid sample rate [PaErrorCode -9997]")).startswith(
        "the sound output does not take this sample rate")
    assert in_words(sd.PortAudioError("Bad thing [PaErrorCode -9999]")) == (
        "the sound system refused (Bad thing [PaErrorCode -9999])")

"""Audition: play a finished clip on a sounddevice output, in the background, stoppable.

The clip streams from its file inside PortAudio's callback, so `play` returns at once and the
caller (the OSC server) never waits on the sound card.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import sounddevice as sd
from pedalboard.io import AudioFile, ReadableAudioFile, ResampledReadableAudioFile

from ...engine.errors import FieldError
from .portaudio import in_words


class Player:
    """One playback at a time on one output device (None: the system's default output)."""

    def __init__(self, output: str | int | None = None):
        self.device = _output_device(output)
        self._lock = threading.Lock()
        self._playback: _Playback | None = None

    def play(self, path: Path) -> None:
        """Start playing `path`, replacing what was playing; returns at once."""
        playback = _Playback(Path(path), self.device)
        with self._lock:  # one stop-and-start at a time, so no stream is closed twice at once
            if self._playback is not None:
                self._playback.close()
            self._playback = playback
            playback.start()

    def stop(self) -> None:
        with self._lock:
            if self._playback is not None:
                self._playback.close()

    def wait(self, timeout: float) -> bool:
        """True once the current playback has ended (played out or stopped); True when idle."""
        playback = self._playback
        return playback is None or playback.ended.wait(timeout)

    @property
    def frames_played(self) -> int:
        """Frames of the current playback handed to PortAudio so far."""
        playback = self._playback
        return 0 if playback is None else playback.frames


class _Playback:
    """A file and the PortAudio stream that plays it; everything the callback touches is here."""

    def __init__(self, path: Path, device: int | None):
        try:
            self.file: ReadableAudioFile | ResampledReadableAudioFile = AudioFile(str(path))
        except (OSError, ValueError, RuntimeError) as error:
            raise FieldError("wav_path", f"cannot play {str(path)!r}: {error}") from None
        self.frames = 0
        self.ended = threading.Event()
        try:
            self.stream = self._open(device)
        except (sd.PortAudioError, ValueError) as error:
            self.file.close()
            raise FieldError("audio_output", f"cannot play: {in_words(error)}") from None

    def _open(self, device: int | None) -> sd.OutputStream:
        """A stream at the file's rate (or, if the device cannot take it, resampled to the device's)."""
        info = sd.query_devices(device, "output")
        self.channels = min(max(self.file.num_channels, 2), info["max_output_channels"])
        rate = self.file.samplerate
        try:
            sd.check_output_settings(device, channels=self.channels, samplerate=rate, dtype="float32")
        except (sd.PortAudioError, ValueError):
            rate = info["default_samplerate"]
            if isinstance(self.file, ReadableAudioFile):  # opened once, so never resampled yet
                self.file = self.file.resampled_to(rate)
        return sd.OutputStream(
            samplerate=rate, device=device, channels=self.channels, dtype="float32",
            latency="high", callback=self._callback, finished_callback=self.ended.set,
        )

    def start(self) -> None:
        self.stream.start()

    def close(self) -> None:
        """Stop at once (abort, not drain), then let go of the device and the file."""
        self.stream.abort()
        self.stream.close()
        self.ended.set()
        self.file.close()

    def _callback(self, outdata: np.ndarray, frames: int, time, status) -> None:
        block = self.file.read(frames)  # (file channels, n)
        n = block.shape[1]
        outdata[:n] = _fit(block, self.channels).T
        outdata[n:] = 0
        self.frames += n
        if n < frames:
            raise sd.CallbackStop


def _fit(block: np.ndarray, channels: int) -> np.ndarray:
    """A mono clip on every output channel; extra channels beyond the output's dropped."""
    if block.shape[0] == 1:
        return np.repeat(block, channels, axis=0)
    return block[:channels]


def _output_device(output: str | int | None) -> int | None:
    """The PortAudio index of an output named by (part of) its name or by index."""
    if output is None:
        return None
    if isinstance(output, bool) or not isinstance(output, (str, int)):
        raise FieldError("audio_output", f"a device name or index, not {output!r}")
    try:
        return sd.query_devices(output, "output")["index"]
    except (ValueError, sd.PortAudioError) as error:
        outputs = [
            f"{device['index']}: {device['name']}"
            for device in sd.query_devices() if device["max_output_channels"] > 0
        ]
        raise FieldError(
            "audio_output", f"{error}; outputs are {'; '.join(outputs) or 'none'}"
        ) from None

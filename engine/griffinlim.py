"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013): phase from a magnitude spectrogram, in torch.

Runs wherever the magnitude lives (CPU or GPU). Frames are centred, as torch's `center=True`
and torchaudio's and librosa's implementations; callers with other framing shift the result.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F


def griffin_lim(
    magnitude: torch.Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A signal `(..., samples)` whose STFT magnitude approximates `magnitude` `(..., bins, frames)`.

    `bins` may stop short of `n_fft // 2 + 1`: the bins left out are zero (a mel spectrogram
    that ends below Nyquist), and skipping them saves work. Each iteration projects onto
    consistent spectrograms (iSTFT then STFT) and keeps the phase; `momentum` (0.99, as
    torchaudio and librosa) extrapolates the phase and converges far faster than plain
    Griffin-Lim. Phases start random (`generator` makes them reproducible). The signal has
    `(frames - 1) * hop_length` samples unless `length` says otherwise.
    """
    frames = magnitude.shape[-1]
    transform = ShortTimeFourier(n_fft, hop_length, win_length, magnitude.shape[-2], frames,
                                 magnitude.device, magnitude.dtype)
    magnitude = magnitude.transpose(-1, -2).contiguous()  # (..., frames, bins): as torch's FFTs work
    spectrum = _iterate(transform, magnitude, _random_phases(magnitude, generator), n_iter, momentum)
    signal = transform.inverse(spectrum).clone()  # out of the transform's work buffer
    if length is None:
        return signal
    return F.pad(signal, (0, max(0, length - signal.shape[-1])))[..., :length]


def griffin_lim_chunked(
    magnitude_of: Callable[[int, int], torch.Tensor],
    frames: int,
    n_fft: int,
    hop_length: int,
    win_length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    generator: torch.Generator | None = None,
    chunk_frames: int = 512,
    overlap: int = 32,
    on_chunk: Callable[[int, int], None] | None = None,
) -> Iterator[torch.Tensor]:
    """`griffin_lim` of a spectrogram of any length, in memory that does not grow with it: the signal's
    `(frames - 1) * hop_length` samples come as consecutive pieces `(..., samples)`, ready to write.

    `magnitude_of(start, stop)` gives frames `start:stop` of the magnitude `(..., bins, stop - start)`, so even
    the magnitude is never whole. The frames are taken `chunk_frames` at a time, each chunk overlapping the one
    before by `overlap` frames. A chunk starts its overlap from the phases the chunk before ended with there
    (the rest from random phases), and the first half of the overlap is held, at every iteration, to the signal
    already made: the chunk grows out of it rather than being made apart and then faded in (independent chunks,
    crossfaded, dip by several dB where their phases disagree). A short raised-cosine crossfade at the end of the
    held part, away from both chunks' edges, joins them. Up to `chunk_frames` frames it is exactly `griffin_lim`.
    `on_chunk(done, total)` reports progress.
    """
    if not 0 < 4 * overlap <= 2 * chunk_frames:
        raise ValueError(f"overlap {overlap} must be above 0 and at most half of chunk_frames {chunk_frames}")
    if frames <= chunk_frames:
        yield griffin_lim(magnitude_of(0, frames), n_fft, hop_length, win_length, n_iter, momentum,
                          generator=generator)
        if on_chunk is not None:
            on_chunk(1, 1)
        return
    starts = list(range(0, frames - overlap, chunk_frames - overlap))
    tail: torch.Tensor | None = None  # the signal made so far from this chunk's first sample on, not yet final
    carried: torch.Tensor | None = None  # unit phasors of the last chunk's final `overlap` frames
    for done, start in enumerate(starts, 1):
        stop = min(start + chunk_frames, frames)
        magnitude = magnitude_of(start, stop).transpose(-1, -2).contiguous()
        transform = ShortTimeFourier(n_fft, hop_length, win_length, magnitude.shape[-1], stop - start,
                                     magnitude.device, magnitude.dtype)
        initial = _random_phases(magnitude, generator)
        held = overlap // 2 * hop_length  # samples from the chunk's start
        if carried is not None:
            initial[..., :overlap, :] = carried * magnitude[..., :overlap, :]
        spectrum = _iterate(transform, magnitude, initial, n_iter, momentum, None if tail is None else tail[..., :held])
        carried = torch.polar(torch.ones_like(magnitude[..., -overlap:, :]), spectrum[..., -overlap:, :].angle())
        made = transform.inverse(spectrum).clone()
        if tail is not None:
            fade_start = overlap // 4 * hop_length
            fade = 0.5 - 0.5 * torch.cos(torch.linspace(0, math.pi, held - fade_start, dtype=made.dtype,
                                                        device=made.device))
            made[..., fade_start:held] = tail[..., fade_start:held].lerp(made[..., fade_start:held], fade)
            made[..., :fade_start] = tail[..., :fade_start]
        if on_chunk is not None:
            on_chunk(done, len(starts))
        if done == len(starts):
            yield made
        else:
            final = (chunk_frames - overlap) * hop_length  # the next chunk starts here
            yield made[..., :final]
            tail = made[..., final:]


def _random_phases(magnitude: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """`magnitude` `(..., frames, bins)` with uniformly random phases (reproducible with `generator`)."""
    phase = torch.rand(magnitude.shape, generator=generator, device=magnitude.device, dtype=magnitude.dtype)
    return torch.polar(magnitude, phase * (2 * math.pi))


def _iterate(transform: ShortTimeFourier, magnitude: torch.Tensor, spectrum: torch.Tensor, n_iter: int,
             momentum: float, fixed: torch.Tensor | None = None) -> torch.Tensor:
    """Fast Griffin-Lim's iterations from `spectrum` `(..., frames, bins)`: the last spectrum (magnitude kept).
    `fixed`: the signal's first samples are held to it at every iteration (a chunk continuing the one before)."""
    previous = torch.zeros_like(spectrum)
    accelerate = momentum / (1 + momentum)
    for _ in range(n_iter):
        signal = transform.inverse(spectrum)
        if fixed is not None:
            signal[..., : fixed.shape[-1]] = fixed
        rebuilt = transform.forward(signal)
        _accelerate(rebuilt, previous, accelerate, magnitude, out=spectrum)  # the inverse is done with it
        previous = rebuilt
    return spectrum


class ShortTimeFourier:
    """An STFT and its least-squares inverse, pared down for Griffin-Lim's loop and for mel analysis.

    Frame i's window starts `lead` samples before sample i * hop_length (reflect padding at the
    ends): half a window by default, so frames are centred as with torch's `center=True`; the
    codecs' own framings set it. Each frame holds only the `win_length` samples its periodic
    Hann window covers, zero-padded to `n_fft` at the end (not centred, as torch.stft does): the
    magnitudes are the same, the phases differ by a fixed linear term, and transforming and
    overlap-adding `win_length` rather than `n_fft` samples per frame is much cheaper when the
    window is short. Not safe to share between threads (work buffers).
    """

    def __init__(self, n_fft: int, hop_length: int, win_length: int, bins: int, frames: int,
                 device: torch.device, dtype: torch.dtype, lead: int | None = None) -> None:
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.bins, self.frames = bins, frames
        # torch.stft centres the window in n_fft and the frame on its sample
        self.lead = n_fft // 2 - (n_fft - win_length) // 2 if lead is None else lead
        self.samples = (frames - 1) * hop_length  # what the inverse returns, as a centred istft
        self.window = torch.hann_window(win_length, device=device, dtype=dtype)
        self.pieces = -(-win_length // hop_length)  # hop-long pieces per window, for the overlap-add
        self._buffers: dict[str, torch.Tensor] = {}

    @functools.cached_property
    def reciprocal_envelope(self) -> torch.Tensor:
        """1 / the summed squared windows, which the inverse multiplies by; only the inverse needs it."""
        sums = self.window.new_empty(self.frames + self.pieces - 1, self.hop_length)
        return self._overlap_add(self.window.expand(self.frames, -1), sums).clamp_min(1e-11).reciprocal()

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        """`(..., samples)` → `(..., frames, bins)` complex."""
        return self.transform(self.pad(signal))

    def pad(self, signal: torch.Tensor) -> torch.Tensor:
        """`signal` padded so that frame i's window starts at sample i * hop_length, as `transform` takes it."""
        right = (self.frames - 1) * self.hop_length + self.win_length - self.lead - signal.shape[-1]
        mode = "reflect" if signal.shape[-1] > max(self.lead, right) else "constant"  # reflect needs that much
        return F.pad(signal.unsqueeze(-2), (self.lead, right), mode=mode).squeeze(-2)

    def transform(self, padded: torch.Tensor) -> torch.Tensor:
        """Padded `(..., samples)` → `(..., frames, bins)` complex, one frame every hop_length samples."""
        chunks = padded.unfold(-1, self.win_length, self.hop_length)
        frames = self._zeros("frames", (*chunks.shape[:-1], self.n_fft), padded.dtype)
        torch.mul(chunks, self.window, out=frames[..., : self.win_length])  # the rest stays zero
        return torch.fft.rfft(frames)[..., : self.bins]

    def inverse(self, spectrum: torch.Tensor) -> torch.Tensor:
        """`(..., frames, bins)` complex → `(..., samples)`; missing top bins count as zero.

        The result lives in a work buffer that the next call overwrites: copy it to keep it.
        """
        batch = spectrum.shape[:-2]
        if self.bins < self.n_fft // 2 + 1:
            full = self._zeros("spectrum", (*spectrum.shape[:-1], self.n_fft // 2 + 1), spectrum.dtype)
            full[..., : self.bins] = spectrum  # the top bins stay zero
            spectrum = full
        frames = torch.fft.irfft(spectrum, n=self.n_fft)
        sums = self._zeros("sums", (*batch, self.frames + self.pieces - 1, self.hop_length), frames.dtype)
        signal = self._overlap_add(frames, sums).mul_(self.reciprocal_envelope)
        return signal[..., self.lead : self.lead + self.samples]

    def _zeros(self, name: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """A zeroed work buffer kept between calls: torch's FFTs zero-pad short input slowly, and
        re-zeroing a fresh buffer each time costs as much, so only the live part is rewritten."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffers[name] = torch.zeros(shape, dtype=dtype, device=self.window.device)
        return buffer

    def _overlap_add(self, frames: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Sum the frames `(..., frames, >= win_length)`, each times the window, `hop_length` apart into
        `out` `(..., frames + pieces - 1, hop_length)`: piece j of every frame lands j hops later, so it
        is a few whole-array multiply-adds, with no windowed copy of the frames. Returns `out`'s samples
        up to the last window's end."""
        out.zero_()
        for j in range(self.pieces):
            start, stop = j * self.hop_length, min((j + 1) * self.hop_length, self.win_length)
            piece = out[..., j : j + self.frames, : stop - start]
            piece.addcmul_(frames[..., start:stop], self.window[start:stop])
        return out.flatten(-2)[..., : (self.frames - 1) * self.hop_length + self.win_length]


def _accelerate(
    rebuilt: torch.Tensor, previous: torch.Tensor, accelerate: float, magnitude: torch.Tensor, out: torch.Tensor
) -> None:
    """The momentum step `rebuilt - accelerate * previous`, its phase kept and `magnitude` restored, into `out`.

    In real arithmetic on the (re, im) pairs: torch's complex subtract and abs are several times
    slower on CPU than the same work on floats. `out` may be the spectrum the iteration started
    from, once the inverse is done with it, so the loop allocates no new spectrum each time.
    """
    parts = torch.sub(torch.view_as_real(rebuilt), torch.view_as_real(previous), alpha=accelerate,
                      out=torch.view_as_real(out))
    real, imag = parts[..., 0], parts[..., 1]
    scale = torch.mul(real, real).addcmul_(imag, imag).add_(1e-32).rsqrt_().mul_(magnitude)
    real.mul_(scale)
    imag.mul_(scale)


def spectral_convergence(
    magnitude: torch.Tensor, signal: torch.Tensor, n_fft: int, hop_length: int, win_length: int
) -> float:
    """‖S − |STFT(x)|‖ / ‖S‖ (Frobenius), with torch.stft centred: 0 when x's magnitude is exactly S."""
    window = torch.hann_window(win_length, device=signal.device, dtype=signal.dtype)
    rebuilt = torch.stft(signal, n_fft, hop_length, win_length, window, center=True,
                         pad_mode="reflect", return_complex=True).abs()
    target = F.pad(magnitude, (0, 0, 0, rebuilt.shape[-2] - magnitude.shape[-2]))
    frames = min(rebuilt.shape[-1], target.shape[-1])
    target = target[..., :frames]
    return float(torch.linalg.norm(target - rebuilt[..., :frames]) / torch.linalg.norm(target))

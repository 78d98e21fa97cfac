"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013): phase from a magnitude spectrogram, in torch.

Runs wherever the magnitude lives (CPU or GPU). Frames are centred (torch's `center=True`), as in
torchaudio's and librosa's implementations; callers with other framing shift the result.
"""
from __future__ import annotations

import math

import torch


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
    """A signal `(..., samples)` whose STFT magnitude approximates `magnitude` `(..., n_fft // 2 + 1, frames)`.

    Each iteration projects onto consistent spectrograms (iSTFT then STFT) and keeps the phase;
    `momentum` (0.99 as torchaudio and librosa) extrapolates the phase and converges far faster
    than plain Griffin-Lim. Phases start random (`generator` makes them reproducible).
    """
    window = torch.hann_window(win_length, device=magnitude.device, dtype=magnitude.dtype)
    if length is None:
        length = (magnitude.shape[-1] - 1) * hop_length

    def stft(signal: torch.Tensor) -> torch.Tensor:
        return torch.stft(signal, n_fft, hop_length, win_length, window, center=True,
                          pad_mode="reflect", return_complex=True)

    def istft(spectrum: torch.Tensor) -> torch.Tensor:
        return torch.istft(spectrum, n_fft, hop_length, win_length, window, center=True, length=length)

    phase = torch.rand(magnitude.shape, generator=generator, device=magnitude.device, dtype=magnitude.dtype)
    angles = torch.polar(torch.ones_like(magnitude), phase * (2 * math.pi))
    previous = torch.zeros_like(angles)
    accelerate = momentum / (1 + momentum)
    for _ in range(n_iter):
        rebuilt = stft(istft(magnitude * angles))
        angles = torch.sgn(torch.sub(rebuilt, previous, alpha=accelerate))  # unit phasors
        previous = rebuilt
    return istft(magnitude * angles)


def spectral_convergence(
    magnitude: torch.Tensor, signal: torch.Tensor, n_fft: int, hop_length: int, win_length: int
) -> float:
    """‖S − |STFT(x)|‖ / ‖S‖ (Frobenius): how far a signal's magnitude is from the target; 0 is exact."""
    window = torch.hann_window(win_length, device=signal.device, dtype=signal.dtype)
    rebuilt = torch.stft(signal, n_fft, hop_length, win_length, window, center=True,
                         pad_mode="reflect", return_complex=True).abs()
    frames = min(rebuilt.shape[-1], magnitude.shape[-1])
    target = magnitude[..., :frames]
    return float(torch.linalg.norm(target - rebuilt[..., :frames]) / torch.linalg.norm(target))

"""Fast Griffin-Lim: its STFT pair against torch's, and convergence on a real magnitude spectrogram."""
from __future__ import annotations

import math

import pytest
import torch
from sonocanvas.engine.griffinlim import ShortTimeFourier, griffin_lim, griffin_lim_chunked, spectral_convergence

pytestmark = pytest.mark.usefixtures("single_thread_torch")

N_FFT, HOP, WIN = 1024, 128, 512


def chirp_and_tones(samples: int, rate: int = 16000) -> torch.Tensor:
    t = torch.arange(samples) / rate
    return (torch.sin(2 * math.pi * (300 * t + 900 * t**2)) + 0.5 * torch.sin(2 * math.pi * 1200 * t)
            + 0.2 * torch.sin(2 * math.pi * 3100 * t) * (t > 0.3))


def target(signal: torch.Tensor) -> torch.Tensor:
    return torch.stft(signal, N_FFT, HOP, WIN, torch.hann_window(WIN), center=True, pad_mode="reflect",
                      return_complex=True).abs()


@pytest.mark.parametrize("n_fft, hop, win", [(N_FFT, HOP, WIN), (2048, 160, 1024), (1764, 441, 441 * 4)])
def test_stft_pair_matches_torch_and_inverts_exactly(n_fft, hop, win):
    signal = torch.randn(2, hop * 40, generator=torch.Generator().manual_seed(0))
    frames = signal.shape[-1] // hop + 1
    transform = ShortTimeFourier(n_fft, hop, win, n_fft // 2 + 1, frames, signal.device, signal.dtype)
    ours = transform.forward(signal)
    theirs = torch.stft(signal, n_fft, hop, win, torch.hann_window(win), center=True, pad_mode="reflect",
                        return_complex=True)
    assert ours.shape == theirs.transpose(-1, -2).shape
    assert torch.allclose(ours.abs(), theirs.abs().transpose(-1, -2), atol=1e-4)
    assert torch.allclose(transform.inverse(ours), signal, atol=1e-5)


def test_spectral_convergence_improves_with_iterations():
    magnitude = target(chirp_and_tones(16000))
    errors = [spectral_convergence(magnitude, griffin_lim(magnitude, N_FFT, HOP, WIN, n_iter=n,
                                                          generator=torch.Generator().manual_seed(0)),
                                   N_FFT, HOP, WIN)
              for n in (1, 4, 16, 64)]
    assert errors == sorted(errors, reverse=True) and len(set(errors)) == 4
    assert errors[0] > 0.3  # random phases are far off ...
    assert errors[-1] < 0.1  # ... and 64 fast iterations get close


def test_momentum_converges_faster_than_plain_griffin_lim():
    magnitude = target(chirp_and_tones(16000))

    def error(momentum: float) -> float:
        signal = griffin_lim(magnitude, N_FFT, HOP, WIN, n_iter=16, momentum=momentum,
                             generator=torch.Generator().manual_seed(1))
        return spectral_convergence(magnitude, signal, N_FFT, HOP, WIN)

    assert error(0.99) < 0.8 * error(0.0)


def test_missing_top_bins_count_as_zero():
    magnitude = target(chirp_and_tones(8000))
    magnitude[200:] = 0  # nothing above 3.1 kHz
    signal = griffin_lim(magnitude[:200], N_FFT, HOP, WIN, n_iter=32, generator=torch.Generator().manual_seed(2))
    assert spectral_convergence(magnitude, signal, N_FFT, HOP, WIN) < 0.1


def test_a_few_frames_are_enough():
    """Shorter than half a window, the signal cannot be reflect-padded; it is zero-padded instead."""
    magnitude = torch.rand(N_FFT // 2 + 1, 3, generator=torch.Generator().manual_seed(4))
    assert griffin_lim(magnitude, N_FFT, HOP, WIN, n_iter=4).shape == (2 * HOP,)


def test_seeded_runs_repeat_and_length_is_honoured():
    magnitude = target(chirp_and_tones(4096))
    natural = (magnitude.shape[-1] - 1) * HOP  # as a centred istft
    assert griffin_lim(magnitude, N_FFT, HOP, WIN, n_iter=1).shape == (natural,)
    runs = [griffin_lim(magnitude, N_FFT, HOP, WIN, n_iter=4, generator=torch.Generator().manual_seed(3),
                        length=natural + 100) for _ in range(2)]
    assert runs[0].shape == (natural + 100,)
    assert torch.equal(runs[0], runs[1])
    assert runs[0][natural:].abs().max() == 0 and runs[0][:natural].abs().max() > 0.1


def test_a_batch_rebuilds_each_clip_as_alone():
    """The transform's work buffers carry the batch shape: the first clip draws the same phases as
    it would alone and must come out the same; the second converges as well."""
    magnitudes = torch.stack([target(chirp_and_tones(4096)), target(chirp_and_tones(4096).flip(0))])
    batch = griffin_lim(magnitudes, N_FFT, HOP, WIN, n_iter=8, generator=torch.Generator().manual_seed(5))
    alone = griffin_lim(magnitudes[0], N_FFT, HOP, WIN, n_iter=8, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(batch[0], alone, atol=1e-5)
    assert spectral_convergence(magnitudes[1], batch[1], N_FFT, HOP, WIN) < 0.3


def _two_tones(seconds: float, sr: int = 16000) -> torch.Tensor:
    t = torch.arange(int(sr * seconds)) / sr
    return 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.3 * torch.sin(2 * math.pi * 1250 * t)


def _level_db(signal: torch.Tensor, edge: int) -> torch.Tensor:
    """Short-time level (25 ms windows, 12.5 ms apart) relative to the median, away from the ends."""
    rms = signal[edge:-edge].unfold(0, 400, 200).square().mean(-1).sqrt()
    return 20 * torch.log10(rms / rms.median())


def test_chunked_seams_are_inaudible_where_independent_chunks_dip():
    """A steady sound made 64 frames at a time (seven chunks, six seams) stays steady: its level moves by under
    0.5 dB and it matches the spectrogram as well as one whole run does. Chunks made apart and crossfaded the same
    way (the naive way, computed here) dip by several dB at the seams, so the check can tell a seam."""
    n_fft, hop, win = 512, 128, 512
    magnitude = torch.stft(_two_tones(2.5), n_fft, hop, win, torch.hann_window(win), return_complex=True).abs()
    frames = magnitude.shape[-1]
    whole = griffin_lim(magnitude, n_fft, hop, win, 64, generator=torch.Generator().manual_seed(0))
    reports = []
    pieces = list(griffin_lim_chunked(lambda a, b: magnitude[..., a:b], frames, n_fft, hop, win, 64,
                                      generator=torch.Generator().manual_seed(0), chunk_frames=64, overlap=16,
                                      on_chunk=lambda done, total: reports.append((done, total))))
    assert [p.shape[-1] for p in pieces] == [48 * hop] * 6 + [(313 - 6 * 48 - 1) * hop]  # final as soon as made
    chunked = torch.cat(pieces)
    assert chunked.shape == whole.shape and reports == [(i, 7) for i in range(1, 8)]
    level = _level_db(chunked, 2 * win)
    assert level.abs().max() < 0.5
    assert spectral_convergence(magnitude, chunked, n_fft, hop, win) < \
        1.2 * spectral_convergence(magnitude, whole, n_fft, hop, win)

    naive = torch.zeros_like(whole)
    generator = torch.Generator().manual_seed(0)
    for start in range(0, frames - 16, 48):
        piece = griffin_lim(magnitude[..., start:start + 64], n_fft, hop, win, 64, generator=generator)
        offset, fade_start, fade_stop = start * hop, (start + 4) * hop, (start + 8) * hop
        fade = 0.5 - 0.5 * torch.cos(torch.linspace(0, math.pi, fade_stop - fade_start))
        if start:
            naive[fade_start:fade_stop].lerp_(piece[fade_start - offset:fade_stop - offset], fade)
        naive[fade_stop if start else 0:offset + piece.shape[-1]] = piece[fade_stop - offset if start else 0:]
    assert _level_db(naive, 2 * win).min() < -3


def test_chunked_up_to_one_chunk_is_griffin_lim_itself():
    magnitude = torch.rand(2, 129, 40, generator=torch.Generator().manual_seed(1))
    whole = griffin_lim(magnitude, 256, 64, 256, 8, generator=torch.Generator().manual_seed(3))
    (chunked,) = griffin_lim_chunked(lambda a, b: magnitude[..., a:b], 40, 256, 64, 256, 8,
                                     generator=torch.Generator().manual_seed(3), chunk_frames=40, overlap=8)
    assert torch.equal(whole, chunked)

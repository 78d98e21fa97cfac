"""engine/canvas.py: MultiDiffusion windows, circular time, and looped sound, on the tiny-random models.

Random weights still obey the properties tested here: they follow from the convolutions' padding and the
windows' arithmetic, not from what the models learned.
"""
from __future__ import annotations

import pytest
import torch
from sonocanvas.engine.canvas import WindowedDenoiser, circular_time, loop_sound, window_starts
from sonocanvas.engine.denoisers import GuidedDenoiser, JointDenoiser


@pytest.mark.parametrize("width, window, stride, wrap, starts", [
    (16, 16, 8, False, [0]),                  # the canvas fits: one window, today's result
    (12, 16, 8, True, [0]),
    (32, 16, 8, False, [0, 8, 16]),
    (30, 16, 8, False, [0, 8, 14]),          # the last window flush with the right edge
    (32, 16, 8, True, [0, 8, 16, 24]),       # around the circle: the last one crosses the edge
    (30, 16, 8, True, [0, 8, 16, 24]),
])
def test_windows_cover_the_canvas(width, window, stride, wrap, starts):
    assert window_starts(width, window, stride, wrap) == starts
    covered = {(s + c) % width for s in starts for c in range(min(window, width))}
    assert covered == set(range(width))


def test_a_stride_wider_than_the_window_is_refused():
    with pytest.raises(ValueError, match="^stride: "):
        window_starts(40, 16, 17)


@pytest.fixture(scope="module")
def joint(tiny_loaded):
    """The joint denoiser of the tiny image and Auffusion models, with prompts of their own."""
    image, audio, _ = tiny_loaded

    def embeddings(model, prompt):
        return torch.cat([model.encode_prompts([""]), model.encode_prompts([prompt])])

    return JointDenoiser(GuidedDenoiser(image.unet, embeddings(image, "castle towers"), 7.5),
                         GuidedDenoiser(audio.unet, embeddings(audio, "bells"), 7.5), 0.5, 0, 0)


def latent(width: int, seed: int = 0) -> torch.Tensor:
    return torch.randn((1, 4, 4, width), generator=torch.Generator().manual_seed(seed))


T = torch.tensor(500)


def test_one_window_is_exactly_the_denoiser(joint):
    x = latent(16)
    assert torch.equal(WindowedDenoiser(joint, window=16, stride=8)(x, T, 3), joint(x, T, 3))


def test_overlapping_windows_average_their_predictions(joint):
    """Recomputed by hand: columns 0-7 from the first window alone, 8-15 the mean of two, 16-23 the second."""
    x = latent(24)
    got = WindowedDenoiser(joint, window=16, stride=8)(x, T, 3)
    first, second = joint(x[..., :16], T, 3), joint(x[..., 8:], T, 3)
    expected = torch.cat([first[..., :8], (first[..., 8:] + second[..., :8]) / 2, second[..., 8:]], dim=-1)
    torch.testing.assert_close(got, expected)


def test_a_circular_unet_commutes_with_a_circular_shift_along_time(joint):
    """Shifted by a multiple of the UNet's downsampling (2 here), a circular denoiser's prediction shifts with
    its input; with zero padding it does not, so the test can tell them apart."""
    x = latent(16, seed=1)
    unets = (joint.image.unet, joint.audio.unet)

    def shifted_error() -> float:
        return (joint(x.roll(4, dims=-1), T, 3) - joint(x, T, 3).roll(4, dims=-1)).abs().max().item()

    plain = shifted_error()
    with circular_time(*unets):
        circular = shifted_error()
    assert circular < 1e-4 < plain
    assert shifted_error() == plain  # restored: other jobs are unaffected


def test_wrapped_windows_commute_with_a_shift_by_the_stride(joint):
    """A circular canvas wider than the window: windows that wrap treat every column alike."""
    x = latent(32, seed=2)
    wrapped = WindowedDenoiser(joint, window=16, stride=8, wrap=True)
    error = (wrapped(x.roll(8, dims=-1), T, 3) - wrapped(x, T, 3).roll(8, dims=-1)).abs().max().item()
    assert error < 1e-4
    plain = WindowedDenoiser(joint, window=16, stride=8)
    assert (plain(x.roll(8, dims=-1), T, 3) - plain(x, T, 3).roll(8, dims=-1)).abs().max().item() > 1e-3


def test_circular_time_pads_only_time_and_leaves_height_zero_padded():
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, 3, 4)
    x[..., 0, -1] = 1.0  # top row, last column
    with circular_time(conv):
        y = conv(x)
    assert y[0, 0, 0, 0] == 1.0  # the last column reaches the first one around the circle
    assert y[0, 0, 2, -1] == 0.0  # the top row does not reach the bottom one: height stays zero-padded
    assert conv(x)[0, 0, 0, 0] == 0.0


def test_a_looped_vocoder_sound_flows_from_its_last_sample_into_its_first(tiny_loaded):
    """The tiny Auffusion vocoder on a picture made periodic: the seam's jump is as small as any step inside."""
    _, audio, _ = tiny_loaded
    vocoder, hop = audio.vocoder, audio.vocoder.config.hop_size
    columns = 64
    phase = torch.arange(columns) / columns * 2 * torch.pi
    mel = (torch.sin(phase * 3)[None, None, :] * torch.linspace(1, -1, vocoder.config.num_mels)[None, :, None]) - 4
    with torch.no_grad():
        looped = loop_sound(vocoder, mel, hop, margin=8)[0]
    assert looped.shape[-1] == columns * hop
    steps = (looped[1:] - looped[:-1]).abs()
    seam = (looped[0] - looped[-1]).abs()
    assert seam <= steps.max()

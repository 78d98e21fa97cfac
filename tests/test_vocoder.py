"""Auffusion's HiFi-GAN vocoder: built from its config, loading old weight_norm checkpoints, clear errors."""
from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch
from sonocanvas.engine.tiny import TINY_VOCODER
from sonocanvas.engine.vocoder import HifiGan, VocoderError, from_legacy_weight_norm, load_vocoder
from torch import nn


def test_legacy_weight_norm_keys_load_into_the_parametrized_convolution():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the old weight_norm is deprecated: it is the reference here
        old = nn.utils.weight_norm(nn.Conv1d(3, 5, 7, padding=3))
    assert {"weight_g", "weight_v"} <= set(old.state_dict())
    new = nn.utils.parametrizations.weight_norm(nn.Conv1d(3, 5, 7, padding=3))
    new.load_state_dict(from_legacy_weight_norm(old.state_dict()))
    x = torch.randn(2, 3, 40)
    torch.testing.assert_close(new(x), old(x))


def test_tiny_checkpoint_is_in_auffusions_format_and_loads(tiny_model_paths):
    folder = tiny_model_paths.auffusion / "vocoder"
    config = json.loads((folder / "config.json").read_text())
    for key in ("resblock", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel",
                "resblock_kernel_sizes", "resblock_dilation_sizes", "num_mels", "sampling_rate"):
        assert key in config
    checkpoint = torch.load(folder / "vocoder.pt", weights_only=True)
    assert any(k.endswith("weight_g") for k in checkpoint["generator"])
    vocoder = load_vocoder(folder)
    mel = torch.randn(2, config["num_mels"], 50) - 5  # natural-log mel, (batch, mels, frames)
    audio = vocoder(mel)
    assert audio.shape == (2, 50 * 160) and audio.dtype == torch.float32
    assert audio.abs().max() <= 1 and audio.abs().max() > 0
    # folding the weight norm away changes nothing: compare with the unfolded generator from the same weights
    unfolded = HifiGan(TINY_VOCODER)
    unfolded.load_state_dict(from_legacy_weight_norm(checkpoint["generator"]))
    with torch.no_grad():
        torch.testing.assert_close(audio, unfolded.eval()(mel), rtol=1e-4, atol=1e-5)


def test_a_missing_or_corrupt_vocoder_is_a_clear_error(tiny_model_paths, tmp_path):
    folder = tmp_path / "vocoder"
    shutil.copytree(tiny_model_paths.auffusion / "vocoder", folder)
    (folder / "vocoder.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(VocoderError, match=r"^vocoder: .*vocoder\.pt cannot be read"):
        load_vocoder(folder)
    (folder / "vocoder.pt").unlink()
    with pytest.raises(VocoderError, match=r"^vocoder: .*vocoder\.pt is missing"):
        load_vocoder(folder)
    shutil.copy(tiny_model_paths.auffusion / "vocoder" / "vocoder.pt", folder / "vocoder.pt")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "num_mels": 80}))
    with pytest.raises(VocoderError, match=r"^vocoder: .*does not match"):
        load_vocoder(folder)
    del config["upsample_rates"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(VocoderError, match="lacks the key 'upsample_rates'"):
        load_vocoder(folder)

"""Loading models from folders and hub ids: shared components, kinds, devices, and clear errors."""
from __future__ import annotations

import hashlib
import shutil

import pytest
import torch
from sonocanvas.engine.models import ModelError, ModelNotFoundError, load_audio_model, load_image_model, resolve_model


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_kinds_sizes_and_rates_are_read_from_the_folders(tiny_loaded):
    image, auffusion, riffusion = tiny_loaded
    assert (image.kind, auffusion.kind, riffusion.kind) == ("image", "auffusion", "riffusion")
    assert auffusion.vocoder is not None and riffusion.vocoder is None
    assert auffusion.native_size == (32, 128) and riffusion.native_size == (64, 64)
    assert auffusion.sample_rate == 16000
    assert image.device == torch.device("cpu") and image.dtype == torch.float32
    assert image.identity()["sha256"] != auffusion.identity()["sha256"]


def test_a_component_identical_in_two_models_is_loaded_once(tiny_model_paths, tiny_loaded):
    image, auffusion, riffusion = tiny_loaded
    weights = "vae/diffusion_pytorch_model.safetensors"
    assert sha256(tiny_model_paths.image / weights) == sha256(tiny_model_paths.auffusion / weights)
    assert image.vae is auffusion.vae is riffusion.vae
    assert image.text_encoder is riffusion.text_encoder  # SD and Riffusion share theirs in the tiny set
    text = "text_encoder/model.safetensors"
    assert sha256(tiny_model_paths.image / text) != sha256(tiny_model_paths.auffusion / text)
    assert image.text_encoder is not auffusion.text_encoder
    assert image.unet is not riffusion.unet


def test_kind_can_be_named_and_a_riffusion_folder_is_not_an_auffusion_model(tiny_model_paths):
    assert load_audio_model(tiny_model_paths.auffusion, kind="riffusion", device="cpu").kind == "riffusion"
    with pytest.raises(ModelError, match=r"^audio_model: .*not a usable Auffusion model.*vocoder"):
        load_audio_model(tiny_model_paths.riffusion, kind="auffusion", device="cpu")
    with pytest.raises(ValueError, match="^audio_kind: unknown 'piano'"):
        load_audio_model(tiny_model_paths.riffusion, kind="piano")


def test_a_missing_folder_names_the_model_and_what_to_do(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"^image_model: no model folder at .*nowhere.*model_index\.json"):
        load_image_model(tmp_path / "nowhere")


def test_a_hub_id_that_cannot_be_fetched_offline_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError) as caught:
        load_audio_model("auffusion/auffusion-full-no-adapter")
    message = str(caught.value)
    assert message.startswith("audio_model: model 'auffusion/auffusion-full-no-adapter' was not found")
    assert str(tmp_path / "hub") in message and "hf download auffusion/auffusion-full-no-adapter" in message
    assert isinstance(caught.value, ValueError)


def test_a_hub_id_loads_from_the_cache_with_its_revision(tiny_model_paths, tmp_path, monkeypatch):
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-sd"
    shutil.copytree(tiny_model_paths.image, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    path, revision = resolve_model("someone/tiny-sd", "image_model")
    assert revision == commit and path == repo / "snapshots" / commit
    model = load_image_model("someone/tiny-sd", device="cpu")
    assert model.identity()["revision"] == commit and model.identity()["name"] == "someone/tiny-sd"


def test_a_missing_or_corrupt_unet_is_a_clear_error(tiny_model_paths, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_paths.image, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\0" * 100)
    with pytest.raises(ModelError, match=r"^image_model: cannot load .*unet .*download the model again"):
        load_image_model(broken, device="cpu")
    shutil.rmtree(broken / "unet")
    with pytest.raises(ModelNotFoundError, match=r"^image_model: .*broken has no unet/ folder"):
        load_image_model(broken, device="cpu")


def test_a_missing_vocoder_is_a_clear_error(tiny_model_paths, tmp_path):
    broken = tmp_path / "auffusion"
    shutil.copytree(tiny_model_paths.auffusion, broken)
    (broken / "vocoder" / "vocoder.pt").unlink()
    with pytest.raises(ModelError, match=r"^audio_model: .*vocoder\.pt is missing"):
        load_audio_model(broken, device="cpu")


def test_devices_that_are_not_present_and_unknown_dtypes_are_user_errors(tiny_model_paths):
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="^device: cuda is not available"):
            load_image_model(tiny_model_paths.image, device="cuda")
    with pytest.raises(ValueError, match="^device: unknown device 'toaster'"):
        load_image_model(tiny_model_paths.image, device="toaster")
    with pytest.raises(ValueError, match="^dtype: unknown 'fp8'"):
        load_image_model(tiny_model_paths.image, device="cpu", dtype="fp8")

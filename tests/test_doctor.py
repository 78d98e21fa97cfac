"""`sonocanvas doctor` on this machine: real config files, a real port taken by a real socket, a real
drop folder (with hard links refused the way exFAT refuses them), a Hugging Face cache laid out as
huggingface_hub lays it out, and the device build record that `build-device` writes."""
from __future__ import annotations

import errno
import os
import socket
import subprocess

import pytest
import torch
from huggingface_hub import constants
from osc_helpers import doctor_rows, write_config
from sonocanvas.bridge.cli import main
from sonocanvas.engine.catalog import IMAGE_MODEL


def doctor(capsys, *args: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """Exit code and the table as {check: (status, detail)} (`doctor_rows`)."""
    code = main(["doctor", *args])
    return code, doctor_rows(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def own_config_home(tmp_path, monkeypatch):
    """Each test its own per-user config folder: another test's device build is not this one's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


@pytest.fixture
def config(tmp_path, tiny_model_paths):
    """A config serve could run from: models in folders, a free port, a drop folder in tmp_path."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return write_config(tmp_path, port=port, image_model=str(tiny_model_paths.image),
                        audio_models={"auffusion": str(tiny_model_paths.auffusion),
                                      "riffusion": str(tiny_model_paths.riffusion)})


def test_a_machine_ready_to_serve(capsys, config, tiny_model_paths):
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 0
    assert rows["python"][0] == "ok" and rows["torch"] == ("ok", torch.__version__)
    accelerator = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else None
    assert rows["device"][1].startswith(f"{accelerator}: " if accelerator else "cpu (")
    assert rows["device"][0] == ("ok" if accelerator else "warn")  # serving on a CPU works, slowly
    assert rows["image_model"] == ("ok", f"folder {tiny_model_paths.image}")
    assert rows["audio_models.riffusion"] == ("ok", f"folder {tiny_model_paths.riffusion}")
    assert rows["audio output"] == ("ok", "audition plays on 'default'; outputs: default")  # ALSA's null output
    assert rows["osc port"][0] == "ok" and "is free (UDP and TCP)" in rows["osc port"][1]
    assert rows["drop folder"] == ("ok", f"{config.parent / 'drop'}: writable; writes use link: hard links")
    assert rows["device build"] == ("warn", "not built yet: run `sonocanvas build-device`")


def test_a_taken_port_stops_serve(capsys, config):
    import yaml

    port = yaml.safe_load(config.read_text())["port"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))
        code, rows = doctor(capsys, "--config", str(config))
    assert code == 1
    assert rows["osc port"][0] == "FAIL" and rows["osc port"][1].startswith("port: ")


def test_a_drop_folder_without_hard_links_gets_the_no_replace_rename(capsys, config, monkeypatch):
    def link(source, target, *args, **kwargs):  # as Linux's exfat and vfat answer
        raise OSError(errno.EPERM, "Operation not permitted", source, None, target)

    monkeypatch.setattr(os, "link", link)
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 0
    assert rows["drop folder"][0] == "ok" and "writes use rename-noreplace: no hard links" in rows["drop folder"][1]


def test_a_drop_folder_that_cannot_be_made_stops_serve(capsys, tmp_path, config):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config.write_text(config.read_text().replace(str(tmp_path / "drop"), str(blocker / "drop")))
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 1
    assert rows["drop folder"] == ("FAIL", f"{blocker / 'drop'}: {blocker} is a file, not a folder")


def test_a_drop_folder_on_an_unplugged_drive_fails_as_serve_would_refuse_it(capsys, tmp_path, config, monkeypatch):
    """serve will not make a drop folder in an unplugged drive's place (bridge/output/drop.py, check_drive):
    doctor says so, rather than "serve creates it". A temporary folder stands in for /Volumes."""
    from sonocanvas.bridge.output import drop as drop_module

    volumes = tmp_path / "Volumes"
    volumes.mkdir()
    monkeypatch.setattr(drop_module, "MOUNT_FOLDERS", (str(volumes),))
    folder = volumes / "Samples" / "sonocanvas"
    config.write_text(config.read_text().replace(str(tmp_path / "drop"), str(folder)))
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 1
    assert rows["drop folder"][0] == "FAIL"
    assert rows["drop folder"][1].startswith(f"{folder} belongs on a drive that is not mounted (is it plugged in?)")
    assert list(volumes.iterdir()) == []


def test_models_from_the_cache_or_the_exact_download_command(capsys, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    # the default image model cached, as huggingface_hub lays out a snapshot
    repo = cache / f"models--{IMAGE_MODEL.replace('/', '--')}"
    commit = "a" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "model_index.json").write_text("{}")
    config = write_config(tmp_path / "default-models")  # no models named: the defaults
    hub = socket.create_server(("127.0.0.1", 0))  # a hub that can be reached: its host accepts connections
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{hub.getsockname()[1]}")
    with hub:
        code, rows = doctor(capsys, "--config", str(config))
    assert code == 0  # serve would download the rest on first start
    assert rows["image_model"] == ("ok", f"{IMAGE_MODEL}: in the Hugging Face cache ({repo})")
    status, detail = rows["audio_models.auffusion"]
    assert status == "warn"
    command = detail.split("get it now: ")[1]
    assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0  # one command, as a shell reads it
    assert command.startswith("hf download auffusion/auffusion-full-no-adapter --include model_index.json ")
    assert "'unet/*.safetensors'" in command and command.endswith("--exclude '*.fp16.*' '*non_ema*' '*.ckpt' "
                                                                  "'*.onnx' '*.msgpack'")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 1
    assert rows["audio_models.riffusion"][0] == "FAIL" and "HF_HUB_OFFLINE is set" in rows["audio_models.riffusion"][1]


def test_a_model_to_download_from_a_hub_out_of_reach_stops_serve(capsys, tmp_path, monkeypatch):
    """Issue 23, item 2: offline, with no model in the cache, serve would fail at its first start; doctor says so
    (exit 1) with the download command, instead of "nothing stops serve"."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connections are refused
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    code, rows = doctor(capsys, "--config", str(write_config(tmp_path / "default-models")))
    assert code == 1
    status, detail = rows["image_model"]
    assert status == "FAIL" and f"the hub cannot be reached (127.0.0.1:{port}: " in detail
    assert "download it where it can: hf download " in detail


def test_the_last_device_build_is_reported(capsys, tmp_path, config):
    device = tmp_path / "built" / "sonocanvas.amxd"
    device.parent.mkdir()
    assert main(["build-device", "-o", str(device)]) == 0
    code, rows = doctor(capsys, "--config", str(config))
    assert code == 0
    assert rows["device build"][0] == "ok" and rows["device build"][1].startswith(f"{device} (built 20")
    device.unlink()
    code, rows = doctor(capsys, "--config", str(config))
    assert rows["device build"][0] == "warn" and "is gone" in rows["device build"][1]


def test_a_bad_config_is_named_and_stops_serve(capsys, tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("port: 99999\n")
    code, rows = doctor(capsys, "--config", str(bad))
    assert code == 1
    assert rows["config"][0] == "FAIL" and rows["config"][1].startswith("port: must be an integer")


def test_no_config_yet_means_the_defaults_and_none_is_written(capsys, tmp_path):
    missing = tmp_path / "none" / "config.yaml"
    code, rows = doctor(capsys, "--config", str(missing))
    assert rows["config"] == ("ok", f"none yet at {missing}: the defaults (serve writes it)")
    assert not missing.parent.exists()

"""`sonocanvas presets` and `sonocanvas effects` list what a request may name (issue 23, item 6): the shipped
presets and chains and the user's own, each with its values, and a request naming one of them is served."""
from __future__ import annotations

import yaml
from sonocanvas.bridge.cli import main
from sonocanvas.bridge.request.presets import PresetStore
from sonocanvas.bridge.store.paths import shipped_presets_dir


def test_presets_lists_every_shipped_and_user_preset_with_its_values(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the user's config folder, empty but for one preset
    from sonocanvas.bridge.store.config import default_config_path

    user = default_config_path().parent / "presets"
    user.mkdir(parents=True)
    (user / "mine.yaml").write_text("image_prompt: a fox\naudio_prompt: rain\nsteps: 30\n")
    assert main(["presets"]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    shipped = PresetStore(shipped_presets_dir(), tmp_path / "none")  # the shipped ones alone
    assert len(shipped.names()) > 10 and set(lines) == set(shipped.names()) | {"mine (yours)"}
    assert lines["mine (yours)"] == "mine (yours): image_prompt='a fox', audio_prompt='rain', steps=30"
    assert f"audio_prompt={shipped.get('castle-bells')['audio_prompt']!r}" in lines["castle-bells"]


def test_effects_lists_every_chain_with_its_plugins(capsys):
    assert main(["effects"]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    catalogue = yaml.safe_load((shipped_presets_dir() / "effects" / "catalogue.yaml").read_text())
    assert set(lines) == set(catalogue)
    assert lines["gain"] == "gain: Gain gain_db=-6"
    assert "0x" not in "".join(lines.values())  # no memory addresses

"""Effect chains: built from YAML, applied with pedalboard, plugin paths only from the user's config."""
from __future__ import annotations

import numpy as np
import pedalboard
import pytest
import yaml
from sonocanvas.bridge.output.effects import BUILT_INS, EffectChains, EffectError
from sonocanvas.bridge.store.paths import shipped_presets_dir

CATALOGUE = shipped_presets_dir() / "effects" / "catalogue.yaml"
RATE = 48000


def noise(channels: int = 2, seconds: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (0.1 * rng.standard_normal((channels, int(RATE * seconds)))).astype(np.float32)


def rms_db(audio: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def write_catalogue(tmp_path, chains: dict):
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(chains))
    return path


def test_catalogue_gain_chain_changes_rms_by_its_db():
    gain_db = yaml.safe_load(CATALOGUE.read_text())["gain"][0]["gain_db"]
    x = noise()
    y = EffectChains.load(CATALOGUE).apply("gain", x, RATE)
    assert abs(rms_db(y) - rms_db(x) - gain_db) < 0.01


@pytest.mark.parametrize("gain_db", [-12.5, 3.0])
def test_user_gain_chain_changes_rms_by_the_set_db(gain_db):
    chains = EffectChains.load(CATALOGUE, {"level": [{"plugin": "Gain", "gain_db": gain_db}]})
    x = noise(channels=1)[0]
    y = chains.apply("level", x, RATE)
    assert y.shape == x.shape
    assert abs(rms_db(y) - rms_db(x) - gain_db) < 0.01


def test_catalogue_has_the_promised_chains():
    assert {"space", "tape", "lofi", "tight", "gain"} <= set(EffectChains.load(CATALOGUE).names())


@pytest.mark.parametrize("name", sorted(yaml.safe_load(CATALOGUE.read_text())))
@pytest.mark.parametrize("channels", [1, 2])
def test_each_catalogue_chain_processes_audio(name, channels):
    x = noise(channels)
    audio = x[0] if channels == 1 else x
    y = EffectChains.load(CATALOGUE).apply(name, audio, RATE)
    assert y.shape == audio.shape  # tails end with the clip
    assert y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert not np.allclose(y, audio, atol=1e-4)  # the chain did something


def test_every_whitelisted_plugin_exists_in_pedalboard():
    for name in BUILT_INS:
        assert issubclass(getattr(pedalboard, name), pedalboard.Plugin), name


def test_a_user_chain_replaces_a_catalogue_chain_of_the_same_name():
    chains = EffectChains.load(CATALOGUE, {"space": [{"plugin": "Gain", "gain_db": 6.0}]})
    x = noise()
    assert abs(rms_db(chains.apply("space", x, RATE)) - rms_db(x) - 6.0) < 0.01


def test_unknown_chain_is_refused_naming_fx():
    with pytest.raises(EffectError, match=r"^fx: unknown chain 'nope'; choose one of .*space"):
        EffectChains.load(CATALOGUE).apply("nope", noise(), RATE)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"plugin": "Reverbb"},
         r"^effects: chain 'bad', plugin 1: unknown plugin 'Reverbb'; built-in plugins are .*Reverb"),
        ({"plugin": "Convolution", "impulse_response_filename": "/etc/passwd"}, r"unknown plugin 'Convolution'"),
        ({"plugin": "Pedalboard"}, r"unknown plugin 'Pedalboard'"),
        ({"plugin": "Reverb", "roomsize": 0.5},
         r"^effects: chain 'bad', plugin 1 \(Reverb\): unknown parameter 'roomsize'; Reverb has .*room_size"),
        ({"plugin": "Reverb", "is_effect": True}, r"unknown parameter 'is_effect'"),
        ({"plugin": "Reverb", "room_size": 2.0},
         r"^effects: chain 'bad', plugin 1 \(Reverb\): parameter 'room_size': .*between"),
        ({"plugin": "Gain", "gain_db": "loud"}, r"parameter 'gain_db' must be a float, not 'loud'"),
        ({"plugin": "Gain", "gain_db": float("nan")}, r"parameter 'gain_db' must be finite"),
        ({"room_size": 0.5}, r"name exactly one of 'plugin', 'vst3' or 'au'"),
        ({"plugin": "Gain", "vst3": "/x.vst3"}, r"name exactly one of"),
        ("Reverb", r"must be a mapping"),
    ],
)
def test_bad_plugins_are_refused_naming_chain_plugin_and_parameter(entry, message):
    with pytest.raises(EffectError, match=message):
        EffectChains.load(CATALOGUE, {"bad": [entry]})


@pytest.mark.parametrize(
    "chains", [{"empty": []}, {"notalist": {"plugin": "Gain"}}, {"../up": [{"plugin": "Gain"}]}, ["Gain"]])
def test_malformed_chains_are_refused(chains):
    with pytest.raises(EffectError, match=r"^effects: "):
        EffectChains.load(CATALOGUE, chains)


@pytest.mark.parametrize("kind, suffix", [("vst3", ".vst3"), ("au", ".component")])
def test_a_catalogue_naming_a_plugin_path_is_refused(tmp_path, kind, suffix):
    plugin = tmp_path / f"Plugin{suffix}"
    plugin.write_bytes(b"not really a plugin")
    catalogue = write_catalogue(tmp_path, {"sneaky": [{kind: str(plugin)}]})
    with pytest.raises(EffectError, match=rf"chain 'sneaky', plugin 1: a {kind} plugin path may be named only in the "
                                          r"effects of your own config"):
        EffectChains.load(catalogue)


def test_user_plugin_paths_are_checked_then_loaded_by_pedalboard(tmp_path):
    missing = tmp_path / "Missing.vst3"
    with pytest.raises(EffectError,
                       match=r"^effects: chain 'mine', plugin 1 \(vst3 '.*Missing.vst3'\): no such plugin"):
        EffectChains.load(CATALOGUE, {"mine": [{"vst3": str(missing)}]})
    with pytest.raises(EffectError, match=r"the path must be absolute"):
        EffectChains.load(CATALOGUE, {"mine": [{"vst3": "Relative.vst3"}]})
    text = tmp_path / "Notes.txt"
    text.write_text("hello")
    with pytest.raises(EffectError, match=r"a vst3 plugin path ends in .vst3"):
        EffectChains.load(CATALOGUE, {"mine": [{"vst3": str(text)}]})
    with pytest.raises(EffectError, match=r"unknown keys 'gain_db'"):
        EffectChains.load(CATALOGUE, {"mine": [{"vst3": str(missing), "gain_db": 3}]})
    fake = tmp_path / "Fake.vst3"
    fake.write_bytes(b"\x7fELF not a plugin")
    # A real call of pedalboard.load_plugin: the file is not a plugin, and the error says which.
    with pytest.raises(EffectError, match=r"^effects: chain 'mine', plugin 1 \(vst3 '.*Fake.vst3'\): .*VST3"):
        EffectChains.load(CATALOGUE, {"mine": [{"vst3": str(fake), "parameters": {"mix": 0.5}}]})

"""Presets: the shipped prompt pairs, and the user's own saved one file each, by safe names only."""
from __future__ import annotations

import pytest
from sonocanvas.bridge.request.presets import PresetError, PresetStore, check_values
from sonocanvas.bridge.store.paths import shipped_presets_dir

# The paper's ten pairs (Images that Sound, configs/main_denoise/experiment/examples).
PAPER_PAIRS = {
    "corgis": ("a painting of corgis, grayscale, black background", "dog barking", 2034),
    "castle-bells": ("a painting of castle towers, grayscale", "bell ringing", 1234),
    "tigers": ("a painting of tigers, grayscale", "tiger growling", 1234),
    "kittens": ("a painting of furry kittens, grayscale", "a kitten meowing for attention", 1234),
    "trains": ("a painting of trains, grayscale", "train whistling", 1234),
    "cute-dogs": ("a painting of cute dogs, grayscale", "dog barking", 1234),
    "race-cars": ("a painting of auto racing game, grayscale", "a race car passing by and disappearing", 1234),
    "horses": ("a painting of horse heads, grayscale, black background", "horse neighing", 1234),
    "lily-pond": ("a pond full of water lilies, grayscale, lithograph style", "frog croaking", 2024),
    "blooming-garden": ("a painting of a blooming garden, grayscale", "birds singing sweetly", 1234),
}


@pytest.fixture
def store(tmp_path):
    return PresetStore(shipped_dir=shipped_presets_dir(), user_dir=tmp_path / "config" / "presets")


def test_ships_the_papers_pairs_with_their_settings(store):
    for name, (image_prompt, audio_prompt, seed) in PAPER_PAIRS.items():
        preset = store.get(name)
        assert (preset["image_prompt"], preset["audio_prompt"], preset["seed"]) == (image_prompt, audio_prompt, seed)
        assert preset["audio_model"] == "auffusion"
        assert (preset["steps"], preset["scheduler"], preset["image_start"]) == (100, "ddim", 0.1)
        assert (preset["image_guidance"], preset["audio_guidance"], preset["audio_weight"]) == (10.0, 10.0, 0.5)


@pytest.mark.parametrize("steps", [1, 2, 5, 10, 25, 100])
def test_every_shipped_preset_works_at_any_step_count(store, steps):
    from sonocanvas.bridge.request.build import Limits, parse_generate

    limits = Limits(read_roots=(store.user_dir,), fx_names=frozenset(),
                    audio_models=frozenset({"auffusion", "riffusion"}))
    for name in store.names():
        request = parse_generate(["1", "preset", name, "steps", steps], limits, store.get)
        assert request.settings.image_start_step == steps // 10  # the paper's tenth, 10 of 100


def test_ships_riffusion_pairs(store):
    riffusion = [name for name in store.names() if store.get(name)["audio_model"] == "riffusion"]
    assert len(riffusion) >= 3
    for name in riffusion:
        assert store.get(name)["image_prompt"] and store.get(name)["audio_prompt"]


def test_save_list_get_delete_round_trip(store, tmp_path):
    values = {"image_prompt": "a lighthouse, grayscale", "audio_prompt": "foghorn", "seed": 5,
              "audio_weight": 0.4, "fx": "space"}
    assert not store.user_dir.exists()  # created on first save
    store.save("my-foghorn", values)
    assert "my-foghorn" in store.names()
    assert store.get("my-foghorn") == values
    assert sorted(p.name for p in store.user_dir.iterdir()) == ["my-foghorn.yaml"]  # one file, no temporaries
    # A fresh store (a restarted server) reads it back from disk.
    assert PresetStore(shipped_presets_dir(), store.user_dir).get("my-foghorn") == values
    store.delete("my-foghorn")
    assert "my-foghorn" not in store.names()
    assert list(store.user_dir.iterdir()) == []
    with pytest.raises(PresetError, match=r"^name: no preset 'my-foghorn'"):
        store.get("my-foghorn")
    with pytest.raises(PresetError, match=r"^name: no preset 'my-foghorn'"):
        store.delete("my-foghorn")


def test_saving_again_replaces_the_users_preset(store):
    store.save("pad", {"audio_prompt": "warm pad", "seed": 1})
    store.save("pad", {"audio_prompt": "cold pad"})
    assert store.get("pad") == {"audio_prompt": "cold pad"}


def test_a_user_preset_overrides_a_shipped_one_until_deleted(store):
    shipped = store.get("corgis")
    store.save("corgis", {**shipped, "seed": 7})
    assert store.get("corgis")["seed"] == 7
    assert store.names().count("corgis") == 1
    store.delete("corgis")
    assert store.get("corgis") == shipped


def test_a_shipped_preset_cannot_be_deleted(store):
    with pytest.raises(PresetError, match=r"^name: 'tigers' is a shipped preset and cannot be deleted"):
        store.delete("tigers")
    assert "tigers" in store.names()


@pytest.mark.parametrize(
    "name, reason",
    [
        ("", "a name is required"),
        ("../evil", "path separator"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("/etc/passwd", "path separator"),
        ("..", r"may not contain '\.\.'"),
        ("x..y", r"may not contain '\.\.'"),
        (".hidden", "may use only"),
        ("Bad Name", "may use only"),
        ("café", "may use only"),
        ("x" * 65, "at most 64"),
        ("con", "names a device on Windows"),
        ("lpt1", "names a device on Windows"),
        (None, "must be a string"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(store, tmp_path, name, reason):
    before = sorted(tmp_path.rglob("*"))
    for action in (lambda: store.save(name, {"seed": 1}), lambda: store.get(name), lambda: store.delete(name)):
        with pytest.raises(PresetError, match=rf"^name: .*{reason}"):
            action()
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    "values, message",
    [
        ({"seeed": 1}, r"^seeed: not a preset key"),
        ({"preset": "corgis"}, r"^preset: not a preset key"),
        ({"reply_port": 9000}, r"^reply_port: not a preset key"),
        ({"seed": "abc"}, r"^seed: "),
        ({"seed": True}, r"^seed: "),
        ({"steps": 0}, r"^steps: "),
        ({"audio_weight": 1.5}, r"^audio_weight: "),
        ({"scheduler": "magic"}, r"^scheduler: "),
        ({"audio_model": "musicgen"}, r"^audio_model: "),
        ({}, r"^preset: needs at least one key"),
    ],
)
def test_bad_values_are_refused_naming_the_key(store, values, message):
    with pytest.raises(PresetError, match=message):
        store.save("ok-name", values)
    assert not store.user_dir.exists()


def test_a_hand_edited_user_file_that_is_broken_gets_a_clear_error(store):
    store.user_dir.mkdir(parents=True)
    (store.user_dir / "broken.yaml").write_text("seed: [unclosed\n")
    (store.user_dir / "wrong.yaml").write_text("seed: many\n")
    for name in ("broken", "wrong"):
        with pytest.raises(PresetError, match=rf"^name: .*{name}.yaml is not a valid preset"):
            store.get(name)


def test_shipped_files_are_checked_when_loaded(tmp_path):
    (tmp_path / "a.yaml").write_text("one:\n  seed: 1\n")
    (tmp_path / "b.yaml").write_text("one:\n  seed: 2\n")
    with pytest.raises(PresetError, match=r"^name: 'one' is shipped twice"):
        PresetStore(tmp_path, tmp_path / "user")
    (tmp_path / "b.yaml").write_text("two:\n  steps: many\n")
    with pytest.raises(PresetError, match=r"^steps: .*preset 'two'"):
        PresetStore(tmp_path, tmp_path / "user")


def test_a_preset_may_hold_an_interpolation(store):
    store.save("halfway", {"image_prompt": "a", "audio_prompt": "b", "to_audio_prompt": "c", "to_seed": 4,
                           "alpha": 0.5})
    assert store.get("halfway")["to_seed"] == 4
    with pytest.raises(PresetError, match="^init_picture: not a preset key"):
        check_values({"init_picture": "/tmp/x.png"})


def test_the_shipped_presets_in_sections_fit_their_models_windows(store):
    """What the pipeline checks as the job starts (Pipeline.sections), at the full-size model's window: an SD-family
    VAE's latents are an eighth of the picture's columns."""
    from sonocanvas.engine.canvas import window_seconds
    from sonocanvas.engine.catalog import AUDIO_MODELS
    from sonocanvas.engine.sections import has_sections, plan

    sectioned = [name for name in store.names()
                 if any(has_sections(store.get(name)[field]) for field in ("image_prompt", "audio_prompt"))]
    assert {"bells-to-thunder", "dawn-to-dusk"} <= set(sectioned)
    for name in sectioned:
        preset = store.get(name)
        kind = AUDIO_MODELS[preset["audio_model"]]
        window = kind.native_size[1] // 8
        for field in ("image_prompt", "audio_prompt"):
            sections = plan(preset[field], field, preset["seconds"], *window_seconds(window, 8, kind.column_seconds),
                            preset.get("bpm"))
            assert [s.prompt for s in sections] == [part.strip() for part in preset[field].split("|")]
            assert sections[-1].end == preset["seconds"]

"""The server's config file (per user, written with comments on first run) and the flags that override it."""
import re
import shutil
from pathlib import Path

import pytest
import yaml
from sonocanvas.bridge.cli import build_parser
from sonocanvas.bridge.commands.serve import apply_flags
from sonocanvas.bridge.osc.addresses import REPLIES, REQUESTS
from sonocanvas.bridge.osc.handlers import HANDLERS
from sonocanvas.bridge.store.config import ConfigError, default_config_path, load_config
from sonocanvas.engine.catalog import CLAP_MODEL


def test_first_run_writes_a_commented_config_at_the_per_user_place(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = default_config_path()
    assert path == tmp_path / "xdg" / "sonocanvas" / "config.yaml"
    config = load_config()
    text = path.read_text()
    assert text.startswith("# sonocanvas server config") and text.count("\n#") > 5
    assert (config.host, config.port, config.sample_rate, config.bit_depth) == ("127.0.0.1", 9010, 48000, 24)
    assert config.audio_models == {"auffusion": "auffusion/auffusion-full-no-adapter",
                                   "riffusion": "riffusion/riffusion-model-v1"}
    assert config.journal_path == path.parent / "journal.sqlite3" and config.presets_dir == path.parent / "presets"
    assert config.caps == {"steps": 500, "variations": 8}  # the policy caps, written out in the template
    path.write_text(text.replace("port: 9010", "port: 9123"))
    assert load_config().port == 9123  # an existing file is read, never rewritten


def test_values_are_checked_and_named(tmp_path):
    path = tmp_path / "c.yaml"
    for text, field in [("colour: red", "colour"), ("port: 99999", "port"), ("bit_depth: 16", "bit_depth"),
                        ("device: tpu", "device"), ("audio_models: {musicgen: x}", "audio_models"),
                        ("read_dirs: /tmp", "read_dirs"), ("- a list", "config"), ("caps: [1]", "caps"),
                        ("caps: {steps: many}", "caps"), ("caps: {colour: 3}", "caps"), ("caps: {steps: 0}", "caps")]:
        path.write_text(text)
        with pytest.raises(ConfigError, match=f"^{field}: "):
            load_config(path)


def test_riffusion_can_be_left_unloaded_and_folders_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"audio_models": {"auffusion": "/models/auf", "riffusion": None},
                                    "drop_dir": "drops", "read_dirs": ["samples"]}))
    config = load_config(path)
    assert config.audio_models == {"auffusion": "/models/auf"}
    assert config.drop_dir == tmp_path / "drops" and config.read_dirs == (tmp_path / "samples",)


def test_flags_override_the_file(tmp_path):
    config = load_config(tmp_path / "c.yaml")
    args = build_parser().parse_args([
        "serve", "--config", str(tmp_path / "c.yaml"), "--host", "0.0.0.0", "--port", "0", "--drop-dir",
        str(tmp_path / "d"), "--image-model-source", "/m/sd", "--audio-model-source", "riffusion=/m/riff",
        "--device", "cpu", "--models", "tiny-random"])
    changed = apply_flags(config, args)
    assert (changed.host, changed.port, changed.drop_dir, changed.image_model, changed.device, changed.tiny_random) \
        == ("0.0.0.0", 0, tmp_path / "d", "/m/sd", "cpu", True)
    assert changed.audio_models["riffusion"] == "/m/riff"
    assert changed.audio_models["auffusion"] == config.audio_models["auffusion"]
    unchanged = apply_flags(config, build_parser().parse_args(["serve"]))
    assert unchanged == config
    for given in ("musicgen=/m/x", "/m/which-kind", "riffusion="):  # serve runs every kind: KIND= is needed
        with pytest.raises(ValueError, match="^audio_model_source: "):
            apply_flags(config, build_parser().parse_args(["serve", "--audio-model-source", given]))
    with pytest.raises(ValueError, match="^port: "):
        apply_flags(config, build_parser().parse_args(["serve", "--port", "70000"]))


@pytest.mark.parametrize(("old", "new"), [("--image-model", "--image-model-source ID_OR_DIR"),
                                          ("--audio-model", "--audio-model-source KIND=ID_OR_DIR")])
def test_an_older_spelling_of_a_model_option_is_refused_naming_the_new_one(old, new, capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["serve", old, "x"])
    assert exit.value.code == 2
    assert f"error: {old} is now {new}" in capsys.readouterr().err


def test_tiny_random_keeps_a_scorer_the_user_named(tmp_path, tiny_model_paths):
    """An explicit --clip-model wins over --models tiny-random's tiny scorers; the default becomes tiny."""
    from sonocanvas.bridge.studio.studio import Models, Studio

    named = tmp_path / "my-clip"  # a CLIP folder of the user's own, not the tiny default
    shutil.copytree(tiny_model_paths.clip, named)
    models = Models("unused", {}, "cpu", tiny_random=True, clip=str(named), clap=CLAP_MODEL)
    studio = Studio.load(models, None, "test")
    assert studio.scorers.clip_model == str(named)
    assert studio.scorers.clap_model == str(tiny_model_paths.clap)


def test_the_address_table_is_the_docs_and_every_request_in_it_is_handled():
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "osc.md").read_text()
    requests = doc.split("## Requests")[1].split("### Keys")[0]
    replies = doc.split("## Replies")[1].split("## Errors")[0]
    documented = set(re.findall(r"^\| `(/sonocanvas/[a-z/]+)`", requests, re.M))
    documented_replies = set(re.findall(r"^\| `(/sonocanvas/[a-z/]+)`", replies, re.M))
    assert "/sonocanvas/generate" in documented and "/sonocanvas/done" in documented_replies  # both tables read
    assert documented == set(REQUESTS) == set(HANDLERS)
    assert documented_replies == REPLIES
    for request in REQUESTS.values():  # each request's row names the replies the table gives it
        row = re.search(rf"^\| `{request.address}` \|.*$", requests, re.M)
        assert row is not None
        named = set(re.findall(r"`(/sonocanvas/[a-z/]+)`", row.group(0).split("|")[3]))
        assert named <= set(request.replies), (request.address, named - set(request.replies))


def test_serve_refuses_a_drop_folder_too_deep_for_any_clip_name_before_making_it(tmp_path):
    from sonocanvas.bridge.commands.serve import build_server
    from sonocanvas.engine.errors import FieldError

    deep = tmp_path / ("x" * 250)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"drop_dir": str(deep), "port": 0}))
    with pytest.raises(FieldError, match="^drop_dir: .* too long") as error:
        build_server(load_config(tmp_path / "config.yaml"))
    assert error.value.field == "drop_dir"
    assert not deep.exists()

"""The request arguments of docs/osc.md: typed, range-checked, and refused with the field named."""
import dataclasses
import os
from pathlib import Path

import pytest
from sonocanvas.bridge.request.build import (
    GENERATE_KEYS,
    Limits,
    ProtocolError,
    build_generate,
    generate_keys_table,
    parse_encode,
    parse_generate,
    parse_keys,
)
from sonocanvas.engine.errors import FieldError
from sonocanvas.engine.settings import SETTINGS, bounds, capped


@pytest.fixture
def limits(tmp_path):
    drop, extra = tmp_path / "drop", tmp_path / "samples"
    drop.mkdir()
    extra.mkdir()
    return Limits(read_roots=(drop, extra), fx_names=frozenset({"space", "lofi"}),
                  audio_models=frozenset({"auffusion"}), sample_rate=48000, bit_depth=24)


PRESETS = {"corgis": {"image_prompt": "corgis", "audio_prompt": "dog barking", "seed": 2034, "steps": 100},
           "best-of": {"image_prompt": "towers", "audio_prompt": "bells", "variations": 16, "keep": 2, "strength": 0.4}}


def generate(limits, *args):
    return parse_generate(["7", *args], limits, PRESETS.__getitem__)


def refused(field, call, *args):
    with pytest.raises(ProtocolError) as caught:
        call(*args)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    return str(caught.value)


def test_full_request_is_typed(limits):
    r = generate(limits, "image_prompt", "castle towers", "audio_prompt", "bell ringing", "seed", 42,
                 "steps", 30.0, "image_guidance", 7, "audio_weight", 0.25, "scheduler", "euler",
                 "variations", 3, "fx", "space", "sample_rate", 44100, "bit_depth", 32, "bpm", 120, "bars", 2)
    s = r.settings
    assert (r.job_id, s.image_prompt, s.audio_prompt, s.seed, s.steps) == ("7", "castle towers", "bell ringing", 42, 30)
    assert isinstance(s.steps, int) and isinstance(s.image_guidance, float) and s.image_guidance == 7.0
    assert (s.audio_weight, s.scheduler, s.variations) == (0.25, "euler", 3)
    assert (r.output.fx, r.output.sample_rate, r.output.bit_depth, r.output.bpm, r.output.bars) \
        == ("space", 44100, 32, 120.0, 2)


def test_defaults_come_from_server_limits(limits):
    r = generate(limits, "image_prompt", "a", "audio_prompt", "b")
    assert (r.output.sample_rate, r.output.bit_depth, r.output.fx, r.output.bpm) == (48000, 24, "", None)
    assert 0 <= r.settings.seed < 2**31 and r.settings.steps == 100 and r.audio_model == "auffusion"


def test_random_seed_is_resolved(limits):
    seeds = {generate(limits, "image_prompt", "a", "audio_prompt", "b", "seed", -1).settings.seed for _ in range(5)}
    assert all(0 <= s < 2**31 for s in seeds) and len(seeds) > 1


def test_preset_gives_defaults_and_explicit_keys_win(limits):
    r = generate(limits, "preset", "corgis", "seed", 5)
    assert (r.settings.image_prompt, r.settings.audio_prompt, r.settings.seed, r.preset) \
        == ("corgis", "dog barking", 5, "corgis")
    refused("preset", generate, limits, "preset", "nope")


@pytest.mark.parametrize("args, field", [
    (("image_prompt", "a"), "audio_prompt"),
    (("image_prompt", "a", "audio_prompt", "b", "steps", 0), "steps"),
    (("image_prompt", "a", "audio_prompt", "b", "steps", 501), "steps"),
    (("image_prompt", "a", "audio_prompt", "b", "steps", 2.5), "steps"),
    (("image_prompt", "a", "audio_prompt", "b", "steps", "ten"), "steps"),
    (("image_prompt", "a", "audio_prompt", "b", "audio_weight", 1.5), "audio_weight"),
    (("image_prompt", "a", "audio_prompt", "b", "image_guidance", "x"), "image_guidance"),
    (("image_prompt", "a", "audio_prompt", "b", "scheduler", "magic"), "scheduler"),
    (("image_prompt", "a", "audio_prompt", "b", "audio_model", "riffusion"), "audio_model"),
    (("image_prompt", "a", "audio_prompt", "b", "fx", "/usr/lib/vst3/evil.vst3"), "fx"),
    (("image_prompt", "a", "audio_prompt", "b", "bit_depth", 16), "bit_depth"),
    (("image_prompt", "a", "audio_prompt", "b", "bpm", 120), "bars"),
    (("image_prompt", "a", "audio_prompt", "b", "bars", 4), "bpm"),
    (("image_prompt", "a", "audio_prompt", "b", "steps", 20, "image_start_step", 21), "image_start_step"),
    (("image_prompt", "a", "audio_prompt", "b", "seed", True), "seed"),
    (("image_prompt", "a", "audio_prompt", "b", "colour", "red"), "colour"),
    (("image_prompt", "a", "audio_prompt"), "audio_prompt"),
    (("image_prompt", "a", 5, "b"), "key"),
    (("image_prompt", "a", "image_prompt", "b"), "image_prompt"),
    (("image_prompt", "a", "audio_prompt", "b", "reply_port", 70000), "reply_port"),
])
def test_bad_values_name_their_field(limits, args, field):
    refused(field, generate, limits, *args)


def test_job_id_must_lead(limits):
    refused("job_id", parse_generate, [], limits, PRESETS.__getitem__)
    refused("job_id", parse_generate, [7, "image_prompt", "a"], limits, PRESETS.__getitem__)


def test_paths_must_lie_in_read_roots(limits, tmp_path):
    inside = limits.read_roots[1] / "riff.wav"
    inside.write_bytes(b"x")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"x")
    (limits.read_roots[0] / "link.wav").symlink_to(outside)
    base = ("image_prompt", "a", "audio_prompt", "b", "init_audio")
    assert generate(limits, *base, str(inside)).settings.init_audio == inside.resolve()
    for bad in (str(outside), str(limits.read_roots[0] / ".." / "secret.wav"), "../secret.wav",
                str(limits.read_roots[0] / "link.wav"), "/etc/passwd"):
        assert "outside" in refused("init_audio", generate, limits, *base, bad)
    refused("init_audio", generate, limits, *base, str(limits.read_roots[0] / "missing.wav"))
    refused("picture_path", parse_encode, ["1", str(outside)], limits)


def test_paths_the_system_cannot_resolve_name_their_field(limits):
    (limits.read_roots[0] / "loop").symlink_to(limits.read_roots[0] / "loop")
    base = ("image_prompt", "a", "audio_prompt", "b", "init_audio")
    for bad in ("loop", "x" * 300 + ".wav"):  # a symlink loop; a name longer than the file system allows
        assert "cannot use" in refused("init_audio", generate, limits, *base, bad)
    assert "cannot use" in refused("picture_path", parse_encode, ["1", "loop"], limits)


def test_a_path_that_is_no_string_or_no_file_is_told_for_what_it_is(limits):
    folder = limits.read_roots[0] / "takes"
    folder.mkdir()
    os.mkfifo(limits.read_roots[0] / "pipe.wav")
    assert refused("picture_path", parse_encode, ["1"], limits) == \
        "picture_path: missing: argument 2 must be the picture's path"
    assert refused("picture_path", parse_encode, ["1", 5], limits) == \
        "picture_path: argument 2 must be the picture's path, a string; got an int 5"
    for bad in (str(folder), "pipe.wav"):
        reason = refused("picture_path", parse_encode, ["1", bad], limits)
        assert "is a folder, a pipe or a device, not a file" in reason
    assert "no such file" in refused("picture_path", parse_encode, ["1", "gone.png"], limits)

def test_encode_request(limits):
    picture = limits.read_roots[0] / "face.png"
    picture.write_bytes(b"x")
    r = parse_encode(["1", "face.png", "format", "riffusion", "seconds", 5, "bit_depth", 32], limits)
    assert (r.picture_path, r.format, r.seconds, r.output.bit_depth) == (picture.resolve(), "riffusion", 5.0, 32)
    refused("seconds", parse_encode, ["1", "face.png", "seconds", 100], limits)
    refused("steps", parse_encode, ["1", "face.png", "steps", 10], limits)


def test_every_documented_generate_key_is_known():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "osc.md").read_text()
    section = doc.split("### Keys of `/sonocanvas/generate`")[1].split("###")[0]
    documented = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert documented == set(GENERATE_KEYS)
    assert parse_keys([], GENERATE_KEYS) == {}


def test_the_docs_generate_key_table_is_the_settings_table():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "osc.md").read_text()
    section = doc.split("### Keys of `/sonocanvas/generate`")[1].split("###")[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"
    assert table == generate_keys_table()


def test_limits_are_the_table_with_the_policy_caps():
    flat = bounds(capped({"steps": 500, "variations": 8}))
    triples = {flat[i]: (flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)}
    assert triples["steps"] == (1, 500) and triples["variations"] == (1, 8) and triples["seed"] == (-1, 2**31 - 1)
    assert triples["audio_weight"] == (0.0, 1.0) and isinstance(triples["audio_weight"][0], float)
    assert isinstance(triples["steps"][0], int) and "image_prompt" not in triples
    assert set(triples) == {s.name for s in SETTINGS if s.numeric}
    limits = Limits(read_roots=(Path("/nonexistent"),), fx_names=frozenset(), audio_models=frozenset({"auffusion"}),
                    caps={"steps": 20})
    with pytest.raises(ProtocolError, match=r"^steps: must be between 1 and 20, got 21"):
        parse_generate(["7", "image_prompt", "a", "audio_prompt", "b", "steps", 21], limits, {}.__getitem__)
    with pytest.raises(FieldError, match="^caps: "):
        capped({"steps": 0})
    with pytest.raises(FieldError, match="^caps: "):
        capped({"scheduler": 3})


def test_protocol_error_is_the_engines_field_error(limits):
    with pytest.raises(FieldError) as caught:
        generate(limits, "image_prompt", "a", "audio_prompt", "b", "steps", 0)
    assert (caught.value.field, caught.value.reason) == ("steps", "must be between 1 and 500, got 0")


def test_keys_outside_the_table_parse_as_table_settings_do():
    from sonocanvas.bridge.request.build import PRESET_NAME, REPLY_PORT

    assert parse_keys(["reply_port", 9000.0], {"reply_port": REPLY_PORT}) == {"reply_port": 9000}
    with pytest.raises(ProtocolError, match="^reply_port: must be between 1 and 65535, got 0"):
        parse_keys(["reply_port", 0], {"reply_port": REPLY_PORT})
    assert parse_keys(["name", "x"], {"name": PRESET_NAME}) == {"name": "x"}


def test_with_keep_the_variations_cap_bounds_what_is_kept_whether_a_preset_or_the_request_says_it(limits):
    """The cap of 8 clips a request: with keep it bounds the clips kept, so 16 candidates are fine; a preset's keep
    counts as the request's own. A preset's strength waits for a riff rather than refusing a plain generate."""
    request = generate(limits, "preset", "best-of")
    assert (request.settings.variations, request.keep) == (16, 2)
    assert generate(limits, "preset", "best-of", "keep", 8).keep == 8
    refused("keep", generate, limits, "preset", "best-of", "keep", 9)
    refused("variations", generate, limits, "image_prompt", "a", "audio_prompt", "b", "variations", 9)
    request = generate(limits, "image_prompt", "a", "audio_prompt", "b", "variations", 64, "keep", 1)
    assert request.settings.variations == 64
    refused("strength", generate, limits, "image_prompt", "a", "audio_prompt", "b", "strength", 0.5)


def test_the_command_line_builds_with_the_same_builder_and_only_the_policy_lifted(limits, tmp_path):
    """`build_generate` makes both: the command line's `Limits.local` drops the server's caps and folder bound
    (its user's own machine), and nothing else: the table's bounds and the checks together still hold."""
    picture = tmp_path / "elsewhere.png"
    picture.write_bytes(b"")
    wide = {"image_prompt": "a", "audio_prompt": "b", "steps": 600, "init_picture": str(picture)}
    with pytest.raises(ProtocolError, match="^steps: must be between 1 and 500"):
        build_generate("7", wide, limits, PRESETS.__getitem__)
    local = Limits.local(frozenset({"space"}))
    made = build_generate("", wide, local, PRESETS.__getitem__)
    assert made.settings.steps == 600 and made.settings.init_picture == picture.resolve()
    for bad, field in (({"steps": 1001}, "steps"), ({"bpm": 120.0}, "bars"), ({"fx": "lofi"}, "fx")):
        with pytest.raises(ProtocolError, match=f"^{field}: "):
            build_generate("", {**wide, **bad}, local, PRESETS.__getitem__)
    preset = build_generate("", {"preset": "corgis"}, local, PRESETS.__getitem__)
    assert (preset.settings.image_prompt, preset.settings.seed, preset.preset) == ("corgis", 2034, "corgis")


def test_width_counts_against_the_output_bound_as_seconds_does(limits):
    """Issue 24, finding 6: `width` sets a clip's length (a column is 10 ms), so it is bounded as `seconds` is;
    a request that says neither is as long as the model's own width, and is bounded too."""
    common = ("image_prompt", "a", "audio_prompt", "b", "variations", 8, "sample_rate", 192000)
    refused("seconds", generate, limits, *common, "seconds", 40.96)
    refused("width", generate, limits, *common, "width", 4096)
    assert generate(limits, *common, "width", 1024).settings.width == 1024  # 10.24 s x 8 x 4 = 328 s: allowed
    refused("width", generate, dataclasses.replace(limits, max_output_seconds=300), *common)


def test_an_encode_carries_its_length_bound_to_the_job_that_reads_the_picture(limits, tmp_path):
    """With no `seconds`, the picture's own width decides the length, known only when the job reads it; the
    request carries the bound it must hold (`load_art`'s `max_seconds`): the key's minute, or less where the
    output bound is tighter."""
    picture = tmp_path / "drop" / "art.png"
    picture.write_bytes(b"")
    assert parse_encode(["1", str(picture)], limits).longest == 60
    tight = dataclasses.replace(limits, max_output_seconds=100)
    assert parse_encode(["1", str(picture), "sample_rate", 192000], tight).longest == 25  # 100 s at 48 kHz

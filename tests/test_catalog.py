"""The one registry of audio-model kinds (engine/catalog.py) is what every table of models says."""
import pytest
from sonocanvas.bridge.store.config import Config
from sonocanvas.engine.catalog import AUDIO_MODELS, DEFAULT_AUDIO_MODEL, DEFAULT_AUDIO_MODELS
from sonocanvas.engine.models import NATIVE_SIZES, load_audio_model
from sonocanvas.engine.settings import BY_NAME
from sonocanvas.engine.spectrogram import FORMATS, get_format


def test_settings_config_formats_and_sizes_follow_the_registry(tmp_path):
    assert BY_NAME["audio_model"].choices == tuple(AUDIO_MODELS)
    assert BY_NAME["audio_model"].default == DEFAULT_AUDIO_MODEL == "auffusion"
    assert Config(tmp_path / "config.yaml").audio_models == DEFAULT_AUDIO_MODELS \
        == {k: v.hub_id for k, v in AUDIO_MODELS.items()}
    for name, kind in AUDIO_MODELS.items():
        assert kind.format in FORMATS
        assert NATIVE_SIZES[name] == kind.native_size


def test_the_tiny_set_has_every_kind_and_a_folder_says_its_kind(tiny_model_paths):
    assert set(tiny_model_paths.audio) == set(AUDIO_MODELS)
    for name, folder in tiny_model_paths.audio.items():
        model = load_audio_model(folder, device="cpu")
        assert model.kind == name  # a vocoder/ folder is Auffusion's, a plain one Riffusion's
        assert (model.vocoder is not None) == AUDIO_MODELS[name].vocoder


@pytest.mark.parametrize("kind", list(AUDIO_MODELS.values()), ids=lambda kind: kind.name)
def test_a_column_lasts_its_formats_hop(kind):
    """`column_seconds` bounds a request's length without loading the codecs; it must be the codec's own."""
    fmt = get_format(kind.format)
    assert kind.column_seconds == fmt.hop_length / fmt.sample_rate

"""Shared fixtures: the tiny-random model set, built once per test session in the real on-disk layouts."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Audition plays through real PortAudio. On Linux, point ALSA at its null output for the whole test session
# (and the servers it starts) by adding a config file to ALSA's own, so that a machine with no sound card
# still has an output and nothing is written to ~/.asoundrc. ALSA_CONFIG_PATH takes a ':'-separated list of
# files, read in order (alsa-lib conf.c, snd_config_update_r); a user's own setting is left alone. Set
# before anything imports sounddevice, which starts PortAudio on import.
ALSA_CONF = Path("/usr/share/alsa/alsa.conf")  # alsa-lib's default ALSA_CONFIG_PATH on Debian and most distributions
if sys.platform.startswith("linux") and ALSA_CONF.is_file() and "ALSA_CONFIG_PATH" not in os.environ:
    os.environ["ALSA_CONFIG_PATH"] = f"{ALSA_CONF}:{Path(__file__).parent / 'data' / 'alsa-null.conf'}"

from sonocanvas.engine.tiny import TinyModels, tiny_models  # noqa: E402 (after ALSA_CONFIG_PATH is set, above)


@pytest.fixture(scope="session", autouse=True)
def private_config_home(tmp_path_factory):
    """The per-user config folder ($XDG_CONFIG_HOME/sonocanvas) in a temporary folder for the whole session,
    the servers it starts included: no test reads or writes the config, or the device build record, of
    the user running it."""
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield Path(os.environ["XDG_CONFIG_HOME"])
    if before is None:
        del os.environ["XDG_CONFIG_HOME"]
    else:
        os.environ["XDG_CONFIG_HOME"] = before


@pytest.fixture(scope="session", autouse=True)
def sonocanvas_cache(tmp_path_factory):
    """$SONOCANVAS_CACHE for the whole session, the servers it starts included: the tiny-random set is built
    in it (as `tiny-random/`), never in the home folder of whoever runs the tests."""
    before = os.environ.get("SONOCANVAS_CACHE")
    os.environ["SONOCANVAS_CACHE"] = str(tmp_path_factory.mktemp("sonocanvas-cache"))
    yield Path(os.environ["SONOCANVAS_CACHE"])
    if before is None:
        del os.environ["SONOCANVAS_CACHE"]
    else:
        os.environ["SONOCANVAS_CACHE"] = before


@pytest.fixture(scope="session")
def tiny_model_paths(sonocanvas_cache) -> TinyModels:
    """Folders of tiny random SD 1.5 / Auffusion / Riffusion models (image, auffusion, riffusion)."""
    return tiny_models(root=sonocanvas_cache / "tiny-random")


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_paths):
    """The tiny models loaded on CPU in fp32 through the user-facing loaders: (image, auffusion, riffusion)."""
    from sonocanvas.engine.models import load_audio_model, load_image_model

    return (load_image_model(tiny_model_paths.image, device="cpu"),
            load_audio_model(tiny_model_paths.auffusion, device="cpu"),
            load_audio_model(tiny_model_paths.riffusion, device="cpu"))


@pytest.fixture(scope="session")
def auffusion_pipe(tiny_loaded):
    """The joint pipeline of the tiny image and Auffusion models (cheap to build: the models are loaded once)."""
    from sonocanvas.engine.pipeline import JointPipeline

    image, auffusion, _ = tiny_loaded
    return JointPipeline(image, auffusion)


@pytest.fixture
def single_thread_torch():
    """torch on one thread for the test: on oversubscribed cores (CI, a shared VM) its intra-op pool waits
    for descheduled workers at every operation, which made the Griffin-Lim tests ten times slower. The
    results do not depend on the thread count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory, tiny_model_paths, sonocanvas_cache):
    """A real server on the session's tiny-random models, in process, one per test module, with a config and
    drop folder of its own (a module's `server` fixture may be this one)."""
    from osc_helpers import write_config
    from sonocanvas.bridge.commands.serve import build_server
    from sonocanvas.bridge.store.config import load_config

    config = load_config(write_config(tmp_path_factory.mktemp("serve"))).replace(tiny_random=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SONOCANVAS_CACHE", str(sonocanvas_cache))  # the session's tiny-random set, built once
        server = build_server(config).start()
    yield server
    server.close()


@pytest.fixture
def client(server):
    """A UDP client that has said hello to the module's `server` (each server test module defines its own)."""
    from osc_helpers import UdpClient

    c = UdpClient(server.address)
    c.hello()
    yield c
    c.close()

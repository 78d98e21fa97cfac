"""`sonocanvas serve`: load the models once and answer OSC (docs/osc.md) until stopped.

SIGTERM or Ctrl-C (SIGINT) stops it within STOP_WITHIN seconds, whatever its clients did: the signal handler
takes no lock (it raises in the main thread), the jobs it cuts short are told to their clients as interrupted
and journalled so (`JobQueue.close`, bounded), and a watchdog ends the process if closing still hangs. A
second signal ends it at once.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ...engine.errors import FieldError
from ...engine.settings import BY_NAME
from ..log import LEVELS
from ..store.config import Config, load_config
from ._model_options import TINY, add_device_options, add_model_options, audio_sources

log = logging.getLogger("sonocanvas.server")

STOP_WITHIN = 5.0
"""Seconds from SIGTERM or Ctrl-C to the end of the process, at the most."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the OSC server a DAW device talks to",
        description="Run the local engine server: OSC over UDP and SLIP-framed TCP (see docs/osc.md).",
    )
    parser.add_argument("--config", type=Path,
                        help="YAML config file (default: the per-user one, created on first run)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="UDP and TCP port (default 9010; 0 picks a free one)")
    parser.add_argument("--drop-dir", type=Path, help="folder finished clips are dropped into")
    add_device_options(parser, "the config's, auto", None)
    add_model_options(parser, renamed={"--image-model": "--image-model-source ID_OR_DIR",
                                       "--audio-model": "--audio-model-source KIND=ID_OR_DIR"})
    parser.add_argument("--token", help="secret a client's hello must carry; required off loopback "
                        "(better: keep 127.0.0.1 and reach it through an SSH tunnel, see docs/osc.md)")
    parser.add_argument("--log-level", choices=LEVELS,
                        help="what the log (stderr) shows: one line per job at info (the default); third-party "
                             "chatter at debug")
    parser.add_argument("--ray", metavar="local|ADDRESS",
                        help="run jobs on Ray workers: local starts Ray here, HOST:PORT joins the cluster whose "
                             "head is there (pip install 'sonocanvas[ray]'; docs/studio.md)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="with --ray: jobs run at once, each on a worker with a GPU of its own "
                             "(default: one per GPU of the cluster)")
    parser.set_defaults(run=run, default_log_level="info")  # a server logs each job; see cli.main


def apply_flags(config: Config, args: argparse.Namespace) -> Config:
    sources = audio_sources(args.audio_model_source)
    return config.replace(
        host=args.host, port=args.port, drop_dir=args.drop_dir, image_model=args.image_model_source,
        audio_models={**config.audio_models, **sources} if sources else None, device=args.device,
        tiny_random=args.models == TINY or None, token=args.token, clip_model=args.clip_model,
        clap_model=args.clap_model, ray=args.ray, workers=args.workers,
    )


def build_server(config: Config):
    """The server `serve` runs, from the config. What can fail fast does, before the models load, with a
    ValueError naming what to change: the port or host (bound first), a missing token off loopback, and
    a journal another server holds or that is not a file. The drop folder, when opened, removes what killed
    writers left (`DropFolder`); another live writer's temporaries are never touched."""
    from ..jobs.journal import Journal
    from ..osc.server import Server
    from ..osc.transport import bind_pair, is_loopback
    from ..output.drop import drop_stem_room, make_folder

    sockets = bind_pair(config.host, config.port)
    journal = None
    try:
        loopback = is_loopback(sockets)
        if not loopback and not config.token:
            raise FieldError("token", f"serving on {config.host} (not loopback) needs a token: --token SECRET or "
                             "token: in the config; or keep 127.0.0.1 and use an SSH tunnel (docs/osc.md)")
        journal = Journal(config.journal_path)
        drop_stem_room(config.drop_dir)  # a drop folder too deep for any clip's name is refused before it is made
        make_folder(config.drop_dir, "drop_dir")  # before the models load: a wrong folder is said at once
        services = _services(config, journal, loopback)
    except BaseException:
        for sock in sockets:
            sock.close()
        if journal is not None:
            journal.close()
        raise
    return Server(services, sockets=sockets)


def read_roots(config: Config, loopback: bool) -> tuple[Path, ...]:
    """The folders a request may read (decision 4 of the protocol): the drop folder and `read_dirs`; on
    loopback also the user's home, where a DAW user keeps samples, unless the config turns `read_home` off.
    Off loopback the clients are other people: only what the config names."""
    home = (Path.home(),) if loopback and config.read_home else ()
    return (config.drop_dir, *config.read_dirs, *home)


def _services(config: Config, journal, loopback: bool):
    """What the server uses, from the config: models, drop folder, effects, presets, audition."""
    from ..osc.services import Services
    from ..output.drop import DropFolder
    from ..output.effects import EffectChains
    from ..request.build import Limits
    from ..request.presets import PresetStore
    from ..store.paths import shipped_presets_dir
    from ..studio.studio import Models, Studio

    version = importlib.metadata.version("sonocanvas")
    effects = EffectChains.load(shipped_presets_dir() / "effects" / "catalogue.yaml", config.effects)
    drop = DropFolder(config.drop_dir, effects)
    device = None if config.device == "auto" else config.device
    models = Models(config.image_model, config.audio_models, device, config.tiny_random, config.clip_model,
                    config.clap_model)
    cap = config.caps.get("variations", BY_NAME["variations"].high)
    batch = int(cap) if cap is not None else 1
    if config.ray:
        studio = _cluster(config.ray, config, models, drop, version, batch)
        workers = len(studio.workers)
    else:
        studio, workers = Studio.load(models, drop, version, batch), 1
    player, player_error = _player(config)
    return Services(
        run=studio.run,
        limits=Limits(
            read_roots=read_roots(config, loopback),
            fx_names=frozenset(effects.names()),
            audio_models=studio.audio_models,
            sample_rate=config.sample_rate,
            bit_depth=config.bit_depth,
            caps=config.caps,
        ),
        journal=journal,
        version=version,
        device=studio.device,
        models=studio.label,
        presets=PresetStore(shipped_presets_dir(), config.presets_dir),
        player=player,
        player_error=player_error,
        token=config.token,
        scorers=studio.scorers,
        workers=workers,
        drop=drop,
    )


def _cluster(address: str, config: Config, models, drop, version: str, batch: int):
    """The Ray workers of `--ray`; Ray is imported here only, so a server without it never loads Ray."""
    try:
        from ..studio.cluster import Cluster
    except ImportError as error:
        raise FieldError("ray", f"Ray is not installed ({error}); pip install 'sonocanvas[ray]'") from None
    return Cluster.start(address, config.workers, models, drop, version, batch)


def _player(config: Config):
    """The audition player, or None and the reason; a server without audio output still generates."""
    from ..output.audition import Player

    try:
        return Player(config.audio_output), ""
    except Exception as error:  # PortAudio missing or the device gone: audition alone is off
        from ..output.portaudio import in_words

        return None, f"audio_output: audition is off: {in_words(error)}"


class _Stop(Exception):
    """Raised in the main thread by the first stop signal: it ends the wait (or the loading) where it is, and
    the server closes on the way out. Raising takes no lock, unlike setting an Event from the handler, which
    deadlocks if the signal lands while the main thread holds that Event's own lock."""


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_second_signal)
    raise _Stop(signal.Signals(signum).name)


def _on_second_signal(signum: int, frame: FrameType | None) -> None:
    # os.write, not print: print takes stderr's lock, which the interrupted main thread may hold
    os.write(2, f"sonocanvas serve: {signal.Signals(signum).name} again: stopping now\n".encode())
    os._exit(128 + signum)


class _Watchdog:
    """From the first stop signal on, ends the process STOP_WITHIN seconds later if it is still there. Python's
    C-level handler writes each signal to the wakeup socket as it arrives, so this holds even while the main
    thread is inside one long call (loading a model) and its Python handler has not run yet, and through the
    interpreter's own exit (a daemon thread)."""

    def __init__(self) -> None:
        self._wake, self._woken = socket.socketpair()
        self._woken.setblocking(False)
        self._previous = signal.set_wakeup_fd(self._woken.fileno(), warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="sonocanvas-stop-watchdog", daemon=True).start()

    def disarm(self) -> None:
        """No stop signal came (serve returned on its own): give the wakeup descriptor back (main thread)."""
        signal.set_wakeup_fd(self._previous)
        self._wake.shutdown(socket.SHUT_RDWR)  # ends the watcher's recv

    def _watch(self) -> None:
        while (data := self._wake.recv(1)) and data[0] not in STOP_SIGNALS:
            pass  # another signal with a Python handler (serve installs none, but a library may)
        if data and not threading.Event().wait(STOP_WITHIN - 0.5):  # a deadline: nothing sets this event
            log.error("not stopped %g s after %s (a job or a client still holds on); ending the process now",
                      STOP_WITHIN, signal.Signals(data[0]).name)
            logging.shutdown()
            os._exit(1)


def run(args: argparse.Namespace) -> int:
    handlers = {sig: signal.signal(sig, _on_stop_signal) for sig in STOP_SIGNALS}
    watchdog = _Watchdog()
    try:
        code = _serve(args)
    except _Stop as stop:
        log.info("stopped (%s)", stop)
        return 0  # a second signal, and the watchdog, keep their say until the process ends
    except BaseException:
        _restore(handlers, watchdog)
        raise
    _restore(handlers, watchdog)  # it returned (a config error): no stop came
    return code


def _restore(handlers: dict[signal.Signals, Any], watchdog: _Watchdog) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    watchdog.disarm()


def _serve(args: argparse.Namespace) -> int:
    try:
        config = apply_flags(load_config(args.config), args)
        server = build_server(config)
    except ValueError as error:
        print(f"sonocanvas serve: {error}", file=sys.stderr)
        return 2
    with server:
        host, port = server.address
        host = f"[{host}]" if ":" in host else host  # IPv6, as in a URL
        s = server.services
        print(f"models: {s.models} on {s.device}")
        print(f"clips go to {config.drop_dir}")
        print(f"config: {config.path}; journal: {config.journal_path}")
        if s.player is None:
            print(s.player_error)
        # Last, so a script that waits for this line knows the server answers.
        print(f"sonocanvas {s.version} listening on udp://{host}:{port} and tcp://{host}:{port} (OSC, SLIP on TCP)",
              flush=True)
        try:
            threading.Event().wait()  # until a stop signal raises _Stop here
        except _Stop as stop:
            log.info("stopping (%s): jobs still running are told interrupted; a second signal stops at once", stop)
            raise
    return 0

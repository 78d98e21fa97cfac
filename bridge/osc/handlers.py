"""One function per request address of `addresses.REQUESTS`, in one table: `HANDLERS`.

A handler parses and checks its arguments (`request.build`), acts, and answers on `call.reply`; anything it
refuses is a `FieldError`, which the server sends back as `/sonocanvas/error`. Handlers never wait on a
model: jobs go to the job bridge's queue. As python-osc's dispatcher hands its callbacks only an address
and arguments, a handler gets only a `Context`: what it may use of the server, never the server itself.
Adding a message means its line in `addresses`, a function here, its parsing in `request.build` and its
line in docs/osc.md.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...engine.settings import Setting, bounds, capped
from ..jobs.queue import JobQueue
from ..request import build as protocol
from ..request.build import ProtocolError, Request
from ..studio.ranking import Choice
from . import recovery
from .clients import Clients
from .services import Services
from .transport import Peer, Sender

if TYPE_CHECKING:
    from ..output.audition import Player
    from ..request.presets import PresetStore

NAMES_PER_MESSAGE_BYTES = 8192
"""A list reply (preset or chain names) is split into messages of about this size, so each fits a datagram."""


@dataclass(frozen=True)
class Call:
    """One message to handle: its arguments, where its replies go, whose it is and who sent it."""

    args: list[Any]
    reply: Peer
    owner: Hashable
    sender: Sender


@dataclass(frozen=True)
class Context:
    """What a handler may use of its server."""

    services: Services
    clients: Clients
    jobs: JobQueue
    submit: Callable[[Hashable, Peer, Request], None]
    """Journal and queue a job for its owner, replies to the peer."""
    udp_peer: Callable[[tuple[str, int]], Peer]
    check_reply_port: Callable[[str, int], None]
    """Refuses (`ProtocolError`) a reply port that is the server's own."""


Handler = Callable[[Context, Call], None]
HANDLERS: dict[str, Handler] = {}


def handles(address: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[address] = handler
        return handler
    return register


@handles("/sonocanvas/hello")
def hello(context: Context, call: Call) -> None:
    if len(call.args) > 2:
        raise ProtocolError("arguments", f"expected reply_port and an optional token, got {len(call.args)}")
    (reply_port,) = _exactly(call.args[:1], protocol.REPLY_PORT)
    token = call.args[1] if len(call.args) > 1 else None
    if not context.clients.token_ok(token if isinstance(token, str) else None):
        raise ProtocolError("token", "this server needs the token it was started with: "
                            "/sonocanvas/hello <reply_port> <token>")
    host = call.sender.address[0]
    context.check_reply_port(host, reply_port)
    secret = context.clients.hello(call.sender.key, reply_port)
    if call.sender.peer is not None:  # TCP: replies stay on the connection; the port names the client
        peer: Peer = call.sender.peer
        peer.address = (host, reply_port)
    else:
        peer = context.udp_peer((host, reply_port))
    s = context.services
    peer.send("/sonocanvas/ready", s.version, s.device, s.models, secret,
              " ".join(s.scorers.kinds))
    for entry in s.journal.take_untold(peer.address):
        recovery.tell(entry, peer, s.drop)


@handles("/sonocanvas/generate")
def generate(context: Context, call: Call) -> None:
    presets = context.services.presets
    request = protocol.parse_generate(call.args, context.services.limits, presets.get if presets else _no_presets)
    Choice(request.keep, request.rank).check(request.settings.variations, context.services.scorers)
    context.submit(call.owner, call.reply, request)


@handles("/sonocanvas/encode")
def encode(context: Context, call: Call) -> None:
    request = protocol.parse_encode(call.args, context.services.limits)
    context.submit(call.owner, call.reply, request)


@handles("/sonocanvas/stylize")
def stylize(context: Context, call: Call) -> None:
    from ..store.vocabulary import shipped_vocabulary

    request = protocol.parse_stylize(call.args, context.services.limits, shipped_vocabulary())
    if "clap" not in context.services.scorers.kinds:  # CLAP hears the sound: refused now, on its field
        raise ProtocolError("sound_path", "this server has no CLAP model to hear a sound with: start it with "
                                          "--clap-model (docs/stylize.md)")
    context.submit(call.owner, call.reply, request)


@handles("/sonocanvas/cancel")
def cancel(context: Context, call: Call) -> None:
    job_id = protocol.parse_job_id(call.args)
    protocol.parse_keys(call.args[1:], protocol.TRANSPORT_KEYS)  # already applied to `call`
    if not context.jobs.cancel(call.owner, job_id):
        raise ProtocolError("job_id", f"no queued or running job {job_id!r} of yours")


@handles("/sonocanvas/status")
def status(context: Context, call: Call) -> None:
    _exactly(call.args)
    running, queued = context.jobs.status()
    call.reply.send("/sonocanvas/status", running.job_id if running else "", queued, context.services.device)


@handles("/sonocanvas/limits")
def limits(context: Context, call: Call) -> None:
    _exactly(call.args)
    call.reply.send("/sonocanvas/limits", *bounds(capped(context.services.limits.caps)))


@handles("/sonocanvas/audition")
def audition(context: Context, call: Call) -> None:
    (value,) = _exactly(call.args, protocol.WAV_PATH)
    path = context.services.limits.readable("wav_path", value)
    _player(context).play(path)
    call.reply.send("/sonocanvas/playing", str(path))


@handles("/sonocanvas/stop")
def stop(context: Context, call: Call) -> None:
    _exactly(call.args)
    _player(context).stop()
    call.reply.send("/sonocanvas/stopped")


@handles("/sonocanvas/preset/list")
def preset_list(context: Context, call: Call) -> None:
    _exactly(call.args)
    send_names(call.reply, ("/sonocanvas/preset/names", "/sonocanvas/preset/names/end"), _presets(context).names())


@handles("/sonocanvas/preset/get")
def preset_get(context: Context, call: Call) -> None:
    (name,) = _exactly(call.args, protocol.PRESET_NAME)
    try:
        values = _presets(context).get(name)
    except KeyError:
        raise ProtocolError("name", f"no preset {name!r}") from None
    call.reply.send("/sonocanvas/preset", name, *[item for pair in values.items() for item in pair])


@handles("/sonocanvas/preset/save")
def preset_save(context: Context, call: Call) -> None:
    if not call.args or not isinstance(call.args[0], str):
        raise ProtocolError("name", "missing: the first argument must be the preset's name")
    name = call.args[0]
    store = _presets(context)
    if store.is_shipped(name):
        raise ProtocolError("name", f"{name!r} is a shipped preset; save yours under another name")
    values = protocol.parse_keys(call.args[1:], protocol.PRESET_KEYS)
    store.save(name, values)
    call.reply.send("/sonocanvas/preset/saved", name)


@handles("/sonocanvas/preset/delete")
def preset_delete(context: Context, call: Call) -> None:
    (name,) = _exactly(call.args, protocol.PRESET_NAME)
    try:
        _presets(context).delete(name)
    except KeyError:
        raise ProtocolError("name", f"no preset {name!r}") from None
    call.reply.send("/sonocanvas/preset/deleted", name)


@handles("/sonocanvas/fx/list")
def fx_list(context: Context, call: Call) -> None:
    _exactly(call.args)
    send_names(call.reply, ("/sonocanvas/fx/names", "/sonocanvas/fx/names/end"),
               sorted(context.services.limits.fx_names))


# helpers -----------------------------------------------------------------------------------------


def send_names(peer: Peer, addresses: tuple[str, str], names: list[str]) -> None:
    """A list of names as one or more `address name...` messages of at most about 8 KB each (so every one
    fits a datagram), then `end_address count`: the client knows it has them all."""
    address, end_address = addresses
    chunk: list[str] = []
    size = 0
    for name in names:
        if chunk and size + len(name) > NAMES_PER_MESSAGE_BYTES:
            peer.send(address, *chunk)
            chunk, size = [], 0
        chunk.append(name)
        size += len(name.encode()) + 4
    if chunk or not names:
        peer.send(address, *chunk)
    peer.send(end_address, len(names))


def _exactly(args: list[Any], *specs: Setting) -> list[Any]:
    """Check a request has exactly these positional arguments, typed. Each is required: an OSC nil (`N`, or
    `I`) there is refused on its field, where a key's nil would leave that key unset."""
    values = []
    for i, spec in enumerate(specs):
        if i >= len(args):
            raise ProtocolError(spec.name, "missing")
        if args[i] is None:
            raise ProtocolError(spec.name, "missing: got nil (an OSC N or I), which is no value")
        values.append(protocol.parse_key(spec.name, args[i], {spec.name: spec}))
    if len(args) > len(specs):
        raise ProtocolError("arguments", f"expected {len(specs)}, got {len(args)}")
    return values


def _no_presets(name: str) -> dict:
    raise KeyError(name)


def _player(context: Context) -> Player:
    player = context.services.player
    if player is None:
        raise ProtocolError("audio_output", context.services.player_error or "no audio output on this server")
    return player


def _presets(context: Context) -> PresetStore:
    presets = context.services.presets
    if presets is None:
        raise ProtocolError("preset", "this server has no preset store")
    return presets

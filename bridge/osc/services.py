"""What a server offers its handlers besides the job queue: one value, built by `serve` (or a test)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..jobs.journal import Journal
from ..jobs.queue import Job
from ..request.build import Limits

if TYPE_CHECKING:  # the scorers bring torch and the player PortAudio, which the OSC side never needs to import
    from ...engine.scorers import Scorers
    from ..output.audition import Player
    from ..output.drop import DropFolder
    from ..request.presets import PresetStore


def _no_scorers() -> Scorers:
    from ...engine.scorers import Scorers

    return Scorers(None, None)


@dataclass
class Services:
    """What the handlers use besides the job queue; each may be absent on a server without it."""

    run: Callable[[Job, Callable[[int, int], None], Callable[..., None]], None]
    """Runs a job: `run(job, on_step, done)`, calling `done(index, wav, png, json)` per finished clip."""
    limits: Limits
    journal: Journal
    version: str
    device: str
    models: str
    presets: PresetStore | None = None
    player: Player | None = None
    player_error: str = ""  # why there is no player
    token: str = ""  # with a token, only a hello carrying it lets a client in
    scorers: Scorers = field(default_factory=_no_scorers)  # what a request's keep may rank with
    workers: int = 1  # jobs run at once: one per Ray worker (bridge/studio/cluster.py), else one
    drop: DropFolder | None = None  # where the clips go: a restart finds there what a dead server placed

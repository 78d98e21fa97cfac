"""What a restarted server tells of the jobs a dead one left, once its journal is reconciled with the drop folder.

A server killed after placing a clip and before journalling it leaves the clip whole in the drop folder
(`engine.files.Staging`) and its job "running" in the journal, which `Journal.recover` marks failed. Each such
job is looked up in the drop folder by the journal entry its clips' records carry (`output.drop.DELIVERY`):
- every clip there: the job is done after all, and its client hears `done` for its last clip, the one it never
  heard (the last clip's `done` goes out only after the journal's);
- some: it failed, and the message names the clips that are there;
- none: it did not finish, as the journal says.
The client is told at start-up and again at its next `hello` (`Journal.take_untold`); a `done` heard twice is
harmless, since a client forgets a job once it has all its clips.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from ..jobs.journal import RESTART_MESSAGE, Entry, Journal

if TYPE_CHECKING:
    from ..output.drop import Delivered, DropFolder

log = logging.getLogger("sonocanvas.jobs")

FINISHED_MESSAGE = "finished before the server restarted; its clips are in the drop folder"


def reconcile(journal: Journal, drop: DropFolder | None) -> list[Entry]:
    """The jobs a dead server left (`journal.recover`), each made done or failed by what the drop folder holds."""
    entries = []
    for entry in journal.recover():
        found = _found(drop, entry)
        if found:
            clips = found[0].clips
            if len(found) >= clips:
                state, message = "done", FINISHED_MESSAGE
            else:
                names = ", ".join(d.name for d in found)
                state, message = "failed", f"{RESTART_MESSAGE}: {len(found)} of its {clips} clips are in the " \
                                           f"drop folder ({names})"
            journal.set_state(entry.id, state, message)
            entry = dataclasses.replace(entry, state=state, message=message)
        log.info("job %r from %s:%d: %s when the server restarted: %s", entry.job_id, entry.client_host,
                 entry.client_port, entry.state, entry.message)
        entries.append(entry)
    return entries


def tell(entry: Entry, peer: Any, drop: DropFolder | None) -> None:
    """Tell `peer` (a transport Peer) how the recovered job `entry` ended: `done` for its last clip, else the error."""
    found = _found(drop, entry) if entry.state == "done" else []
    if found:
        last = found[-1]
        peer.send("/sonocanvas/done", entry.job_id, last.clip, "" if last.wav is None else str(last.wav),
                  str(last.png), str(last.json))  # a picture (stylize) has no sound: wav_path "", as when it ran
    else:
        peer.send("/sonocanvas/error", entry.job_id, "job", entry.message)


def _found(drop: DropFolder | None, entry: Entry) -> list[Delivered]:
    return [] if drop is None else drop.delivered(entry.id, entry.created)

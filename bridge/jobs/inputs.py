"""The files a job reads (an init clip, an init picture, an encode's picture), read once, safely, at use.

A path is checked when the request arrives, but the job may run much later. So when the job starts, each file is
opened and checked again on the file actually opened (`Limits.open_checked`: inside a read root, and the very
file the path names), and its bytes are read from that open file. The job then reads a private copy of those
bytes, in a folder of its own: a path swapped for a symlink at any moment is never followed. The same bytes
travel to a Ray worker, whose machine may not see the user's disk. Records and error messages name the
client's own path, never the copy's.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..request.build import MAX_INPUT_BYTES, Limits, ProtocolError, Request

Inputs = dict[str, tuple[str, bytes]]
"""By field: (the path the client gave, the file's bytes)."""


def read_inputs(request: Request, limits: Limits) -> Inputs:
    """Each file `request` reads, opened and checked now (`limits.open_checked`), with the bytes of that file."""
    inputs: Inputs = {}
    for name, path in request.input_paths().items():
        with limits.open_checked(name, path) as file:
            limit = MAX_INPUT_BYTES[name]
            data = file.read(limit + 1)  # open_checked saw its size; one that grew since is still bounded
        if len(data) > limit:
            raise ProtocolError(name, f"{str(path)!r} grew past the {limit} bytes allowed while it was read")
        inputs[name] = (str(path), data)
    return inputs


@contextmanager
def private_copies(request: Request, inputs: Inputs) -> Iterator[tuple[Request, dict[str, str]]]:
    """(the request reading private copies of `inputs`, the renames from each copy's path to the client's) for
    the block; the copies are gone after it. A copy keeps its file's name, so its format is still known."""
    if not inputs:  # most jobs read no file: no folder to make
        yield request, {}
        return
    with tempfile.TemporaryDirectory(prefix="sonocanvas-inputs-") as folder:
        paths: dict[str, Path] = {}
        renames: dict[str, str] = {}
        for name, (original, data) in inputs.items():
            path = Path(folder) / name / Path(original).name
            path.parent.mkdir()
            path.write_bytes(data)
            paths[name], renames[str(path)] = path, original
        yield request.reading(paths), renames


def renamed(value: Any, renames: dict[str, str]) -> Any:
    """`value` (a record: dicts, lists, strings) with each copy's path replaced by the client's."""
    if isinstance(value, dict):
        return {k: renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, renames) for v in value]
    if isinstance(value, str):
        for copy, original in renames.items():
            value = value.replace(copy, original)
    return value

"""The files a job reads (an init clip, an init picture, an encode's picture), read once, safely, as it starts.

A path is checked when the request arrives, but the job may run much later. So when the job starts, each file is
opened and checked again on the file actually opened (`Limits.open_checked`: inside a read root, and the very
file the path names), and its bytes are read from that open file. The job then carries those bytes
(`engine.input_file.InputFile`, with the client's path beside them), and nothing opens the path again: a path
swapped for a symlink at any moment is never followed, the same bytes travel to a Ray worker, whose machine may
not see the user's disk, and records and error messages name the client's own path.
"""
from __future__ import annotations

from ...engine.input_file import InputFile
from ..request.build import MAX_INPUT_BYTES, Limits, ProtocolError, Request


def read_inputs(request: Request, limits: Limits) -> Request:
    """`request`, reading the bytes of each file it names, opened and checked now (`limits.open_checked`)."""
    files: dict[str, InputFile] = {}
    for name, path in request.input_paths().items():
        with limits.open_checked(name, path) as file:
            limit = MAX_INPUT_BYTES[name]
            data = file.read(limit + 1)  # open_checked saw its size; one that grew since is still bounded
        if len(data) > limit:
            raise ProtocolError(name, f"{str(path)!r} grew past the {limit} bytes allowed while it was read")
        files[name] = InputFile(str(path), data)
    return request.reading(files) if files else request

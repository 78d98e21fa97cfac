"""A file a job reads, as bytes read once, with the path its owner gave for it.

A server checks each file a job reads as the job starts, on the very file it opened, and reads its bytes
there (`bridge.jobs.inputs`). From then on nothing opens the path again: the engine decodes the bytes, so a
path swapped for a symlink later is never followed, a Ray worker on another machine needs no disk shared with
the server, and records and error messages name the client's own path from the start, never a copy's.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class InputFile:
    """`data`, the bytes of the file at `path` (the client's own path, for records and messages).

    `str()` gives the path, as it does for a `Path`: a message naming either reads the same.
    """

    path: str
    data: bytes = field(repr=False)

    def __str__(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        """The file's own name (its format shows in the suffix), as `Path.name`."""
        return Path(self.path).name


FileSource = str | os.PathLike[str] | InputFile
"""Where a clip or picture is read from: a path on this machine's disk, or bytes already read."""


class _Bytes(io.BytesIO):
    """A file's bytes in memory that a decoder's error names by the file's path: pedalboard and Pillow put the
    object's repr in their messages, and `<_io.BytesIO object at 0x7f…>` means nothing to the user reading them."""

    def __init__(self, source: InputFile) -> None:
        super().__init__(source.data)
        self._path = source.path

    def __repr__(self) -> str:
        return repr(self._path)


def readable(source: FileSource) -> str | io.BytesIO:
    """What a decoder opens for `source` (pedalboard's `AudioFile` and Pillow's `Image.open` take either)."""
    return _Bytes(source) if isinstance(source, InputFile) else os.fspath(source)


def is_present(source: FileSource) -> bool:
    """Whether there is a file to read: bytes always are; a path must name a file."""
    return isinstance(source, InputFile) or os.path.isfile(source)

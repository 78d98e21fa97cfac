"""OSC 1.0 on the wire: messages and bundles to bytes and back, with no sockets involved.

The decoder is ours, not python-osc's, because the server reads whatever anyone sends: every size is
checked against what is left before it is used, the walk is iterative over offsets into the one buffer
(nested bundles cost no copies), bundle depth and the number of messages are bounded, and junk is
refused at its first bad byte with a short reason that never echoes the input.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from ...engine.errors import FieldError

MAX_DEPTH = 16
"""Bundles nested deeper than this are refused: no client needs more than two levels."""
MAX_MESSAGES = 128
"""Messages in one packet, nested bundles included; each gets an answer, so this bounds the answers too."""
MAX_ARGUMENTS = 256
"""Arguments of one message; the longest request (generate with every key) has under 60."""
BUNDLE = b"#bundle\x00"
REPLACEMENT = "\ufffd"
"""What a `c` argument that is no Unicode character decodes to."""

_FIXED = {"i": (">i", 4), "f": (">f", 4), "h": (">q", 8), "d": (">d", 8), "t": (">Q", 8), "c": (">I", 4),
          "r": (">I", 4), "m": (">4s", 4)}
_CONSTANT = {"T": True, "F": False, "N": None, "I": None}


class WireError(FieldError):
    """Bytes that are not an OSC packet this server reads; the field is always `packet`."""

    def __init__(self, reason: str):
        super().__init__("packet", reason)


@dataclass(frozen=True)
class Message:
    address: str
    args: list[Any]


def encode_message(address: str, *args: Any) -> bytes:
    """An OSC message; bools are int32 0/1 (Max's udpreceive reads only `i`, `f` and `s`), ints int32 (int64
    when too big), reals float32, bytes blobs, the rest strings."""
    tags, data = [","], [_string(address)]
    for arg in args:
        if isinstance(arg, bool):
            arg = int(arg)
        elif arg is None:
            arg = str(arg)
        if isinstance(arg, int):
            small = -(2**31) <= arg < 2**31
            tags.append("i" if small else "h")
            data.append(struct.pack(">i" if small else ">q", arg))
        elif isinstance(arg, float):
            tags.append("f")
            data.append(struct.pack(">f", arg))
        elif isinstance(arg, (bytes, bytearray)):
            tags.append("b")
            data.append(struct.pack(">i", len(arg)) + bytes(arg) + b"\x00" * (-len(arg) % 4))
        else:
            tags.append("s")
            data.append(_string(str(arg)))
    return data[0] + _string("".join(tags)) + b"".join(data[1:])


def encode_bundle(*elements: bytes, time_tag: int = 1) -> bytes:
    """A bundle of encoded messages or bundles; time tag 1 means "immediately"."""
    return BUNDLE + struct.pack(">Q", time_tag) + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def decode_packet(data: bytes) -> list[Message]:
    """The messages of a packet in the order they appear, nested bundles walked where they stand (time tags
    are ignored: python-osc's own reader sorts by them, so an inner "immediate" bundle would run first).
    Raises WireError for anything malformed; a packet is taken whole or not at all."""
    view = memoryview(data)
    if view[:1] == b"/":
        return [_message(view, 0, len(view))]
    if view[:8] != BUNDLE:
        raise WireError("not an OSC message or bundle: it starts with neither '/' nor '#bundle'")
    messages: list[Message] = []
    pending = [(16, len(view))]  # (next element offset, end) per open bundle: a stack, not recursion
    if len(view) < 16:
        raise WireError("a bundle shorter than its header")
    while pending:
        offset, end = pending[-1]
        if offset == end:
            pending.pop()
            continue
        if end - offset < 4:
            raise WireError(f"a bundle element's size is cut off at byte {offset}")
        (size,) = struct.unpack_from(">i", view, offset)
        start = offset + 4
        if size <= 0 or size % 4 or size > end - start:
            raise WireError(f"a bundle element at byte {offset} claims {size} bytes ({end - start} are left; "
                            "sizes are positive multiples of 4)")
        pending[-1] = (start + size, end)
        if view[start:start + 1] == b"/":
            if len(messages) == MAX_MESSAGES:
                raise WireError(f"more than {MAX_MESSAGES} messages in one packet")
            messages.append(_message(view, start, start + size))
        elif view[start:start + 8] == BUNDLE and size >= 16:
            if len(pending) == MAX_DEPTH:
                raise WireError(f"bundles nested more than {MAX_DEPTH} deep")
            pending.append((start + 16, start + size))
        else:
            raise WireError(f"a bundle element at byte {start} is neither a message nor a bundle")
    return messages


def _message(view: memoryview, offset: int, end: int) -> Message:
    address, offset = _read_string(view, offset, end, "the address")
    if offset == end:  # OSC 1.0 allows a message without a type tag string: no arguments
        return Message(address, [])
    tags, offset = _read_string(view, offset, end, "the type tags")
    if not tags.startswith(","):
        raise WireError("the type tag string does not start with ','")
    tags = tags[1:]
    if len(tags) > MAX_ARGUMENTS:
        raise WireError(f"more than {MAX_ARGUMENTS} arguments")
    args: list[Any] = []
    for index, tag in enumerate(tags, 1):
        if tag in _FIXED:
            layout, size = _FIXED[tag]
            if end - offset < size:
                raise WireError(f"argument {index} ('{tag}') is cut off")
            (value,) = struct.unpack_from(layout, view, offset)
            offset += size
            if tag == "c":
                value = _character(value)
        elif tag in ("s", "S"):
            value, offset = _read_string(view, offset, end, f"argument {index}")
        elif tag == "b":
            if end - offset < 4:
                raise WireError(f"argument {index} (a blob) has no size")
            (size,) = struct.unpack_from(">i", view, offset)
            offset += 4
            if size < 0 or size > end - offset:
                raise WireError(f"argument {index} (a blob) claims {size} bytes; {end - offset} are left")
            value = bytes(view[offset:offset + size])
            offset += size + (-size % 4)
        elif tag in _CONSTANT:
            value = _CONSTANT[tag]
        else:
            shown = tag if tag.isprintable() and tag.isascii() else f"\\x{ord(tag):02x}"
            raise WireError(f"unsupported type tag '{shown}' at argument {index}")
        args.append(value)
    return Message(address, args)


def _character(code: int) -> str:
    """A `c` argument as text. A code that is no Unicode character (a surrogate, U+D800-U+DFFF, or past
    U+10FFFF) becomes U+FFFD, as a UTF-8 decoder replaces a bad sequence: a lone surrogate in a str cannot
    be encoded again, so it would break the error reply that echoes it, the journal and the log."""
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return REPLACEMENT
    return chr(code)


def _read_string(view: memoryview, offset: int, end: int, what: str) -> tuple[str, int]:
    """A NUL-terminated, 4-byte padded UTF-8 string within [offset, end) and the offset after it."""
    stop = _find_nul(view, offset, end)
    if stop < 0:
        raise WireError(f"{what} has no terminating NUL")
    after = offset + (stop // 4 + 1) * 4
    if after > end:
        raise WireError(f"{what} is not padded to a multiple of 4 bytes")
    try:
        text = bytes(view[offset:offset + stop]).decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"{what} is not UTF-8") from None
    return text, after


def _find_nul(view: memoryview, offset: int, end: int) -> int:
    """The NUL's distance from `offset`, or -1: searched in growing chunks, so that many short strings in a
    long packet do not each copy the rest of it."""
    chunk = 64
    start = offset
    while start < end:
        found = bytes(view[start:min(end, start + chunk)]).find(b"\x00")
        if found >= 0:
            return start - offset + found
        start += chunk
        chunk *= 2
    return -1


def _string(text: str) -> bytes:
    """A padded OSC string. Text that is not valid Unicode (a path's undecodable bytes, which Python keeps as
    lone surrogates) is sent with those characters as `\\udcxx` escapes: a reply is never lost to them."""
    raw = text.encode("utf-8", "backslashreplace")
    return raw + b"\x00" * (4 - len(raw) % 4)

"""PortAudio's errors, said in words: doctor, serve and audition name what is wrong with the sound output.

PortAudio reports by code and terse text ("Error querying device -1" means there is no default output);
sounddevice passes the text on, or raises OSError when the PortAudio library itself is missing. Nothing
here imports sounddevice, so the missing library can be told too.
"""
from __future__ import annotations

NO_LIBRARY = ("PortAudio is not installed (macOS and Windows: it comes with the sounddevice wheel; Debian or "
              "Ubuntu: sudo apt install libportaudio2)")


def in_words(error: BaseException) -> str:
    """What `error` (raised by sounddevice) means for a musician's sound output."""
    text = str(error)
    if isinstance(error, OSError) and "PortAudio library not found" in text:
        return NO_LIBRARY
    if "Error querying device -1" in text:
        return "there is no default sound output (none is connected, or the system has no sound device)"
    if "Invalid sample rate" in text:
        return f"the sound output does not take this sample rate ({text})"
    if "Device unavailable" in text or "Unanticipated host error" in text:
        return f"the sound output is busy or gone (another program may hold it: {text})"
    if type(error).__name__ == "PortAudioError":
        return f"the sound system refused ({text})"
    return text

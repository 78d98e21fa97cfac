"""The one error type a user can cause: it names the field at fault, so no caller parses message text."""
from __future__ import annotations


class FieldError(ValueError):
    """A value the user gave that cannot be used. `field` names the option, key or argument at fault;
    the message is `"<field>: <reason>"`, the form the command line, the OSC replies and the logs show."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

"""Subcommands of `sonocanvas`. Each module defines `register(subparsers)`, which adds its parser
and sets `run=` to a function taking the parsed arguments and returning an exit status. A module whose
name starts with `_` holds what several commands share (`_model_options`), and is no command."""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A bad option is one line naming it and exit status 2, as every other error a user can cause: argparse's
    own way prints the whole usage first."""

    def error(message: str) -> NoReturn:
        print(f"{parser.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)

    parser.error = error  # type: ignore[method-assign]
    return parser

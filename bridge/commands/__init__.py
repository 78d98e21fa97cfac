"""Subcommands of `sonocanvas`. Each module defines `register(subparsers)`, which adds its parser
and sets `run=` to a function taking the parsed arguments and returning an exit status; a mistake the user can
fix is raised as a `FieldError`, which `cli.main` prints on one line with exit status 2. A module whose
name starts with `_` holds what several commands share (`_model_options`), and is no command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from ...engine.errors import FieldError
from ...engine.settings import Setting


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A bad option is one line naming it and exit status 2, as every other error a user can cause: argparse's
    own way prints the whole usage first."""

    def error(message: str) -> NoReturn:
        print(f"{parser.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)

    parser.error = error  # type: ignore[method-assign]
    return parser


def no_folder(folder: Path, hint: str = "") -> FieldError:
    """The output's folder is missing: one wording in every command that does not make folders (`hint`: where
    the right one is, said after it)."""
    return FieldError("output", f"folder '{folder}' does not exist{f' ({hint})' if hint else ''}; nothing was written")


def cannot_write(error: OSError, output: Path) -> FieldError:
    """An `OSError` met while writing a command's output, as the user sees it: the output's fault, named by the
    path they gave (never the hidden temporary `atomic_write` was writing)."""
    if isinstance(error, FileExistsError):
        return FieldError("output", f"{output} appeared while this ran; nothing replaced")
    return FieldError("output", f"cannot write {output}: {error.strerror or error}")


def check_output(path: Path, overwrite: bool, example: str = "sound.wav") -> None:
    """Fail before the slow part: the folder must exist, and an existing file needs --overwrite (`example`: a
    file name to suggest in a folder given instead of a file)."""
    if path.is_dir():
        raise FieldError("output", f"'{path}' is a folder; name the file to write in it, e.g. '{path / example}'")
    if not path.parent.is_dir():
        raise no_folder(path.parent)
    if path.exists() and not overwrite:
        raise FieldError("output", f"'{path}' exists; pass --overwrite to replace it")


def setting_option(setting: Setting) -> dict[str, Any]:
    """argparse's view of one table row: its type, choices and help with the default and range."""
    default = "" if setting.default in (None, "") else f" (default {setting.default})"
    if setting.kind is bool:
        return {"action": "store_const", "const": True, "help": setting.help}
    span = f"; {setting.span}" if setting.span else ""
    kind = {int: int, float: float, Path: Path}.get(setting.kind, str)
    choices = list(setting.choices) or None
    metavar = None if choices else setting.name.upper()
    return {"type": kind, "choices": choices, "metavar": metavar, "help": f"{setting.help}{span}{default}"}

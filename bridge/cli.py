"""The `sonocanvas` command line: one subcommand per module in `bridge/commands/`."""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import pkgutil
import sys

from ..engine.errors import FieldError
from . import commands
from .log import LEVELS
from .log import setup as setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sonocanvas", description="Sound that is also a picture."
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {importlib.metadata.version('sonocanvas')}")
    parser.add_argument("--log-level", choices=LEVELS, dest="global_log_level",
                        help="what the log (stderr) shows, for any command (default warning; serve's own "
                             "--log-level, default info, wins); at debug a fault shows its whole traceback")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # what the commands share, not a command
            continue
        importlib.import_module(f"{commands.__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. A mistake the user can fix (a `FieldError`, naming its field) is one line and exit status
    2, as argparse's own are; Ctrl-C is one line and 130 (128 + SIGINT, as a shell reports it). Each command
    writes through `atomic_write`, so an interrupted one leaves nothing half-written. Anything else is a fault
    in sonocanvas: one line and exit status 1, with the whole traceback at `--log-level debug`."""
    args = build_parser().parse_args(argv)
    level = getattr(args, "log_level", None) or args.global_log_level or getattr(args, "default_log_level", "warning")
    setup_logging(level)
    try:
        return int(args.run(args) or 0)
    except FieldError as error:
        print(f"sonocanvas {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sonocanvas {args.command}: cancelled", file=sys.stderr)
        return 130
    except Exception as error:
        if level == "debug":
            raise
        print(f"sonocanvas {args.command}: fault: {type(error).__name__}: {error} (this is sonocanvas's fault, not "
              "yours: run it again with `sonocanvas --log-level debug` for the traceback, and report it)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

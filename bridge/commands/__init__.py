"""Subcommands of `sonocanvas`. Each module defines `register(subparsers)`, which adds its parser
and sets `run=` to a function taking the parsed arguments and returning an exit status."""

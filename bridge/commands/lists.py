"""`sonocanvas presets` and `sonocanvas effects`: what a request may name, with what each holds.

A request names a preset (`--preset`, the device's menu) or an effect chain (`--fx`) by name; these list the
names this machine has, the shipped ones and the user's, so that nobody has to guess them from an error."""
from __future__ import annotations

import argparse

from . import one_line_errors
from ._stores import effect_chains, presets


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = subparsers.add_parser(
        "presets", help="list the prompt presets a request may name, with their values",
        description="List the prompt presets (shipped, and yours in the config folder) that `generate --preset` "
                    "and the device may name, each with the settings it gives.")
    one_line_errors(listing).set_defaults(run=run_presets)
    listing = subparsers.add_parser(
        "effects", help="list the effect chains a request may name, with their plugins",
        description="List the effect chains (shipped, and yours in the server config) that `generate --fx` and "
                    "the device may name, each with its plugins and their settings.")
    one_line_errors(listing).set_defaults(run=run_effects)


def run_presets(args: argparse.Namespace) -> int:
    store = presets()
    for name in store.names():
        values = ", ".join(f"{key}={value!r}" for key, value in store.get(name).items())
        print(f"{name}{' (yours)' if not store.is_shipped(name) else ''}: {values}")
    return 0


def run_effects(args: argparse.Namespace) -> int:
    chains = effect_chains()
    for name in chains.names():
        print(f"{name}: {chains.describe(name)}")
    return 0

"""Subcommands that applications add to the ``orchestra`` command.

An application names a module in the ``orchestra.cli`` entry-point group of its package
metadata; the module has ``COMMANDS`` (the subcommand names), ``register(sub, common)``
(adds their parsers) and ``handle(args) -> int`` (runs one). The framework's CLI imports
no application: ``orchestra audit`` comes from the ``orchestra_audit`` package this way::

    [project.entry-points."orchestra.cli"]
    audit = "orchestra_audit.args"

Keep the named module light (argparse only) and import the commands' code in ``handle``,
so ``orchestra --help`` stays fast.

A module may also have ``emit(result, args) -> int | None``: ``orchestra resume`` and
``orchestra show`` hand it every run they print, and a run of the application's own (the
audit's) is printed its way, with the exit code returned; ``None`` leaves the run to the
framework's view.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Protocol, cast

GROUP = "orchestra.cli"


class CliPlugin(Protocol):
    """What a module in the ``orchestra.cli`` entry-point group provides."""

    COMMANDS: tuple[str, ...]

    def register(
        self,
        sub: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
    ) -> None:
        """Add the subcommands' parsers; ``common`` holds ``--db``, ``--json``, ``--debug``."""

    def handle(self, args: argparse.Namespace) -> int:
        """Run the parsed subcommand and return its exit code."""


def emitted(plugins: Sequence[CliPlugin], result: object, args: argparse.Namespace) -> int | None:
    """The exit code of the first plug-in that printed ``result`` its way, if one did."""
    for plugin in plugins:
        emit = getattr(plugin, "emit", None)
        if emit is not None and (code := emit(result, args)) is not None:
            return cast(int, code)
    return None


def cli_plugins() -> list[CliPlugin]:
    """The installed plug-ins, by entry-point name; one that fails to load is skipped, said."""
    plugins = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            plugins.append(cast(CliPlugin, point.load()))
        except Exception as exc:  # a broken application must not break `orchestra run`
            print(
                f"orchestra: plug-in {point.name!r} ({point.value}) not loaded: {exc}",
                file=sys.stderr,
            )
    return plugins

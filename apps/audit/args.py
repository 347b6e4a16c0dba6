"""``orchestra audit`` and ``orchestra samples``: the ``orchestra`` CLI plug-in of the audit.

Apart from the commands' code so that building the ``orchestra`` parser, and so ``--help``,
imports nothing heavy.
"""

from __future__ import annotations

import argparse

__all__ = ["COMMANDS", "emit", "handle", "register"]

COMMANDS = ("audit", "samples")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``audit`` and ``samples`` to the ``orchestra`` subcommands."""
    audit = sub.add_parser(
        "audit",
        parents=[common],
        help="audit repositories: secrets, dependencies, missing tests",
        description="Audit repositories read-only and print one ranked list of findings.",
    )
    audit.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a repository, or a folder whose immediate subfolders are repositories",
    )
    audit.add_argument("--report", metavar="FILE.md", help="also write the report as Markdown")
    audit.add_argument("--model", help="model for every role: offline, openai:<name>, ...")
    audit.add_argument("--policy", metavar="FILE", help="TOML policy: minimum versions, tests")
    audit.add_argument(
        "--max-concurrency", type=int, default=8, metavar="N", help="repositories at once"
    )
    audit.add_argument("--thread", help="thread id: continue this audit if it is unfinished")
    audit.add_argument(
        "--offline",
        action="store_true",
        help="check versions against the registries' and OSV's cached answers only "
        "(a continued audit keeps the setting it started with)",
    )

    samples = sub.add_parser(
        "samples",
        help="write the demo repositories (with planted problems) to audit",
        description="Write small demo repositories with planted problems, and a policy.",
    )
    samples.add_argument("folder", metavar="DIR", help="where to write them (new or empty)")
    samples.add_argument("--repos", type=int, help="write N synthetic repositories instead")
    samples.add_argument("--files", type=int, default=200, help="files per synthetic repository")
    samples.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    samples.add_argument("--debug", action="store_true", help="show tracebacks")


def handle(args: argparse.Namespace) -> int:
    """Run ``orchestra audit`` or ``orchestra samples`` (the commands' code loads here)."""
    from orchestra_audit import cli

    return cli.handle(args)


def emit(result: object, args: argparse.Namespace) -> int | None:
    """Print an audit run that ``orchestra resume`` or ``show`` gives as the audit does."""
    from orchestra_audit import cli

    return cli.emit(result, args)

"""Tests that need a real component from outside Python (PostgreSQL, Graphviz, ...).

Where the component is missing they are skipped with a reason that says what to
install, except on CI (``CI`` set to anything but ``0``/``false``), where a missing
component is a failure: CI must run every one of them.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def on_ci() -> bool:
    """True when the ``CI`` environment variable is set (``.ci/run`` sets it)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``; on CI, fail it."""
    if on_ci():
        pytest.fail(f"{reason} (required on CI)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

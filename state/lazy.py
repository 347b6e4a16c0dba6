"""Lazy package attributes: a package's public names imported from their modules on first use.

``state`` and ``graphs`` use it so that importing them (as the ``orchestra`` command does)
loads no LangChain or LangGraph until a name is needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Sequence
from typing import Any


def lazy_getattr(
    package: str, namespace: dict[str, Any], modules: Sequence[str], names: Collection[str]
) -> Callable[[str], object]:
    """A module ``__getattr__`` finding ``names`` in ``modules`` (in that order).

    A found name is stored in ``namespace`` (the package's globals), so the lookup runs once.
    """

    def __getattr__(name: str) -> object:
        if name in names:
            for module in modules:
                found = vars(importlib.import_module(module))
                if name in found:
                    namespace[name] = found[name]
                    return found[name]
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__

"""Which versions the registry and vulnerability checks look up: the one place that decides.

Today that is each exact pin (``requests==2.19.0``, ``"lodash": "4.17.15"``). A range names
no version to check: what it installs depends on the day. When lockfiles are read (a
``locked`` version on ``Dependency``), the locked version is the one installed and belongs
here too: extend ``pins_to_check``, and every check follows.
"""

from __future__ import annotations

from typing import NamedTuple

from packaging.version import InvalidVersion, Version

from orchestra_audit.findings import Dependency, Ecosystem


class Pin(NamedTuple):
    """One package version to check."""

    ecosystem: Ecosystem
    name: str
    version: str

    def __str__(self) -> str:
        return (
            f"{self.name}=={self.version}"
            if self.ecosystem == "pypi"
            else (f"{self.name}@{self.version}")
        )


def pins_to_check(dependencies: list[Dependency]) -> list[Pin]:
    """The distinct ``(ecosystem, name, version)`` of a repository's dependencies to check.

    >>> from orchestra_audit.findings import Dependency
    >>> def dep(spec, pinned):
    ...     return Dependency(ecosystem="pypi", name="requests", spec=spec, pinned=pinned,
    ...                       minimum="", file="requirements.txt", line=1)
    >>> pins_to_check([dep("==2.19.0", "2.19.0"), dep(">=2", ""), dep("==2.19.0", "2.19.0")])
    [Pin(ecosystem='pypi', name='requests', version='2.19.0')]
    """
    found: dict[Pin, None] = {}
    for dep in dependencies:
        if not dep.pinned:
            continue
        try:
            Version(dep.pinned)
        except InvalidVersion:  # a redacted or arbitrary (===) pin names no registry release
            continue
        found[Pin(dep.ecosystem, dep.name, dep.pinned)] = None
    return list(found)

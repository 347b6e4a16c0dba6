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
        # Each ecosystem's own spelling: requests==2.19.0, lodash@4.17.15.
        joint = "==" if self.ecosystem == "pypi" else "@"
        return f"{self.name}{joint}{self.version}"


def pins_to_check(dependencies: list[Dependency]) -> dict[Pin, list[Dependency]]:
    """Each ``(ecosystem, name, version)`` to check, with the declarations it comes from.

    >>> from orchestra_audit.findings import Dependency
    >>> def dep(spec, pinned):
    ...     return Dependency(ecosystem="pypi", name="requests", spec=spec, pinned=pinned,
    ...                       minimum="", file="requirements.txt", line=1)
    >>> pins = pins_to_check([dep("==2.19.0", "2.19.0"), dep(">=2", ""), dep("==2.19.0", "2.19.0")])
    >>> [(str(pin), len(declared)) for pin, declared in pins.items()]
    [('requests==2.19.0', 2)]
    """
    found: dict[Pin, list[Dependency]] = {}
    for dep in dependencies:
        # With lockfiles read, the version installed is ``dep.locked or dep.pinned``.
        if not dep.pinned:
            continue
        try:
            Version(dep.pinned)
        except InvalidVersion:  # a redacted or arbitrary (===) pin names no registry release
            continue
        found.setdefault(Pin(dep.ecosystem, dep.name, dep.pinned), []).append(dep)
    return found

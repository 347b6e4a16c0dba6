"""Which versions the registry and vulnerability checks look up: the one place that decides.

That is the version installed: the one a lockfile resolved (``locked`` on ``Dependency``),
else an exact pin (``requests==2.19.0``, ``"lodash": "4.17.15"``). A range with no lock
names no version to check: what it installs depends on the day.
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
    ...                       minimum="", file="requirements.txt", line=1, locked="")
    >>> pins = pins_to_check([dep("==2.19.0", "2.19.0"), dep(">=2", ""), dep("==2.19.0", "2.19.0")])
    >>> [(str(pin), len(declared)) for pin, declared in pins.items()]
    [('requests==2.19.0', 2)]
    >>> locked = dep(">=2", "").model_copy(update={"locked": "2.31.0"})
    >>> [str(pin) for pin in pins_to_check([locked])]
    ['requests==2.31.0']
    """
    found: dict[Pin, list[Dependency]] = {}
    for dep in dependencies:
        installed = dep.locked or dep.pinned
        if not installed:
            continue
        try:
            Version(installed)
        except InvalidVersion:  # a redacted or arbitrary (===) pin names no registry release
            continue
        found.setdefault(Pin(dep.ecosystem, dep.name, installed), []).append(dep)
    return found

"""The shape of a version constraint: pinned, bounded, unbounded, unpinned, or not a registry one.

PEP 440 specifiers are read by ``packaging`` (pip's own parser). npm has no kept Python
parser, so its range grammar (``||`` alternatives, hyphen ranges, ``^``/``~``, x-ranges,
comparators) is split with plain string operations and every version in it is read by
``packaging.version``, which accepts semver spellings such as ``v1.2.3`` and ``1.0.0-rc.1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

Shape = Literal["pinned", "bounded", "unbounded", "unpinned", "invalid", "external"]
"""``pinned``: one exact version. ``bounded``: a range with an upper bound. ``unbounded``: a
lower bound only. ``unpinned``: any version. ``invalid``: unreadable. ``external``: a URL,
path or VCS reference rather than a registry version (not judged)."""


@dataclass(frozen=True)
class Constraint:
    """What a version constraint allows, as far as the audit needs to know."""

    shape: Shape
    pinned: Version | None = None
    floor: Version | None = None
    """The lowest version the constraint admits, when it has a lower bound."""


UNPINNED = Constraint("unpinned")
INVALID = Constraint("invalid")
EXTERNAL = Constraint("external")


def _higher(a: Version | None, b: Version | None) -> Version | None:
    return b if a is None else a if b is None else max(a, b)


def pep440(spec: SpecifierSet) -> Constraint:
    """The shape of a PEP 440 specifier set (``>=1.2,<2``, ``==1.4.*``, ``~=2.1``...)."""
    pinned: Version | None = None
    floor: Version | None = None
    upper = False
    try:
        for item in spec:
            op, text = item.operator, item.version
            if op == "==" and text.endswith(".*"):
                upper, floor = True, _higher(floor, Version(text[:-2]))
            elif op in ("==", "==="):
                pinned = Version(text)
            elif op in (">=", ">"):
                floor = _higher(floor, Version(text))
            elif op == "~=":
                upper, floor = True, _higher(floor, Version(text))
            elif op in ("<", "<="):
                upper = True
    except InvalidVersion:  # "===" takes arbitrary strings
        return INVALID
    if pinned is not None:
        return Constraint("pinned", pinned, pinned)
    if upper:
        return Constraint("bounded", None, floor)
    return Constraint("unbounded", None, floor) if floor is not None else UNPINNED


def _partial(text: str) -> tuple[Version, bool] | None:
    """A possibly partial npm version (``1``, ``1.2``, ``1.2.x``) and whether it was partial."""
    text = text.strip().lstrip("=v").strip()
    parts = text.split(".")
    release = []
    for part in parts[:3]:
        if part in ("x", "X", "*", ""):
            break
        release.append(part)
    wildcard = len(release) < 3
    if not release:
        return None
    try:
        version = Version(".".join(release + ["0"] * (3 - len(release))) if wildcard else text)
    except InvalidVersion:
        return None
    return version, wildcard


def _npm_comparator(token: str) -> Constraint | None:
    op = ""
    while token and token[0] in "<>=^~":
        op, token = op + token[0], token[1:]
    if token.strip() in ("", "*", "x", "X"):
        return UNPINNED if op in ("", "=", ">=", "^", "~") else INVALID
    parsed = _partial(token)
    if parsed is None:
        return None
    version, wildcard = parsed
    if op in ("^", "~", "~>"):
        return Constraint("bounded", None, version)
    if op in (">", ">="):
        return Constraint("unbounded", None, version)
    if op in ("<", "<="):
        return Constraint("bounded")
    if op in ("", "="):
        return (
            Constraint("bounded", None, version)
            if wildcard
            else Constraint("pinned", version, version)
        )
    return None


def _npm_set(text: str) -> Constraint:
    """One ``||`` alternative: a hyphen range or space-separated comparators (all must hold)."""
    if " - " in text:
        low = _partial(text.split(" - ", 1)[0])
        return Constraint("bounded", None, low[0]) if low else INVALID
    # ">= 1.2" is legal npm: glue a bare operator to the version after it.
    tokens: list[str] = []
    for token in text.split():
        if tokens and tokens[-1] and all(c in "<>=^~" for c in tokens[-1]):
            tokens[-1] += token
        else:
            tokens.append(token)
    parts = [_npm_comparator(t) for t in tokens]
    if any(p is None or p.shape == "invalid" for p in parts) or not parts:
        return INVALID
    known = [p for p in parts if p is not None]
    if len(known) == 1:
        return known[0]
    floor = None
    for part in known:
        floor = _higher(floor, part.floor)
    if any(p.shape in ("bounded", "pinned") for p in known):
        return Constraint("bounded", None, floor)
    return Constraint("unbounded", None, floor) if floor else UNPINNED


_DIST_TAGS = frozenset({"latest", "next", "beta", "alpha", "canary", "rc"})
_EXTERNAL_MARKS = (":", "/")
"""``file:``, ``git+https:``, ``workspace:``, ``npm:alias@1``, ``user/repo`` (GitHub)..."""


def npm(spec: str) -> Constraint:
    """The shape of an npm version range as written in ``package.json``."""
    text = spec.strip()
    if text in ("", "*", "x", "X") or text.lower() in _DIST_TAGS:
        return UNPINNED
    if any(mark in text for mark in _EXTERNAL_MARKS):
        return EXTERNAL
    options = [_npm_set(alt.strip()) for alt in text.split("||")]
    if len(options) == 1:
        return options[0]
    if any(o.shape == "invalid" for o in options):
        return INVALID
    floors = [o.floor for o in options if o.floor is not None]
    lowest = min(floors) if floors else None
    for shape in ("unpinned", "unbounded"):
        if any(o.shape == shape for o in options):
            return Constraint(shape, None, lowest if shape == "unbounded" else None)
    return Constraint("bounded", None, lowest)

"""A repository's detect-secrets baseline: the secrets its owners already know about.

``detect-secrets scan > .secrets.baseline`` writes, per file, the SHA-1 of each secret it
reported (``hashed_secret``); teams commit the file and audit it (``is_secret: false``
marks a false positive). The audit reads the baseline at a repository's root: a secret it
lists is kept in the report at ``info``, saying so, instead of being ranked as a new leak.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

BASELINE = ".secrets.baseline"
"""detect-secrets' default baseline file name."""

_MAX_BYTES = 20_000_000


@dataclass(frozen=True)
class Baseline:
    """The hashed secrets a baseline lists, by file; ``problem`` if it could not be read."""

    hashes: dict[str, frozenset[str]] = field(default_factory=dict)
    problem: str | None = None

    def lists(self, path: str, reported: str) -> bool:
        """Whether the baseline lists the secret detect-secrets reported in ``path``."""
        digest = hashlib.sha1(reported.encode("utf-8")).hexdigest()
        return digest in self.hashes.get(path, frozenset())


def load_baseline(root: Path) -> Baseline:
    """The baseline at ``root`` (empty when there is none; a bad one says why).

    Example:
        >>> load_baseline(Path("/nonexistent")).hashes
        {}
    """
    path = root / BASELINE
    if not path.is_file() or path.is_symlink():
        return Baseline()
    try:
        if path.stat().st_size > _MAX_BYTES:
            return Baseline(problem=f"{BASELINE}: over {_MAX_BYTES} bytes, not read")
        data = json.loads(path.read_text(encoding="utf-8"))
        results = data["results"]
        hashes = {
            str(name): frozenset(str(entry["hashed_secret"]) for entry in entries)
            for name, entries in results.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return Baseline(problem=f"{BASELINE}: not a detect-secrets baseline ({type(exc).__name__})")
    return Baseline(hashes)

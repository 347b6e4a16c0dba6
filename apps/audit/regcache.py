"""The registry checks' disk cache: one JSON file per answer, fresh for a TTL.

An answer's age is its file's modification time, so nothing else needs storing. Writes go
to a temporary file renamed into place: two audits caching the same answer at once never
leave a torn file. A cache that cannot be written (read-only home, full disk) only costs
the next run its lookups; it never fails an audit.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


class DiskCache:
    """JSON documents by key, under ``folder``.

    >>> import tempfile
    >>> cache = DiskCache(Path(tempfile.mkdtemp()), ttl=60)
    >>> cache.put("pypi:requests", {"info": {"version": "2.32.3"}})
    >>> cache.get("pypi:requests")
    {'info': {'version': '2.32.3'}}
    >>> DiskCache(cache.folder, ttl=0).get("pypi:requests") is None  # stale: look it up again
    True
    >>> DiskCache(cache.folder, ttl=0).get("pypi:requests", stale_ok=True)["info"]["version"]
    '2.32.3'
    """

    def __init__(self, folder: Path, ttl: float) -> None:
        self.folder = folder
        self.ttl = ttl

    def path(self, key: str) -> Path:
        """The file of ``key`` (keys are URLs and the like: hashed into a safe name)."""
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.json"

    def get(self, key: str, *, stale_ok: bool = False, max_age: float | None = None) -> Any | None:
        """The cached document; ``None`` if absent, unreadable or (unless ``stale_ok``) stale.

        ``max_age`` replaces the TTL for this lookup (seconds).
        """
        path = self.path(key)
        try:
            age = time.time() - path.stat().st_mtime
            if not stale_ok and age >= (self.ttl if max_age is None else max_age):
                return None
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None  # a hash collision or a foreign file: not ours to trust
        return entry.get("doc")

    def put(self, key: str, doc: Any) -> None:
        """Store ``doc`` under ``key``; a failure to write is ignored (see the module doc)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"key": key, "doc": doc}, out)
            os.replace(temporary, self.path(key))
        except OSError:
            Path(temporary).unlink(missing_ok=True)

"""Measurements that need a fresh process: ``python -m benchmarks.child KIND ARGS`` prints JSON.

- ``rss imports``: peak RSS after importing orchestra and the benchmark (the floor);
- ``rss orchestra|plain N async|sync``: one run of N workers, its wall time and peak RSS;
- ``audit REPOS FILES``: ``benchmarks/audit.py``'s ``run`` (its own numbers, unchanged).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _rss(system: str, n: int, mode: str) -> dict[str, Any]:
    from benchmarks.systems import Mode, orchestra, plain
    from benchmarks.timing import close_loop, peak_rss_mb

    floor = peak_rss_mb()
    if system == "imports":
        return {"peak_rss_mb": floor}
    chosen: Mode = "async" if mode == "async" else "sync"
    contender = orchestra(n, chosen) if system == "orchestra" else plain(n, chosen)
    start = time.perf_counter()
    contender.run()
    wall = time.perf_counter() - start
    close_loop()
    return {"wall_s": wall, "peak_rss_mb": peak_rss_mb(), "after_imports_mb": floor}


def main(argv: list[str]) -> int:
    """Run one measurement and print its JSON on the last line."""
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    kind, *args = argv
    if kind == "rss":
        system, *rest = args
        n, mode = (int(rest[0]), rest[1]) if rest else (0, "async")
        answer = _rss(system, n, mode)
    elif kind == "audit":
        from benchmarks.audit import run
        from benchmarks.timing import peak_rss_mb

        answer = run(int(args[0]), int(args[1]))
        # Its own figure is ru_maxrss, which a child inherits from a bigger parent.
        answer["peak_rss_mb"] = round(peak_rss_mb(), 1)
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

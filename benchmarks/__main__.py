"""``python -m benchmarks``: run every benchmark, write BENCHMARKS.md and BENCHMARKS.png.

``--quick`` runs fewer repeats and a smaller audit (about two minutes, against six); ``--tiny``
runs everything at N = 2 once, to check the harness (the smoke test does). ``--only``
picks sections: overhead, tradeoffs, sync_async, checkpointers, scale, startup, audit,
context.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

SECTIONS = (
    "overhead",
    "tradeoffs",
    "sync_async",
    "checkpointers",
    "scale",
    "startup",
    "audit",
    "context",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="fewer repeats, a smaller audit")
    preset.add_argument("--tiny", action="store_true", help="N = 2, one repeat: checks the harness")
    parser.add_argument("--repeats", type=int, help="timed runs per contender (default 7)")
    parser.add_argument("--only", help="comma-separated sections to run (default: all)")
    parser.add_argument("--sizes", help="N values of the overhead section (default 10,100,1000)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for BENCHMARKS.md/.png")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.tiny:
        return {
            "repeats": 1,
            "sizes": [2],
            "task_n": 2,
            "sync_n": 2,
            "ckpt": [2],
            "scale_n": 2,
            "callbacks_at": 2,
            "startup": 1,
            "audit": (2, 20),
            "context": [2, 4],
        }
    repeats = args.repeats or (3 if args.quick else 7)
    return {
        "repeats": repeats,
        "sizes": [10, 100, 1000],
        "task_n": 10,
        "sync_n": 100,
        "ckpt": [100, 1000],
        "scale_n": 1000,
        "callbacks_at": 100,
        "startup": 3 if args.quick else 7,
        "audit": (10, 50) if args.quick else (50, 200),
        "context": [10, 100, 1000],
    }


def _meta(args: argparse.Namespace, repeats: int) -> dict[str, Any]:
    packages = ("langgraph", "langchain-core", "langgraph-supervisor")
    flags = " --quick" if args.quick else " --tiny" if args.tiny else ""
    return {
        "command": f"python -m benchmarks{flags}",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        "versions": ", ".join(f"{p} {version(p)}" for p in packages),
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and write the report."""
    os.environ["LANGSMITH_TRACING"] = "false"  # this process only: no trace leaves the machine
    args = _parser().parse_args(argv)
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    from benchmarks import report, suites
    from benchmarks.timing import close_loop

    s = _settings(args)
    if args.sizes:
        s["sizes"] = [int(n) for n in args.sizes.split(",")]
    r = s["repeats"]
    plan: dict[str, Callable[[], Any]] = {
        "overhead": lambda: suites.overhead(s["sizes"], r, s["callbacks_at"]),
        "tradeoffs": lambda: suites.tradeoffs(s["task_n"], r),
        "sync_async": lambda: suites.sync_async(s["sync_n"], r),
        "checkpointers": lambda: suites.checkpointers(s["ckpt"], r),
        "scale": lambda: suites.scale(s["scale_n"]),
        "startup": lambda: suites.startup(s["startup"]),
        "audit": lambda: suites.audit(*s["audit"]),
        "context": lambda: suites.context(s["context"]),
    }
    results: dict[str, Any] = {"meta": _meta(args, r)}
    for name in chosen:
        start = time.perf_counter()
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        results[name] = plan[name]()
        print(f"benchmarks: {name} done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    close_loop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "BENCHMARKS.md").write_text(report.markdown(results), encoding="utf-8")
    report.plot(results, args.out / "BENCHMARKS.png")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    for target, measured, ok in report.targets(results):
        print(f"{'met   ' if ok else 'MISSED'} {target}: {measured}")
    print(f"wrote {args.out / 'BENCHMARKS.md'} and {args.out / 'BENCHMARKS.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

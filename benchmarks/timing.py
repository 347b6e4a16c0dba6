"""Timing on a noisy machine: warm up, interleave the contenders, keep every sample, take medians.

Contenders measured against each other run in the same group, alternating order each
repeat, so a burst of load from elsewhere hits both; ratios are medians of one group.
Peak memory and start-up are measured in fresh child processes (``benchmarks.child``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Run = Callable[[], Any]


@dataclass
class Samples:
    """Wall-clock seconds of repeated runs of one contender."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.seconds)

    @property
    def spread(self) -> tuple[float, float]:
        """Fastest and slowest run."""
        return min(self.seconds), max(self.seconds)


_LOOP: asyncio.AbstractEventLoop | None = None


def run_async(factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine on one event loop kept for the whole benchmark."""
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
    return _LOOP.run_until_complete(factory())


def close_loop() -> None:
    """Close the shared event loop."""
    global _LOOP
    if _LOOP is not None:
        _LOOP.close()
        _LOOP = None


def interleaved(runs: dict[str, Run], repeats: int, warmup: int = 1) -> dict[str, Samples]:
    """Time each contender ``repeats`` times, alternating the order, after ``warmup`` runs."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    samples = {name: Samples() for name in runs}
    for i in range(repeats):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for name in order:
            gc.collect()
            start = time.perf_counter()
            runs[name]()
            samples[name].seconds.append(time.perf_counter() - start)
    return samples


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    On Linux it is ``VmHWM``: ``ru_maxrss`` survives fork and exec, so a child started by
    a bigger process would report at least its parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _env() -> dict[str, str]:
    """This environment with this checkout first on the path (children import the same code)."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def child(*args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m benchmarks.child ARGS`` in a fresh process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def command_seconds(command: list[str], repeats: int) -> Samples:
    """Wall-clock seconds of a whole command, run ``repeats`` times (after one warm-up)."""
    samples = Samples()
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, check=True, timeout=120)
        if i:
            samples.seconds.append(time.perf_counter() - start)
    return samples

"""The benchmark harness runs end to end at N = 2; its numbers are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_benchmark_harness_runs_every_section_at_tiny_n(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    for heading in (
        "## Targets",
        "## 1. Overhead against hand-written LangGraph",
        "## 2–3. The same 2-part task",
        "## 4. Sync and async at N = 2",
        "## 5. Checkpointers",
        "## 6. Scale and memory",
        "## 7. The flagship audit",
        "## 8. Context budgets at scale",
    ):
        assert heading in report
    assert "| langgraph-supervisor |" in report
    assert (tmp_path / "BENCHMARKS.png").read_bytes().startswith(b"\x89PNG")
    assert "wrote" in done.stdout

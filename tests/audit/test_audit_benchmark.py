"""The audit benchmark script runs (tiny here); its numbers are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "audit.py"


def test_the_benchmark_runs_and_reports_wall_time_and_peak_memory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repos", "2", "--files", "20"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("audited 2 repositories") == 2  # real files and synthetic
    assert "faster than detect-secrets; same secrets: True" in done.stdout
    assert "wall time:" in done.stdout
    assert "peak RSS:" in done.stdout

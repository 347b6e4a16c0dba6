"""Benchmark ``orchestra audit``: N generated repositories of about M files each.

Run it: ``python benchmarks/audit.py`` (50 repositories x 200 files) or with
``--repos N --files M``. It writes the repositories to a temporary folder, measures the
analysers alone on every repository (the baseline: the work no team can avoid), then the
whole audit as users run it (offline model, SQLite checkpoints, validation, digest),
and prints wall times, their ratio and the peak resident memory of this process.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from orchestra.graphs.cli import main
from orchestra_audit.analyse import audit_repo
from orchestra_audit.policy import load_policy
from orchestra_audit.samples_bulk import generate_bulk


def _peak_rss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run(repos: int, files: int) -> dict[str, float]:
    """Generate the set, time the baseline and the audit; return the measurements."""
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-") as tmp:
        base = Path(tmp)
        os.environ["ORCHESTRA_STATE_DIR"] = str(base / "state")
        written = generate_bulk(base / "repos", repos=repos, files=files)
        policy = load_policy(base / "repos" / "policy.toml")

        start = time.perf_counter()
        for root in sorted(p for p in (base / "repos").iterdir() if p.is_dir()):
            audit_repo(root, root.name, policy, b"benchmark-key")
        baseline = time.perf_counter() - start

        args = ["audit", str(base / "repos"), "--policy", str(base / "repos" / "policy.toml")]
        args += ["--db", str(base / "checkpoints.sqlite"), "--json", "--model", "offline"]
        args += ["--offline"]  # the baseline (analysers alone) asks no registry either
        out = StringIO()
        start = time.perf_counter()
        with redirect_stdout(out):
            code = main(args)
        wall = time.perf_counter() - start
        report = json.loads(out.getvalue())
        return {
            "repositories": repos,
            "files": written,
            "exit_code": code,
            "findings": len(report["findings"]),
            "analysers_s": round(baseline, 2),
            "audit_s": round(wall, 2),
            "ratio": round(wall / baseline, 2) if baseline else 0.0,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }


def cli() -> int:
    """Parse the arguments, run the benchmark, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    numbers = run(args.repos, args.files)
    print(
        f"audited {numbers['repositories']} repositories, {numbers['files']} files: "
        f"{numbers['findings']} findings, exit code {numbers['exit_code']}"
    )
    print(f"analysers alone (baseline): {numbers['analysers_s']} s")
    print(
        f"orchestra audit (team, checkpoints): {numbers['audit_s']} s "
        f"({numbers['ratio']}x the baseline)"
    )
    print(f"wall time: {numbers['audit_s']} s · peak RSS: {numbers['peak_rss_mb']} MB")
    return 0 if numbers["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(cli())

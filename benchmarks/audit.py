"""Benchmark ``orchestra audit`` against ``detect-secrets scan`` over the same tree.

Run it: ``python benchmarks/audit.py`` (50 repositories x 200 files) or with
``--repos N --files M``. Two trees are written to a temporary folder:

- **real files**: every repository holds M real text files of the Python packages
  installed here (code, docs, data: what repositories are made of, with the token-like
  strings real code has), a ``requirements.txt`` so each folder is a repository;
- **synthetic**: the generated bulk set (small files, planted problems).

On each tree, in the same run: ``detect-secrets scan --all-files`` (its default, one
process per core) as the reference; the whole ``orchestra audit`` as users run it (a
fresh process: offline model, SQLite checkpoints, validation, digest, registry lookups
off) with one worker process and with one per core; and the analysers alone in this
process. It prints wall times, ratios, MB/s and whether the audit's secret findings are
detect-secrets' (the same files and lines). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestra_audit.analyse import audit_repo
from orchestra_audit.files import MAX_BYTES, SKIP_DIRS
from orchestra_audit.policy import AuditPolicy, load_policy
from orchestra_audit.samples_bulk import generate_bulk

_TEXT = {".py", ".pyi", ".txt", ".md", ".rst", ".json", ".toml", ".cfg", ".ini", ".yaml"}
_TEXT |= {".yml", ".js", ".html", ".sh", ".pem", ".typed", ".c", ".h"}


def _real_sources() -> list[Path]:
    """Real text files of the installed packages, UTF-8 and under the audit's size limit.

    Files the audit leaves out by design (over 1 MB, not UTF-8, in build/dist-like
    folders) are left out here too, so both tools read the same files.
    """
    site = Path(sysconfig.get_paths()["purelib"])
    chosen = []
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        if path.suffix not in _TEXT or any(part in SKIP_DIRS for part in rel.parts):
            continue
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            continue
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        chosen.append(path)
    return chosen


def write_real(folder: Path, repos: int, files: int) -> int:
    """``repos`` repositories of ``files`` real files each (spread over all packages)."""
    sources = _real_sources()
    site = Path(sysconfig.get_paths()["purelib"])
    stride = max(len(sources) // (repos * files), 1)
    written = 0
    for i in range(repos):
        root = folder / f"repo-{i:03d}"
        root.mkdir(parents=True)
        (root / "requirements.txt").write_text("requests==2.31.0\n")
        for j in range(files - 1):
            source = sources[((i * files + j) * stride) % len(sources)]
            target = root / source.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        written += files
    return written


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def detect_secrets_scan(tree: Path) -> tuple[float, set[tuple[str, int]], set[str]]:
    """``detect-secrets scan --all-files`` in ``tree``: wall time, (file, line)s, secret types.

    The types are those of the plugins it ran (its defaults leave some out, such as the
    public IP detector, which the audit runs).
    """
    start = time.perf_counter()
    done = subprocess.run(
        [_tool("detect-secrets"), "scan", "--all-files"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    document = json.loads(done.stdout)
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    used = {plugin["name"] for plugin in document["plugins_used"]}
    types = {t for t, c in get_mapping_from_secret_type_to_class().items() if c.__name__ in used}
    found = document["results"]
    return wall, {(f, s["line_number"]) for f, hits in found.items() for s in hits}, types


def orchestra_audit(tree: Path, state: Path, processes: int) -> tuple[float, dict[str, Any]]:
    """The ``orchestra audit`` command over ``tree``: its wall time and ``--json`` report."""
    database = state / f"audit-{processes}.sqlite"
    command = [_tool("orchestra"), "audit", str(tree), "--json", "--offline"]
    command += ["--model", "offline", "--db", str(database)]
    if (tree / "policy.toml").exists():
        command += ["--policy", str(tree / "policy.toml")]
    env = os.environ | {"ORCHESTRA_AUDIT_PROCESSES": str(processes)}
    env["ORCHESTRA_STATE_DIR"] = str(state)
    env["ORCHESTRA_REGISTRY_CACHE"] = str(state / "registry-cache")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"orchestra audit failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout)


def _types(message: str) -> set[str]:
    """The secret types a finding names: its own ("X in code...") and "Also matched by"."""
    named = {message.split(" in code")[0].split(" in test code")[0]}
    if "Also matched by: " in message:
        named |= set(message.split("Also matched by: ", 1)[1].rstrip(".").split(", "))
    return named


def _secret_places(report: dict[str, Any], types: set[str]) -> set[tuple[str, int]]:
    """The (file, line)s of the audit's secret findings that detect-secrets' plugins name."""
    return {
        (f"{f['repo']}/{f['file']}", f["line"])
        for f in report["findings"]
        if f["kind"] == "secret" and f["line"] and _types(f["message"]) & types
    }


def measure(tree: Path, state: Path) -> dict[str, Any]:
    """Every measurement of one tree."""
    repos = sorted(p for p in tree.iterdir() if p.is_dir())
    policy = load_policy(tree / "policy.toml") if (tree / "policy.toml").exists() else None
    start = time.perf_counter()
    for root in repos:
        audit_repo(root, root.name, policy or AuditPolicy(), b"benchmark-key")
    analysers = time.perf_counter() - start
    ds_s, ds_places, ds_types = detect_secrets_scan(tree)
    one_s, _ = orchestra_audit(tree, state, 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    many_s, report = orchestra_audit(tree, state, cores)
    ours = _secret_places(report, ds_types)
    size = _size_mb(tree)
    return {
        "repositories": len(repos),
        "files": sum(1 for p in tree.rglob("*") if p.is_file()),
        "mb": round(size, 1),
        "findings": len(report["findings"]),
        "secret_lines": len(ours),
        "detect_secrets_lines": len(ds_places),
        # detect-secrets' baseline lists a value once per file (its hash is the key), the
        # audit every line it is on: the same when both name the same files and every
        # line detect-secrets names is the audit's too.
        "same_secrets": ds_places <= ours and {f for f, _ in ours} == {f for f, _ in ds_places},
        "only_orchestra": len(ours - ds_places),
        "only_detect_secrets": len(ds_places - ours),
        "detect_secrets_s": round(ds_s, 2),
        "analysers_s": round(analysers, 2),
        "audit_1_process_s": round(one_s, 2),
        "processes": cores,
        "audit_s": round(many_s, 2),
        "speedup_vs_detect_secrets": round(ds_s / many_s, 1),
        "speedup_1_to_n_processes": round(one_s / many_s, 2),
        "audit_mb_s": round(size / many_s, 2),
        "detect_secrets_mb_s": round(size / ds_s, 2),
        "exit_code": 0,
    }


def run(repos: int, files: int) -> dict[str, Any]:
    """Write both trees, measure each; the real-files tree's numbers come first."""
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-") as tmp:
        base = Path(tmp)
        write_real(base / "real", repos, files)
        generate_bulk(base / "synthetic", repos=repos, files=files)
        (base / "state").mkdir()
        real = measure(base / "real", base / "state")
        synthetic = measure(base / "synthetic", base / "state")
    return real | {"synthetic": synthetic}


def _print(label: str, n: dict[str, Any]) -> None:
    print(
        f"{label}: audited {n['repositories']} repositories, {n['files']} files, {n['mb']} MB: "
        f"{n['findings']} findings"
    )
    print(
        f"  detect-secrets scan: {n['detect_secrets_s']} s ({n['detect_secrets_mb_s']} MB/s), "
        f"{n['detect_secrets_lines']} lines with secrets"
    )
    print(
        f"  orchestra audit: {n['audit_s']} s with {n['processes']} processes "
        f"({n['audit_mb_s']} MB/s), {n['audit_1_process_s']} s with 1 "
        f"({n['speedup_1_to_n_processes']}x); analysers alone {n['analysers_s']} s"
    )
    print(
        f"  {n['speedup_vs_detect_secrets']}x faster than detect-secrets; same secrets: "
        f"{n['same_secrets']} (lines only orchestra lists {n['only_orchestra']}: a value "
        f"detect-secrets lists once per file; only detect-secrets {n['only_detect_secrets']})"
    )


def cli() -> int:
    """Parse the arguments, run the benchmark, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    numbers = run(args.repos, args.files)
    _print("real files", numbers)
    _print("synthetic", numbers["synthetic"])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak = children / (1024 * 1024) if sys.platform == "darwin" else children / 1024
    print(f"wall time: {numbers['audit_s']} s · peak RSS: {peak:.0f} MB (largest process)")
    return 0


if __name__ == "__main__":
    sys.exit(cli())

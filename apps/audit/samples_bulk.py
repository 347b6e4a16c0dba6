"""Large synthetic repository sets, for benchmarks: N repositories of about M files each.

Deterministic like the demo set: Python packages with tests for most modules, requirement
files whose pins drift from repository to repository (so the digest has conflicts to
reconcile), a planted fake key in every fifth repository, a binary file in each, and a
small JavaScript app in every third.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestra_audit.samples import POLICY, fake


def _pins(i: int) -> list[str]:
    """Repository ``i``'s pins: requests and flask drift across repositories, numpy agrees."""
    return [
        f"requests==2.{19 + i % 14}.0",
        f"flask==2.{i % 4}.1",
        f"pyyaml==6.0.{i % 2}",
        "numpy==1.26.4",
    ]


def _module(i: int, j: int) -> str:
    body = [f'"""Module {j} of package {i}: order handling, part {j}."""', ""]
    for k in range(3):
        body += [
            f"def handle_{j}_{k}(order, amount):",
            f'    """Step {k} of module {j}."""',
            "    total = 0",
            "    for line in order:",
            f"        total += line * {k + 1}",
            "    return total + amount",
            "",
            "",
        ]
    body += [f"class Ledger{j}:", '    """A ledger."""', "", "    def __init__(self):"]
    body += ["        self.rows = []", ""]
    return "\n".join(body)


def _test(i: int, j: int) -> str:
    return (
        f"from pkg_{i}.module_{j} import handle_{j}_0\n\n\n"
        f"def test_handle_{j}():\n    assert handle_{j}_0([1, 2], 3) == 6\n"
    )


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)


def _repo(base: Path, i: int, files: int) -> int:
    root = base / f"repo-{i:03d}"
    _write(root / "requirements.txt", "\n".join([*_pins(i), "sqlalchemy", "click>=8.0", ""]))
    _write(root / "README.md", f"# repo-{i:03d}\n\nA synthetic service for benchmarks.\n")
    _write(root / f"pkg_{i}" / "__init__.py", "")
    _write(root / "data" / "blob.bin", bytes(range(256)) * 8)
    written = 4
    if i % 5 == 0:
        key = "AKIA" + fake(f"bulk-{i}", 16).upper()
        _write(root / f"pkg_{i}" / "settings.py", f'AWS_ACCESS_KEY_ID = "{key}"\n')
        written += 1
    if i % 3 == 0:
        package = {"name": f"web-{i}", "dependencies": {"lodash": f"4.17.{4 + i % 18}"}}
        _write(root / "web" / "package.json", json.dumps(package, indent=2) + "\n")
        _write(root / "web" / "src" / "app.js", "export function app() {\n  return 1;\n}\n")
        written += 2
    modules = max((files - written) * 2 // 3, 1)
    for j in range(modules):
        _write(root / f"pkg_{i}" / f"module_{j}.py", _module(i, j))
        written += 1
    for j in range(0, modules, 1):
        if written >= files:
            break
        if j % 7 != 3:  # every seventh module stays untested
            _write(root / "tests" / f"test_module_{j}.py", _test(i, j))
            written += 1
    return written


def generate_bulk(folder: str | Path, *, repos: int, files: int) -> int:
    """Write ``repos`` synthetic repositories of about ``files`` files each; return the count."""
    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    (base / "policy.toml").write_text(POLICY, encoding="utf-8")
    return sum(_repo(base, i, files) for i in range(1, repos + 1))

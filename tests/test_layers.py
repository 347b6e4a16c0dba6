"""The layers import one way, read from the source with ``ast`` (every import, nested ones too).

state <- nodes <- graphs make the framework; the audit application sits on top and sees
only ``orchestra``'s public API; nothing of the framework knows the application.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = {
    "orchestra": ROOT / "src" / "orchestra",
    "orchestra.state": ROOT / "state",
    "orchestra.nodes": ROOT / "nodes",
    "orchestra.graphs": ROOT / "graphs",
}
APP = ROOT / "apps" / "audit"
PUBLIC = {"orchestra", "orchestra.testing"}


def imports(folder: Path, *, recursive: bool = True) -> Iterator[tuple[str, str]]:
    """``(file, imported module)`` for every absolute import under ``folder``."""
    files = folder.rglob("*.py") if recursive else folder.glob("*.py")
    for path in sorted(files):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from ((where, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield where, node.module


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_scan_sees_the_imports_it_judges() -> None:
    found = dict.fromkeys(m for _, m in imports(APP))
    assert "orchestra" in found and "orchestra_audit.scope" in found
    assert any(within(m, "orchestra.state") for _, m in imports(FRAMEWORK["orchestra.nodes"]))


@pytest.mark.parametrize("package", sorted(FRAMEWORK))
def test_the_framework_imports_nothing_of_the_audit(package: str) -> None:
    # The root package's folder holds only its own modules; the layers are scanned apart.
    scanned = imports(FRAMEWORK[package], recursive=package != "orchestra")
    assert [(f, m) for f, m in scanned if within(m, "orchestra_audit")] == []


def test_the_audit_imports_only_the_public_api() -> None:
    private = [(f, m) for f, m in imports(APP) if within(m, "orchestra") and m not in PUBLIC]
    assert private == []


@pytest.mark.parametrize(
    ("layer", "above"),
    [
        ("orchestra.state", ("orchestra.nodes", "orchestra.graphs")),
        ("orchestra.nodes", ("orchestra.graphs",)),
    ],
)
def test_a_layer_imports_nothing_of_the_layers_above_it(layer: str, above: tuple[str, ...]) -> None:
    upward = [(f, m) for f, m in imports(FRAMEWORK[layer]) if any(within(m, a) for a in above)]
    assert upward == []

"""Read-only tools the example teams use; safe to hand to any specialist.

File tools are confined to the working directory: a path that leaves it (``..``, an
absolute path elsewhere, a symlink pointing out) is refused.
"""

from __future__ import annotations

import ast
import operator
import os
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

from langchain_core.tools import tool

_OPS: dict[type[ast.AST], Callable[..., float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.FloorDiv: operator.floordiv,
}


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large")
        try:
            return float(_OPS[type(node.op)](left, right))
        except (OverflowError, ZeroDivisionError) as exc:
            raise ValueError(f"cannot compute: {exc}") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_eval(node.operand)))
    raise ValueError(f"unsupported expression element: {ast.dump(node)[:40]}")


@tool
def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression (+ - * / // % ** and parentheses)."""
    value = _eval(ast.parse(expression.strip().replace("^", "**"), mode="eval"))
    return f"{expression.strip()} = {value:g}"


@cache
def _notes() -> list[tuple[str, str]]:
    text = (
        resources.files("orchestra.nodes").joinpath("data/knowledge.md").read_text(encoding="utf-8")
    )
    return [
        (m.group(1).strip(), m.group(2).strip())
        for m in re.finditer(r"^# (.+?)\n(.*?)(?=^# |\Z)", text, re.M | re.S)
    ]


_COMMON = frozenset(
    "the and for with from that this are was were find facts about what which how "
    "into its their has have not but can use used using".split()
)


def _terms(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9-]{3,}", text.lower()) if w not in _COMMON}


def _score(wanted: set[str], title: str, body: str) -> int:
    words = [
        w.rstrip("s")
        for w in re.findall(r"[a-z0-9-]{3,}", f"{title} {title} {title} {body}".lower())
    ]
    return sum(words.count(w) for w in wanted)


@tool
def search_notes(query: str, limit: int = 3) -> str:
    """Search the built-in notes on multi-agent patterns, LangGraph and databases."""
    wanted = _terms(query)
    scored = sorted(
        (
            (_score(wanted, title, body), -i, title, body)
            for i, (title, body) in enumerate(_notes())
        ),
        reverse=True,
    )
    best = scored[0][0] if scored else 0
    hits = [
        f"{title}: {body}"
        for score, _, title, body in scored[:limit]
        if score > 0 and score * 2 >= best
    ]
    return "\n".join(hits) if hits else f"No notes match {query!r}."


@tool
def word_count(text: str) -> str:
    """Count the words and sentences of a text."""
    words = len(text.split())
    sentences = len([s for s in re.split(r"[.!?]+", text) if s.strip()])
    return f"{words} words, {sentences} sentences"


def _files(base: Path) -> list[Path]:
    """Files under ``base``, minus hidden ones and symlinks leading out of the working dir."""
    root = Path.cwd().resolve()
    found = []
    for folder, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            if not name.startswith(".") and path.resolve().is_relative_to(root):
                found.append(path)
    return found


def _inside(path: str) -> Path:
    root = Path.cwd().resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise PermissionError(f"{path!r} is outside the working directory")
    return target


@tool
def list_files(path: str = ".") -> str:
    """List the files under a directory of the working directory (at most 200)."""
    base = _inside(path)
    files = _files(base)
    lines = [f"{p.relative_to(base)} ({p.stat().st_size} bytes)" for p in files[:200]]
    return "\n".join(lines) or f"no files under {path}"


@tool
def count_lines(path: str = ".") -> str:
    """Count lines of code per file extension under a directory of the working directory."""
    base = _inside(path)
    totals: dict[str, int] = {}
    for p in _files(base):
        try:
            count = len(p.read_text(encoding="utf-8").splitlines())
        except (UnicodeDecodeError, OSError):
            continue
        totals[p.suffix or "(none)"] = totals.get(p.suffix or "(none)", 0) + count
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return "\n".join(f"{ext}: {n} lines" for ext, n in ranked) or f"no text files under {path}"


@tool
def find_text(pattern: str, path: str = ".") -> str:
    """Find lines matching a regular expression in the text files under a directory."""
    base = _inside(path)
    regex = re.compile(pattern)
    hits = []
    for p in _files(base):
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        hits += [
            f"{p.relative_to(base)}:{n}: {ln.strip()}"
            for n, ln in enumerate(lines, 1)
            if regex.search(ln)
        ]
    return "\n".join(hits[:100]) or f"no line matches {pattern!r}"

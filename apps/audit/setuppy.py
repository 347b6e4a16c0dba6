"""Requirements that setuptools projects declare in ``setup.py`` and ``setup.cfg``.

``setup.py`` is a program: running it to learn its requirements would run whatever it does
(downloads, writes, a planted payload) on the auditor's machine. It is parsed with ``ast``
and never executed or imported. The ``setup(...)`` call's ``install_requires=`` and
``extras_require=`` are read when they are literals, or names bound at module level to
literals, or sums of those (``BASE + ["extra"]``), also when passed as ``**kwargs`` of a
dict literal or ``dict(...)``; anything computed (``read_reqs()``) is not evaluated and
so not read. ``setup.cfg`` is read with ``configparser``; its
``file:`` directives point at requirement files, which are read as such where they are
named ``requirements*.txt``.
"""

from __future__ import annotations

import ast
import configparser

_DEPTH = 8
"""Names referring to names: deeper than this is not followed (so a cycle ends here)."""

SetupRequirement = tuple[str, int, str]
"""A PEP 508 string, its 1-based line (0 when unknown), and its group ('' for install)."""


def _is_setup(func: ast.expr) -> bool:
    """``setup(...)``, ``setuptools.setup(...)``, ``distutils.core.setup(...)``."""
    if isinstance(func, ast.Name):
        return func.id == "setup"
    return isinstance(func, ast.Attribute) and func.attr == "setup"


def _bindings(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = value`` (the last one wins, as when the module runs)."""
    bound: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                bound[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is not None:
                bound[node.target.id] = node.value
    return bound


def _strings(node: ast.expr, bound: dict[str, ast.expr], depth: int = 0) -> list[tuple[str, int]]:
    """The requirement strings a literal expression evaluates to, with their lines."""
    if depth > _DEPTH:
        return []
    if isinstance(node, ast.Name) and node.id in bound:
        return _strings(bound[node.id], bound, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _strings(node.left, bound, depth) + _strings(node.right, bound, depth)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [found for item in node.elts for found in _strings(item, bound, depth)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        # setuptools also takes one string of newline-separated requirements.
        lines = node.value.splitlines()
        return [
            (text.strip(), node.lineno + (offset if len(lines) > 1 else 0))
            for offset, text in enumerate(lines)
            if text.strip() and not text.strip().startswith("#")
        ]
    return []


def _groups(
    node: ast.expr, bound: dict[str, ast.expr], depth: int = 0
) -> list[tuple[str, ast.expr]]:
    """Key/value pairs of a dict literal, ``dict(key=...)``, or a name bound to one."""
    if depth > _DEPTH:
        return []
    if isinstance(node, ast.Name) and node.id in bound:
        return _groups(bound[node.id], bound, depth + 1)
    if isinstance(node, ast.Dict):
        return [
            (key.value, value)
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        ]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [(kw.arg, kw.value) for kw in node.keywords if kw.arg is not None]
    return []


def setup_py_requirements(text: str) -> list[SetupRequirement]:
    r"""The requirements of every ``setup(...)`` call in a setup.py, read from its syntax tree.

    Example:
        >>> source = 'import os\nBASE = ["click>=8"]\nos.system("rm -rf /")\n'
        >>> source += 'setup(install_requires=BASE + ["rich"], extras_require={"dev": ["pytest"]})'
        >>> setup_py_requirements(source)
        [('click>=8', 2, ''), ('rich', 4, ''), ('pytest', 4, 'dev')]

    Raises:
        SyntaxError: the file is not Python that this interpreter can parse.
        ValueError: the file holds a NUL byte.
        RecursionError: the file nests too deeply to parse or to follow.
    """
    tree = ast.parse(text)
    bound = _bindings(tree)
    found: list[SetupRequirement] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_setup(node.func)):
            continue
        arguments = [(k.arg, k.value) for k in node.keywords if k.arg is not None]
        for keyword in node.keywords:
            if keyword.arg is None:  # setup(**kwargs), as poetry's generated setup.py does
                arguments += _groups(keyword.value, bound)
        for argument, value in arguments:
            if argument == "install_requires":
                found += [(req, line, "") for req, line in _strings(value, bound)]
            elif argument == "extras_require":
                for group, listed in _groups(value, bound):
                    found += [(req, line, group) for req, line in _strings(listed, bound)]
    return found


def _cfg_lines(value: str) -> list[str]:
    lines = [line.strip() for line in value.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", ";", "file:"))]


def _cfg_place(lines: list[str], section: str, option: str) -> int:
    """The 0-based line of ``option`` in ``[section]`` (configparser keeps no positions)."""
    inside = False
    for number, line in enumerate(lines):
        text = line.strip()
        if text.startswith("["):
            inside = text.lower() == f"[{section}]"
        elif inside and text.split("=", 1)[0].split(":", 1)[0].strip().lower() == option:
            return number
    return 0


def _cfg_found(
    text: str, section: str, option: str, value: str, group: str
) -> list[SetupRequirement]:
    """Each requirement of one option, at the line it is written on."""
    lines = text.splitlines()
    start = _cfg_place(lines, section, option)
    found: list[SetupRequirement] = []
    for requirement in _cfg_lines(value):
        line = next((n for n in range(start, len(lines)) if requirement in lines[n]), -1)
        found.append((requirement, line + 1, group))
        start = max(start, line)
    return found


def setup_cfg_requirements(text: str) -> list[SetupRequirement]:
    r"""The requirements of a setup.cfg's ``[options]`` and ``[options.extras_require]``.

    ``configparser`` keeps no positions: each line is found again in the text, under its
    section and option.

    Example:
        >>> text = "[options]\ninstall_requires =\n    requests>=2.31\n    idna\n"
        >>> text += "[options.extras_require]\nsocks = PySocks!=1.5.7\n"
        >>> setup_cfg_requirements(text)
        [('requests>=2.31', 3, ''), ('idna', 4, ''), ('PySocks!=1.5.7', 6, 'socks')]

    Raises:
        configparser.Error: the file is not an INI file.
    """
    # No interpolation: a "%" in a URL or marker is not a reference to another option.
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    found: list[SetupRequirement] = []
    if parser.has_option("options", "install_requires"):
        value = parser.get("options", "install_requires")
        found += _cfg_found(text, "options", "install_requires", value, "")
    extras = "options.extras_require"
    if parser.has_section(extras):
        for group, value in parser.items(extras):
            found += _cfg_found(text, extras, group, value, group)
    return found

"""One exception hierarchy: every orchestra error is an ``OrchestraError``, drawn in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import orchestra
from orchestra.nodes.retry import is_transient
from orchestra.state import SpecialistSpec, TeamSpec, brief, errors

ROOT = Path(__file__).resolve().parents[2]


def test_every_error_of_the_module_is_drawn_in_its_docstring_and_exported() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert errors.__doc__ is not None
    for cls in classes:
        assert issubclass(cls, orchestra.OrchestraError)
        assert cls.__name__ in errors.__doc__
        assert cls.__name__ in errors.__all__
        assert getattr(orchestra, cls.__name__) is cls  # public, from the root


@pytest.mark.parametrize(
    ("name", "also"),
    [
        ("TeamSpecError", ValueError),
        ("ModelConfigError", ValueError),
        ("TransientModelError", RuntimeError),
        ("RunNotFoundError", LookupError),
        ("DecisionError", ValueError),
    ],
)
def test_errors_keep_the_builtin_base_callers_already_catch(name: str, also: type) -> None:
    assert issubclass(getattr(orchestra, name), also)


def test_transient_model_error_is_in_the_hierarchy_and_still_transient() -> None:
    exc = orchestra.TransientModelError("503")
    assert isinstance(exc, orchestra.OrchestraError)
    assert is_transient(exc)
    assert not is_transient(orchestra.TeamSpecError("t", ["x"]))


def test_the_framework_raises_specific_errors_not_the_bare_base() -> None:
    bare = []
    for folder in ("state", "nodes", "graphs", "src"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                    func = node.exc.func
                    if isinstance(func, ast.Name) and func.id == "OrchestraError":
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []


def test_error_messages_name_a_huge_value_in_one_short_line() -> None:
    huge = "a" * 1_000_000
    team = TeamSpec(
        name="t",
        specialists=[SpecialistSpec(name="s", description="d")],
        pipeline={"stages": [huge]},
        pattern="pipeline",
    )
    problems = team.problems()
    assert problems and all(len(p) < 300 for p in problems)
    assert brief(huge).startswith("'aaa") and "..." in brief(huge)

"""The read-only example tools: arithmetic, notes search, word counts and confined file tools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from orchestra.nodes.toolkit import (
    calculate,
    count_lines,
    find_text,
    list_files,
    search_notes,
    word_count,
)

# --- calculate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 + 3 * 4", "2 + 3 * 4 = 14"),
        ("(1 + 2) / 4", "(1 + 2) / 4 = 0.75"),
        ("2^10", "2^10 = 1024"),
        ("2 ** 0.5", "2 ** 0.5 = 1.41421"),
        ("7 // 2", "7 // 2 = 3"),
        ("-3 % 5", "-3 % 5 = 2"),
        ("+4 - -1", "+4 - -1 = 5"),
        ("12 * 30 * 0.02  ", "12 * 30 * 0.02 = 7.2"),
        ("2 ** 100", "2 ** 100 = 1.26765e+30"),
    ],
)
def test_calculate(expression: str, result: str) -> None:
    assert calculate.invoke({"expression": expression}) == result


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unsupported expression element: Call"),
        ("__import__('os').system('true')", "unsupported expression element: Call"),
        ("x + 1", "unsupported expression element: Name"),
        ("'a' * 3", "unsupported expression element: Constant"),
        ("[1, 2]", "unsupported expression element: List"),
        ("1 if 1 else 2", "unsupported expression element: IfExp"),
        ("2 ** 101", "exponent too large"),
        ("9 ** 9 ** 9", "exponent too large"),
        ("2 ** -1000", "exponent too large"),
    ],
)
def test_calculate_rejects_what_is_not_plain_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calculate.invoke({"expression": expression})


def test_calculate_reports_syntax_and_division_errors() -> None:
    with pytest.raises(SyntaxError):
        calculate.invoke({"expression": "2 +"})
    with pytest.raises(ValueError, match="division by zero"):
        calculate.invoke({"expression": "1 / 0"})
    with pytest.raises(ValueError, match="cannot compute"):
        calculate.invoke({"expression": "(10**100)**100"})


def test_calculate_ignores_surrounding_spaces_and_chained_powers_stay_cheap() -> None:
    assert calculate.invoke({"expression": "  12 * 30"}) == "12 * 30 = 360"
    assert calculate.invoke({"expression": "**".join(["1"] * 40)}).endswith("= 1")


# --- search_notes and word_count -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("SQLite", "SQLite"),
        ("PostgreSQL", "PostgreSQL"),
        ("sqlite checkpointer", "SQLite"),
        ("What is the recursion limit?", "Recursion limit"),
        ("LangSmith tracing", "Tracing"),
    ],
)
def test_search_notes_ranks_the_matching_note_first(query: str, title: str) -> None:
    hits = search_notes.invoke({"query": query}).splitlines()

    assert hits[0].startswith(f"{title}: ")
    assert len(hits) <= 3


def test_search_notes_limit_and_no_match() -> None:
    assert len(search_notes.invoke({"query": "database checkpoints", "limit": 1}).splitlines()) == 1
    assert search_notes.invoke({"query": "zebra quokka"}) == "No notes match 'zebra quokka'."


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("One two. Three four five! Six?", "6 words, 3 sentences"),
        ("no punctuation here", "3 words, 1 sentences"),
        ("", "0 words, 0 sentences"),
        ("Wait... what?!", "2 words, 2 sentences"),
    ],
)
def test_word_count(text: str, result: str) -> None:
    assert word_count.invoke({"text": text}) == result


# --- file tools ----------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with code, a hidden folder and a secret outside it."""
    root = tmp_path / "work"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "pkg" / "a.py").write_text("import os\n# TODO: tidy\nx = 1\n", encoding="utf-8")
    (root / "pkg" / "sub" / "b.py").write_text("y = 2\n", encoding="utf-8")
    (root / "README.md").write_text("# Title\nTODO: write docs\n", encoding="utf-8")
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00TODO")
    (root / ".env").write_text("TODO secret\n", encoding="utf-8")
    (root / ".hidden" / "c.py").write_text("# TODO hidden\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TODO outside\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def test_list_files_skips_hidden_files_and_folders(workdir: Path) -> None:
    assert list_files.invoke({}).splitlines() == [
        "README.md (25 bytes)",
        "blob.bin (7 bytes)",
        "pkg/a.py (29 bytes)",
        "pkg/sub/b.py (6 bytes)",
    ]
    assert list_files.invoke({"path": "pkg/sub"}) == "b.py (6 bytes)"
    assert list_files.invoke({"path": str(workdir / "pkg" / "sub")}) == "b.py (6 bytes)"


def test_list_files_of_an_empty_or_missing_folder(workdir: Path) -> None:
    (workdir / "empty").mkdir()
    assert list_files.invoke({"path": "empty"}) == "no files under empty"
    assert list_files.invoke({"path": "nowhere"}) == "no files under nowhere"


def test_count_lines_per_extension(workdir: Path) -> None:
    assert count_lines.invoke({"path": "."}).splitlines() == [".py: 4 lines", ".md: 2 lines"]
    assert count_lines.invoke({"path": "pkg/sub"}) == ".py: 1 lines"
    (workdir / "empty").mkdir()
    assert count_lines.invoke({"path": "empty"}) == "no text files under empty"


def test_find_text(workdir: Path) -> None:
    assert find_text.invoke({"pattern": "TODO"}).splitlines() == [
        "README.md:2: TODO: write docs",
        "pkg/a.py:2: # TODO: tidy",
    ]
    assert find_text.invoke({"pattern": r"^\w = \d", "path": "pkg"}).splitlines() == [
        "a.py:3: x = 1",
        "sub/b.py:1: y = 2",
    ]
    assert find_text.invoke({"pattern": "nothing-like-this"}) == (
        "no line matches 'nothing-like-this'"
    )


def refusals(workdir: Path) -> list[str]:
    return [
        "..",
        "../outside",
        "pkg/../../outside",
        str(workdir.parent / "outside"),
        "/",
    ]


@pytest.mark.parametrize("tool", [list_files, count_lines, find_text])
def test_paths_outside_the_working_directory_are_refused(workdir: Path, tool: BaseTool) -> None:
    for path in refusals(workdir):
        args = {"path": path, "pattern": "TODO"} if tool is find_text else {"path": path}
        with pytest.raises(PermissionError, match="outside the working directory"):
            tool.invoke(args)


@pytest.mark.parametrize("tool", [list_files, count_lines, find_text])
def test_a_symlink_pointing_outside_is_refused(workdir: Path, tool: BaseTool) -> None:
    os.symlink(workdir.parent / "outside", workdir / "escape")
    args = {"path": "escape", "pattern": "TODO"} if tool is find_text else {"path": "escape"}

    with pytest.raises(PermissionError, match="'escape' is outside the working directory"):
        tool.invoke(args)


def test_a_symlink_inside_the_working_directory_is_allowed(workdir: Path) -> None:
    os.symlink(workdir / "pkg" / "sub", workdir / "alias")

    assert list_files.invoke({"path": "alias"}) == "b.py (6 bytes)"


def test_the_working_directory_is_read_at_call_time(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir / "pkg")

    assert list_files.invoke({}).splitlines() == ["a.py (29 bytes)", "sub/b.py (6 bytes)"]
    with pytest.raises(PermissionError):
        list_files.invoke({"path": "../README.md"})


def test_files_reached_through_a_symlink_out_of_the_directory_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret TODO\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("my TODO\n")
    (work / "link.txt").symlink_to(outside / "secret.txt")
    monkeypatch.chdir(work)

    assert "secret" not in find_text.invoke({"pattern": "TODO", "path": "."})
    assert "link.txt" not in list_files.invoke({"path": "."})
    assert "mine.txt:1: my TODO" in find_text.invoke({"pattern": "TODO", "path": "."})

"""Team files are bounded input: a huge file or one whose YAML aliases expand without end
is refused with one line, before anything reads it as a team."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import orchestra_cli

from orchestra.state import TeamSpecError, load_team
from orchestra.state.spec_files import MAX_TEAM_FILE_BYTES, MAX_TEAM_VALUES

LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
name: laughs
specialists: [{name: s, description: *i}]
"""


def test_a_billion_laughs_file_is_refused_by_its_expansion(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    with pytest.raises(TeamSpecError) as caught:
        load_team(path)
    (problem,) = caught.value.problems
    assert f"more than {MAX_TEAM_VALUES:,} values" in problem and "lol" not in str(caught.value)


def test_aliases_that_stay_small_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(
        "name: shared\nx-prompt: &p Be brief.\n"
        "orchestrator: {prompt: *p}\nsynthesizer: {prompt: *p}\n"
        "specialists: [{name: s, description: Finds facts}]\n"
    )
    with pytest.raises(TeamSpecError) as caught:  # x-prompt is not a field: the spec says so
        load_team(path)
    assert "x-prompt" in str(caught.value) and "expands" not in str(caught.value)


def test_a_huge_team_file_is_refused_unread_with_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as file:
        file.write("name: huge\nspecialists: []\n# " + "x" * (20 * MAX_TEAM_FILE_BYTES) + "\n")
    done = orchestra_cli("run", str(path), "--task", "t", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "(1 problem)" in done.stderr and "team files are limited to 1 MB" in done.stderr
    done = orchestra_cli("run", "laughs.yaml", "--task", "t", cwd=_with(tmp_path, LAUGHS))
    assert done.returncode == 2 and "(1 problem)" in done.stderr and "lol" not in done.stderr


def _with(folder: Path, text: str) -> Path:
    (folder / "laughs.yaml").write_text(text)
    return folder


@pytest.mark.parametrize("command", [["show", "t1"], ["resume", "t1"]])
def test_show_and_resume_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    done = orchestra_cli(*command, "--db", "typo.sqlite", cwd=tmp_path)
    assert done.returncode != 0 and "no checkpoint database at typo.sqlite" in done.stderr
    assert not (tmp_path / "typo.sqlite").exists()
    done = orchestra_cli(*command, cwd=tmp_path)  # the default database, never made
    assert "pass --db" in done.stderr and not (tmp_path / ".orchestra").exists()

"""A user's own code beside a team file: tools, output type and check import from its folder."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import orchestra_cli

from orchestra.graphs.cli import main
from orchestra.nodes import import_ref, resolve_team
from orchestra.state import TeamSpec, TeamSpecError, load_team

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "user_team"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The example user folder, copied where nothing else is, with a working directory apart."""
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "elsewhere").mkdir()
    return folder


def run(*args: str, cwd: Path) -> dict[str, object]:
    done = orchestra_cli(*args, "--json", "--db", str(cwd.parent / "runs.sqlite"), cwd=cwd)
    assert done.returncode in (0, 4, 7), done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_example_folder_runs_from_another_working_directory(shop: Path) -> None:
    elsewhere = shop.parent / "elsewhere"
    result = run("run", str(shop / "team.yaml"), "--task", "Where is order A-1001?", cwd=elsewhere)

    assert result["status"] == "completed"
    results = result["results"]
    assert isinstance(results, dict)
    (only,) = results.values()
    assert only["tool_calls"] == ["order_status"]  # the folder's own tool
    assert only["output"] == {  # its own output type, filled from the tool's answer
        "status": "shipped",
        "reply": "Order A-1001 is shipped (carrier: DHL); expected delivery 4 December.",
    }


def test_the_folders_check_sends_a_contradicting_reply_back(shop: Path) -> None:
    # The offline model reports the first status the type allows ("shipped"); the order
    # database says "processing", so the folder's own check rejects the reply each time.
    elsewhere = shop.parent / "elsewhere"
    result = run("run", str(shop / "team.yaml"), "--task", "Where is order A-1002?", cwd=elsewhere)

    assert result["status"] == "cap_reached"
    verdicts = result["verdicts"]
    assert isinstance(verdicts, list)
    feedback = [v["feedback"] for v in verdicts if not v["accepted"]]
    assert feedback == ["the reply does not tell the customer that the order is shipped"] * 2


def test_a_resume_from_another_directory_imports_from_the_team_files_folder(shop: Path) -> None:
    team_file = shop / "team.yaml"
    team_file.write_text(team_file.read_text() + "approval: {plan: true}\n")
    first, second = shop.parent / "elsewhere", shop.parent / "another"
    second.mkdir()
    started = run("run", str(team_file), "--task", "Where is order A-1001?", cwd=first)
    assert started["status"] == "waiting"

    resumed = run("resume", str(started["thread_id"]), "--approve", cwd=second)

    assert resumed["status"] == "completed", resumed["reason"]


def _user_module(folder: Path, body: str) -> str:
    name = f"user_code_{uuid.uuid4().hex[:8]}"  # module names are process-wide
    (folder / f"{name}.py").write_text(body)
    return name


def _team(tools: list[str]) -> TeamSpec:
    return TeamSpec(
        name="mine", specialists=[{"name": "a", "description": "does a", "tools": tools}]
    )


def test_a_module_beside_the_team_file_imports_and_leaves_sys_path_as_it_was(
    tmp_path: Path,
) -> None:
    helper = _user_module(tmp_path, "GREETING = 'hello'\n")
    tools = _user_module(
        tmp_path,
        f"from {helper} import GREETING\n\n"
        "def greet(name: str) -> str:\n    '''Greets.'''\n    return GREETING + name\n",
    )
    (tmp_path / "team.yaml").write_text(
        f"name: mine\nspecialists: [{{name: a, description: does a, tools: ['{tools}:greet']}}]\n"
    )
    before = list(sys.path)

    resolved = resolve_team(load_team(tmp_path / "team.yaml"))

    assert resolved.specialists["a"].tools["greet"].invoke({"name": "Ann"}) == "helloAnn"
    assert sys.path == before


def test_a_nested_team_files_imports_come_from_its_own_folder(tmp_path: Path) -> None:
    inner = tmp_path / "research"
    inner.mkdir()
    tools = _user_module(inner, 'def find(q: str) -> str:\n    """Finds."""\n    return q\n')
    (inner / "team.yaml").write_text(
        f"name: inner\nspecialists: [{{name: a, description: does a, tools: ['{tools}:find']}}]\n"
    )
    (tmp_path / "team.yaml").write_text(
        "name: outer\npattern: hierarchical\n"
        "specialists: [{name: sub, description: a sub-team, team: research/team.yaml}]\n"
    )

    team = load_team(tmp_path / "team.yaml")
    resolve_team(team)  # no problem: the tool is found beside research/team.yaml
    nested = team.specialist("sub").team
    assert nested is not None
    assert set(resolve_team(nested).specialists["a"].tools) == {"find"}


def test_a_missing_module_names_the_folders_searched(tmp_path: Path) -> None:
    team = _team(["no_such_user_module_q:tool"]).importing_from(tmp_path)

    with pytest.raises(TeamSpecError) as caught:
        resolve_team(team)

    message = str(caught.value)
    assert "no such module in" in message
    assert str(tmp_path) in message and str(Path.cwd()) in message


def test_a_missing_dependency_of_a_user_module_is_reported_as_itself(tmp_path: Path) -> None:
    broken = _user_module(tmp_path, "import no_such_dependency_q\n")

    with pytest.raises(ImportError) as caught:
        import_ref(f"{broken}:tool", [tmp_path])

    assert "No module named 'no_such_dependency_q'" in str(caught.value)
    assert "no such module in" not in str(caught.value)


def test_a_user_module_named_like_an_imported_one_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("def dumps(x: object) -> str:\n    return 'mine'\n")

    with pytest.raises(ImportError, match=r"module 'json' was already imported from .*rename it"):
        import_ref("json:dumps", [tmp_path])


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"orchestra {version('orchestra')}"


def test_schema_prints_the_team_files_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["$defs"] == TeamSpec.model_json_schema()["$defs"]


def test_an_import_model_in_a_team_file_is_found_beside_it(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "team", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    module = f"house_model_{uuid.uuid4().hex[:8]}"
    (folder / f"{module}.py").write_text(
        "from orchestra.testing import ScriptedChatModel, team_script\n"
        "calls = []\n"
        "def model():\n"
        "    chat = ScriptedChatModel(respond=team_script())\n"
        "    calls.append(chat)\n"
        "    return chat\n"
    )
    (folder / "team.yaml").write_text(
        "name: housed\n"
        f"model: import:{module}:model\n"
        "specialists:\n"
        "  - name: writer\n"
        "    description: Writes.\n"
        f"    model: import:{module}:model\n"
    )
    result = run("run", str(folder / "team.yaml"), "--task", "Write one line.", cwd=elsewhere)
    assert result["status"] == "completed"
    assert result["model_calls"] == 4  # plan, the writer, review, synthesis: every role ran

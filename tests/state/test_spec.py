"""Team specs: files, validation that reports every problem at once, model strings and models."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from orchestra.nodes import OfflineChatModel, resolve_team
from orchestra.nodes.chat_models import resolve_model
from orchestra.nodes.toolkit import calculate, search_notes
from orchestra.state import (
    Limits,
    ModelConfigError,
    OrchestratorSpec,
    RoleSpec,
    SpecialistOutput,
    SpecialistSpec,
    TeamSpec,
    TeamSpecError,
    load_team,
    model_ref_problem,
    parse_model_ref,
    save_team,
    search_folders,
    team_from_data,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def file_team() -> TeamSpec:
    """A team that names everything by import path, so it can live in a file."""
    return TeamSpec(
        name="files",
        description="A team kept in a file.",
        model="offline",
        orchestrator=RoleSpec(prompt="Plan carefully."),
        specialists=[
            SpecialistSpec(
                name="researcher",
                description="Finds facts in notes.",
                tools=[
                    "orchestra.nodes.toolkit:search_notes",
                    "orchestra.nodes.toolkit:word_count",
                ],
                output="orchestra.state:SpecialistOutput",
                max_steps=4,
            ),
            SpecialistSpec(
                name="analyst",
                description="Calculates numbers.",
                tools=["orchestra.nodes.toolkit.calculate"],
                model="openai:gpt-4o-mini",
            ),
        ],
        limits=Limits(max_workers_per_round=3, max_rounds=2, max_revisions=0, max_concurrency=2),
    )


def test_an_orchestrator_given_as_a_role_spec_reviews_by_default() -> None:
    team = file_team()

    assert team.orchestrator == OrchestratorSpec(prompt="Plan carefully.")
    assert team.orchestrator.review
    assert not TeamSpec.model_validate(
        {**team.to_data(), "orchestrator": {"review": False}}
    ).orchestrator.review


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    team = file_team()
    path = tmp_path / f"team{suffix}"

    save_team(team, path)
    loaded = load_team(path)

    assert loaded == team
    assert loaded.limits.max_workers_per_round == 3
    assert loaded.limits.max_revisions == 0
    assert loaded.specialist("researcher").tools == [
        "orchestra.nodes.toolkit:search_notes",
        "orchestra.nodes.toolkit:word_count",
    ]
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert data["specialists"][0]["output"] == "orchestra.state:SpecialistOutput"
    # defaults are left out of the file
    assert "validator" not in data
    assert "max_steps" not in data["specialists"][1]


def test_a_loaded_team_resolves_its_import_paths(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    save_team(file_team(), path)

    resolved = resolve_team(load_team(path))

    researcher = resolved.specialists["researcher"]
    assert set(researcher.tools) == {"search_notes", "word_count"}
    assert researcher.tools["search_notes"] is search_notes
    assert researcher.output is SpecialistOutput
    assert resolved.specialists["analyst"].tools == {"calculate": calculate}


def test_resolve_team_wraps_plain_functions_and_accepts_objects() -> None:
    def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    class Report(BaseModel):
        title: str

    team = TeamSpec(
        name="objects",
        specialists=[
            SpecialistSpec(name="w", description="writes", tools=[shout, calculate], output=Report)
        ],
    )

    resolved = resolve_team(team).specialists["w"]

    assert resolved.tools["shout"].invoke({"text": "hi"}) == "HI"
    assert resolved.tools["calculate"] is calculate
    assert resolved.output is Report


def test_save_team_refuses_python_objects(tmp_path: Path) -> None:
    team = TeamSpec(
        name="objects",
        specialists=[SpecialistSpec(name="analyst", description="math", tools=[calculate])],
    )
    path = tmp_path / "team.yaml"

    with pytest.raises(TeamSpecError) as caught:
        save_team(team, path)

    assert caught.value.source == "objects"
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.startswith("specialists.analyst.tools holds a Python object")
    assert "import path" in problem
    assert "cannot be saved to a file" in problem
    assert not path.exists()


def test_save_team_names_every_field_holding_an_object(tmp_path: Path) -> None:
    def check(output: BaseModel) -> str | None:
        return None

    team = TeamSpec(
        name="objects",
        model=OfflineChatModel(),
        specialists=[
            SpecialistSpec(
                name="analyst",
                description="math",
                tools=["orchestra.nodes.toolkit:word_count", calculate, search_notes],
                output=SpecialistOutput,
                checks=[check],
            ),
            SpecialistSpec(
                name="clean", description="only paths", tools=["orchestra.nodes.toolkit:calculate"]
            ),
        ],
        validator={"checks": [check]},
    )

    with pytest.raises(TeamSpecError) as caught:
        save_team(team, tmp_path / "team.json")

    held = [p.split(" holds ", 1)[0] for p in caught.value.problems]
    assert held == [
        "model",
        "specialists.analyst.tools",
        "specialists.analyst.checks",
        "specialists.analyst.output",
        "validator.checks",
    ]
    assert not (tmp_path / "team.json").exists()


def test_pydantic_errors_in_a_file_become_one_team_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(
        "name: broken\n"
        "specialists:\n"
        "  - name: researcher\n"
        "    description: finds facts\n"
        "    max_steps: many\n"
        "    colour: blue\n"
        "limits:\n"
        "  max_rounds: 0\n",
        encoding="utf-8",
    )

    with pytest.raises(TeamSpecError) as caught:
        load_team(path)

    err = caught.value
    assert err.source == str(path)
    assert len(err.problems) == 3
    by_field = {p.split(":", 1)[0]: p for p in err.problems}
    assert set(by_field) == {
        "specialists.0.max_steps",
        "specialists.0.colour",
        "limits.max_rounds",
    }
    assert "integer" in by_field["specialists.0.max_steps"]
    assert "Extra inputs" in by_field["specialists.0.colour"]
    assert "3 problems" in str(err)


def test_team_from_data_names_its_source() -> None:
    with pytest.raises(TeamSpecError) as caught:
        team_from_data({"name": "x"}, source="inline")

    assert caught.value.source == "inline"
    assert caught.value.problems == ["specialists: Field required"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.yaml", "name: [unclosed\n", "not valid yaml"),
        ("bad.json", "{name: 1", "not valid json"),
        ("empty.yaml", "", "<root>: Input should be a valid dictionary"),
        ("list.yml", "- one\n- two\n", "<root>: Input should be a valid dictionary"),
    ],
)
def test_malformed_files_give_one_clear_problem(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(TeamSpecError) as caught:
        load_team(path)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(expected)


@pytest.mark.parametrize(
    ("target", "reason"),
    [("missing.yaml", "No such file or directory"), (".", "Is a directory")],
)
def test_unreadable_files_give_one_clear_problem(tmp_path: Path, target: str, reason: str) -> None:
    path = tmp_path / target

    with pytest.raises(TeamSpecError) as caught:
        load_team(path)

    assert caught.value.problems == [f"cannot read the team file: {reason}"]
    assert str(path) in str(caught.value)


# --- validation ----------------------------------------------------------------------------


def broken_team() -> TeamSpec:
    return TeamSpec(
        name="broken",
        model="offline",
        specialists=[
            SpecialistSpec(name="twin", description="first"),
            SpecialistSpec(name="twin", description="second"),
            SpecialistSpec(name="not-valid", description="has a dash"),
            SpecialistSpec(name="validator", description="clashes with a node"),
            SpecialistSpec(name="blank", description="   "),
            SpecialistSpec(
                name="tooled", description="t", tools=["orchestra.nodes.toolkit:no_such_tool"]
            ),
            SpecialistSpec(name="noprovider", description="m", model="gpt4"),
            SpecialistSpec(name="noname", description="m", model="openai:"),
            SpecialistSpec(
                name="typed", description="o", output="orchestra.nodes.toolkit:calculate"
            ),
        ],
    )


STRUCTURAL = [
    ("specialists.twin:", "duplicate"),
    ("specialists.not-valid:", "identifier"),
    ("specialists.validator:", "reserved"),
    ("specialists.blank:", "description is empty"),
    ("specialists.noprovider.model:", "unknown model 'gpt4'"),
    ("specialists.noname.model:", "needs a model name"),
]
IMPORTS = [
    ("specialists.tooled.tools:", "no_such_tool"),
    ("specialists.typed.output:", "not a pydantic model class"),
]


def assert_problems(problems: list[str], expected: list[tuple[str, str]]) -> None:
    assert len(problems) == len(expected)
    for prefix, words in expected:
        matching = [p for p in problems if p.startswith(prefix)]
        assert len(matching) == 1, (prefix, problems)
        assert words in matching[0]


def test_problems_lists_every_structural_problem() -> None:
    assert_problems(broken_team().problems(), STRUCTURAL)


def test_resolve_team_reports_structural_and_import_problems_at_once() -> None:
    with pytest.raises(TeamSpecError) as caught:
        resolve_team(broken_team())

    err = caught.value
    assert err.source == "broken"
    assert_problems(err.problems, STRUCTURAL + IMPORTS)
    assert "(8 problems)" in str(err)
    for problem in err.problems:
        assert f"  - {problem}" in str(err)


def test_resolve_team_uses_the_given_source() -> None:
    with pytest.raises(TeamSpecError) as caught:
        resolve_team(broken_team(), source="teams/broken.yaml")
    assert caught.value.source == "teams/broken.yaml"


@pytest.mark.parametrize(
    ("spec", "prefix", "words"),
    [
        ({"name": "class"}, "specialists.class:", "identifier"),
        ({"name": "ok", "tools": ["nowhere_module_xyz:tool"]}, "specialists.ok.tools:", "nowhere"),
        ({"name": "ok", "tools": ["no_separator"]}, "specialists.ok.tools:", "import path"),
        ({"name": "ok", "tools": [42]}, "specialists.ok.tools:", "neither"),
        ({"name": "ok", "output": "state:Nope"}, "specialists.ok.output:", "no attribute"),
        ({"name": "ok", "checks": ["state:PROVIDERS"]}, "specialists.ok.checks:", "not callable"),
        ({"name": "ok", "model": "import:pkg"}, "specialists.ok.model:", "import path"),
    ],
)
def test_single_problems_name_their_field(spec: dict[str, object], prefix: str, words: str) -> None:
    team = TeamSpec(name="t", specialists=[SpecialistSpec(description="d", **spec)])

    with pytest.raises(TeamSpecError) as caught:
        resolve_team(team)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(prefix)
    assert words in caught.value.problems[0]


def test_team_level_problems() -> None:
    team = TeamSpec(
        name="t",
        model="gpt4",
        orchestrator=RoleSpec(model="openai: "),
        specialists=[],
        validator={"checks": ["orchestra.nodes.toolkit:missing_check"]},
    )

    with pytest.raises(TeamSpecError) as caught:
        resolve_team(team)

    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0] == "the team has no specialists"
    assert problems[1].startswith("model: unknown model 'gpt4'")
    assert problems[2].startswith("orchestrator.model: model 'openai: ' needs a model name")
    assert problems[3].startswith("validator.checks:")


def test_a_tool_named_like_the_output_type_is_a_problem() -> None:
    @tool("SpecialistOutput")
    def clash(text: str) -> str:
        """Clash with the output type."""
        return text

    team = TeamSpec(
        name="t", specialists=[SpecialistSpec(name="w", description="d", tools=[clash])]
    )

    with pytest.raises(TeamSpecError) as caught:
        resolve_team(team)

    assert caught.value.problems == [
        "specialists.w: a tool has the output type's name 'SpecialistOutput'"
    ]


def test_a_sound_team_has_no_problems() -> None:
    assert file_team().problems() == []
    assert resolve_team(file_team()).spec == file_team()


# --- model strings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("offline", ("offline", "offline")),
        ("offline:fast", ("offline", "fast")),
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        (" openai:gpt-4o ", ("openai", "gpt-4o")),
        ("import:pkg.mod:attr", ("import", "pkg.mod:attr")),
        ("anthropic:claude-sonnet-4-5", ("anthropic", "claude-sonnet-4-5")),
        ("ollama:llama3.1:8b", ("ollama", "llama3.1:8b")),
        ("google-genai:gemini-2.5-flash", ("google_genai", "gemini-2.5-flash")),
    ],
)
def test_parse_model_ref(ref: str, parsed: tuple[str, str]) -> None:
    assert model_ref_problem(ref) is None
    assert parse_model_ref(ref) == parsed


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("gpt4", "unknown model 'gpt4'"),
        ("", "unknown model ''"),
        ("Anthropic claude:x", "unknown model"),
        ("openai:", "needs a model name"),
        ("openai:   ", "needs a model name"),
        ("import:pkg", "needs an import path"),
        ("import::attr", "needs an import path"),
        ("import:pkg.mod:", "needs an import path"),
    ],
)
def test_bad_model_refs(ref: str, words: str) -> None:
    problem = model_ref_problem(ref)
    assert problem is not None
    assert words in problem

    with pytest.raises(ValueError, match="model") as caught:
        parse_model_ref(ref)
    assert str(caught.value) == problem


# --- resolve_model -------------------------------------------------------------------------


def test_resolve_model_defaults_to_offline() -> None:
    model = resolve_model()
    assert isinstance(model, OfflineChatModel)
    assert model.latency_ms == 0
    assert isinstance(resolve_model(None, None), OfflineChatModel)


def test_resolve_model_takes_the_first_candidate_given() -> None:
    mine = OfflineChatModel(latency_ms=1)

    assert resolve_model(mine, "gpt4") is mine
    assert resolve_model(None, mine, "offline") is mine
    # "openai:x" would need a key, but it is never reached
    assert isinstance(resolve_model(None, "offline", "openai:x"), OfflineChatModel)
    with pytest.raises(ModelConfigError, match="unknown model 'gpt4'"):
        resolve_model(None, "gpt4", mine)


def test_orchestra_model_env_wins_over_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    monkeypatch.setenv("ORCHESTRA_MODEL", "offline")

    assert isinstance(resolve_model(None), OfflineChatModel)

    monkeypatch.setenv("ORCHESTRA_MODEL", "gpt4")
    with pytest.raises(ModelConfigError, match="gpt4"):
        resolve_model(None)


def test_offline_latency_comes_from_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRA_OFFLINE_LATENCY_MS", "7")
    model = resolve_model("offline")
    assert isinstance(model, OfflineChatModel)
    assert model.latency_ms == 7


def test_openai_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ModelConfigError) as caught:
        resolve_model("openai:x")
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "'openai:x'" in str(caught.value)


def test_openai_with_a_key_builds_chat_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")

    default = resolve_model(None)
    named = resolve_model("openai:gpt-4.1-nano")

    assert isinstance(default, ChatOpenAI)
    assert default.model_name == "gpt-4o-mini"
    assert isinstance(named, ChatOpenAI)
    assert named.model_name == "gpt-4.1-nano"


def test_openai_base_url_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")

    model = resolve_model("openai:llama3")

    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "llama3"
    assert model.openai_api_base == "http://localhost:11434/v1"


MODELS_MODULE = """
from orchestra.nodes.offline import OfflineChatModel

INSTANCE = OfflineChatModel(latency_ms=3)
NOT_A_MODEL = "just text"


def factory():
    return OfflineChatModel(latency_ms=5)


def bad_factory():
    return 42
"""


@pytest.fixture
def models_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"orchestra_test_models_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODELS_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_import_provider_with_an_instance_and_a_factory(models_module: str) -> None:
    instance = resolve_model(f"import:{models_module}:INSTANCE")
    built = resolve_model(f"import:{models_module}:factory")

    assert instance is sys.modules[models_module].INSTANCE
    assert isinstance(built, OfflineChatModel)
    assert built.latency_ms == 5


def test_import_provider_is_usable_from_orchestra_model(
    models_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRA_MODEL", f"import:{models_module}:INSTANCE")
    assert resolve_model(None) is sys.modules[models_module].INSTANCE


@pytest.mark.parametrize(
    ("attribute", "words"),
    [
        ("NOT_A_MODEL", "is not a LangChain chat model"),
        ("bad_factory", "is not a LangChain chat model"),
        ("missing", "has no attribute 'missing'"),
    ],
)
def test_import_provider_rejects_what_is_not_a_model(
    models_module: str, attribute: str, words: str
) -> None:
    with pytest.raises(ModelConfigError) as caught:
        resolve_model(f"import:{models_module}:{attribute}")
    assert words in str(caught.value)
    assert f"import:{models_module}:{attribute}" in str(caught.value)


def test_import_provider_reports_a_missing_module() -> None:
    with pytest.raises(ModelConfigError, match="cannot import module"):
        resolve_model("import:orchestra_no_such_module_xyz:model")


def test_a_team_file_that_is_not_utf8_is_a_clear_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(TeamSpecError, match="not UTF-8 text"):
        load_team(path)


def test_a_loaded_team_looks_up_imports_in_its_files_folder(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "team.yaml").write_text(
        "name: inner\nspecialists: [{name: a, description: does a}]\n"
    )
    (tmp_path / "team.yaml").write_text(
        "name: outer\npattern: hierarchical\nspecialists:\n"
        "  - {name: sub, description: a sub-team, team: inner/team.yaml}\n"
        "  - name: inline\n    description: an inline team\n"
        "    team: {name: inl, specialists: [{name: b, description: does b}]}\n"
    )

    team = load_team(tmp_path / "team.yaml")

    assert team.import_folders == (tmp_path.resolve(),)
    # a nested team file's own folder first, then its parent's; an inline team has the parent's
    assert team.specialist("sub").team is not None
    assert team.specialist("sub").team.import_folders == (
        (tmp_path / "inner").resolve(),
        tmp_path.resolve(),
    )
    assert team.specialist("inline").team is not None
    assert team.specialist("inline").team.import_folders == (tmp_path.resolve(),)
    assert search_folders(team)[:2] == [
        str(tmp_path.resolve()),
        str((tmp_path / "inner").resolve()),
    ]
    assert search_folders(team)[-1] == str(Path.cwd())


def test_import_folders_do_not_change_what_a_team_is(tmp_path: Path) -> None:
    team = file_team()
    moved = team.importing_from(tmp_path)

    assert moved.import_folders == (tmp_path,)
    assert team.import_folders == ()  # a copy: the original is untouched
    assert moved == team  # the folders are where a spec was read, not what it says
    assert moved.importing_from(tmp_path, tmp_path / "b").import_folders == (
        tmp_path,
        tmp_path / "b",
    )
    restored = team_from_data(moved.to_data(), import_folders=[str(tmp_path)])
    assert restored.import_folders == (tmp_path,)


def test_the_team_json_schema_describes_team_files() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = TeamSpec.model_json_schema()
    validator = jsonschema.Draft202012Validator(schema)

    shipped = resources.files("orchestra.graphs").joinpath("teams")
    files = [f for f in shipped.iterdir() if f.name.endswith(".yaml")]
    files.append(EXAMPLES / "user_team" / "team.yaml")
    for file in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(file.read_text()))]
        assert errors == [], file.name
    specialist = schema["$defs"]["SpecialistSpec"]["properties"]
    tools = specialist["tools"]["items"]
    assert tools["type"] == "string" and "beside the team file" in tools["description"]
    # a nested team: inline, or the path of its file
    assert any(s.get("type") == "string" for s in specialist["team"]["anyOf"])
    assert any(s.get("$ref", "").endswith("/TeamSpec") for s in specialist["team"]["anyOf"])
    assert "plans from this text" in specialist["description"]["description"]
    bad = {"name": "x", "specialists": [{"name": "a", "description": "d", "tools": ["a b"]}]}
    assert not validator.is_valid(bad)
    assert not validator.is_valid({"name": "x", "specialists": [], "unknown": 1})

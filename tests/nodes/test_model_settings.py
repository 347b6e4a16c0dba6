"""Model settings as data: strings or mappings, built through init_chat_model, checked first.

No test needs a key or the network: clients are built (no request is sent) or pointed
at loopback servers.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI
from openai_server import openai_server, total

from orchestra.graphs.cli import main
from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.graphs.team_files import team_schema
from orchestra.nodes import OfflineChatModel, check_models, resolve_model
from orchestra.nodes.chat_models import call_settings
from orchestra.nodes.providers import missing_package
from orchestra.state import (
    ModelConfigError,
    ModelSettings,
    SpecialistSpec,
    TeamSpec,
    TeamSpecError,
    load_team,
    model_choice,
    totals,
)


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "MISTRAL_API_KEY", "ROLE_A_KEY"):
        monkeypatch.delenv(name, raising=False)


TEAM_FILE = """
name: mixed
model: openai:gpt-4o-mini
orchestrator:
  model:
    model: ollama:llama3.1
    base_url: http://127.0.0.1:11434
    timeout_s: 30
    price: {input: 0, output: 0}
specialists:
  - name: researcher
    description: Finds facts.
  - name: writer
    description: Writes.
    model: {model: "anthropic:claude-sonnet-4-5", max_output_tokens: 800, temperature: 0.2}
"""


def test_a_model_is_a_string_or_a_mapping_in_a_team_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(TEAM_FILE, encoding="utf-8")

    team = load_team(path)

    assert team.model == "openai:gpt-4o-mini"
    orchestrator = team.orchestrator.model
    assert isinstance(orchestrator, ModelSettings)
    assert (orchestrator.provider, orchestrator.name) == ("ollama", "llama3.1")
    assert orchestrator.timeout_s == 30
    writer = team.specialist("writer").model
    assert isinstance(writer, ModelSettings) and writer.max_output_tokens == 800
    assert team.problems() == []
    # A mapping is data: the team saves and loads back as it was.
    assert team.objects() == []
    assert TeamSpec.model_validate(team.to_data()) == team


def test_the_schema_shows_both_forms() -> None:
    schema = team_schema()
    model = schema["$defs"]["TeamSpec"]["properties"]["model"]["anyOf"]
    assert {"type": "string"}.items() <= model[0].items()
    assert model[1] == {"$ref": "#/$defs/ModelSettings"}
    fields = schema["$defs"]["ModelSettings"]["properties"]
    assert {"base_url", "api_key_env", "timeout_s", "max_retries", "price"} <= set(fields)
    assert "NAME" not in fields["api_key_env"]["description"]  # a docstring, not the error
    assert "environment variable" in fields["api_key_env"]["description"]


@pytest.mark.parametrize("value", ["sk-proj-abc123def456", "sk_live_abc", "my key", "1ABC"])
def test_api_key_env_takes_a_name_never_a_key(value: str) -> None:
    with pytest.raises(ValueError, match="NAME of an environment variable") as caught:
        ModelSettings(model="openai:gpt-4o-mini", api_key_env=value)
    assert value not in str(caught.value).split("input_value")[0]


def test_a_key_like_value_is_not_echoed_by_model_choice() -> None:
    with pytest.raises(ModelConfigError) as caught:
        model_choice('{"model": "openai:x", "api_key_env": "sk-secret-123456"}')
    assert "sk-secret" not in str(caught.value)
    assert "api_key_env" in str(caught.value)


def test_api_key_env_is_read_when_the_model_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ModelSettings(model="openai:gpt-4o-mini", api_key_env="ROLE_A_KEY")
    with pytest.raises(ModelConfigError, match="ROLE_A_KEY"):
        resolve_model(settings)

    monkeypatch.setenv("ROLE_A_KEY", "first-key")
    first = resolve_model(settings)
    monkeypatch.setenv("ROLE_A_KEY", "second-key")
    second = resolve_model(settings)

    assert isinstance(first, ChatOpenAI) and isinstance(second, ChatOpenAI)
    assert first.openai_api_key is not None and second.openai_api_key is not None
    assert first.openai_api_key.get_secret_value() == "first-key"
    assert second.openai_api_key.get_secret_value() == "second-key"
    assert resolve_model(settings) is second  # same settings, same key: one client


def test_provider_clients_retry_never_and_always_time_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")

    default = resolve_model("openai:gpt-4o-mini")
    tuned = resolve_model({"model": "openai:gpt-4o-mini", "timeout_s": 7, "max_retries": 2})

    assert isinstance(default, ChatOpenAI) and isinstance(tuned, ChatOpenAI)
    assert (default.max_retries, default.request_timeout, default.stream_usage) == (0, 120, True)
    assert (tuned.max_retries, tuned.request_timeout) == (0, 7)  # max_retries is orchestra's
    assert call_settings(default).timeout_s == 120
    assert (call_settings(tuned).timeout_s, call_settings(tuned).max_retries) == (7, 2)


def test_anthropic_and_ollama_build_without_a_key() -> None:
    claude = resolve_model({"model": "anthropic:claude-sonnet-4-5", "max_output_tokens": 800})
    llama = resolve_model(
        {
            "model": "ollama:llama3.1",
            "base_url": "http://127.0.0.1:11434",
            "timeout_s": 30,
            "max_output_tokens": 500,
            "temperature": 0,
            "structured_output": "json_mode",
        }
    )

    assert isinstance(claude, ChatAnthropic)
    assert (claude.model, claude.max_retries, claude.default_request_timeout) == (
        "claude-sonnet-4-5",
        0,
        120,
    )
    assert claude.max_tokens == 800
    assert isinstance(llama, ChatOllama)
    assert (llama.model, llama.base_url, llama.num_predict) == (
        "llama3.1",
        "http://127.0.0.1:11434",
        500,
    )
    assert llama.client_kwargs == {"timeout": 30}
    assert call_settings(llama).structured_output == "json_mode"
    assert call_settings(llama).timeout_s == 30


def test_a_provider_whose_package_is_missing_fails_with_the_pip_command() -> None:
    if importlib.util.find_spec("langchain_mistralai") is not None:
        pytest.skip("langchain-mistralai is installed here")
    with pytest.raises(ModelConfigError) as caught:
        resolve_model("mistralai:mistral-large-latest")
    assert "pip install langchain-mistralai" in str(caught.value)
    assert "'mistralai:mistral-large-latest'" in str(caught.value)


def test_a_missing_extra_names_the_orchestra_extra_too() -> None:
    cause = ModuleNotFoundError("No module named 'langchain_anthropic'", name="langchain_anthropic")
    error = ImportError("Initializing ChatAnthropic requires the langchain-anthropic package")
    error.__cause__ = cause

    message = str(missing_package(ModelSettings(model="anthropic:claude-x"), error))

    assert "pip install langchain-anthropic" in message
    assert "orchestra[anthropic]" in message


def test_an_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ModelConfigError, match="'nosuchprovider:x'"):
        resolve_model("nosuchprovider:x")


def test_check_models_names_every_bad_role(monkeypatch: pytest.MonkeyPatch) -> None:
    team = TeamSpec(
        name="t",
        model="offline",
        specialists=[
            SpecialistSpec(name="good", description="x"),
            SpecialistSpec(name="keyless", description="x", model="anthropic:claude-sonnet-4-5"),
            SpecialistSpec(name="unknown", description="x", model="nosuchprovider:x"),
        ],
    )
    with pytest.raises(ModelConfigError) as caught:
        check_models(team)
    message = str(caught.value)
    assert (
        "specialists.keyless: model 'anthropic:claude-sonnet-4-5' needs ANTHROPIC_API_KEY"
        in message
    )
    assert "specialists.unknown:" in message
    assert "specialists.good" not in message and "orchestrator" not in message

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    check_models(team, "offline")  # the override replaces every role's model


def test_a_bad_specialist_model_stops_the_run_before_any_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    team = TeamSpec(
        name="early",
        model="openai:gpt-test",
        specialists=[
            SpecialistSpec(name="fine", description="Does the work."),
            SpecialistSpec(name="broken", description="Never called.", model="nosuchprovider:x"),
        ],
    )
    with openai_server() as server, open_checkpointer(tmp_path / "db.sqlite") as saver:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        with pytest.raises(ModelConfigError, match="specialists.broken"):
            run_team(team, "anything", saver=saver)
    assert server.requests == []


def test_two_roles_call_two_servers(tmp_path: Path) -> None:
    with openai_server() as planner, openai_server() as workers:
        path = tmp_path / "split.yaml"
        path.write_text(
            textwrap.dedent(
                f"""
                name: split
                model: {{model: "openai:gpt-workers", base_url: "{workers.base_url}"}}
                orchestrator:
                  model:
                    model: "openai:gpt-planner"
                    base_url: "{planner.base_url}"
                    price: {{input: 100, output: 200}}
                specialists:
                  - name: researcher
                    description: Finds facts in the notes.
                    tools: ["orchestra.nodes.toolkit:search_notes"]
                """
            ),
            encoding="utf-8",
        )
        with open_checkpointer(tmp_path / "db.sqlite") as saver:
            result = run_team(load_team(path), "What are SQLite checkpoints?", saver=saver)

    assert result.status == "completed", result.reason
    assert planner.requests and workers.requests
    assert {r["model"] for r in planner.requests} == {"gpt-planner"}
    assert {r["model"] for r in workers.requests} == {"gpt-workers"}
    plans = [r["response_format"]["json_schema"]["name"] for r in planner.requests]
    assert set(plans) == {"Plan"}
    assert any("tools" in r for r in workers.requests)  # the specialist's calls
    assert len(planner.requests) + len(workers.requests) == result.values["model_calls"]
    # The planner's own price meters its calls, as its server billed them; gpt-workers has none.
    billed = total(planner.billed_usage)
    cost = totals(result.values["ledger"])["cost_usd"]
    expected = (billed["prompt_tokens"] * 100 + billed["completion_tokens"] * 200) / 1e6
    assert cost == pytest.approx(expected) and cost > 0


def test_a_cost_budget_needs_a_price_for_every_model(tmp_path: Path) -> None:
    team = TeamSpec(
        name="priced",
        budget={"max_cost_usd": 1.0},
        model="openai:gpt-4o-mini",
        specialists=[
            SpecialistSpec(name="local", description="x", model="ollama:llama3.1"),
            SpecialistSpec(name="mine", description="x", model="offline"),
        ],
    )
    problems = team.problems()
    assert len(problems) == 1
    assert problems[0].startswith("specialists.local.model: 'ollama:llama3.1' has no price")

    assert (
        team.model_copy(update={"prices": {"llama3.1": {"input": 0, "output": 0}}}).problems() == []
    )
    own = SpecialistSpec(
        name="local",
        description="x",
        model={"model": "ollama:llama3.1", "price": {"input": 0.1, "output": 0.2}},
    )
    priced = team.model_copy(update={"specialists": [own]})
    assert priced.problems() == []
    assert priced.price_table()["llama3.1"].output == 0.2

    path = tmp_path / "priced.yaml"
    path.write_text(
        "name: p\nbudget: {max_cost_usd: 1}\nspecialists:\n"
        "  - {name: a, description: x, model: 'ollama:qwen3'}\n",
        encoding="utf-8",
    )
    with pytest.raises(TeamSpecError, match="'ollama:qwen3' has no price"):
        from orchestra.nodes import resolve_team

        resolve_team(load_team(path))


def test_a_run_override_without_a_price_is_refused_under_a_cost_budget() -> None:
    team = TeamSpec(
        name="priced",
        budget={"max_cost_usd": 1.0},
        specialists=[SpecialistSpec(name="a", description="x")],
    )
    check_models(team, "offline")
    with pytest.raises(ModelConfigError, match="'ollama:llama3.1' has no price"):
        check_models(team, "ollama:llama3.1")
    check_models(team, ModelSettings(model="ollama:llama3.1", price={"input": 0, "output": 0}))


def test_the_cli_takes_settings_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "db.sqlite")
    settings = json.dumps({"model": "offline", "timeout_s": 5, "max_retries": 1})

    code = main(
        [
            "run",
            "research",
            "--task",
            "Compare checkpointers",
            "--model",
            settings,
            "--db",
            db,
            "--json",
        ]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"

    bad = main(
        ["run", "research", "--task", "x", "--model", '{"model": "offline", "nope": 1}', "--db", db]
    )
    assert bad == 2
    assert "nope" in capsys.readouterr().err


def test_a_graph_with_provider_models_draws_without_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(TEAM_FILE, encoding="utf-8")

    assert main(["graph", str(path)]) == 0
    assert "orchestrator" in capsys.readouterr().out


def test_offline_settings_keep_the_offline_model() -> None:
    chat = resolve_model(ModelSettings(model="offline", timeout_s=3))
    assert isinstance(chat, OfflineChatModel)
    assert call_settings(chat).timeout_s == 3


def test_a_specialist_or_parent_cost_budget_needs_prices_too() -> None:
    inner = TeamSpec(
        name="inner",
        model="ollama:llama3.1",
        specialists=[SpecialistSpec(name="b", description="x")],
    )
    team = TeamSpec(
        name="outer",
        specialists=[
            SpecialistSpec(
                name="capped",
                description="x",
                model="groq:llama-3.1-8b-instant",
                budget={"max_cost_usd": 0.1},
            ),
            SpecialistSpec(name="free", description="x", model="ollama:qwen3"),
            SpecialistSpec(name="sub", description="x", team=inner, budget={"max_cost_usd": 0.1}),
        ],
    )
    problems = team.problems()
    assert any(p.startswith("specialists.capped.model: 'groq:") for p in problems)
    assert not any("qwen3" in p for p in problems)  # no cost budget covers it
    assert any(
        p.startswith("specialists.sub.team.orchestrator.model: 'ollama:llama3.1'") for p in problems
    )


def test_a_run_keeps_its_model_settings_for_a_resume(tmp_path: Path) -> None:
    team = TeamSpec(name="kept", specialists=[SpecialistSpec(name="a", description="Answers.")])
    settings = ModelSettings(model="offline", timeout_s=5)
    with open_checkpointer(tmp_path / "db.sqlite") as saver:
        result = run_team(team, "One line.", saver=saver, model=settings)

    assert result.status == "completed"
    assert model_choice(result.values["origin"]["model"]) == settings


def test_orchestra_model_may_hold_settings_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRA_MODEL", '{"model": "offline", "timeout_s": 4}')
    chat = resolve_model(None)
    assert isinstance(chat, OfflineChatModel)
    assert call_settings(chat).timeout_s == 4

    monkeypatch.setenv("ORCHESTRA_MODEL", '{"model": "offline", "timeout": 4}')
    with pytest.raises(ModelConfigError, match="timeout"):
        check_models(TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")]))

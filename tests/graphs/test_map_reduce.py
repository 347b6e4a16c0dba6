"""Results at the right size: shortened to fit, or reduced in batches (map-reduce).

The offline model answers every role; a role's window comes from its settings
(``context_window``), so the sizing runs as it does for a provider model. The offline
specialist repeats its instruction in its summary, so a long instruction makes a long
result: the code planner below sets how long.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import compiled, run_config
from context_limits import PUBLISHED
from langchain_core.messages import HumanMessage
from openai_server import openai_server

from orchestra.graphs import build
from orchestra.graphs.run_result import RunResult
from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.nodes import ScriptedChatModel, team_script
from orchestra.nodes.call_info import PartialInfo
from orchestra.nodes.prompt_reading import call_from_prompt
from orchestra.nodes.prompts import partial_block, reducer_message, synthesizer_message
from orchestra.nodes.reducer import partial_of
from orchestra.nodes.reduction import batches, covering
from orchestra.state import (
    BatchItem,
    Limits,
    ModelSettings,
    OrchestratorSpec,
    PartialSynthesis,
    ReduceInput,
    RunData,
    SpecialistSpec,
    Synthesis,
    TeamContext,
    TeamSpec,
)

WINDOW = 8_000


def items(task: str, run: RunData[dict[str, int]]) -> list[dict[str, Any]]:
    """``n`` subtasks whose instructions (and so results) are ``chars`` long."""
    n, chars = run.deps["n"], run.deps["chars"]
    filler = " ".join(f"Fact {k} of the note is that saver {k} keeps state." for k in range(200))
    return [
        {
            "id": f"i{k}",
            "specialist": "writer",
            "instruction": f"Write note {k}. {filler}"[:chars],
        }
        for k in range(1, n + 1)
    ]


def team(**limits: Any) -> TeamSpec:
    return TeamSpec(
        name="notes",
        specialists=[SpecialistSpec(name="writer", description="Writes notes.")],
        orchestrator=OrchestratorSpec(planner=f"{__name__}:items"),
        limits=Limits(**({"max_workers_per_round": 500, "max_model_calls": 2000} | limits)),
    )


def windowed(window: int = WINDOW) -> ModelSettings:
    return ModelSettings(model="offline", context_window=window, max_output_tokens=1_000)


def run(n: int, chars: int, model: Any = None, spec: TeamSpec | None = None) -> RunResult:
    with open_checkpointer(":memory:") as saver:
        return run_team(
            spec or team(),
            "the notes",
            saver=saver,
            model=model or windowed(),
            deps={"n": n, "chars": chars},
        )


def accepted(result: RunResult) -> list[str]:
    return [sid for sid, r in result.values["results"].items() if r["status"] == "accepted"]


def test_results_too_long_together_are_shortened_largest_first_with_a_note() -> None:
    result = run(12, 1_000)
    values = result.values
    assert result.status == "completed", result.reason
    assert not values.get("partials")  # the summaries fit: no reduction
    notes = [n for n in values["notes"] if "results shortened" in n]
    assert notes and "8000-token window" in notes[0] and "of 3" in notes[0]
    assert sorted(values["citations"]) == sorted(accepted(result))
    largest = result.largest_prompt
    assert largest is not None and largest["who"] == "synthesizer"
    assert largest["prompt_tokens"] + 1_000 <= WINDOW


def test_results_whose_summaries_do_not_fit_are_reduced_in_batches() -> None:
    result = run(40, 1_200)
    values = result.values
    assert result.status == "completed", result.reason
    partials = sorted(values["partials"].values(), key=lambda p: p["index"])
    of = len(partials)
    assert of > 1 and all(p["of"] == of for p in partials)
    # The batches cover the accepted results in plan order, once each, and cite them.
    covered = [sid for p in partials for sid in p["covers"]]
    assert covered == accepted(result) == [f"i{k}" for k in range(1, 41)]
    for p in partials:
        assert p["citations"] == p["covers"] and "fallback" not in p
    assert values["citations"] == covered  # every claim traces to subtask ids
    note = next(n for n in values["notes"] if "reducing them in" in n)
    assert f"reducing them in {of} batches" in note
    # Each batch is its own ledger entry, every prompt inside the window.
    ledger = values["ledger"]
    for p in partials:
        entry = ledger[f"synthesizer:{p['part']}"]
        assert entry["model_calls"] == 1 and entry["prompt_tokens"] + 1_000 <= WINDOW
    assert ledger["synthesizer"]["prompt_tokens"] + 1_000 <= WINDOW
    assert values["model_calls"] == 40 + of + 1
    assert values["usage"]["model_calls"] == 40 + of + 1


def test_the_reduce_node_is_drawn_and_runs_as_its_own_tasks() -> None:
    graph = build(team()).compile()
    drawn = graph.get_graph()
    assert "reduce" in drawn.nodes
    edges = {(e.source, e.target) for e in drawn.edges}
    assert ("synthesizer", "reduce") in edges and ("reduce", "synthesizer") in edges
    spec = team()
    graph = compiled(spec)
    chunks = graph.stream(
        {"task": "the notes", "deps": {"n": 40, "chars": 1_200}},
        run_config("mr", max_concurrency=8),
        context=TeamContext(model=windowed(), deps={"n": 40, "chars": 1_200}),
        stream_mode=["updates", "custom"],
    )
    nodes = [next(iter(c)) for mode, c in chunks if mode == "updates" and isinstance(c, dict)]
    final = graph.get_state(run_config("mr")).values
    assert final["status"] == "completed"
    assert nodes.count("reduce") == len(final["partials"]) > 1
    # One synthesizer pass sends the batches, the next one answers over their partials.
    assert nodes.count("synthesizer") == 2 and nodes[-1] == "synthesizer"


def test_the_final_synthesis_may_cite_parts_and_they_stand_for_their_subtasks() -> None:
    prompts: list[str] = []

    def synthesis(text: str) -> Synthesis:
        prompts.append(text)
        if "## Part\n" in text:  # a batch: cite what it was shown
            ids = re.findall(r"^### (i\d+) ", text, flags=re.M)
            return Synthesis(answer=f"Batch of {len(ids)}.", citations=ids)
        parts = re.findall(r"^### (part-\d+) ", text, flags=re.M)
        return Synthesis(answer=f"All {len(parts)} parts agree.", citations=parts)

    model = ScriptedChatModel(respond=team_script(synthesis=synthesis))
    spec = team().model_copy(update={"model": windowed(), "synthesizer": team().synthesizer})
    scripted = ModelSettings(model="import:test_map_reduce:SCRIPTED", context_window=WINDOW)
    SCRIPTED.respond = model.respond
    result = run(40, 1_200, model=scripted, spec=spec)
    assert result.status == "completed", result.reason
    final = prompts[-1]
    assert "## Partial syntheses" in final and "## Results" not in final
    assert "cites: i1, i2" in final
    assert result.values["citations"] == accepted(result)
    assert result.values["answer"].startswith("All ")
    batch_prompts = [p for p in prompts if "## Part\n" in p]
    assert len(batch_prompts) == len(result.values["partials"])
    assert all("length: at most about" in p for p in batch_prompts)


SCRIPTED = ScriptedChatModel(respond=team_script())


def test_batches_that_cannot_be_paid_for_list_their_results_and_the_run_says_so() -> None:
    # 40 workers, then the calls left: one batch and the final synthesis.
    result = run(40, 1_200, spec=team(max_model_calls=42))
    values = result.values
    partials = list(values["partials"].values())
    fallbacks = [p for p in partials if "fallback" in p]
    assert len(fallbacks) == len(partials) - 1
    assert all("max_model_calls" in p["fallback"] for p in fallbacks)
    for p in fallbacks:  # the results are still there, by summary, cited
        assert p["citations"] == p["covers"]
        assert all(f"[{sid}]" in p["answer"] for sid in p["covers"])
    assert values["citations"] == accepted(result)
    assert result.status == "cap_reached" and "max_model_calls" in result.reason
    assert values["model_calls"] == 42


def test_batches_split_in_order_and_a_too_big_result_goes_alone() -> None:
    assert batches({"a": 4, "b": 4, "c": 9, "d": 1, "e": 7}, 8) == [
        ["a", "b"],
        ["c"],
        ["d", "e"],
    ]
    assert batches({}, 8) == []


def _partial(index: int, of: int, covers: list[str]) -> PartialSynthesis:
    return PartialSynthesis(
        part=f"part-{index}", index=index, of=of, covers=covers, answer="x", citations=covers
    )


def test_partials_count_only_when_they_cover_exactly_the_accepted_results() -> None:
    two = {"part-1": _partial(1, 2, ["a", "b"]), "part-2": _partial(2, 2, ["c"])}
    assert [p["part"] for p in covering(two, ["a", "b", "c"])] == ["part-1", "part-2"]
    assert covering(two, ["a", "b", "c", "d"]) == []  # a result came after the reduction
    assert covering({"part-1": two["part-1"]}, ["a", "b"]) == []  # a batch is missing


def _batch(*ids: str) -> ReduceInput:
    items = [
        BatchItem(subtask_id=s, specialist="w", instruction="i", summary=f"{s} found", output={})
        for s in ids
    ]
    return ReduceInput(
        task="t", part="part-1", index=1, of=1, items=items, ledger={}, model_calls=0
    )


def test_a_partial_cites_only_its_batch_and_counts_inline_citations() -> None:
    reply = {"parsed": Synthesis(answer="a [s1] and [s3] and [zz]", citations=["s2", "other"])}
    partial = partial_of(_batch("s1", "s2", "s3"), reply)
    assert partial["citations"] == ["s1", "s2", "s3"]
    unread = partial_of(_batch("s1", "s2"), {"parsing_error": "cut off"})
    assert unread["fallback"] == "the reply could not be read: cut off"
    assert unread["answer"] == "- s1 found [s1]\n- s2 found [s2]"


def test_a_local_model_behind_a_wire_reads_partials_and_shortened_outputs_back() -> None:
    from orchestra.nodes.function_model import BoundTool

    blocks = [partial_block("part-1", 1, 2, ["a", "b"], "- A [a]\n- B [b]")]
    blocks.append(partial_block("part-2", 2, 2, [], "nothing"))
    text = synthesizer_message("the task", [], [], None, partials=blocks)
    tool = BoundTool(name="Synthesis", description="", parameters={})
    call = call_from_prompt([HumanMessage(text)], [tool])
    assert call is not None and call.partials == (
        PartialInfo("part-1", ("a", "b"), "- A [a]\n- B [b]"),
        PartialInfo("part-2", (), "nothing"),
    )
    cut = "### s1 (w): accepted\ninstruction: i\nsummary: s\n"
    cut += 'output: {"a": "xx\n[shortened: 5 of 90 chars]'
    batch = reducer_message("the task", 2, 3, [cut], words=120)
    call = call_from_prompt([HumanMessage(batch)], [tool])
    assert call is not None and (call.part, call.words) == ("2 of 3", 120)
    assert call.results[0].output is None and call.results[0].summary == "s"


@pytest.mark.parametrize("pattern", ["fan_out", "pipeline"])
def test_every_pattern_with_a_synthesis_can_reduce(pattern: str) -> None:
    writers = [SpecialistSpec(name=f"w{k}", description="Writes notes.") for k in range(1, 4)]
    spec = TeamSpec(name="p", pattern=pattern, specialists=writers)
    if pattern == "pipeline":
        spec = spec.model_copy(
            update={"pipeline": spec.pipeline.model_copy(update={"answer": "synthesis"})}
        )
    task = "Write. " + " ".join(
        f"Fact {k} of the note is that saver {k} keeps state." for k in range(60)
    )
    with open_checkpointer(":memory:") as saver:
        result = run_team(spec, task, saver=saver, model=windowed(2_500))
    assert result.status == "completed", result.reason
    partials = result.values.get("partials", {})
    assert len(partials) >= 2, result.values["notes"]
    assert sorted(result.values["citations"]) == sorted(accepted(result))


@pytest.mark.parametrize(
    ("n", "reduced"),
    [(200, False), (600, True)],
    ids=["200-shortened", "600-map-reduce"],
)
def test_over_the_wire_hundreds_of_long_results_fit_gpt_4o_mini(
    monkeypatch: pytest.MonkeyPatch, n: int, reduced: bool
) -> None:
    """Results of 2,000 characters each, against the stand-in enforcing gpt-4o-mini's limits."""
    with openai_server(limits=PUBLISHED) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        result = run(n, 2_000, model="openai:gpt-4o-mini")
    assert result.status == "completed", result.reason
    assert server.refused == []  # nothing refused for length, nothing cut
    values = result.values
    assert values["citations"] == accepted(result) == [f"i{k}" for k in range(1, n + 1)]
    assert bool(values.get("partials")) is reduced
    for entry in values["ledger"].values():
        assert entry["prompt_tokens"] + 16_384 <= 128_000
    if reduced:
        assert "synthesized in" in values["answer"]  # the final answer is over the partials
        assert all(f"[i{k}]" in values["answer"] for k in range(1, n + 1))


def test_the_cli_shows_citations_and_a_reduction_as_they_are(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[i1]`` is a citation, not rich markup: the answer, notes and tables show it."""
    from orchestra.graphs.cli import main

    db = tmp_path / "db.sqlite"
    with open_checkpointer(db) as saver:
        result = run_team(
            team(), "the notes [i0]", saver=saver, model=windowed(), deps={"n": 40, "chars": 1_200},
            thread_id="cli",
        )  # fmt: skip
    assert result.status == "completed"
    assert main(["show", "cli", "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "task: the notes [i0]" in shown
    assert "[i1]" in shown and "[i40]" in shown  # the answer's citations
    assert "synthesizer:part-1" in shown and "reducing them in" in shown

"""Built-in role prompts and the messages each role receives.

Role prompts say *how* to work and may be replaced in the team spec. The human
messages carry the data in ``## Section`` blocks. Every sentence a role's model reads
that the framework writes is here, so it can be reworded in one place: the local models
(scripted, faulty, offline) do not read it — they get the call's ``CallInfo``
(``orchestra.nodes.call_info``). Only a local model behind a wire reads the layout back
(``orchestra.nodes.prompt_reading``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from orchestra.state import DependencyResult, SpecialistSpec, SubtaskRecord, WorkerResult

ORCHESTRATOR_PROMPT = """\
You are the orchestrator of a team of specialists. You do not do the work yourself:
you split the task into subtasks, each for exactly one specialist, and you decide when
the task is done.

Scale the effort to the task:
- A simple question or a single lookup: 1 subtask.
- A comparison of a few things: 2 to 4 subtasks, one per thing compared.
- A broad task with many independent parts: more subtasks, never more than the limit.

Rules:
- Give each subtask a short unique id, one specialist from the roster, and an instruction
  that stands on its own: the specialist sees only its instruction and the results it
  depends on, not the task or the other subtasks.
- Make a subtask depend on another only when it needs that result; independent subtasks
  run in parallel.
- When you are shown results, plan only the work still missing. Return an empty list of
  subtasks when the results answer the task, or when more work would not help."""

SPECIALIST_PROMPT = """\
You are a specialist on a team. Do exactly the subtask you are given, using your tools
when they help, then report your result. Be factual and say what you could not find."""

SYNTHESIZER_PROMPT = """\
You are the synthesizer. Answer the task by reasoning over the specialists' results:
weigh them, reconcile conflicts, and draw the conclusion the task asks for. Do not just
list the results. Cite the ids of the subtasks you used. If some subtasks failed or were
rejected, say so in the answer and what is missing because of it."""

REDUCER_PROMPT = """\
You are the synthesizer, answering the task one part at a time: there are too many
results for one prompt, so you see one batch of them now, and a final synthesis will
combine the parts. Reason over this batch's results: weigh them, reconcile conflicts,
and keep every finding the task needs (the final synthesis sees only what you write).
Cite the ids of the subtasks you used, inline as [id] and in the citations."""

PARTIALS_NOTE = """\
There were too many results for one prompt: each part below is a synthesis over a batch
of them, citing its subtask ids. Cite those subtask ids (not the part ids)."""

CITATION = re.compile(r"\[([^\[\]\s]+)\]")
"""A subtask id cited inline, as the synthesizer is asked to: ``[s3]``."""

REJECTED_PREFIX = "Your previous result was rejected: "


def section(title: str, body: str) -> str:
    """One ``## title`` block."""
    return f"## {title}\n{body.strip()}\n"


def roster(specialists: Iterable[SpecialistSpec]) -> str:
    """The ``- name: description`` lines the orchestrator plans from."""
    return "\n".join(f"- {s.name}: {' '.join(s.description.split())}" for s in specialists)


def output_line(output: Mapping[str, Any], summary: str) -> list[str]:
    """``output: {json}`` without the field the summary already shows (none if that is all).

    A result is handed on as its summary and its typed output; the summary is usually
    the output's own ``summary`` field, which would otherwise be sent twice.
    """
    rest = {key: value for key, value in output.items() if value != summary}
    return [f"output: {json.dumps(rest, ensure_ascii=False)}"] if rest else []


def result_block(record: SubtaskRecord, result: WorkerResult | None) -> str:
    """One subtask's outcome as the orchestrator and synthesizer see it."""
    status = result["status"] if result else "pending"
    head = f"### {record['id']} ({record['specialist']}): {status}"
    lines = [head, f"instruction: {record['instruction']}"]
    if result and result["status"] == "accepted" and result["output"] is not None:
        lines.append(f"summary: {result['summary']}")
        lines += output_line(result["output"], result["summary"])
    elif result and result.get("reason"):
        lines.append(f"reason: {result['reason']}")
    return "\n".join(lines)


def orchestrator_message(
    task: str,
    specialists: Iterable[SpecialistSpec],
    *,
    round_no: int,
    max_rounds: int,
    max_subtasks: int,
    outcomes: list[str],
    budget: str = "",
) -> str:
    """The orchestrator's input: task, roster, limits, budget left, and the results so far."""
    parts = [
        section("Task", task),
        section("Specialists", roster(specialists)),
        section(
            "Limits",
            f"round: {round_no} of {max_rounds}\nmax_subtasks: {max_subtasks}",
        ),
    ]
    if budget:
        parts.append(section("Budget used", budget))
    if outcomes:
        parts.append(section("Results", "\n\n".join(outcomes)))
    return "\n".join(parts)


def specialist_system(spec: SpecialistSpec, output_name: str) -> str:
    """The specialist's system prompt: its own instructions plus how to finish."""
    own = spec.prompt or SPECIALIST_PROMPT
    return (
        f"{own.strip()}\n\nYou are the `{spec.name}` specialist: {spec.description.strip()}\n"
        f"When you have your result, call `{output_name}` with it. That ends your turn."
    )


def input_bodies(dependencies: Mapping[str, DependencyResult]) -> dict[str, str]:
    """Each dependency's result as the specialist reads it: its summary, then its output."""
    return {
        dep_id: "\n".join([dep["summary"], *output_line(dep["output"], dep["summary"])])
        for dep_id, dep in dependencies.items()
    }


def specialist_message(
    subtask: SubtaskRecord,
    dependencies: Mapping[str, DependencyResult],
    feedback: str | None,
    bodies: Mapping[str, str] | None = None,
) -> str:
    """The specialist's input: its subtask and only the results it depends on.

    ``bodies`` replaces the results' text (``input_bodies``), e.g. shortened to fit.
    """
    parts = [
        section("Subtask", f"id: {subtask['id']}"),
        section("Instruction", subtask["instruction"]),
    ]
    if dependencies:
        texts = input_bodies(dependencies) if bodies is None else bodies
        blocks = [
            f"### {dep_id} ({dep['specialist']})\n{texts[dep_id]}"
            for dep_id, dep in dependencies.items()
        ]
        parts.append(section("Inputs", "\n\n".join(blocks)))
    if feedback:
        parts.append(section("Feedback", f"{REJECTED_PREFIX}{feedback}"))
    return "\n".join(parts)


def finish_reminder(output_name: str) -> str:
    """What a specialist is told when its reply called no tool."""
    return f"Call `{output_name}` with your result to finish."


def invalid_arguments(tool_name: str, error: str | None, given: str | None = None) -> str:
    """The answer to a tool call whose arguments could not be read (not valid JSON).

    ``given`` is what the model sent, quoted shortened: the conversation keeps the call
    with ``{}`` for arguments, which a server accepts, so this is where the model sees it.
    """
    why = f" ({error})" if error else ""
    flat = " ".join((given or "").split())
    quoted = f" They read: {flat if len(flat) <= 200 else flat[:197] + '...'!r}." if flat else ""
    return (
        f"Not run: the arguments of this `{tool_name}` call are not valid JSON{why}.{quoted} "
        "Call it again with complete JSON arguments."
    )


def output_request(output_name: str) -> str:
    """What a specialist is asked when its output is asked for as JSON, not as a tool call."""
    return f"Answer now with your `{output_name}` as one JSON object, and nothing else."


def plan_problems(problems: list[str]) -> str:
    """The orchestrator's correction request after the plan seam found problems."""
    listed = "\n".join(f"- {p}" for p in problems)
    return f"Your plan has problems:\n{listed}\nReturn a corrected plan."


def reply_not_accepted() -> str:
    """The answer to a structured-output call repeated in a correction turn."""
    return "Not accepted: see the problems below."


def json_reply_instructions(name: str, schema: str) -> str:
    """How to answer in JSON mode, where the schema is not sent as a parameter."""
    return f"Answer with one JSON object, a `{name}`, and nothing else. Its JSON schema:\n{schema}"


def synthesis_problems(error: str) -> str:
    """The synthesizer's correction request after its reply could not be read."""
    return f"Your answer could not be read: {error}\nReturn the Synthesis again, complete."


def plan_rejected(reason: str) -> str:
    """The block telling the orchestrator a human rejected its last plan."""
    return section("Feedback", f"A human rejected your last plan: {reason}")


def partial_block(part: str, index: int, of: int, citations: list[str], answer: str) -> str:
    """One partial synthesis as the final synthesis sees it: its part, what it cites, its text."""
    cites = ", ".join(citations) or "none"
    return f"### {part} ({index} of {of}; cites: {cites})\n{answer.strip()}"


def reducer_message(
    task: str, index: int, of: int, blocks: list[str], words: int | None = None
) -> str:
    """A reduction batch's input: the task, which part this is, and the batch's results."""
    length = f"\nlength: at most about {words} words" if words else ""
    return "\n".join(
        [
            section("Task", task),
            section("Part", f"{index} of {of}{length}"),
            section("Results", "\n\n".join(blocks) or "(none)"),
        ]
    )


def synthesizer_message(
    task: str,
    accepted: list[str],
    missing: list[str],
    digest: dict[str, Any] | None = None,
    partials: list[str] | None = None,
) -> str:
    """The synthesizer's input: task, accepted results, failures, and the team's digest.

    With ``partials`` (a map-reduce synthesis) the results are the batches' partials.
    """
    parts = [section("Task", task)]
    if partials is not None:
        parts.append(section("Partial syntheses", "\n\n".join([PARTIALS_NOTE, *partials])))
    else:
        parts.append(section("Results", "\n\n".join(accepted) or "(none)"))
    if missing:
        parts.append(section("Not completed", "\n\n".join(missing)))
    if digest is not None:
        parts.append(section("Digest", json.dumps(digest, ensure_ascii=False)))
    return "\n".join(parts)

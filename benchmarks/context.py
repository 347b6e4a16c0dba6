"""Context budgets at scale: N workers' results of 2,000 characters in gpt-4o-mini's window.

The offline model answers every role, with gpt-4o-mini's published limits set on the role
(128k-token window, 16,384 output tokens), so every prompt is measured and sized as it is
for the provider: results shortened to fit, or reduced in batches. Reported per N: the
largest prompt against the window, the total input tokens and their share per worker
(linear growth keeps that share flat), the reduction's batches and the wall time.
"""

from __future__ import annotations

import time
from typing import Any

from orchestra.graphs.runner import open_checkpointer, run_team
from orchestra.state import (
    Limits,
    ModelSettings,
    OrchestratorSpec,
    RunData,
    SpecialistSpec,
    TeamSpec,
)

WINDOW, OUTPUT = 128_000, 16_384
CHARS = 2_000
_FILLER = " ".join(f"Fact {k} of the note is that saver {k} keeps state." for k in range(60))


def items(task: str, run: RunData[dict[str, int]]) -> list[dict[str, Any]]:
    """The code planner: ``n`` subtasks whose results repeat their ``CHARS``-long instruction."""
    return [
        {"id": f"n{k}", "specialist": "writer", "instruction": f"Note {k}. {_FILLER}"[:CHARS]}
        for k in range(1, run.deps["n"] + 1)
    ]


def team(n: int) -> TeamSpec:
    """A writer team planned in code, every worker in one round."""
    return TeamSpec(
        name="context_bench",
        specialists=[SpecialistSpec(name="writer", description="Writes notes.")],
        orchestrator=OrchestratorSpec(planner=f"{__name__}:items"),
        limits=Limits(max_workers_per_round=n, max_model_calls=2 * n + 10, max_concurrency=16),
    )


def measure(n: int) -> dict[str, Any]:
    """One run at ``n`` workers, with its prompt sizes and token totals."""
    model = ModelSettings(model="offline", context_window=WINDOW, max_output_tokens=OUTPUT)
    started = time.perf_counter()
    with open_checkpointer(":memory:") as saver:
        result = run_team(team(n), "the notes", saver=saver, model=model, deps={"n": n})
    wall = time.perf_counter() - started
    values = result.values
    largest = result.largest_prompt or {}
    inputs = values["usage"]["input_tokens"]
    return {
        "n": n,
        "status": result.status,
        "calls": values["model_calls"],
        "largest_prompt": largest.get("prompt_tokens", 0),
        "largest_who": largest.get("who", ""),
        "window": WINDOW,
        "output": OUTPUT,
        "input_tokens": inputs,
        "per_worker": round(inputs / n),
        "batches": len(values.get("partials") or {}),
        "cited": len(values.get("citations", [])),
        "wall_s": round(wall, 2),
    }

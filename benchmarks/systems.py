"""The contenders: each is one full run of a system on the N-part task, on its own model."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
from langgraph.checkpoint.base import BaseCheckpointSaver

from benchmarks.fake import BenchModel, bench_team, task_text
from benchmarks.plain import build_plain
from benchmarks.supervisor import build_supervisor
from benchmarks.timing import run_async
from orchestra.graphs import compile_team
from orchestra.state import PatternName, TeamContext

Mode = Literal["async", "sync"]


@dataclass
class Contender:
    """One system, ready to run the task once per call of ``run``."""

    name: str
    model: BenchModel
    run: Callable[[], Any]

    def usage(self) -> dict[str, int]:
        """Model calls, message characters and tool-schema characters of one run."""
        calls, chars, schemas = self.model.counters()
        self.run()
        after = self.model.counters()
        return {
            "calls": after[0] - calls,
            "input_chars": after[1] - chars,
            "schema_chars": after[2] - schemas,
        }


def _invoke(graph: Any, payload: Any, config: RunnableConfig, mode: Mode, **kw: Any) -> Any:
    if mode == "sync":
        return graph.invoke(payload, config, **kw)
    return run_async(lambda: graph.ainvoke(payload, config, **kw))


def orchestra(
    n: int,
    mode: Mode,
    *,
    tools: bool = False,
    review: bool = True,
    max_concurrency: int | None = None,
    callbacks: bool = False,
    pattern: PatternName | None = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
    name: str = "orchestra",
) -> Contender:
    """The team as users run it: ``compile_team`` (limits baked in), the team's metadata."""
    model = BenchModel()
    team = bench_team(n, tools=tools, review=review, max_concurrency=max_concurrency)
    graph = compile_team(team, pattern=pattern, checkpointer=checkpointer)
    context = TeamContext(model=model)
    task = task_text(n)

    def run() -> Any:
        config: RunnableConfig = {
            "run_name": team.name,
            "metadata": {"orchestra_team": team.name, "orchestra_pattern": pattern or team.pattern},
        }
        if checkpointer is not None:
            config["configurable"] = {"thread_id": f"bench-{uuid.uuid4().hex[:8]}"}
        if callbacks:
            config["callbacks"] = [RunCollectorCallbackHandler()]
        state = _invoke(graph, {"task": task}, config, mode, context=context)
        if state.get("status") != "completed":
            raise RuntimeError(f"orchestra ended {state.get('status')}: {state.get('reason')}")
        return state

    return Contender(name, model, run)


def plain(
    n: int,
    mode: Mode,
    *,
    max_concurrency: int | None = -1,
    callbacks: bool = False,
    name: str = "plain LangGraph",
) -> Contender:
    """The hand-written graph; ``max_concurrency=-1`` means N, ``None`` LangGraph's default."""
    model = BenchModel()
    graph = build_plain(model, is_async=mode == "async")
    task = task_text(n)

    def run() -> Any:
        config: RunnableConfig = {"recursion_limit": 100}
        if max_concurrency is not None:
            config["max_concurrency"] = max(n, 1) if max_concurrency == -1 else max_concurrency
        if callbacks:
            config["callbacks"] = [RunCollectorCallbackHandler()]
        state = _invoke(graph, {"task": task}, config, mode)
        if len(state["results"]) != n:
            raise RuntimeError(f"plain graph gathered {len(state['results'])} of {n} results")
        return state

    return Contender(name, model, run)


def supervisor(n: int, mode: Mode) -> Contender:
    """langgraph-supervisor on the same task."""
    model = BenchModel()
    graph = build_supervisor(model)
    task = task_text(n)

    def run() -> Any:
        payload = {"messages": [HumanMessage(task)]}
        return _invoke(graph, payload, {"recursion_limit": 20 * n + 50}, mode)

    return Contender("langgraph-supervisor", model, run)

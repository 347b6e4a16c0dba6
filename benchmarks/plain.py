"""The baseline: the same model calls as orchestra, hand-written in plain LangGraph.

plan → one ``Send`` per subtask → review → synthesize, as a careful engineer would write it
without a framework: the structured-output runnables are built once, results are gathered
with an append reducer, and nothing else runs (no validator, ledger, budgets or events).
It makes exactly orchestra's calls (plan, N workers, a review, the synthesis) with the
same output types and the same ``bind_tools`` / ``with_structured_output`` shapes.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send
from typing_extensions import TypedDict

from orchestra.state import Plan, SpecialistOutput, Synthesis


class PlainState(TypedDict, total=False):
    """Task, plan, the workers' summaries, the answer."""

    task: str
    subtasks: list[dict[str, Any]]
    results: Annotated[list[dict[str, str]], operator.add]
    answer: str


def _prompt(system: str, human: str) -> list[BaseMessage]:
    return [SystemMessage(system), HumanMessage(human)]


def _with_results(state: PlainState) -> str:
    blocks = (f"### {r['id']}\nsummary: {r['summary']}" for r in state["results"])
    return f"## Task\n{state['task']}\n## Results\n" + "\n\n".join(blocks)


class PlainNodes:
    """The four nodes, each with a sync and an async body."""

    def __init__(self, model: BaseChatModel) -> None:
        self.planner: Runnable[Any, Any] = model.with_structured_output(Plan, include_raw=True)
        self.worker = model.bind_tools([SpecialistOutput], tool_choice=SpecialistOutput.__name__)
        self.synthesizer: Runnable[Any, Any] = model.with_structured_output(
            Synthesis, include_raw=True
        )

    @staticmethod
    def _planned(reply: dict[str, Any]) -> PlainState:
        return {"subtasks": [s.model_dump() for s in reply["parsed"].subtasks]}

    @staticmethod
    def _worked(subtask: dict[str, Any], reply: Any) -> PlainState:
        output = SpecialistOutput.model_validate(reply.tool_calls[0]["args"])
        return {"results": [{"id": subtask["id"], "summary": output.summary}]}

    def plan(self, state: PlainState) -> PlainState:
        """Plan the subtasks."""
        return self._planned(self.planner.invoke(_prompt("Split the task.", state["task"])))

    async def aplan(self, state: PlainState) -> PlainState:
        """Plan the subtasks."""
        reply = await self.planner.ainvoke(_prompt("Split the task.", state["task"]))
        return self._planned(reply)

    def work(self, subtask: Any) -> PlainState:
        """Do one subtask."""
        reply = self.worker.invoke(_prompt("Do the subtask.", subtask["instruction"]))
        return self._worked(subtask, reply)

    async def awork(self, subtask: Any) -> PlainState:
        """Do one subtask."""
        reply = await self.worker.ainvoke(_prompt("Do the subtask.", subtask["instruction"]))
        return self._worked(subtask, reply)

    def review(self, state: PlainState) -> PlainState:
        """Look at the results (the plan it returns is empty: done)."""
        self.planner.invoke(_prompt("Plan what is missing.", _with_results(state)))
        return {}

    async def areview(self, state: PlainState) -> PlainState:
        """Look at the results (the plan it returns is empty: done)."""
        await self.planner.ainvoke(_prompt("Plan what is missing.", _with_results(state)))
        return {}

    def synthesize(self, state: PlainState) -> PlainState:
        """Answer from the results."""
        reply = self.synthesizer.invoke(_prompt("Answer the task.", _with_results(state)))
        return {"answer": reply["parsed"].answer}

    async def asynthesize(self, state: PlainState) -> PlainState:
        """Answer from the results."""
        reply = await self.synthesizer.ainvoke(_prompt("Answer the task.", _with_results(state)))
        return {"answer": reply["parsed"].answer}


def fan_out(state: PlainState) -> list[Send]:
    """One ``Send`` per subtask."""
    return [Send("worker", subtask) for subtask in state["subtasks"]]


def build_plain(model: BaseChatModel, *, is_async: bool) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled baseline graph with sync or async nodes."""
    nodes = PlainNodes(model)
    graph = StateGraph(PlainState)
    bodies: dict[str, Any] = {  # sync or async bodies, same names
        "plan": nodes.aplan if is_async else nodes.plan,
        "worker": nodes.awork if is_async else nodes.work,
        "review": nodes.areview if is_async else nodes.review,
        "synthesize": nodes.asynthesize if is_async else nodes.synthesize,
    }
    for name, body in bodies.items():
        graph.add_node(name, body)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", fan_out, ["worker"])
    graph.add_edge("worker", "review")
    graph.add_edge("review", "synthesize")
    graph.add_edge("synthesize", END)
    return graph.compile(name="plain")

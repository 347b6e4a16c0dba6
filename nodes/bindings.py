"""A specialist's model with its tools bound, derived once per chat model."""

from __future__ import annotations

from langchain_core.utils.function_calling import convert_to_openai_tool

from orchestra.nodes.chat_models import PerModel
from orchestra.nodes.resolve import ResolvedSpecialist


class Bindings:
    """A specialist's model with its tools bound: every tool, or only the output (forced).

    The tools' JSON schemas are derived once, and the bound runnables once per chat
    model: done on every call, that was most of a 1000-worker run's CPU.
    """

    def __init__(self, worker: ResolvedSpecialist) -> None:
        name = worker.output.__name__
        finish = [convert_to_openai_tool(worker.output)]
        every = [*(convert_to_openai_tool(t) for t in worker.tools.values()), *finish]
        self.every = PerModel(lambda chat: chat.bind_tools(every))
        self.finish = PerModel(lambda chat: chat.bind_tools(finish, tool_choice=name))

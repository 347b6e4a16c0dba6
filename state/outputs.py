"""What models produce: plans, the default specialist output, syntheses.

Every field is required (no defaults) so the schemas are valid for OpenAI's strict
``json_schema`` mode, which ``ChatOpenAI.with_structured_output`` uses by default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, create_model


class Subtask(BaseModel):
    """One unit of delegated work."""

    id: str = Field(description="Short unique id such as 's1'.")
    specialist: str = Field(description="Name of the specialist who does this subtask.")
    instruction: str = Field(description="A self-contained instruction for the specialist.")
    depends_on: list[str] = Field(
        description="Ids of subtasks whose results this one needs; [] when independent."
    )


class Plan(BaseModel):
    """The orchestrator's plan for one round. An empty ``subtasks`` list means: done."""

    rationale: str = Field(description="Why this split, in one or two sentences.")
    subtasks: list[Subtask] = Field(description="Subtasks to run now; [] when the task is done.")


def plan_model(specialists: tuple[str, ...]) -> type[Plan]:
    """A ``Plan`` whose ``specialist`` fields are a ``Literal`` of the team's names.

    The model then cannot name a specialist the team does not have, and the JSON
    schema it sees lists the valid names.
    """
    names = Literal[specialists]  # type: ignore[valid-type]
    typed_subtask = create_model(
        "Subtask",
        __base__=Subtask,
        specialist=(names, Field(description="Name of the specialist who does this subtask.")),
    )
    return create_model(
        "Plan",
        __base__=Plan,
        subtasks=(
            list[typed_subtask],
            Field(description="Subtasks to run now; [] when the task is done."),
        ),
    )


class SpecialistOutput(BaseModel):
    """The default typed result of a specialist."""

    summary: str = Field(description="The result in a few sentences.")
    key_points: list[str] = Field(description="The facts or findings the summary rests on.")


class Synthesis(BaseModel):
    """The synthesizer's answer."""

    answer: str = Field(description="The answer to the task, reasoned from the results.")
    citations: list[str] = Field(description="Ids of the subtasks whose results the answer uses.")

"""A team spec's structural problems: names, approvals, budgets and nesting.

``TeamSpec.problems`` gathers these; import paths are checked later, by
``orchestra.nodes.resolve``, when a team is built.
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING

from orchestra.state.budget import price_of
from orchestra.state.errors import brief
from orchestra.state.model_refs import model_ref_problem, parse_model_ref
from orchestra.state.model_settings import ModelSettings

if TYPE_CHECKING:
    from orchestra.state.budget import Price
    from orchestra.state.spec import SpecialistSpec, TeamSpec


def approval_problems(team: TeamSpec) -> list[str]:
    """Tool approvals name specialists of this team that have tools of their own."""
    found: list[str] = []
    by_name = {s.name: s for s in team.specialists}
    for name in team.approval.tool_calls:
        spec = by_name.get(name)
        if spec is None:
            found.append(f"approval.tool_calls: {brief(name)} is not a specialist of this team")
        elif spec.team is not None:
            found.append(
                f"approval.tool_calls: {brief(name)} is a team; list its specialists in that "
                "team's own approval.tool_calls"
            )
        elif not spec.tools:
            found.append(f"approval.tool_calls: {brief(name)} has no tools to approve")
    return found


def budget_problems(team: TeamSpec) -> list[str]:
    """Children's fixed budgets must fit in the parent's (a parent's budget is carved)."""
    found: list[str] = []
    for field in ("max_tokens", "max_cost_usd"):
        mine = getattr(team.budget, field)
        fixed = [child_budget(s, field) for s in team.specialists]
        carved = sum(v for v in fixed if v is not None)
        if mine is not None and carved > mine:
            found.append(
                f"budget.{field}: the specialists' budgets together ({carved:g}) exceed "
                f"the team's ({mine:g})"
            )
    for spec in team.specialists:
        timeout = child_budget(spec, "timeout_s")
        if team.budget.timeout_s is not None and timeout and timeout > team.budget.timeout_s:
            found.append(
                f"specialists.{spec.name}.budget.timeout_s: {timeout:g} exceeds the team's "
                f"{team.budget.timeout_s:g}"
            )
        if spec.team is not None:
            for field in ("max_tokens", "max_cost_usd", "timeout_s"):
                own, inner = getattr(spec.budget, field), getattr(spec.team.budget, field)
                if own is not None and inner is not None and inner > own:
                    found.append(
                        f"specialists.{spec.name}.team.budget.{field}: {inner:g} exceeds "
                        f"the specialist's {own:g}"
                    )
    return found


def specialist_problems(team: TeamSpec) -> list[str]:
    """Specialists exist, with unique identifier names that are not built-in nodes."""
    found: list[str] = []
    if not team.specialists:
        found.append("the team has no specialists")
    seen: set[str] = set()
    # Built-in node names of the patterns; stage validators are named validate_<stage>.
    reserved = {
        "orchestrator",
        "dispatch",
        "validator",
        "synthesizer",
        "pipeline",
        "finish",
        "scatter",
        "gather",
        "approve_plan",
    }
    for spec in team.specialists:
        where = f"specialists.{spec.name}"
        if not spec.name.isidentifier() or keyword.iskeyword(spec.name):
            found.append(f"{where}: name must be a Python identifier")
        if spec.name in reserved or spec.name.startswith("validate_"):
            found.append(f"{where}: name is reserved for a built-in node")
        if spec.name in seen:
            found.append(f"{where}: duplicate specialist name")
        seen.add(spec.name)
        if not spec.description.strip():
            found.append(f"{where}: description is empty (the orchestrator plans from it)")
    return found


def nesting_problems(team: TeamSpec) -> list[str]:
    """Depth within the cap, children within the parent's limits, children sound."""
    found: list[str] = []
    if team.depth > team.limits.max_depth:
        found.append(
            f"limits.max_depth: teams are nested {team.depth} levels deep, more than "
            f"{team.limits.max_depth}"
        )
    mine = team.limits
    for spec in team.specialists:
        if spec.team is None:
            continue
        where = f"specialists.{spec.name}.team"
        theirs = spec.team.limits
        for field in ("max_rounds", "max_workers_per_round", "max_concurrency"):
            if getattr(theirs, field) > getattr(mine, field):
                found.append(
                    f"{where}.limits.{field}: {getattr(theirs, field)} exceeds the parent's "
                    f"{getattr(mine, field)}"
                )
        found += [f"{where}: {problem}" for problem in spec.team.problems()]
    return found


def child_budget(spec: SpecialistSpec, field: str) -> float | None:
    """A child's fixed budget: its own, else its nested team's."""
    own: float | None = getattr(spec.budget, field)
    if own is None and spec.team is not None:
        own = getattr(spec.team.budget, field)
    return own


def unpriced(ref: object, table: dict[str, Price]) -> str | None:
    """The model string of ``ref`` if it is a provider's model with no price in ``table``.

    ``offline`` and ``import:`` models, chat model objects and unset models (resolved at
    run time, where ``orchestra.nodes.check_models`` prices them) count as priced.
    """
    settings = ref if isinstance(ref, ModelSettings) else None
    text = settings.model if settings is not None else ref
    if not isinstance(text, str) or model_ref_problem(text):
        return None
    provider, name = parse_model_ref(text)
    if provider in ("offline", "import"):
        return None
    if settings is not None and settings.price is not None:
        return None
    return None if price_of(name, table) is not None else text


def price_problems(team: TeamSpec, bounded: bool = False) -> list[str]:
    """Under a ``max_cost_usd`` budget every model needs a price, or the cap means nothing.

    ``bounded``: a parent's budget already carves a cost envelope for this team.
    """
    found: list[str] = []
    table = team.price_table()
    bounded = bounded or team.budget.max_cost_usd is not None
    own_budgets = {f"specialists.{s.name}.": s.budget.max_cost_usd for s in team.specialists}
    for where, ref in team.role_models():
        if (bounded or own_budgets.get(where) is not None) and (model := unpriced(ref, table)):
            found.append(
                f"{where}model: {brief(model)} has no price, and a max_cost_usd budget needs one: "
                "add it to the team's prices: (USD per million input and output tokens) "
                "or give the model a price:"
            )
    for spec in team.specialists:
        nested = spec.team
        inherits = bounded or spec.budget.max_cost_usd is not None
        # A nested team with a cost budget of its own reports this in its own problems.
        if nested is not None and inherits and nested.budget.max_cost_usd is None:
            where = f"specialists.{spec.name}.team."
            found += [where + problem for problem in price_problems(nested, bounded=True)]
    return found

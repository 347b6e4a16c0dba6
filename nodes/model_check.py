"""Every role's model checked before a run starts, so no role spends calls on a doomed run.

Building a graph resolves no model (drawing a team or opening it in Studio needs no key
or provider package); ``check_models`` is the run's first step instead. The runner
calls it before the first node runs; call it yourself before invoking a compiled graph.
"""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel

from orchestra.nodes.chat_models import (
    ModelCandidate,
    as_settings,
    default_model_ref,
    resolve_model,
)
from orchestra.nodes.providers import KEY_VARIABLES
from orchestra.nodes.resolve import ResolvedTeam
from orchestra.state import ModelConfigError, ModelSettings, TeamSpec, model_choice
from orchestra.state.spec_problems import unpriced


def _key_problem(settings: ModelSettings) -> str | None:
    """A provider that needs a key and will not find one (a ``base_url`` may need none)."""
    variable = KEY_VARIABLES.get(settings.provider)
    if settings.api_key_env is not None or variable is None or settings.base_url:
        return None  # a named variable that is unset fails the build itself
    if settings.provider == "openai" and os.environ.get("OPENAI_BASE_URL"):
        return None
    if os.environ.get(variable):
        return None
    return (
        f"model {settings.model!r} needs {variable} (or an api_key_env naming the "
        "variable that holds its key)"
    )


def _check_role(
    where: str,
    candidates: tuple[ModelCandidate, ...],
    team: TeamSpec,
    bounded: bool,
    found: list[tuple[str, str]],
) -> None:
    chosen = next((c for c in candidates if c is not None), None)
    try:
        chosen = chosen or model_choice(default_model_ref())
        resolve_model(chosen, folders=team.import_folders)
        settings = None if isinstance(chosen, BaseChatModel) else as_settings(chosen)
    except ModelConfigError as exc:
        found.append((where, str(exc)))
        return
    if settings is None:
        return  # a chat model object: the caller built it, key and all
    if problem := _key_problem(settings):
        found.append((where, problem))
    if bounded and (model := unpriced(settings, team.price_table())):
        found.append(
            (
                where,
                f"model {model!r} has no price, and a max_cost_usd budget needs one "
                "(add it to the team's prices: or give the model a price:)",
            )
        )


def _check_team(
    team: TeamSpec,
    model: ModelCandidate,
    bounded: bool,
    prefix: str,
    found: list[tuple[str, str]],
) -> None:
    bounded = bounded or team.budget.max_cost_usd is not None
    for role in ("orchestrator", "synthesizer"):
        own = team.orchestrator.model if role == "orchestrator" else team.synthesizer.model
        _check_role(prefix + role, (model, own, team.model), team, bounded, found)
    for spec in team.specialists:
        where = f"{prefix}specialists.{spec.name}"
        mine = bounded or spec.budget.max_cost_usd is not None
        if spec.team is not None:
            _check_team(spec.team, model, mine, where + ".team.", found)
        else:
            _check_role(where, (model, spec.model, team.model), team, mine, found)


def check_models(team: TeamSpec | ResolvedTeam, model: ModelCandidate = None) -> None:
    """Build every role's model now (nested teams' too), as the run would.

    ``model`` overrides every role's, like the runner's and the CLI's ``--model``. A
    bad model string, a provider package that is not installed, a missing key, or (under
    a ``max_cost_usd`` budget) a model without a price is reported for every role at
    once. Building sends no request.

    Example:
        >>> from orchestra.state import SpecialistSpec, TeamSpec
        >>> team = TeamSpec(name="t", specialists=[SpecialistSpec(name="a", description="x")])
        >>> check_models(team, "offline")

    Raises:
        ModelConfigError: naming each role whose model cannot be used.
    """
    spec = team.spec if isinstance(team, ResolvedTeam) else team
    found: list[tuple[str, str]] = []
    _check_team(spec, model, False, "", found)
    # Roles sharing a model (the team's, or the run's override) share its problem: once.
    roles: dict[str, list[str]] = {}
    for where, problem in found:
        roles.setdefault(problem, []).append(where)
    lines = [f"{', '.join(where)}: {problem}" for problem, where in roles.items()]
    if len(lines) == 1:
        raise ModelConfigError(f"team {spec.name!r}: {lines[0]}")
    if lines:
        listed = "\n".join(f"  - {line}" for line in lines)
        raise ModelConfigError(f"team {spec.name!r} has {len(lines)} model problems:\n{listed}")

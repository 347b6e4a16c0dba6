"""The grammar of model strings.

``offline`` · ``import:<package.module>:<attribute>`` (a LangChain chat model, or a
function returning one, named by import path) · ``<provider>:<model name>`` for any
provider LangChain's ``init_chat_model`` knows (``openai:gpt-4o-mini``,
``anthropic:claude-sonnet-4-5``, ``ollama:llama3.1``, ...). Whether the provider's package
is installed is found out when the model is built (``orchestra.nodes.chat_models``), not
here: this module only reads the string.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from orchestra.state.errors import brief

Provider = Literal["offline", "import"]
"""Providers orchestra resolves by itself; every other prefix goes to ``init_chat_model``."""

PROVIDERS: tuple[str, ...] = get_args(Provider)

# LangChain's provider keys: lower-case words joined by ``_`` (``google_genai``); ``-`` is
# accepted as LangChain normalises it to ``_``.
_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]*$")


def parse_model_ref(ref: str) -> tuple[str, str]:
    """Split ``"openai:gpt-4o-mini"`` into ``("openai", "gpt-4o-mini")``.

    Example:
        >>> parse_model_ref("ollama:llama3.1:8b")
        ('ollama', 'llama3.1:8b')

    Raises:
        ValueError: if the string is not a model string or lacks a model name.
    """
    problem = model_ref_problem(ref)
    if problem:
        raise ValueError(problem)
    provider, _, name = ref.strip().partition(":")
    if provider == "offline":
        return "offline", name or "offline"
    return provider.replace("-", "_"), name.strip()


def model_ref_problem(ref: str) -> str | None:
    """Why ``ref`` is not a valid model string, or ``None`` when it is."""
    provider, sep, name = ref.strip().partition(":")
    if provider == "offline":
        return None
    if not sep or not _PROVIDER.match(provider):
        return (
            f"unknown model {brief(ref)}: use 'offline', '<provider>:<model>' (e.g. "
            "'openai:gpt-4o-mini', 'anthropic:claude-sonnet-4-5', 'ollama:llama3.1') or "
            "'import:<package.module>:<attribute>' (or pass a LangChain chat model instance)"
        )
    if provider == "import":
        if not (":" in name and all(name.split(":", 1))):
            return f"model {brief(ref)} needs an import path, e.g. 'import:my_models:claude'"
        return None
    if not name.strip():
        return f"model {brief(ref)} needs a model name, e.g. '{provider}:<model name>'"
    return None

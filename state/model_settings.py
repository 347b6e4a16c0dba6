"""A role's model as data: the model string plus where and how to call it.

In a team file a model is a string (``openai:gpt-4o-mini``) or a mapping of these
settings (``{model: ollama:llama3.1, base_url: http://gpu-box:11434, timeout_s: 60}``);
on the command line ``--model`` takes the string or the mapping as JSON. Nothing here
builds a client: ``orchestra.nodes.chat_models`` does, when a role first needs it.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestra.state.budget import Price
from orchestra.state.errors import ModelConfigError
from orchestra.state.model_refs import model_ref_problem

StructuredOutput = Literal["auto", "json_schema", "function_calling", "json_mode"]
"""How a role asks for a typed reply: ``auto`` lets orchestra choose per provider."""
ToolChoice = Literal["auto", "required"]
"""Whether a specialist's steps let the model answer without a tool (``auto``) or not."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Prefixes of keys the big providers issue: such a value is the key itself, not its name.
_KEY_PREFIXES = ("sk-", "sk_", "xai-", "gsk_", "AIza", "hf_")


class ModelSettings(BaseModel):
    """One role's model and how to call it (every field but ``model`` is optional).

    Example:
        >>> settings = ModelSettings(model="ollama:llama3.1", timeout_s=60)
        >>> settings.provider, settings.name
        ('ollama', 'llama3.1')
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str = Field(examples=["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"])
    """``offline``, ``<provider>:<model>`` (any provider LangChain's ``init_chat_model``
    knows whose package is installed: openai, anthropic, ollama, ...) or
    ``import:<module>:<attribute>``."""
    base_url: str | None = None
    """The server to call (an OpenAI-compatible server, an Ollama host, a proxy).
    For ``openai:`` it defaults to ``OPENAI_BASE_URL``."""
    api_key_env: str | None = None
    """The *name* of the environment variable holding the key (never the key itself),
    read when the run starts. Default: the provider's own (``OPENAI_API_KEY``,
    ``ANTHROPIC_API_KEY``, ...)."""
    timeout_s: Annotated[float, Field(gt=0)] | None = None
    """Longest wait for one call's reply; default 120 s for a provider's client."""
    max_retries: Annotated[int, Field(ge=0, le=20)] | None = None
    """Orchestra's retries of one failed call of this role (the provider SDK's own
    retries are always off); default: the team's ``limits.retry_attempts``."""
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    """Sampling temperature; default: the provider's."""
    max_output_tokens: Annotated[int, Field(ge=1)] | None = None
    """Most tokens one reply may have (the provider's ``max_tokens``)."""
    context_window: Annotated[int, Field(ge=1)] | None = None
    """Tokens the model reads at most (prompt plus reply), for trimming and checks."""
    structured_output: StructuredOutput = "auto"
    """How typed replies are asked for: ``json_schema``, ``function_calling`` (a tool
    call), ``json_mode``, or ``auto`` (orchestra chooses for the provider)."""
    tool_choice: ToolChoice = "auto"
    """What a specialist's tool steps send as ``tool_choice``: ``auto`` (the server's
    default; sent as no value) or ``required`` (a tool call every step, the output tool
    included), for a vLLM server started without ``--enable-auto-tool-choice``, which
    refuses ``auto``. Orchestra switches a model to ``required`` by itself when a server
    refuses ``auto`` (one refused request); setting it saves that request."""
    price: Price | None = None
    """USD per million input and output tokens, over the built-in price table and the
    team's ``prices:`` (a ``max_cost_usd`` budget needs a price for every model)."""

    @field_validator("model")
    @classmethod
    def _model_string(cls, value: str) -> str:
        if problem := model_ref_problem(value):
            raise ValueError(problem)
        return value.strip()

    @field_validator("api_key_env")
    @classmethod
    def _a_name_not_a_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(_KEY_PREFIXES) or not _ENV_NAME.match(value):
            # Not echoed: it may be a real key.
            raise ValueError(
                "api_key_env takes the NAME of an environment variable (e.g. "
                "MY_OPENAI_KEY), not the key; this value looks like a key"
            )
        return value

    @property
    def provider(self) -> str:
        """The part before the first ``:`` (``offline`` for the offline model)."""
        return self.model.partition(":")[0].replace("-", "_")

    @property
    def name(self) -> str:
        """The model's name at its provider (``gpt-4o-mini``), the price table's key."""
        provider, _, name = self.model.partition(":")
        return "orchestra-offline" if provider == "offline" else name

    def cache_key(self) -> str:
        """This value as compact JSON: equal settings build one client."""
        return self.model_dump_json(exclude_defaults=True)


def model_choice(text: str) -> str | ModelSettings:
    """A model given as text: a JSON object of ``ModelSettings``, else a model string.

    It reads the command line's ``--model`` and the model a run was started with.

    Example:
        >>> model_choice('{"model": "openai:gpt-4o-mini", "timeout_s": 30}').timeout_s
        30.0
        >>> model_choice("offline")
        'offline'

    Raises:
        ModelConfigError: the text is not a model string or valid settings.
    """
    text = text.strip()
    if not text.startswith("{"):
        if problem := model_ref_problem(text):
            raise ModelConfigError(problem)
        return text
    try:
        return ModelSettings.model_validate(json.loads(text))
    except ValidationError as exc:
        # Where and why only: pydantic's full text repeats the input, which may hold a key.
        lines = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()]
        raise ModelConfigError(f"model settings: {'; '.join(lines)}") from None
    except ValueError as exc:
        raise ModelConfigError(f"model settings are not JSON: {exc}") from None

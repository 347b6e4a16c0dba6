"""Provider clients: ``<provider>:<model>`` built through LangChain's ``init_chat_model``.

Every client is built the same way whatever the provider: its SDK's own retries off
(orchestra's step retry owns retrying, so retries never stack), a request timeout always
set (langchain-openai's default ``None`` disables the SDK's), usage reported when
streaming, and the role's ``base_url``, key, temperature and reply cap. Nothing here
runs at import; ``langchain`` itself is imported on the first build.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from orchestra.state import ModelConfigError, ModelSettings

DEFAULT_TIMEOUT_S = 120.0
"""A provider client's timeout when the role sets no ``timeout_s``."""

KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
}
"""The variable each provider's client reads its key from when none is given.
Providers missing here (ollama, ...) need no key or find it their own way."""

# Clients speaking OpenAI's wire: usage comes in a stream only when asked for it.
_OPENAI_STYLE = frozenset({"openai", "azure_openai", "deepseek", "xai", "groq"})

# Packages that come with an orchestra extra (pyproject.toml).
_EXTRAS = {"anthropic": "anthropic", "ollama": "ollama"}


def provider_key(settings: ModelSettings) -> str | None:
    """The key for ``settings``: from its ``api_key_env``, else the provider's variable.

    Read from the environment each time (a key set after import counts).

    Raises:
        ModelConfigError: ``api_key_env`` names a variable that is not set.
    """
    if settings.api_key_env is not None:
        key = os.environ.get(settings.api_key_env)
        if not key:
            raise ModelConfigError(
                f"model {settings.model!r}: the environment variable {settings.api_key_env} "
                "(its api_key_env) is not set"
            )
        return key
    variable = KEY_VARIABLES.get(settings.provider)
    return (os.environ.get(variable) or None) if variable else None


def client_options(
    settings: ModelSettings, key: str | None, base_url: str | None
) -> dict[str, Any]:
    """The keyword arguments ``init_chat_model`` passes to the provider's class.

    Example:
        >>> options = client_options(ModelSettings(model="openai:gpt-4o-mini"), "k", None)
        >>> options["max_retries"], options["timeout"], options["stream_usage"]
        (0, 120.0, True)
    """
    timeout = settings.timeout_s or DEFAULT_TIMEOUT_S
    options: dict[str, Any] = {}
    if settings.temperature is not None:
        options["temperature"] = settings.temperature
    if settings.provider == "ollama":
        # ChatOllama has no timeout or retry fields: the timeout goes to its httpx client,
        # which does not retry; a key (Ollama's hosted API) goes as a bearer header.
        client: dict[str, Any] = {"timeout": timeout}
        if key:
            client["headers"] = {"Authorization": f"Bearer {key}"}
        options["client_kwargs"] = client
        if settings.max_output_tokens is not None:
            options["num_predict"] = settings.max_output_tokens
    else:
        options["timeout"] = timeout
        options["max_retries"] = 0
        if settings.max_output_tokens is not None:
            options["max_tokens"] = settings.max_output_tokens
        if key:
            options["api_key"] = key
        if settings.provider in _OPENAI_STYLE:
            options["stream_usage"] = True
    if base_url:
        options["base_url"] = base_url
    return options


def missing_package(settings: ModelSettings, error: ImportError) -> ModelConfigError:
    """The error for a provider whose integration package is not installed, with the fix."""
    cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error
    module = (cause.name or f"langchain_{settings.provider}").partition(".")[0]
    package = module.replace("_", "-")
    extra = _EXTRAS.get(settings.provider)
    also = f" (or pip install 'orchestra[{extra}]')" if extra else ""
    return ModelConfigError(
        f"model {settings.model!r} needs the package {package}, which is not installed: "
        f"pip install {package}{also}"
    )


def provider_model(settings: ModelSettings, key: str | None) -> BaseChatModel:
    """The chat model for a ``<provider>:<model>`` setting (no request is sent).

    ``openai:`` works as it always has: the key from ``OPENAI_API_KEY`` and the server
    from ``OPENAI_BASE_URL`` unless the settings give their own; a local server needs no
    real key. Another provider's class reads its usual variables when the settings name
    none (``ANTHROPIC_API_KEY``, ...).

    Example:
        >>> chat = provider_model(ModelSettings(model="openai:gpt-4o-mini"), "sk-test")
        >>> chat.max_retries, chat.request_timeout
        (0, 120.0)

    Raises:
        ModelConfigError: the provider is unknown, its package is missing, or an
            ``openai:`` model has neither a key nor a server.
    """
    provider, name = settings.provider, settings.name
    base_url = settings.base_url
    if provider == "openai":
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not key and not base_url:
            raise ModelConfigError(
                f"model {settings.model!r} needs OPENAI_API_KEY (or a base_url / "
                "OPENAI_BASE_URL for a compatible server such as Ollama or vLLM); use "
                "--model offline to run without one"
            )
        key = key or "unused"  # local OpenAI-compatible servers ignore it; the client insists
    from langchain.chat_models import init_chat_model  # slow, and only needed here

    try:
        chat = init_chat_model(
            name, model_provider=provider, **client_options(settings, key, base_url)
        )
    except ImportError as exc:
        raise missing_package(settings, exc) from None
    except ValueError as exc:  # an unknown provider, or options its class refuses
        raise ModelConfigError(f"model {settings.model!r}: {exc}") from None
    if not isinstance(chat, BaseChatModel):
        raise ModelConfigError(f"model {settings.model!r} did not build a chat model")
    return chat

"""What a model's server was found to refuse or ignore during a run, noted per model object.

Servers differ in what they do with ``tool_choice``: a vLLM server started without
``--enable-auto-tool-choice`` refuses ``"auto"`` with HTTP 400 (docs.vllm.ai,
features/tool_calling: named and ``"required"`` choices work without the flag, through
guided decoding), and Ollama ignores a forced tool (its request type has no such field).
The first step that meets such a server works around it (``orchestra.nodes.bindings``,
``orchestra.nodes.worker_replies``) and notes it here, so that every later step of every
specialist on the same model object goes the working way at once. Models resolved from
one string or settings are one object (``orchestra.nodes.chat_models``); a note lives as
long as its model.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from orchestra.nodes.retry import status_of


@dataclass
class Quirks:
    """What one model's server did that the framework now works around."""

    refuses_auto_tool_choice: bool = False
    """The server answered ``tool_choice: "auto"`` with 400: tool steps send ``required``."""
    ignores_tool_choice: bool = False
    """A forced output call was answered in text, and structured output worked instead:
    forced output steps ask through structured output."""


_NOTED: dict[int, tuple[weakref.ReferenceType[BaseChatModel], Quirks]] = {}
_LOCK = threading.Lock()


def quirks_of(chat: BaseChatModel) -> Quirks:
    """The notes kept for ``chat`` (fresh ones for a model not seen before).

    Example:
        >>> from orchestra.nodes.offline import OfflineChatModel
        >>> chat = OfflineChatModel()
        >>> quirks_of(chat).refuses_auto_tool_choice
        False
        >>> quirks_of(chat).refuses_auto_tool_choice = True
        >>> quirks_of(chat).refuses_auto_tool_choice
        True
    """
    with _LOCK:
        found = _NOTED.get(id(chat))
        if found is not None and found[0]() is chat:
            return found[1]
        if len(_NOTED) >= 256:  # ids of models gone may be reused: drop their notes
            for key in [k for k, (ref, _) in _NOTED.items() if ref() is None]:
                del _NOTED[key]
        noted = Quirks()
        _NOTED[id(chat)] = (weakref.ref(chat), noted)
        return noted


def refuses_auto_tool_choice(exc: BaseException) -> bool:
    """Whether ``exc`` is a server's 400 for ``tool_choice: "auto"`` (vLLM without its flags).

    Example:
        >>> class BadRequest(Exception):
        ...     status_code = 400
        >>> refuses_auto_tool_choice(BadRequest(
        ...     '"auto" tool choice requires --enable-auto-tool-choice and '
        ...     '--tool-call-parser to be set'))
        True
        >>> refuses_auto_tool_choice(BadRequest("'messages' must contain the word 'json'"))
        False
    """
    text = str(exc)
    asked_flags = '"auto" tool choice' in text and "--enable-auto-tool-choice" in text
    return status_of(exc) == 400 and asked_flags

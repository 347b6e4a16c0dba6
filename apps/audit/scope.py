"""Which repositories an audit may read: a scope recorded per thread, outside the checkpoint.

Why a per-thread file rather than an environment variable or the tool's own judgement:
the audit tools must refuse any root the user did not name, yet ``orchestra resume
THREAD`` (which knows nothing of audits) has to work after a crash. A tool cannot see the
graph state, but LangChain hands it the run's config, whose ``thread_id`` names the
audit. So ``orchestra audit`` writes ``<state dir>/audits/<thread>.json`` with the roots
(and their names in the report), the policy, a random key for secret fingerprints and
how many repositories to analyse at once;
the tools read it back by thread id. Nothing in it is secret except that key, and the file
is private to the user. The state directory is ``$ORCHESTRA_STATE_DIR``, else
``$XDG_STATE_HOME/orchestra``, else ``~/.local/state/orchestra``.

A root is matched exactly, by its name in the audit, or (for a literal model that cut a
path at its first space) as the unique root starting with the given text and a space.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from orchestra_audit.policy import AuditPolicy

STATE_DIR_ENV = "ORCHESTRA_STATE_DIR"


def state_dir() -> Path:
    """Where orchestra keeps per-user state that must not live in a checkpoint."""
    if chosen := os.environ.get(STATE_DIR_ENV, "").strip():
        return Path(chosen)
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "state") / "orchestra"


def _scope_file(thread_id: str) -> Path:
    # Thread ids are user text: hash them into a safe file name, keep a readable prefix.
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in thread_id)[:40]
    digest = hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:16]
    return state_dir() / "audits" / f"{safe}-{digest}.json"


@dataclass(frozen=True)
class AuditScope:
    """The repositories of one audit, its policy, and its fingerprint key."""

    thread_id: str
    roots: dict[str, str]
    """Absolute resolved root path -> the repository's name in the report."""
    policy: AuditPolicy
    key: bytes
    max_concurrency: int = 8
    """Repositories analysed at once (see ``orchestra_audit.pacing``)."""

    def root_for(self, repo: str) -> tuple[Path, str]:
        """The root and name ``repo`` designates, refused unless it is one of this audit's.

        Raises:
            PermissionError: ``repo`` is not one of the audit's repositories.
        """
        text = repo.strip()
        if text:
            resolved = str(Path(text).expanduser().resolve()) if "/" in text else ""
            for root, name in self.roots.items():
                if text in (root, name) or resolved == root:
                    return Path(root), name
            cut = [root for root in self.roots if root.startswith(text + " ")]
            if len(cut) == 1:
                return Path(cut[0]), self.roots[cut[0]]
        allowed = ", ".join(sorted(self.roots.values()))
        raise PermissionError(f"{repo!r} is not one of the repositories of this audit ({allowed})")


def record_scope(
    thread_id: str,
    roots: dict[Path, str],
    policy: AuditPolicy,
    *,
    keep_key: bool = True,
    max_concurrency: int = 8,
) -> AuditScope:
    """Write (or rewrite) the scope of an audit thread.

    An existing key is kept by default, so fingerprints stay comparable when an
    interrupted audit is continued.
    """
    path = _scope_file(thread_id)
    key = secrets.token_bytes(32)
    if keep_key and path.is_file():
        try:
            key = bytes.fromhex(json.loads(path.read_text(encoding="utf-8"))["key"])
        except (OSError, ValueError, KeyError):
            pass
    stored = {str(root): name for root, name in roots.items()}
    data = {
        "thread_id": thread_id,
        "roots": stored,
        "policy": policy.model_dump(mode="json"),
        "key": key.hex(),
        "max_concurrency": max_concurrency,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created private: the key must not let other users fingerprint-match secrets.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    return AuditScope(thread_id, stored, policy, key, max_concurrency)


def load_scope(thread_id: str) -> AuditScope | None:
    """The recorded scope of an audit thread, or ``None`` when there is none."""
    path = _scope_file(thread_id)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return AuditScope(
            thread_id,
            {str(k): str(v) for k, v in data["roots"].items()},
            AuditPolicy.model_validate(data.get("policy", {})),
            bytes.fromhex(data["key"]),
            int(data.get("max_concurrency", 8)),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        raise PermissionError(f"the audit scope file {path} is unreadable: {exc}") from None


def scope_of(config: RunnableConfig | None) -> AuditScope:
    """The scope of the audit the current run belongs to.

    Raises:
        PermissionError: outside a run, or when the thread has no recorded scope.
    """
    thread = ((config or {}).get("configurable") or {}).get("thread_id")
    if not thread:
        raise PermissionError("the audit tools only run inside an audit thread (no thread id)")
    scope = load_scope(str(thread))
    if scope is None:
        raise PermissionError(
            f"thread {thread!r} has no audit scope: start or continue it with "
            f"'orchestra audit PATH... --thread {thread}'"
        )
    return scope

"""Which repositories an audit may read: its scope, carried by the run as its typed data.

``orchestra audit`` starts the run with ``deps=AuditScope(...)``: the framework stores it
(as JSON) in the run's checkpoint and gives it back on every resume, whichever process,
working directory or host continues the run, and whatever ``--db`` it lives in. The
tools and the validator's check receive it by declaring a ``RunData[AuditScope | None]``
parameter (``None``: a run of the audit team started some other way, which may read
nothing). The scope holds the roots (and their names in the report), the policy and a
random key for secret fingerprints, and whether the registry checks may use the network.

A root is matched exactly, by its name in the audit, or (for a literal model that cut a
path at its first space) as the unique root starting with the given text and a space.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestra_audit.policy import AuditPolicy


class AuditScope(BaseModel):
    """The repositories of one audit, its policy, and its fingerprint key."""

    model_config = ConfigDict(frozen=True)

    roots: dict[str, str]
    """Absolute resolved root path -> the repository's name in the report."""
    policy: AuditPolicy = Field(default_factory=AuditPolicy)
    key_hex: str = Field(default_factory=lambda: secrets.token_hex(32))
    """Keys the secrets' fingerprints, so the same secret in two repositories matches.

    It lives in the checkpoint with the run (a resume must fingerprint alike); the
    checkpoint holds only redacted findings and fingerprints, never a secret value."""
    offline: bool = False
    """``--offline``: the registry and vulnerability checks use their cache only."""

    @classmethod
    def of(
        cls, roots: dict[Path, str], policy: AuditPolicy, *, offline: bool = False
    ) -> AuditScope:
        """A new audit's scope (with a fresh key)."""
        named = {str(root): name for root, name in roots.items()}
        return cls(roots=named, policy=policy, offline=offline)

    @property
    def key(self) -> bytes:
        """The fingerprint key as bytes."""
        return bytes.fromhex(self.key_hex)

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


def required(scope: AuditScope | None) -> AuditScope:
    """The run's scope, refused when the run carries none.

    Raises:
        PermissionError: the run was not started by ``orchestra audit`` (no scope).
    """
    if scope is None:
        raise PermissionError(
            "this run has no audit scope: the audit tools only read repositories of a run "
            "started with 'orchestra audit PATH...'"
        )
    return scope

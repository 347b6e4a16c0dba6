"""The audit policy: minimum versions per package, and the test ratio a repository should reach.

A policy is an optional TOML file::

    [minimum.pypi]          # PyPI package -> lowest acceptable version
    requests = "2.31.0"

    [minimum.npm]           # npm package -> lowest acceptable version
    lodash = "4.17.21"

    [tests]
    min_ratio = 0.2         # test lines per source line; below it the repository is flagged
    min_source_lines = 100  # smaller repositories are not judged on the ratio

Every problem of a policy file is reported at once, like a team file's.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestra import OrchestraError
from orchestra_audit.findings import Ecosystem


class PolicyError(OrchestraError, ValueError):
    """A policy file cannot be used; the message lists every problem."""


class CoveragePolicy(BaseModel):
    """How much test code a repository should have."""

    model_config = ConfigDict(extra="forbid")

    min_ratio: float = Field(default=0.2, ge=0)
    """Non-blank test lines per non-blank source line below which the repository is flagged."""
    min_source_lines: int = Field(default=100, ge=0)
    """Repositories with fewer source lines are not judged on the ratio."""


class AuditPolicy(BaseModel):
    """Minimum versions by ecosystem and package, and the test expectations."""

    model_config = ConfigDict(extra="forbid")

    minimum: dict[Ecosystem, dict[str, str]] = Field(default_factory=dict)
    """``{"pypi": {"requests": "2.31.0"}, "npm": {...}}``; names are normalized."""
    tests: CoveragePolicy = Field(default_factory=CoveragePolicy)

    @field_validator("minimum")
    @classmethod
    def _versions(cls, value: dict[Ecosystem, dict[str, str]]) -> dict[Ecosystem, dict[str, str]]:
        bad = []
        for ecosystem, packages in value.items():
            for name, version in packages.items():
                try:
                    Version(version)
                except InvalidVersion:
                    bad.append(f"{ecosystem}.{name}: {version!r} is not a version")
        if bad:
            raise ValueError("; ".join(bad))
        return {
            ecosystem: {package_key(ecosystem, n): v for n, v in packages.items()}
            for ecosystem, packages in value.items()
        }

    def minimum_for(self, ecosystem: Ecosystem, name: str) -> Version | None:
        """The policy's minimum version of a package, if it sets one."""
        found = self.minimum.get(ecosystem, {}).get(package_key(ecosystem, name))
        return Version(found) if found else None


def package_key(ecosystem: Ecosystem, name: str) -> str:
    """The name a package is compared by: PEP 503 normalized for PyPI, lower-case for npm."""
    return str(canonicalize_name(name)) if ecosystem == "pypi" else name.strip().lower()


def load_policy(path: str | Path) -> AuditPolicy:
    """Read and check a policy file.

    Raises:
        PolicyError: naming the file and every problem in it.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read the policy file {str(file)!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file {str(file)!r} is not valid TOML: {exc}") from None
    try:
        return AuditPolicy.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        listing = "; ".join(problems)
        raise PolicyError(f"policy file {str(file)!r} is invalid: {listing}") from None

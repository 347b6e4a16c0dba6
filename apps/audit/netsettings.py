"""Where the registry checks look, read from the user's environment: registries, cache, limits.

Each service has an explicit variable, then the settings its own tools already use:

- PyPI's JSON API: ``ORCHESTRA_PYPI_URL`` (e.g. ``https://pypi.org``), else the base of
  ``PIP_INDEX_URL`` when it is an http(s) ``.../simple`` index (pypi.org, Artifactory and
  Nexus serve ``{base}/pypi/{name}/json`` beside ``{base}/simple``), else ``https://pypi.org``.
- npm: ``ORCHESTRA_NPM_REGISTRY``, else ``npm_config_registry`` / ``NPM_CONFIG_REGISTRY`` (what
  npm itself reads from the environment), else ``https://registry.npmjs.org``.
- OSV: ``ORCHESTRA_OSV_URL``, else ``https://api.osv.dev``.
- The answers are cached in ``ORCHESTRA_REGISTRY_CACHE``, else ``$XDG_CACHE_HOME/orchestra/
  registry``, else ``~/.cache/orchestra/registry``, for ``ORCHESTRA_REGISTRY_TTL`` seconds
  (6 hours by default); ``ORCHESTRA_AUDIT_OFFLINE=1`` (or ``orchestra audit --offline``) uses
  the cache only. ``ORCHESTRA_REGISTRY_TIMEOUT`` bounds each request (5 seconds).

Proxies (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) and ``SSL_CERT_FILE`` are honoured by
httpx itself (``trust_env``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from orchestra import OrchestraError

PYPI = "https://pypi.org"
NPM = "https://registry.npmjs.org"
OSV = "https://api.osv.dev"
TTL_SECONDS = 6 * 3600
"""Six hours: a day-old answer would hide an advisory published this morning."""
TIMEOUT_SECONDS = 5.0
CONCURRENCY = 8
"""Lookups at once per repository: enough to hide latency, few enough to be polite."""


class RegistrySettingsError(OrchestraError, ValueError):
    """An environment variable of the registry checks has a value that cannot be used."""


@dataclass(frozen=True)
class RegistrySettings:
    """Where and how the audit asks the registries and OSV."""

    pypi: str
    """PyPI JSON API base: ``{pypi}/pypi/{name}/json``."""
    npm: str
    """npm registry: ``{npm}/{name}``."""
    osv: str
    """OSV API base: ``{osv}/v1/querybatch``."""
    cache: Path
    ttl: float
    """Seconds a cached answer stays fresh (online; offline any cached answer is used)."""
    timeout: float
    offline: bool
    concurrency: int = CONCURRENCY

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, offline: bool = False
    ) -> RegistrySettings:
        """The settings the environment gives (``os.environ`` by default).

        >>> s = RegistrySettings.from_env({"PIP_INDEX_URL": "https://mirror.example/simple/",
        ...                                "XDG_CACHE_HOME": "/tmp/c"})
        >>> s.pypi, s.npm, str(s.cache), s.offline
        ('https://mirror.example', 'https://registry.npmjs.org', '/tmp/c/orchestra/registry', False)
        >>> RegistrySettings.from_env({"ORCHESTRA_AUDIT_OFFLINE": "1"}).offline
        True

        Raises:
            RegistrySettingsError: a TTL or timeout that is not a non-negative number, or a
                URL that is not http(s).
        """
        env = os.environ if environ is None else environ
        pypi = env.get("ORCHESTRA_PYPI_URL") or _json_base(env.get("PIP_INDEX_URL", "")) or PYPI
        npm = (
            env.get("ORCHESTRA_NPM_REGISTRY")
            or env.get("npm_config_registry")
            or env.get("NPM_CONFIG_REGISTRY")
            or NPM
        )
        osv = env.get("ORCHESTRA_OSV_URL") or OSV
        for name, url in (("PyPI", pypi), ("npm", npm), ("OSV", osv)):
            if urlsplit(url).scheme not in ("http", "https"):
                raise RegistrySettingsError(f"the {name} URL {url!r} is not an http(s) URL")
        return cls(
            pypi=pypi.rstrip("/"),
            npm=npm.rstrip("/"),
            osv=osv.rstrip("/"),
            cache=_cache_dir(env),
            ttl=_seconds(env, "ORCHESTRA_REGISTRY_TTL", TTL_SECONDS),
            timeout=_seconds(env, "ORCHESTRA_REGISTRY_TIMEOUT", TIMEOUT_SECONDS),
            offline=offline or env.get("ORCHESTRA_AUDIT_OFFLINE", "") not in ("", "0"),
        )


def _json_base(index: str) -> str:
    """The JSON API base beside a simple index, when the index is one served over http(s)."""
    parts = urlsplit(index.strip())
    path = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not path.endswith("/simple"):
        return ""  # file:// indexes, devpi's +simple and the like have no JSON API there
    return parts._replace(path=path[: -len("/simple")], query="", fragment="").geturl()


def _cache_dir(env: Mapping[str, str]) -> Path:
    if env.get("ORCHESTRA_REGISTRY_CACHE"):
        return Path(env["ORCHESTRA_REGISTRY_CACHE"]).expanduser()
    home = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(home) / "orchestra" / "registry"


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise RegistrySettingsError(f"{name}={text!r}: give a number of seconds (0 or more)")
    return value


def shown(url: str) -> str:
    """A URL as reports may show it: its host only, so no credential ever appears.

    >>> shown("https://user:token@mirror.example:8443/simple")
    'mirror.example:8443'
    """
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host

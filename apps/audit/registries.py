"""What PyPI and npm say about a pinned version: the latest release, yanked, deprecated.

PyPI's JSON API (``GET {base}/pypi/{name}/json``) gives ``info.version``, the latest release,
and ``releases``: each version's files, each with ``yanked`` and ``yanked_reason`` (PEP 592:
a yanked release is still installed by an exact ``==`` pin). npm's registry
(``GET {registry}/{name}``, scoped names as ``@scope%2Fname``) gives ``dist-tags.latest`` and
each version's ``deprecated`` message; the abbreviated document (``Accept:
application/vnd.npm.install-v1+json``) carries both and is much smaller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from packaging.version import InvalidVersion, Version

from orchestra_audit.checkable import Pin
from orchestra_audit.fetch import Answer, Fetcher, Problem

NPM_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
"""The abbreviated metadata, with the full document as a fallback (npm's own header)."""


@dataclass(frozen=True)
class Release:
    """The registry's word on one pinned version."""

    latest: str
    """The latest release (PyPI's ``info.version``, npm's ``dist-tags.latest``)."""
    yanked: str | None = None
    """PyPI: the yank reason ('' when none was given); ``None`` when not yanked."""
    deprecated: str | None = None
    """npm: this version's deprecation message; ``None`` when not deprecated."""
    package_deprecated: bool = False
    """npm: the latest version is deprecated too, so the package as a whole is."""


def pypi_url(base: str, name: str) -> str:
    """PyPI's JSON API document of a project.

    >>> pypi_url("https://pypi.org", "requests")
    'https://pypi.org/pypi/requests/json'
    """
    return f"{base}/pypi/{quote(name, safe='')}/json"


def npm_url(registry: str, name: str) -> str:
    """The npm registry's document of a package; a scope's slash is encoded.

    >>> npm_url("https://registry.npmjs.org", "@babel/core")
    'https://registry.npmjs.org/@babel%2Fcore'
    """
    return f"{registry}/{quote(name, safe='@')}"


def _same(a: str, b: str) -> bool:
    """Equal as versions (``2.19`` is ``2.19.0``), or as text when either is not one."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def pypi_release(doc: Any, version: str) -> Release | None:
    """The release of ``version`` in a PyPI JSON document; ``None`` when the shape is wrong.

    >>> doc = {"info": {"version": "2.32.3"},
    ...        "releases": {"2.32.0": [{"yanked": True, "yanked_reason": "CVE clash"}]}}
    >>> pypi_release(doc, "2.32.0")
    Release(latest='2.32.3', yanked='CVE clash', deprecated=None, package_deprecated=False)
    """
    info = doc.get("info") if isinstance(doc, dict) else None
    if not isinstance(info, dict) or not isinstance(info.get("version"), str):
        return None
    releases = doc.get("releases")
    files: list[Any] = []
    if isinstance(releases, dict):
        found = [f for v, f in releases.items() if _same(v, version) and isinstance(f, list)]
        files = found[0] if found else []
    yanked_files = [f for f in files if isinstance(f, dict) and f.get("yanked") is True]
    # PyPI yanks whole releases: every file says so, with the same reason.
    yanked = None
    if files and len(yanked_files) == len(files):
        yanked = str(yanked_files[0].get("yanked_reason") or "")
    return Release(latest=info["version"], yanked=yanked)


def _deprecation(manifest: Any) -> str | None:
    value = manifest.get("deprecated") if isinstance(manifest, dict) else None
    if value is True:
        return "deprecated"
    return value if isinstance(value, str) and value else None


def npm_release(doc: Any, version: str) -> Release | None:
    """The release of ``version`` in an npm document; ``None`` when the shape is wrong.

    >>> doc = {"dist-tags": {"latest": "2.88.2"},
    ...        "versions": {"2.88.0": {"deprecated": "request has been deprecated"},
    ...                     "2.88.2": {"deprecated": "request has been deprecated"}}}
    >>> npm_release(doc, "2.88.0").package_deprecated
    True
    """
    tags = doc.get("dist-tags") if isinstance(doc, dict) else None
    if not isinstance(tags, dict) or not isinstance(tags.get("latest"), str):
        return None
    versions = doc.get("versions")
    versions = versions if isinstance(versions, dict) else {}
    manifest = next((m for v, m in versions.items() if _same(v, version)), None)
    return Release(
        latest=tags["latest"],
        deprecated=_deprecation(manifest),
        package_deprecated=_deprecation(versions.get(tags["latest"])) is not None,
    )


def lookup(fetcher: Fetcher, pin: Pin) -> Release | Problem:
    """The registry's release of ``pin``, or why it could not be had."""
    settings = fetcher.settings
    answer: Answer
    if pin.ecosystem == "pypi":
        answer = fetcher.get(pypi_url(settings.pypi, pin.name))
        read = pypi_release
    else:
        url = npm_url(settings.npm, pin.name)
        # The two npm formats differ: the cache keeps the abbreviated one under its own key.
        answer = fetcher.get(url, key=f"{url} abbreviated", headers={"Accept": NPM_ACCEPT})
        read = npm_release
    if answer.problem is not None:
        return answer.problem
    release = read(answer.doc, pin.version)
    if release is None:
        return Problem("server-error", "the registry's answer is not shaped as its API publishes")
    return release

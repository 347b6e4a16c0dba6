"""Known vulnerabilities of pinned versions, from OSV (https://osv.dev).

``POST {osv}/v1/querybatch`` with ``{"queries": [{"package": {"name", "ecosystem"},
"version"}]}`` answers, in the queries' order, ``{"results": [{"vulns": [{"id",
"modified"}]}]}`` (``{}`` for a clean version; at most 1000 queries a request; a result with
``next_page_token`` has more, asked for by repeating its query with ``page_token``). Each
advisory's details (summary, aliases, severity, affected ranges with their ``fixed``
versions) come from ``GET {osv}/v1/vulns/{id}``.

Each version's answer is cached apart (a repository's batch differs from the next one's);
an advisory's details are cached under its ``modified`` time, so a revised advisory is
fetched again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from orchestra_audit.checkable import Pin
from orchestra_audit.fetch import Fetcher, Problem

BATCH = 1000
"""OSV's limit of queries per querybatch request."""
MAX_PAGES = 20
ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm"}
"""Our ecosystem names -> OSV's."""

VulnRef = tuple[str, str]
"""An advisory's id and modified time, as querybatch lists them."""


@dataclass(frozen=True)
class Advisory:
    """One advisory as it applies to one pinned version."""

    id: str
    summary: str
    aliases: tuple[str, ...]
    fixed: str
    """The first release after the pinned version that fixes it ('' when none is known)."""
    critical: bool
    """The advisory's own severity says CRITICAL (GitHub's ``database_specific.severity``)."""


def _key(pin: Pin) -> str:
    return f"osv {ECOSYSTEMS[pin.ecosystem]} {pin.name} {pin.version}"


def _query(pin: Pin, page_token: str = "") -> dict[str, Any]:
    query: dict[str, Any] = {
        "package": {"name": pin.name, "ecosystem": ECOSYSTEMS[pin.ecosystem]},
        "version": pin.version,
    }
    return query | ({"page_token": page_token} if page_token else {})


def _refs(result: Any) -> list[VulnRef] | None:
    vulns = result.get("vulns", []) if isinstance(result, dict) else None
    if not isinstance(vulns, list):
        return None
    return [(str(v["id"]), str(v.get("modified", ""))) for v in vulns if isinstance(v, dict)]


def _more_pages(fetcher: Fetcher, pin: Pin, token: str) -> list[VulnRef] | Problem:
    refs: list[VulnRef] = []
    for _ in range(MAX_PAGES):
        body = {"queries": [_query(pin, token)]}
        answer = fetcher.post(f"{fetcher.settings.osv}/v1/querybatch", body)
        if answer.problem is not None:
            return answer.problem
        results = answer.doc.get("results") if isinstance(answer.doc, dict) else None
        page = _refs(results[0]) if isinstance(results, list) and results else None
        if page is None:
            return Problem("server-error", "OSV's answer is not shaped as its API publishes")
        refs += page
        token = str(results[0].get("next_page_token") or "") if results else ""
        if not token:
            break
    return refs


def _batch(fetcher: Fetcher, pins: list[Pin]) -> dict[Pin, list[VulnRef] | Problem]:
    answer = fetcher.post(
        f"{fetcher.settings.osv}/v1/querybatch", {"queries": [_query(p) for p in pins]}
    )
    if answer.problem is not None:
        return dict.fromkeys(pins, answer.problem)
    results = answer.doc.get("results") if isinstance(answer.doc, dict) else None
    if not isinstance(results, list) or len(results) != len(pins):
        miscount = Problem("server-error", "OSV answered another number of results")
        return dict.fromkeys(pins, miscount)
    out: dict[Pin, list[VulnRef] | Problem] = {}
    for pin, result in zip(pins, results, strict=True):
        out[pin] = _complete(fetcher, pin, result)
        if isinstance(refs := out[pin], list):
            fetcher.cache.put(_key(pin), [list(r) for r in refs])
    return out


def _complete(fetcher: Fetcher, pin: Pin, result: Any) -> list[VulnRef] | Problem:
    """One query's advisories, with the further pages OSV announced."""
    refs = _refs(result)
    if refs is None:
        return Problem("server-error", "OSV's answer is not shaped as its API publishes")
    token = str(result.get("next_page_token") or "")
    if not token:
        return refs
    more = _more_pages(fetcher, pin, token)
    return more if isinstance(more, Problem) else refs + more


def vulnerabilities(fetcher: Fetcher, pins: list[Pin]) -> dict[Pin, list[VulnRef] | Problem]:
    """Each pin's advisories (id, modified), or why OSV could not be asked."""
    out: dict[Pin, list[VulnRef] | Problem] = {}
    ask = []
    for pin in pins:
        cached = fetcher.cached(_key(pin))
        if isinstance(cached, list):
            out[pin] = [(str(i), str(m)) for i, m in cached]
        else:
            ask.append(pin)
    if fetcher.settings.offline:
        out |= dict.fromkeys(ask, Problem("offline", "offline, and not in the cache"))
        return out
    for start in range(0, len(ask), BATCH):
        out |= _batch(fetcher, ask[start : start + BATCH])
    return out


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _named(package: Any, pin: Pin) -> bool:
    if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEMS[pin.ecosystem]:
        return False
    name = str(package.get("name", ""))
    if pin.ecosystem == "pypi":
        return canonicalize_name(name) == canonicalize_name(pin.name)
    return name.lower() == pin.name.lower()


def first_fixed(doc: Any, pin: Pin) -> str:
    """The lowest ``fixed`` version above the pin in the advisory's ranges for its package.

    >>> doc = {"affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
    ...         "ranges": [{"type": "ECOSYSTEM",
    ...                     "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}]}]}
    >>> first_fixed(doc, Pin("pypi", "requests", "2.19.0"))
    '2.20.0'
    """
    pinned = _version(pin.version)
    fixes: list[tuple[Version, str]] = []
    for affected in doc.get("affected", []) if isinstance(doc, dict) else []:
        if not isinstance(affected, dict) or not _named(affected.get("package"), pin):
            continue
        for span in affected.get("ranges", []) or []:
            if not isinstance(span, dict) or span.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges name commits, not releases
            for event in span.get("events", []) or []:
                fixed = _version(str(event.get("fixed", ""))) if isinstance(event, dict) else None
                if fixed is not None and (pinned is None or fixed > pinned):
                    fixes.append((fixed, str(event["fixed"])))
    return min(fixes)[1] if fixes else ""


def advisory(fetcher: Fetcher, ref: VulnRef, pin: Pin) -> Advisory | Problem:
    """An advisory's details as they apply to ``pin``, or why they could not be had."""
    vuln_id, modified = ref
    url = f"{fetcher.settings.osv}/v1/vulns/{vuln_id}"
    answer = fetcher.get(url, key=f"{url} {modified}")
    if answer.problem is not None:
        return answer.problem
    doc = answer.doc if isinstance(answer.doc, dict) else {}
    specific = doc.get("database_specific")
    severity = specific.get("severity", "") if isinstance(specific, dict) else ""
    aliases = doc.get("aliases") if isinstance(doc.get("aliases"), list) else []
    return Advisory(
        id=vuln_id,
        summary=str(doc.get("summary") or ""),
        aliases=tuple(str(a) for a in aliases or []),
        fixed=first_fixed(doc, pin),
        critical=str(severity).upper() == "CRITICAL",
    )

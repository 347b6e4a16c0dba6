"""How a check that could not run is said: in each summary, the digest, the report and --json.

The registry and vulnerability checks need the network; when they cannot run for a
package they say so, counted and with the reason, wherever a reader could otherwise take
silence for a clean result.
"""

from __future__ import annotations

from typing import Any

from orchestra_audit.findings import NotChecked


def not_checked_sentence(gaps: list[NotChecked]) -> str:
    """`` Not checked: ...`` for the checks that could not run ('' when all ran).

    >>> gap = NotChecked(check="registry", ecosystem="pypi", reason="offline",
    ...                  detail="offline, and not in the cache", packages=["requests==2.19.0"])
    >>> not_checked_sentence([gap])
    ' Not checked against the registries: 1 package(s) (offline, and not in the cache).'
    """
    parts = []
    for check, what in (("registry", "against the registries"), ("vulnerabilities", "")):
        mine = [g for g in gaps if g.check == check]
        if not mine:
            continue
        count = sum(len(g.packages) for g in mine)
        why = "; ".join(dict.fromkeys(g.detail for g in mine))
        label = f"Not checked {what}" if what else "Vulnerabilities not checked"
        parts.append(f" {label}: {count} package(s) ({why}).")
    return "".join(parts)


def not_checked_json(gaps: list[tuple[str, NotChecked]]) -> dict[str, Any]:
    """The ``not_checked`` part of ``--json``: counts by check, and each group by repository.

    >>> gap = NotChecked(check="vulnerabilities", ecosystem="npm", reason="unreachable",
    ...                  detail="api.osv.dev unreachable (ConnectError)", packages=["a@1.0.0"])
    >>> not_checked_json([("web", gap)])["vulnerabilities"]
    1
    """
    return {
        "registry": sum(len(g.packages) for _, g in gaps if g.check == "registry"),
        "vulnerabilities": sum(len(g.packages) for _, g in gaps if g.check == "vulnerabilities"),
        "groups": [{"repo": repo} | gap.model_dump() for repo, gap in gaps],
    }

"""The auditor's tools: read-only, confined to the repositories of the current audit.

``audit_repository`` runs the deterministic analysers and returns the ``RepoAudit`` JSON
(secrets already redacted): the auditor declares it in ``output_from_tools``, so that JSON
is the subtask's output and no model, offline or real, is asked to copy it (a large
repository's would exceed any output limit). ``browse_repository`` lets a real model look
closer at a folder or file, with the same confinement and the same redaction. Which
repositories are allowed comes from the audit's scope, the run's typed data (see
``orchestra_audit.scope``). How many repositories are analysed at once is the framework's
business (the team's ``limits.max_concurrency``).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from langchain_core.tools import tool

from orchestra import RunData
from orchestra_audit.files import MAX_BYTES, Confined, is_skipped_dir, read_text, split_lines
from orchestra_audit.netsettings import RegistrySettings
from orchestra_audit.pool import audit_in_pool
from orchestra_audit.registry_audit import with_registry_checks
from orchestra_audit.scope import AuditScope, required
from orchestra_audit.secrets import detect, redact

MAX_LINES = 200
MAX_ENTRIES = 200


@tool(parse_docstring=True)
def audit_repository(repo: str, run: RunData[AuditScope | None]) -> str:
    """Audit one repository of this audit, read-only, and return its RepoAudit as JSON.

    Checks secrets in code, dependency specs (unpinned, unbounded, below the policy's
    minimums), pinned versions against the registries and OSV (outdated, yanked,
    deprecated, vulnerable; what could not be checked is listed) and missing tests; every
    secret value in the result is redacted.

    Args:
        repo: the repository's absolute path (or its name in this audit).
        run: the run's context, injected by orchestra (the model never sees it).
    """
    scope = required(run.deps)
    root, name = scope.root_for(repo)
    audit = audit_in_pool(root, name, scope.policy, scope.key, stop=run.stop)
    settings = RegistrySettings.from_env(offline=scope.offline)
    return with_registry_checks(audit, settings).model_dump_json()


def _listing(repo: Confined, folder: Path) -> str:
    lines = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name)[:MAX_ENTRIES]:
        path = Path(entry.path)
        if entry.is_symlink():
            try:
                repo.resolve(path)
            except PermissionError:
                lines.append(f"{entry.name} -> (points outside the repository: refused)")
                continue
            lines.append(f"{entry.name} -> (symlink inside the repository)")
        elif entry.is_dir():
            skipped = " (not audited)" if is_skipped_dir(folder, entry.name) else ""
            lines.append(f"{entry.name}/{skipped}")
        else:
            lines.append(f"{entry.name} ({entry.stat().st_size} bytes)")
    where = repo.relative(folder) if folder != repo.root else "."
    return f"{where}/\n" + ("\n".join(lines) or "(empty)")


@tool(parse_docstring=True)
def browse_repository(
    repo: str, run: RunData[AuditScope | None], path: str = ".", start_line: int = 1
) -> str:
    """List a folder or read a text file of a repository of this audit.

    Files come as numbered lines, at most 200 from start_line. Paths are relative to the
    repository; nothing outside it can be read, and secret values are redacted.

    Args:
        repo: the repository's absolute path (or its name in this audit).
        run: the run's context, injected by orchestra (the model never sees it).
        path: a folder or file inside the repository ('.' for its root).
        start_line: the first line to show of a file.
    """
    scope = required(run.deps)
    root, _ = scope.root_for(repo)
    confined = Confined(root)
    target = confined.resolve(path)
    # What the audit leaves out is not read either: .git/ holds commit messages and
    # config with remotes' credentials, none of it the repository's code.
    parts = PurePosixPath(confined.relative(target)).parts
    for depth, name in enumerate(parts):
        if is_skipped_dir(confined.root.joinpath(*parts[:depth]), name):
            return f"{path}: not audited (inside {'/'.join(parts[: depth + 1])}/), not read"
    if target.is_dir():
        return _listing(confined, target)
    text = read_text(target)
    if text is None:
        return f"{path}: skipped (binary, not a regular file, or over {MAX_BYTES} bytes)"
    found = detect(target, scope.key, text)
    if any(s.type == "Private Key" for s in found):
        # The detector flags the BEGIN line; the key itself is the lines after it.
        return f"{confined.relative(target)}: holds a private key; its content is withheld"
    values = [s.value for s in found]
    lines = split_lines(text)
    first = max(start_line, 1)
    shown = lines[first - 1 : first - 1 + MAX_LINES]
    body = "\n".join(f"{n:>5} | {redact(line, values)}" for n, line in enumerate(shown, first))
    more = len(lines) - (first - 1 + len(shown))
    tail = f"\n... {more} more line(s); call again with start_line" if more > 0 else ""
    return f"{confined.relative(target)} ({len(lines)} lines)\n{body}{tail}"

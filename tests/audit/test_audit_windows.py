"""The audit over the wire within a model's window: the same findings as offline.

Also a repository whose findings alone are past gpt-4o-mini's window: the auditor's
tool result is its output (``output_from_tools``), and the synthesizer sees it shortened.

The stand-in enforces gpt-4o-mini's published limits; the role claims a smaller window
(as a user may, for a local model), so that 25 small repositories already need the
synthesizer's prompt shortened: its digest compacted and its results cut or reduced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import state_dir  # noqa: F401 (fixture)
from context_limits import PUBLISHED
from openai_server import openai_server

from orchestra.graphs.run_result import RunResult
from orchestra.graphs.runner import open_checkpointer
from orchestra.state import ModelSettings
from orchestra_audit.policy import load_policy
from orchestra_audit.samples import POLICY, fake
from orchestra_audit.samples_bulk import generate_bulk
from orchestra_audit.team import AuditJob, discover, repo_names, run_audit


def _audit(folder: Path, model: Any, thread: str) -> RunResult:
    roots = discover([str(folder)])
    job = AuditJob(
        roots=roots,
        names=repo_names(roots),
        policy=load_policy(folder / "policy.toml"),
        policy_given=True,
    )
    with open_checkpointer(":memory:") as saver:
        return run_audit(job, saver=saver, thread_id=thread, model=model)


def findings(result: RunResult) -> list[dict[str, Any]]:
    found = result.values["digest"]["findings"]
    return [{k: v for k, v in f.items() if k != "subject"} for f in found]


@pytest.mark.parametrize("window", [6_000, 12_000, 40_000])
def test_an_audit_in_a_small_window_keeps_every_finding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, window: int
) -> None:
    folder = tmp_path / "bulk"
    generate_bulk(folder, repos=25, files=2)
    offline = _audit(folder, "offline", "offline")
    assert offline.status == "completed", offline.reason
    small = ModelSettings(model="openai:gpt-4o-mini", context_window=window)
    with openai_server(limits=PUBLISHED) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        wired = _audit(folder, small, "wired")
    assert wired.status == "completed", wired.reason
    assert server.refused == []
    # Every finding, unchanged (a secret's subject is keyed per run, so it is left out).
    assert findings(wired) == findings(offline) and len(findings(offline)) > 50
    notes = " ".join(wired.values["notes"])
    assert "the digest was shortened" in notes
    for key, entry in wired.values["ledger"].items():
        assert entry.get("prompt_tokens", 0) <= window, key
    assert sorted(wired.values["citations"]) == sorted(offline.values["citations"])
    # The smallest window needs a map-reduce, the largest only shortening (the task, which
    # lists every repository's path, decides where between them the line falls).
    if window in (6_000, 40_000):
        assert bool(wired.values.get("partials")) is (window == 6_000)


def test_a_repository_whose_findings_alone_exceed_100k_tokens_keeps_them_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """1,400 planted keys: about 430k characters of findings, past gpt-4o-mini's window."""
    folder = tmp_path / "loud"
    root = folder / "loud"
    (root / "pkg").mkdir(parents=True)
    (folder / "policy.toml").write_text(POLICY)
    (root / "requirements.txt").write_text("requests==2.19.0\nflask\n")
    (root / "pkg" / "__init__.py").write_text("")
    for f in range(140):
        keys = [f'KEY_{k} = "AKIA{fake(f"loud-{f}-{k}", 16).upper()}"' for k in range(10)]
        (root / "pkg" / f"settings_{f}.py").write_text("\n".join(keys) + "\n")
    offline = _audit(folder, "offline", "offline")
    found = findings(offline)
    assert len(found) > 1_400 and len(json.dumps(found)) // 4 > 100_000  # ~4 chars a token
    with openai_server(limits=PUBLISHED) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        wired = _audit(folder, "openai:gpt-4o-mini", "wired")
    assert wired.status == "completed", wired.reason
    assert server.refused == [] and len(server.requests) == 2  # the auditor, the synthesis
    assert findings(wired) == found
    notes = " ".join(wired.values["notes"])
    assert "output_from_tools" in notes  # the auditor's model did not copy 400k characters
    assert "the digest was shortened" in notes and "results shortened" in notes
    largest = wired.largest_prompt
    assert largest is not None and largest["prompt_tokens"] + 16_384 <= 128_000

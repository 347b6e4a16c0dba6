"""Secrets in code, found by detect-secrets (Yelp's kept detector) and redacted at the source.

detect-secrets' detectors run through ``orchestra_audit.engine`` (the same findings as
its ``scan_file``, on the lines they could match). The secret values exist only in memory
here: what leaves this module is a ``Finding`` whose evidence has every detected value
replaced by ``MASK``, and a fingerprint (a keyed hash) that lets the digest notice one
secret in several repositories without ever carrying the value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from orchestra_audit.baseline import BASELINE, Baseline
from orchestra_audit.engine import plugins, scan, scan_files
from orchestra_audit.files import FileText, read_text, split_lines
from orchestra_audit.findings import SEVERITIES, Finding, Severity
from orchestra_audit.layout import is_test_path

MASK = "[REDACTED]"

_EVIDENCE_CHARS = 160

# Provider-issued credentials: a match is almost surely a live key.
_CRITICAL = frozenset(
    {
        "AWS Access Key",
        "Artifactory Credentials",
        "Azure Storage Account access key",
        "Cloudant Credentials",
        "Discord Bot Token",
        "GitHub Token",
        "GitLab Token",
        "IBM Cloud IAM Key",
        "IBM COS HMAC Credentials",
        "Mailchimp Access Key",
        "NPM tokens",
        "OpenAI Token",
        "Private Key",
        "PyPI Token",
        "SendGrid API Key",
        "Slack Token",
        "SoftLayer Credentials",
        "Square OAuth Secret",
        "Stripe Access Key",
        "Telegram Bot Token",
        "Twilio API Key",
    }
)
# Not a credential, but infrastructure that should not be hard-coded either.
_LOW = frozenset({"Public IP (ipv4)"})

_patterns: dict[str, list[Any]] | None = None


@dataclass(frozen=True)
class Secret:
    """One detected secret. ``value`` stays in memory: only ``fingerprint`` is ever written."""

    type: str
    line: int
    value: str
    fingerprint: str
    reported: str = ""
    """The value as detect-secrets reported it (its baseline hashes this one)."""


def fingerprint(value: str, key: bytes) -> str:
    """A short keyed hash of a secret, equal for equal values within one audit.

    Keyed, because a plain hash of a weak password could be reversed by dictionary.
    """
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def _secrets(hits: list[Any], text: str, key: bytes) -> list[Secret]:
    """detect-secrets' findings in one file as ``Secret``s: whole values, one per place."""
    found: dict[tuple[int, str], Secret] = {}
    lines: list[str] | None = None
    for hit in hits:
        value = hit.secret_value or ""
        if not value:
            continue
        if lines is None:
            lines = split_lines(text)
        if 0 < hit.line_number <= len(lines):
            value = whole_match(hit.type, lines[hit.line_number - 1], value)
        reported = hit.secret_value or ""
        secret = Secret(hit.type, hit.line_number, value, fingerprint(value, key), reported)
        found.setdefault((hit.line_number, value), secret)
    return sorted(found.values(), key=lambda s: (s.line, s.type))


def detect(real: Path, key: bytes, text: str | None = None) -> list[Secret]:
    """The secrets detect-secrets finds in one (already confined) file, in line order.

    ``text``: the file as the audit decoded it (``orchestra_audit.files.read_text``); a
    file that is not UTF-8 is scanned in that decoding, so a Latin-1 file is not skipped.
    """
    if text is None:
        text = read_text(real) or ""
    return _secrets(scan(str(real), text), text, key)


def detect_files(files: Sequence[FileText], key: bytes) -> list[list[Secret]]:
    """``detect`` for many files at once (much faster than one by one: see the engine)."""
    hits = scan_files([(str(file.real), file.text) for file in files])
    return [_secrets(found, file.text, key) for found, file in zip(hits, files, strict=True)]


def _denylists() -> dict[str, list[Any]]:
    """Each regex detector's patterns, by the secret type it reports."""
    global _patterns
    if _patterns is None:
        _patterns = {
            plugin.secret_type: list(plugin.denylist)
            for plugin in plugins()
            if isinstance(getattr(plugin, "denylist", None), list | tuple)
        }
    return _patterns


def whole_match(kind: str, line: str, value: str) -> str:
    """The whole text a regex detector matched on ``line``, where it reported a part.

    detect-secrets' GitHub token detector reports ``ghp`` for ``ghp_<36 characters>`` (the
    first group of its pattern), so masking the reported value alone would leave the
    token's secret part in the evidence. The detector's own patterns are run over the
    line again, and the longest match starting with the value is the secret.

    Example:
        >>> whole_match("GitHub Token", 'T = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"', "ghp")
        'ghp_abcdefghijklmnopqrstuvwxyz0123456789'
        >>> whole_match("Secret Keyword", 'secret_key = "secret"', "secret")
        'secret'
    """
    best = value
    for pattern in _denylists().get(kind, []):
        for match in pattern.finditer(line):
            # Only a value the match starts with is a part: in a URL's credentials the
            # value is the password, and the match around it (``://user:...@``) is not secret.
            if match.group(0).startswith(value) and len(match.group(0)) > len(best):
                best = match.group(0)
    return best


_PARTIAL = 4
"""The shortest start of a secret masked where a cut text ends with it."""


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each value replaced by ``MASK`` (longest first).

    Evidence is cut to a length, so it may end in the middle of a value: a start of a
    value (``_PARTIAL`` characters or more) at the very end is masked too.

    Example:
        >>> redact('key = "abc123xyz" and "abc1', ["abc123xyz"])
        'key = "[REDACTED]" and "[REDACTED]'
    """
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
        for size in range(len(value) - 1, _PARTIAL - 1, -1):
            if text.endswith(value[:size]):
                text = text[:-size] + MASK
                break
    return text


def _severity(kind: str, in_test: bool) -> Severity:
    if kind in _LOW:
        return "low"
    if kind in _CRITICAL:
        return "critical"
    # Keyword and entropy matches in test code are mostly fixtures; still worth a look.
    return "medium" if in_test else "high"


_EXAMPLE_KEYS = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)
"""Keys published in providers' documentation as examples: never live credentials."""

_LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
    }
)
_ENTROPY = frozenset({"Base64 High Entropy String", "Hex High Entropy String"})
_DIGEST = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
"""A commit id (SHA-1) or a content hash (SHA-256) in hex."""
_DIGEST_WORDS = re.compile(r"commit|rev|sha|hash|checksum|digest|integrity|etag", re.I)


def not_a_credential(group: list[Secret], path: str, line: str = "") -> str | None:
    """Why the secrets found on one ``line`` are known not to be credentials, if they are.

    A hex digest counts as a commit id or hash only where the line says so (``commit``,
    ``rev``, ``sha``, ``hash``...): 40 hex digits are also what old GitHub tokens were.

    Example:
        >>> not_a_credential([Secret("AWS Access Key", 1, "AKIAIOSFODNN7EXAMPLE", "f")], "a.py")
        "a published example key (the provider's documentation)"
    """
    if all(s.value in _EXAMPLE_KEYS for s in group):
        return "a published example key (the provider's documentation)"
    if not all(s.type in _ENTROPY for s in group):
        return None
    if PurePosixPath(path).name in _LOCKFILES:
        return "a lockfile's integrity hash"
    digests = all(_DIGEST.fullmatch(s.value) for s in group)
    if digests and _DIGEST_WORDS.search(line):
        return "a commit id or content hash (hex digest)"
    return None


def _rule(kind: str) -> str:
    return "secret." + "-".join(kind.lower().replace("(", "").replace(")", "").split())


def secret_findings(
    repo: str, file: FileText, secrets: list[Secret], baseline: Baseline | None = None
) -> list[Finding]:
    """One finding per line holding secrets; evidence is the line with every value masked.

    Detectors overlap (a GitHub token is also a high-entropy string): one line is one
    finding, named after its most specific match, with the other matches listed.
    """
    lines = file.lines
    values = [s.value for s in secrets]
    in_test = is_test_path(file.path)
    by_line: dict[int, list[Secret]] = {}
    for secret in secrets:
        by_line.setdefault(secret.line, []).append(secret)
    findings = []
    for line, group in sorted(by_line.items()):
        ranked = sorted(group, key=lambda s: SEVERITIES.index(_severity(s.type, in_test)))
        main = ranked[0]
        also = sorted({s.type for s in ranked} - {main.type})
        known = 0 < line <= len(lines)
        evidence = redact(lines[line - 1].strip(), values) if known else ""
        where = "test code" if in_test else "code"
        extra = f" Also matched by: {', '.join(also)}." if also else ""
        benign = not_a_credential(group, file.path, lines[line - 1] if known else "")
        message = (
            f"{main.type} in {where}: remove it from the repository, rotate it, and "
            f"load it from the environment or a secret store.{extra}"
        )
        if benign is not None:  # kept, so it can be checked, but not ranked as a secret
            message = f"{main.type} in {where}, but it is {benign}: not a credential.{extra}"
        elif baseline is not None and all(
            baseline.lists(file.path, s.reported or s.value) for s in group
        ):
            benign = BASELINE
            message = (
                f"{main.type} in {where}, listed in the repository's {BASELINE}: a secret "
                f"its owners already know of, not a new leak.{extra}"
            )
        findings.append(
            Finding(
                repo=repo,
                kind="secret",
                severity="info" if benign is not None else _severity(main.type, in_test),
                file=file.path,
                line=line if known else 0,
                message=message,
                evidence=evidence[:_EVIDENCE_CHARS],
                rule=_rule(main.type),
                subject=f"secret:{main.fingerprint}",
            )
        )
    return findings

"""Secrets in code, found by detect-secrets (Yelp's kept detector) and redacted at the source.

detect-secrets holds its plugin choice in process-wide settings; they are set once, under
a lock, and never changed afterwards, so parallel workers (threads) scan with the same,
stable configuration. The secret values exist only in memory here: what leaves this module
is a ``Finding`` whose evidence has every detected value replaced by ``MASK``, and a
fingerprint (a keyed hash) that lets the digest notice one secret in several repositories
without ever carrying the value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestra_audit.files import FileText
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

_lock = threading.Lock()
_scan: Any = None


class _DropBelowWarning(logging.Filter):
    """detect-secrets logs skipped secrets *with their value* at INFO; never let those out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _scanner() -> Any:
    """detect-secrets' ``scan_file``, with every built-in plugin enabled (configured once)."""
    global _scan
    with _lock:
        if _scan is None:
            # Importing detect-secrets turns on logging.captureWarnings for the whole
            # process; put the warnings hook back so importing an audit changes nothing else.
            hook = warnings.showwarning
            from detect_secrets.core import scan
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.settings import get_plugins, get_settings

            warnings.showwarning = hook
            logging.getLogger("detect-secrets").addFilter(_DropBelowWarning())
            plugins: list[type[Any]] = list(get_mapping_from_secret_type_to_class().values())
            get_settings().configure_plugins([{"name": p.__name__} for p in plugins])
            get_plugins()  # build the cached plugin objects now, not racing in threads
            _scan = scan.scan_file
        return _scan


@dataclass(frozen=True)
class Secret:
    """One detected secret. ``value`` stays in memory: only ``fingerprint`` is ever written."""

    type: str
    line: int
    value: str
    fingerprint: str


def fingerprint(value: str, key: bytes) -> str:
    """A short keyed hash of a secret, equal for equal values within one audit.

    Keyed, because a plain hash of a weak password could be reversed by dictionary.
    """
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def detect(real: Path, key: bytes) -> list[Secret]:
    """The secrets detect-secrets finds in one (already confined) file, in line order."""
    found: dict[tuple[int, str], Secret] = {}
    for hit in _scanner()(str(real)):
        value = hit.secret_value or ""
        if not value:
            continue
        secret = Secret(hit.type, hit.line_number, value, fingerprint(value, key))
        found.setdefault((hit.line_number, value), secret)
    return sorted(found.values(), key=lambda s: (s.line, s.type))


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each value replaced by ``MASK`` (longest first)."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def _severity(kind: str, in_test: bool) -> Severity:
    if kind in _LOW:
        return "low"
    if kind in _CRITICAL:
        return "critical"
    # Keyword and entropy matches in test code are mostly fixtures; still worth a look.
    return "medium" if in_test else "high"


def _rule(kind: str) -> str:
    return "secret." + "-".join(kind.lower().replace("(", "").replace(")", "").split())


def secret_findings(repo: str, file: FileText, secrets: list[Secret]) -> list[Finding]:
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
        findings.append(
            Finding(
                repo=repo,
                kind="secret",
                severity=_severity(main.type, in_test),
                file=file.path,
                line=line if known else 0,
                message=(
                    f"{main.type} in {where}: remove it from the repository, rotate it, and "
                    f"load it from the environment or a secret store.{extra}"
                ),
                evidence=evidence[:_EVIDENCE_CHARS],
                rule=_rule(main.type),
                subject=f"secret:{main.fingerprint}",
            )
        )
    return findings

"""The lines of a file that detect-secrets' detectors could report, found without running them.

detect-secrets runs every detector, and its filters, on every line, through a Python call
per line and per plugin: about 0.3 MB/s. Almost no line holds anything a detector reports,
and each detector needs something cheap to find before it can match at all — a literal
(``AKIA``, ``ghp_``, ``-----BEGIN``, a keyword such as ``password``) or, for the few
without one, a short regular expression with no look-around. A **gate** is that necessary
part of one detector: the text is searched once per gate in C (``str.find``, one
``re.finditer``), and only the lines a gate hits go on to the detector's own patterns and
then through detect-secrets' own line processing (``engine.scan_lines``). A gate may let
through lines the detector rejects; it must never stop a line the detector would report,
which is what the tests check against detect-secrets itself on planted and real files.

A detector without a gate here (a plugin added by a later detect-secrets) is never
skipped: all its lines go through, slowly but with the same findings.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

_KEYWORD_PARTS = ("key", "pwd", "pass", "token")
"""What every assignment-shaped detector (Cloudant, IBM, SoftLayer) needs in its keyword."""


@dataclass(frozen=True)
class Gate:
    """What one detector needs on a line before it can match there."""

    literals: tuple[str, ...] = ()
    """Substrings, matched as they are."""
    folded: tuple[str, ...] = ()
    """Substrings matched ignoring case (the detector's pattern is case-insensitive)."""
    patterns: tuple[str, ...] = ()
    """Regular expressions that match within one line, with no anchors or look-around, so
    a match on a line is a match in the whole text at the same place."""
    every_line: bool = False
    """No cheap necessary part is known: the detector sees every line."""


def _folded(text: str) -> str | None:
    """``text`` lowercased so that a keyword found in it is where ``re.IGNORECASE`` finds it.

    Offsets stay only when lowercasing keeps the length (``İ`` becomes two characters);
    ``ı`` and ``ſ``, which ``re.IGNORECASE`` takes for ``i`` and ``s``, are mapped to
    them. ``None`` when offsets would move: then the keywords are searched by regex.

    Example:
        >>> _folded("PaSſWORD"), _folded("İ")
        ('password', None)
    """
    low = text.lower()
    if len(low) != len(text):
        return None
    if not low.isascii():
        low = low.replace("\u0131", "i").replace("\u017f", "s")
    return low


def _entropy_gate(plugin: Any) -> Gate:
    """A quoted run of the detector's alphabet long enough to pass its entropy limit.

    Shannon entropy over n characters is at most log2(n), so a string reaches an entropy
    above the limit only when it has more than 2**limit characters.
    """
    shortest = math.floor(2**plugin.entropy_limit) + 1
    alphabet = re.escape(plugin.charset)
    return Gate(patterns=(rf"(['\"])[{alphabet}]{{{shortest},}}\1",))


def _keyword_gate() -> Gate:
    from detect_secrets.plugins.keyword import DENYLIST

    words: set[str] = set()
    for word in DENYLIST:
        # Every keyword is a word with at most one optional underscore (``api_?key``).
        head, sep, tail = word.partition("_?")
        words |= {head + tail, head + "_" + tail} if sep else {word}
    return Gate(folded=tuple(sorted(words)))


GATES: dict[str, Gate] = {
    "ArtifactoryDetector": Gate(literals=("AKC", "AP")),
    "AWSKeyDetector": Gate(literals=("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), folded=("aws",)),
    "AzureStorageKeyDetector": Gate(literals=("AccountKey=",)),
    "BasicAuthDetector": Gate(literals=("://",)),
    "CloudantDetector": Gate(folded=(*_KEYWORD_PARTS, "pw", "cloudant.com")),
    # A gate pattern starts with a literal where it can: re then skips to it quickly.
    "DiscordBotTokenDetector": Gate(patterns=(r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}",)),
    "GitHubTokenDetector": Gate(patterns=(r"gh[pousr]_",)),
    "GitLabTokenDetector": Gate(
        literals=("GR1348941",),
        patterns=(r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-",),
    ),
    "IbmCloudIamDetector": Gate(folded=_KEYWORD_PARTS),
    "IbmCosHmacDetector": Gate(folded=("secret",)),
    "IPPublicDetector": Gate(patterns=(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",)),
    "JwtTokenDetector": Gate(literals=("eyJ",)),
    "MailchimpDetector": Gate(literals=("-us",)),
    "NpmDetector": Gate(literals=("_authToken=",)),
    "OpenAIDetector": Gate(literals=("T3BlbkFJ",)),
    "PrivateKeyDetector": Gate(literals=("PRIVATE KEY", "PuTTY-User-Key-File-2")),
    "PypiTokenDetector": Gate(literals=("pypi-Ag",)),
    "SendGridDetector": Gate(literals=("SG.",)),
    "SlackDetector": Gate(folded=("xox", "hooks.slack.com")),
    "SoftlayerDetector": Gate(folded=(*_KEYWORD_PARTS, "softlayer.com")),
    "SquareOAuthDetector": Gate(literals=("sq0csp-",)),
    "StripeDetector": Gate(literals=("k_live_",)),
    "TelegramBotTokenDetector": Gate(patterns=(r":[0-9A-Za-z_-]{35}",)),
    "TwilioKeyDetector": Gate(literals=("AC", "SK")),
}
"""Each detect-secrets 1.5 detector's necessary parts, by plugin class."""


def gate_for(plugin: Any) -> Gate:
    """The gate of one detect-secrets plugin (every line, for a plugin not known here)."""
    name = type(plugin).__name__
    if name in GATES:
        return GATES[name]
    if name in ("Base64HighEntropyString", "HexHighEntropyString"):
        return _entropy_gate(plugin)
    if name == "KeywordDetector":
        return _keyword_gate()
    return Gate(every_line=True)


def could_match(plugin: Any, line: str) -> bool:
    """Whether the plugin's own patterns find anything on ``line`` (a necessary condition).

    Regex detectors and the entropy detectors report only what their patterns find; the
    keyword detector's patterns all contain its keyword list, which its gate matched.
    """
    denylist = getattr(plugin, "denylist", None)
    if isinstance(denylist, list | tuple):
        return any(pattern.search(line) for pattern in denylist)
    regex = getattr(plugin, "regex", None)
    if isinstance(regex, re.Pattern):
        return regex.search(line) is not None
    return True


Needle = tuple[str, str]
"""A gate's part: ``("literal", text)``, ``("folded", text)`` or ``("pattern", regex)``."""


def _needles(gate: Gate) -> Iterator[Needle]:
    yield from (("literal", text) for text in gate.literals)
    yield from (("folded", text) for text in gate.folded)
    yield from (("pattern", regex) for regex in gate.patterns)


def _subsumed(needles: dict[Needle, list[Any]]) -> dict[Needle, list[Any]]:
    """The needles without those that contain another: its plugins move to the shorter one.

    Wherever ``AccountKey=`` is, ``key`` (ignoring case) is too, on the same line: one
    search for ``key`` finds both, and each plugin still checks the line with its own
    patterns. Fewer needles, fewer passes over the text.

    Example:
        >>> sorted(_subsumed({("folded", "key"): [1], ("literal", "AccountKey="): [2]}).items())
        [(('folded', 'key'), [1, 2])]
    """
    kept: dict[Needle, list[Any]] = {}
    for (kind, text), owners in sorted(needles.items(), key=lambda item: len(item[0][1])):
        if kind != "pattern":
            for (other_kind, other), others in kept.items():
                inside = (
                    other in text
                    if other_kind == "literal" and kind == "literal"
                    else other_kind == "folded" and other in text.lower()
                )
                if inside:
                    others.extend(p for p in owners if p not in others)
                    break
            else:
                kept[(kind, text)] = list(owners)
            continue
        kept[(kind, text)] = list(owners)
    return kept


@dataclass(frozen=True)
class Gates:
    """The gates of a set of plugins, applied together to the lines of one file."""

    plugins: tuple[Any, ...]
    needles: dict[Needle, tuple[Any, ...]]
    """Each distinct needle and the plugins whose gate has it (searched once for all)."""
    everywhere: tuple[Any, ...]
    """Plugins with no gate: every line is theirs."""
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, plugins: Iterable[Any]) -> Gates:
        """The gates of ``plugins`` (detect-secrets' configured plugin objects)."""
        chosen = tuple(plugins)
        needles: dict[Needle, list[Any]] = {}
        everywhere = []
        for plugin in chosen:
            gate = gate_for(plugin)
            if gate.every_line:
                everywhere.append(plugin)
            for needle in _needles(gate):
                needles.setdefault(needle, []).append(plugin)
        needles = _subsumed(needles)
        patterns = {regex: re.compile(regex) for kind, regex in needles if kind == "pattern"}
        for kind, text in needles:
            if kind == "folded":  # for text where lowercasing would move offsets
                patterns[text] = re.compile(re.escape(text), re.IGNORECASE)
        return cls(chosen, {n: tuple(p) for n, p in needles.items()}, tuple(everywhere), patterns)

    def _finder(self, kind: str, needle: str, text: str, low: str | None) -> Callable[[int], int]:
        """A function giving the needle's first offset in ``text`` from an offset on, or -1."""
        if kind == "literal":
            return lambda at: text.find(needle, at)
        if kind == "folded" and low is not None:
            return lambda at: low.find(needle, at)
        pattern = self._patterns[needle]

        def search(at: int) -> int:
            match = pattern.search(text, at)
            return -1 if match is None else match.start()

        return search

    def candidates(self, stripped: list[str]) -> list[int]:
        """The 0-based indexes of the lines some plugin could report, in order.

        ``stripped``: the file's lines as the detectors see them (line endings and trailing
        whitespace removed, as detect-secrets does).

        Example:
            >>> from orchestra_audit.engine import plugins
            >>> Gates.of(plugins()).candidates(["x = 1", 'KEY = "AKIAIOSFODNN7EXAMPLE"', ""])
            [1]
        """
        if not stripped:
            return []
        if self.everywhere:
            return list(range(len(stripped)))
        text = "\n".join(stripped)
        low = _folded(text)
        # Where each line starts in ``text`` (one past the end last), made at the first hit.
        starts: list[int] = []
        found: set[int] = set()
        for (kind, needle), owners in self.needles.items():
            find = self._finder(kind, needle, text, low)
            at = find(0)
            while at >= 0:
                if not starts:
                    starts = list(accumulate(map((1).__add__, map(len, stripped)), initial=0))
                line = bisect_right(starts, at) - 1
                if line not in found and any(could_match(p, stripped[line]) for p in owners):
                    found.add(line)
                at = find(starts[line + 1])  # on to the next line: one hit per line is enough
        return sorted(found)

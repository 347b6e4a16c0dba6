"""detect-secrets' scan of one file, run on the lines its detectors could report.

``scan(filename, text)`` gives what ``detect_secrets.core.scan.scan_file`` gives for the
same file — the same passes (detect-secrets' file transformers first, its eager
transformers when those found nothing), the same line filters, detectors, secret and
context filters, the same line numbers — but each pass runs detect-secrets' per-line
processing only on the lines a gate (``orchestra_audit.prefilter``) lets through. It works
on text the audit has already read and decoded, so a file that is not UTF-8 (which
``scan_file`` skips as binary) is scanned in its decoding too.

detect-secrets holds its plugin choice in process-wide settings: they are set once, under a
lock, and never changed afterwards, so parallel scans use one stable configuration. These
are detect-secrets' internals (pinned in pyproject.toml); the tests compare the findings
with ``scan_file`` on planted and on real files.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import threading
import warnings
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any

from orchestra_audit.files import split_lines
from orchestra_audit.prefilter import Gates, could_match

_lock = threading.Lock()
_gates: Gates | None = None


class _DropBelowWarning(logging.Filter):
    """detect-secrets logs skipped secrets *with their value* at INFO; never let those out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _configure() -> Gates:
    """Every built-in detect-secrets plugin enabled (once per process), and their gates."""
    global _gates
    with _lock:
        if _gates is None:
            # Importing detect-secrets turns on logging.captureWarnings for the whole
            # process; put the warnings hook back so importing an audit changes nothing else.
            hook = warnings.showwarning
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.settings import get_plugins, get_settings

            warnings.showwarning = hook
            logging.getLogger("detect-secrets").addFilter(_DropBelowWarning())
            classes: list[type[Any]] = list(get_mapping_from_secret_type_to_class().values())
            get_settings().configure_plugins([{"name": c.__name__} for c in classes])
            # The plugin objects are built now, not racing in threads.
            _gates = Gates.of(get_plugins())
        return _gates


def plugins() -> tuple[Any, ...]:
    """detect-secrets' plugin objects, every built-in detector, configured once."""
    return _configure().plugins


def _readlines(text: str) -> list[str]:
    """``text`` split as ``open(name).readlines()`` splits a file (universal newlines)."""
    lines = [line + "\n" for line in split_lines(text)]
    if lines and not text.endswith(("\n", "\r")):
        lines[-1] = lines[-1][:-1]  # a last line without its newline keeps none
    return lines


_SECTION = re.compile(r"\[(?P<header>.+)\]")
"""configparser's section header (``ConfigParser.SECTCRE``)."""


def _cannot_be_ini(text: str, *, headed: bool) -> bool:
    """Whether configparser certainly refuses ``text``, so a config transformer gives nothing.

    detect-secrets tries its INI transformer on every file, and its eager one (with a
    ``[global]`` header added) on most, and each builds a ``ConfigParser``: most of its
    time on ordinary code. configparser (default settings) refuses a text whose first line
    that is not blank or a comment is not a section header (``headed=False``), or that
    has, with the header added, a line starting at column 0 that is neither a comment, a
    section header, nor an option (no ``=`` or ``:``). Anything else is parsed for real.
    """
    for line in text.split("\n"):
        value = line.strip()
        if not value or value[0] in "#;":
            continue
        if not headed:
            return _SECTION.match(value) is None
        if line[0].isspace() or _SECTION.match(value) or "=" in value or ":" in value:
            continue
        return True
    return not headed  # no section at all: the transformer refuses it too


def _transformed(filename: str, text: str, *, eager: bool) -> list[str] | None:
    """``get_transformed_file`` for ``text``, without building parsers bound to fail."""
    from detect_secrets.transformers import get_transformers
    from detect_secrets.transformers.config import (
        ConfigFileTransformer,
        EagerConfigFileTransformer,
    )
    from detect_secrets.transformers.exceptions import ParsingError

    handle: Any = io.StringIO(text)
    handle.name = filename  # transformers choose by the file's name
    transformer: Any
    for transformer in get_transformers():
        if transformer.is_eager != eager or not transformer.should_parse_file(filename):
            continue
        kind = type(transformer)
        if kind in (ConfigFileTransformer, EagerConfigFileTransformer) and _cannot_be_ini(
            text, headed=kind is EagerConfigFileTransformer
        ):
            continue  # get_transformed_file would catch its ParsingError and go on
        try:
            lines: list[str] = transformer.parse_file(handle)
            return lines
        except ParsingError:
            pass
        finally:
            handle.seek(0)
    return None


# detect-secrets calls each plugin and filter through ``call_function_with_arguments``,
# which inspects the callee on every call (most of its time on a candidate line). The
# same arguments are passed here with what it would compute, computed once.


@functools.cache
def _parameters(function: Any) -> frozenset[str]:
    from detect_secrets.util.inject import get_injectable_variables

    return frozenset(get_injectable_variables(function))


def _call(function: Any, **given: Any) -> Any:
    """``call_function_with_arguments``: ``function`` gets the arguments it names."""
    names = _parameters(getattr(function, "__func__", function))
    return function(**{key: value for key, value in given.items() if key in names})


@functools.cache
def _filters(*needed: str) -> tuple[Any, ...]:
    from detect_secrets.core.scan import get_filters_with_parameter

    return tuple(get_filters_with_parameter(*needed))


def _filtered(needed: tuple[str, ...], **given: Any) -> bool:
    """``_is_filtered_out(needed, **given)``: whether a filter drops what it is shown."""
    for check in _filters(*needed):
        try:
            if _call(check, **given):
                return True
        except TypeError:  # a filter that needs more than it is given: skipped, as there
            pass
    return False


def _file_filtered(filename: str) -> bool:
    """Whether detect-secrets' file filters skip the file (binary, lock file, swagger...)."""
    return _filtered(("filename",), filename=filename)


def _process(
    lines: list[str], stripped: list[str], candidates: list[int], filename: str, gates: Gates
) -> Iterator[Any]:
    """``_process_line_based_plugins`` over the ``candidates`` (0-based) of ``lines``.

    The same steps as there: line filters, then each plugin's ``analyze_line``, its secret
    filters (``_scan_line``) and the context filters; only plugins whose own patterns
    find nothing on the line are not called, as they would report nothing.
    """
    from detect_secrets.util.code_snippet import get_code_snippet

    for index in candidates:
        line, number = stripped[index], index + 1
        context = get_code_snippet(lines=lines, line_number=number)
        if _filtered(("line",), filename=filename, line=line, context=context):
            continue
        for plugin in gates.plugins:
            if not could_match(plugin, line):
                continue
            found = _call(
                plugin.analyze_line,
                filename=filename,
                line=line,
                line_number=number,
                context=context,
            )
            for secret in found or ():
                value = secret.secret_value
                if _filtered(
                    ("secret",), filename=secret.filename, secret=value, plugin=plugin, line=line
                ):
                    continue
                if not _filtered(
                    ("context",),
                    filename=secret.filename,
                    secret=value,
                    plugin=plugin,
                    line=line,
                    context=context,
                ):
                    yield secret


def _run(
    gates: Gates, names: list[str], passes: dict[int, list[str]], found: list[list[Any]]
) -> None:
    """One pass over many files: the ASCII ones are gated together, as one text.

    Searching each gate's needles once over all the files, instead of once per file,
    takes the per-call cost out of small files (most files are small). A file with other
    characters is gated alone: joined to the others it would make the whole text one of
    wider characters, which every search then reads two or four times slower.
    """
    stripped = {number: list(map(str.rstrip, lines)) for number, lines in passes.items()}
    plain = [n for n in passes if all(map(str.isascii, stripped[n]))]
    wide = set(passes) - set(plain)
    groups = [plain, *([n] for n in passes if n in wide)]
    for group in groups:
        every: list[str] = []
        bounds = [0]
        for number in group:
            every += stripped[number]
            bounds.append(len(every))
        chosen: dict[int, list[int]] = {}
        for index in gates.candidates(every):
            k = bisect_right(bounds, index) - 1
            chosen.setdefault(group[k], []).append(index - bounds[k])
        for number, lines in chosen.items():
            found[number] = list(
                _process(passes[number], stripped[number], lines, names[number], gates)
            )


def scan_files(files: Sequence[tuple[str, str]]) -> list[list[Any]]:
    r"""detect-secrets' findings (``PotentialSecret``) in each file: ``(path, text)`` pairs.

    ``path`` is the file's path: detect-secrets' file filters look at it (it must exist;
    its name picks the transformers and the keyword patterns). As ``scan_file`` does, a
    file's eager transformers are tried only when its first pass found nothing.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "settings.py"
        >>> text = 'AWS_KEY = "AKIAQWERTYUIOPASDFGH"\n'
        >>> _ = path.write_text(text)
        >>> [[(s.type, s.line_number) for s in f] for f in scan_files([(str(path), text)])]
        [[('AWS Access Key', 1)]]
    """
    gates = _configure()
    names = [name for name, _ in files]
    found: list[list[Any]] = [[] for _ in files]
    scanned = [n for n, name in enumerate(names) if not _file_filtered(name)]
    first = {n: _transformed(names[n], files[n][1], eager=False) for n in scanned}
    _run(gates, names, {n: lines or _readlines(files[n][1]) for n, lines in first.items()}, found)
    eager = {}
    for n in scanned:
        if not found[n] and (lines := _transformed(names[n], files[n][1], eager=True)):
            eager[n] = lines
    _run(gates, names, eager, found)
    return found


def scan(filename: str, text: str) -> list[Any]:
    """detect-secrets' findings in one file (``scan_files`` for one)."""
    return scan_files([(filename, text)])[0]

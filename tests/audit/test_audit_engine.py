"""The fast secrets engine gives detect-secrets' own findings: planted, tricky and real files.

The reference is ``detect_secrets.core.scan.scan_file`` with every plugin enabled (the
configuration the audit sets), run on the same files in the same process.
"""

from __future__ import annotations

import string
import sysconfig
from pathlib import Path

import pytest

from orchestra_audit import engine
from orchestra_audit.files import read_text
from orchestra_audit.prefilter import Gates, gate_for
from orchestra_audit.samples import fake

Found = set[tuple[str, int, str]]


def _reference(path: Path) -> Found:
    from detect_secrets.core.scan import scan_file

    engine.plugins()  # the audit's plugin configuration
    return {(s.type, s.line_number, s.secret_value or "") for s in scan_file(str(path))}


def _ours(paths: list[Path]) -> list[Found]:
    texts = [(str(p), read_text(p) or "") for p in paths]
    return [
        {(s.type, s.line_number, s.secret_value or "") for s in found}
        for found in engine.scan_files(texts)
    ]


def _token(seed: str, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return fake(seed, length, alphabet)


_HEX = "0123456789abcdef"
_UPPER = string.ascii_uppercase + string.digits

PLANTED: dict[str, str] = {
    "config.py": "\n".join(
        [
            '"""Settings."""',
            f'AWS_ACCESS_KEY_ID = "AKIA{_token("aws", 16, _UPPER)}"',
            f'aws_secret_access_key = "{_token("awss", 40)}"',
            f'GITHUB = "ghp_{_token("gh", 36)}"',
            f'GITLAB = "glpat-{_token("gl", 20)}"',
            f'SLACK = "xoxb-{_token("sl1", 11, string.digits)}-{_token("sl2", 24).lower()}"',
            f'STRIPE = "sk_live_{_token("st", 24)}"',
            f'OPENAI = "sk-{_token("oa1", 20)}T3BlbkFJ{_token("oa2", 20)}"',
            f'PYPI = "pypi-AgEIcHlwaS5vcmc{_token("pypi", 70)}"',
            f'SENDGRID = "SG.{_token("sg1", 22)}.{_token("sg2", 43)}"',
            f'SQUARE = "sq0csp-{_token("sq", 43)}"',
            f'TWILIO = "SK{_token("tw", 32, _HEX)}"',
            f'MAILCHIMP = "{_token("mc", 32, _HEX)}-us12"',
            f'TELEGRAM = "123456789:{_token("tg", 35)}"',
            f'DISCORD = "M{_token("dc1", 23)}.{_token("dc2", 6)}.{_token("dc3", 27)}"',
            'DB = "postgres://admin:Sup3rS3cretPw@db.example.com/app"',
            'password = "correct-horse-battery"',
            f'api_key = "{_token("api", 32)}"',
            f'token = "{_token("b64", 40)}"',
            f'digest = "{_token("hex", 40, _HEX)}"',
            'SERVER = "52.14.120.7"',
            "JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlc2lnbmF0dXJl'",
            f'AZURE = "AccountKey={_token("az", 88)}"',
            f'ARTIFACTORY = "AKC{_token("art", 20)}"',
            f'cloudant_password = "{_token("cl", 64, _HEX)}"',
            f'ibm_cloud_api_key = "{_token("ibm", 44)}"',
            f'softlayer_api_key = "{_token("slk", 64, string.ascii_lowercase + string.digits)}"',
            f'secret = "{_token("allow", 30)}"  # pragma: allowlist secret',
            "x = 1",
            "",
        ]
    ),
    "deploy/server.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n",
    ".npmrc": f"//registry.npmjs.org/:_authToken=npm_{_token('npm', 36)}\n",
    # YAML and INI files go through detect-secrets' transformers, which add quotes.
    "deploy/values.yaml": f"db:\n  password: {_token('yaml', 24)}\n  host: db\n",
    "setup.cfg": f"[auth]\nclient_secret = {_token('ini', 32)}\n",
    # No extension: the eager INI transformer reads it once the first pass found nothing.
    "env/production": f"TOKEN={_token('env', 40)}\nHOST=example.org\n",
    # Line ends that are not ``\n``, and a form feed (which splitlines would end a line at).
    "windows.py": f'a = 1\r\n\x0cb = 2\r\npassword = "{_token("crlf", 20)}"\r\n',
    "mac.py": f'a = 1\rpassword = "{_token("cr", 20)}"\r',
    # Case-insensitive keywords: re.IGNORECASE takes the long s for an s.
    "unicode.py": f'PAſSWORD = "{_token("longs", 20)}"\nnote = "İstanbul"\n',
    "wide.py": f'emoji = "🙂"\nsecret_value = "{_token("wide", 28)}"\n',
    "README.md": "Nothing here but prose about keys and passwords.\n",
    "package-lock.json": '{"integrity": "sha512-' + _token("lock", 86) + '=="}\n',
}


@pytest.fixture(name="planted")
def planted_files(tmp_path: Path) -> list[Path]:
    paths = []
    for rel, text in PLANTED.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def test_every_detector_has_a_gate_so_none_runs_on_every_line() -> None:
    missing = [type(p).__name__ for p in engine.plugins() if gate_for(p).every_line]
    assert missing == []
    assert len(engine.plugins()) >= 27


def test_planted_secrets_give_exactly_detect_secrets_findings(planted: list[Path]) -> None:
    ours = _ours(planted)
    for path, found in zip(planted, ours, strict=True):
        assert found == _reference(path), path.name
    everything = set().union(*ours)
    types = {kind for kind, _, _ in everything}
    # The fixture really exercises the detectors (a broken fixture would pass vacuously).
    assert len(types) >= 20, types
    by_file = dict(zip((p.name for p in planted), ours, strict=True))
    assert by_file["windows.py"] and by_file["mac.py"] and by_file["unicode.py"]
    assert {line for _, line, _ in by_file["windows.py"]} == {3}
    assert by_file["production"], "the eager transformer's pass was not run"


def test_one_file_alone_and_among_others_give_the_same_findings(planted: list[Path]) -> None:
    together = _ours(planted)
    alone = [_ours([path])[0] for path in planted]
    assert together == alone


def test_a_not_utf8_file_is_scanned_in_its_decoding(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    token = "ghp_" + _token("latin", 36)
    path.write_bytes(f'# caf\xe9\nGITHUB = "{token}"\n'.encode("latin-1"))
    assert _reference(path) == set()  # detect-secrets skips it as binary
    found = _ours([path])[0]
    assert ("GitHub Token", 2, "ghp") in found


def test_gates_let_through_only_lines_a_detector_could_match() -> None:
    gates = Gates.of(engine.plugins())
    lines = ["import os", "def f(x):", "    return x + 1", 'URL = "https://example.org"']
    assert gates.candidates(lines) == []
    lines.append('PASSWORD = "hunter22"')
    assert gates.candidates(lines) == [4]


def _real_files(budget: int) -> list[Path]:
    """Real text files of the installed dependencies, every one of some packages.

    They are real-world code, docs and data (detect-secrets' own plugins among them, full
    of token patterns), present wherever the tests run.
    """
    site = Path(sysconfig.get_paths()["purelib"])
    chosen: list[Path] = []
    size = 0
    for package in ("detect_secrets", "yaml", "httpx", "langsmith", "certifi", "idna"):
        for path in sorted((site / package).rglob("*")):
            if path.is_file() and path.suffix not in (".pyc", ".so") and size < budget:
                chosen.append(path)
                size += path.stat().st_size
    return chosen


def test_real_files_give_exactly_detect_secrets_findings() -> None:
    paths = _real_files(1_200_000)
    assert len(paths) > 100
    ours = _ours(paths)
    differing = [
        str(path) for path, found in zip(paths, ours, strict=True) if found != _reference(path)
    ]
    assert differing == []
    assert sum(len(found) for found in ours) > 20  # the corpus does hold detectable strings

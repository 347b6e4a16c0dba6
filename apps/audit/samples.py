"""The demo set: small repositories with planted problems, for ``orchestra audit`` to find.

``generate_samples(folder)`` writes five repositories (Python and JavaScript) and a
``policy.toml``, always byte for byte the same, and returns every planted problem with its
kind, file and line, so a test can check that the audit finds each one. The fake secrets
are assembled at run time from a hash, so this source file holds none for a scanner to flag.
``generate_bulk`` (in ``orchestra_audit.samples_bulk``) makes large synthetic sets for benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from pathlib import Path

from orchestra_audit.findings import FindingKind

POLICY = """\
# Minimum versions for the demo set: orchestra audit SAMPLES --policy SAMPLES/policy.toml
[minimum.pypi]
requests = "2.31.0"
pyyaml = "5.4"
flask = "2.3.2"

[minimum.npm]
lodash = "4.17.21"
express = "4.19.2"
"""


@dataclass(frozen=True)
class Planted:
    """A problem put into the demo set on purpose, and where."""

    repo: str
    kind: FindingKind
    rule: str
    file: str
    line: int


def fake(seed: str, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A deterministic random-looking token (never a real credential)."""
    out = ""
    counter = 0
    while len(out) < length:
        block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out += "".join(alphabet[b % len(alphabet)] for b in block)
        counter += 1
    return out[:length]


def _upper(seed: str, length: int) -> str:
    return fake(seed, length, string.ascii_uppercase + string.digits)


def _private_key(seed: str) -> str:
    body = [fake(f"{seed}{i}", 64, string.ascii_letters + string.digits + "+/") for i in range(6)]
    kind = "RSA PRIVATE KEY"
    return "\n".join([f"-----BEGIN {kind}-----", *body, f"-----END {kind}-----", ""])


def _functions(*names: str) -> str:
    return "\n".join(
        f'def {name}(value):\n    """{name.replace("_", " ")}."""\n    return value\n\n'
        for name in names
    )


def _repos() -> dict[str, dict[str, str]]:
    """Each demo repository's files, path -> text."""
    aws_id, aws_key = "AKIA" + _upper("aws-id", 16), fake("aws-secret", 40)
    stripe = "sk_" + "live_" + fake("stripe", 24)
    github = "ghp_" + fake("github", 36)
    password = fake("db-password", 18)
    analytics = "\n".join(f"def metric_{i}(rows):\n    return sum(rows) * {i}\n" for i in range(80))
    return {
        "payments-api": {
            "README.md": "# payments-api\nCharges and refunds.\n",
            "requirements.txt": (
                "# Runtime dependencies of the payments API\n"
                "flask==2.0.1\nrequests==2.19.0\nsqlalchemy\npyyaml>=5.1\nstripe==2.60.0\n"
            ),
            "payments/__init__.py": "",
            "payments/config.py": (
                '"""Settings."""\n\nREGION = "eu-west-1"\n\n'
                f'AWS_ACCESS_KEY_ID = "{aws_id}"\nAWS_SECRET_ACCESS_KEY = "{aws_key}"\n'
            ),
            "payments/charges.py": _functions("create_charge", "capture_charge"),
            "payments/refunds.py": _functions("refund_order", "partial_refund"),
            "tests/test_charges.py": (
                "from payments.charges import capture_charge, create_charge\n\n\n"
                "def test_charges():\n    assert create_charge(1) == capture_charge(1)\n"
            ),
        },
        "storefront": {
            "package.json": json.dumps(
                {
                    "name": "storefront",
                    "version": "1.0.0",
                    "dependencies": {"express": "*", "lodash": "4.17.4", "stripe": "^12.0.0"},
                },
                indent=2,
            )
            + "\n",
            ".env": f"PORT=8080\nSTRIPE_SECRET_KEY={stripe}\n",
            "src/server.js": "const express = require('express');\n"
            "function start(port) {\n  return express().listen(port);\n}\n"
            "module.exports = { start };\n",
            "src/cart.js": "function addItem(cart, item) {\n  return [...cart, item];\n}\n"
            "module.exports = { addItem };\n",
            "scripts/deploy.js": "// Deploys the storefront\n"
            f"const token = '{github}';\nmodule.exports = {{ token }};\n",
        },
        "inventory-service": {
            "pyproject.toml": (
                '[project]\nname = "inventory-service"\nversion = "0.3.0"\ndependencies = [\n'
                '    "requests==2.32.3",\n    "fastapi>=0.100,<1.0",\n    "pydantic>=2",\n]\n\n'
                '[dependency-groups]\ndev = ["pytest"]\n'
            ),
            "inventory/__init__.py": "",
            "inventory/stock.py": _functions("reserve_stock", "release_stock"),
            "inventory/pricing.py": _functions("unit_price", "bulk_discount"),
            "inventory/report.py": _functions("weekly_report"),
            "tests/test_stock.py": "from inventory.stock import reserve_stock\n\n\n"
            "def test_reserve():\n    assert reserve_stock(2) == 2\n",
            "tests/test_pricing.py": "from inventory import pricing\n\n\n"
            "def test_price():\n    assert pricing.unit_price(3) == 3\n",
            "deploy/server.pem": _private_key("inventory"),
        },
        "analytics-worker": {
            "requirements.txt": "numpy==1.21.0\npandas\nrequests==2.32.3\n",
            "worker/__init__.py": "",
            "worker/settings.py": f'DB_HOST = "db.internal"\nDB_PASSWORD = "{password}"\n',
            "worker/metrics.py": analytics,
            "tests/test_smoke.py": "import worker\n\n\ndef test_import():\n"
            "    assert worker is not None\n",
            "data/model.bin": "\0\1\2binary model weights\0",
        },
        "admin-dashboard": {
            "package.json": json.dumps(
                {
                    "name": "admin-dashboard",
                    "private": True,
                    "dependencies": {"lodash": "4.17.21", "react": "^18.2.0"},
                    "devDependencies": {"webpack": ">=5.0.0", "jest": "^29.7.0"},
                },
                indent=2,
            )
            + "\n",
            "src/api.js": "export function fetchUsers(client) {\n"
            "  return client.get('/users');\n}\n",
            "src/App.js": "export function App() {\n  return null;\n}\n",
            "src/__tests__/api.test.js": "import { fetchUsers } from '../api';\n\n"
            "test('users', () => {\n  expect(fetchUsers({ get: (p) => p })).toBe('/users');\n});\n",
        },
    }


# (repo, kind, rule, file, text on the planted line; "" for the whole file or repository)
_PLANTED: list[tuple[str, FindingKind, str, str, str]] = [
    ("payments-api", "secret", "secret.aws-access-key", "payments/config.py", "AWS_ACCESS_KEY_ID"),
    ("payments-api", "secret", "secret.aws-access-key", "payments/config.py", "AWS_SECRET"),
    ("payments-api", "dependency", "dependency.below-minimum", "requirements.txt", "flask=="),
    ("payments-api", "dependency", "dependency.below-minimum", "requirements.txt", "requests=="),
    ("payments-api", "dependency", "dependency.unpinned", "requirements.txt", "sqlalchemy"),
    ("payments-api", "dependency", "dependency.unbounded", "requirements.txt", "pyyaml"),
    ("payments-api", "tests", "tests.untested-module", "payments/refunds.py", "def refund_order"),
    ("storefront", "secret", "secret.stripe-access-key", ".env", "STRIPE_SECRET_KEY"),
    ("storefront", "secret", "secret.github-token", "scripts/deploy.js", "const token"),
    ("storefront", "dependency", "dependency.unpinned", "package.json", '"express"'),
    ("storefront", "dependency", "dependency.below-minimum", "package.json", '"lodash"'),
    ("storefront", "tests", "tests.none", "", ""),
    ("inventory-service", "secret", "secret.private-key", "deploy/server.pem", "BEGIN"),
    ("inventory-service", "dependency", "dependency.unpinned", "pyproject.toml", "pytest"),
    ("inventory-service", "tests", "tests.untested-module", "inventory/report.py", "def weekly"),
    ("analytics-worker", "secret", "secret.secret-keyword", "worker/settings.py", "DB_PASSWORD"),
    ("analytics-worker", "dependency", "dependency.unpinned", "requirements.txt", "pandas"),
    ("analytics-worker", "tests", "tests.low-ratio", "", ""),
    ("analytics-worker", "tests", "tests.untested-module", "worker/metrics.py", "def metric_0"),
    ("admin-dashboard", "dependency", "dependency.unbounded", "package.json", '"webpack"'),
    ("admin-dashboard", "tests", "tests.untested-module", "src/App.js", "export function App"),
]


def generate_samples(folder: str | Path) -> list[Planted]:
    """Write the demo set into ``folder`` (created if needed); return the planted problems."""
    base = Path(folder)
    repos = _repos()
    for repo, files in repos.items():
        for rel, text in files.items():
            path = base / repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
    (base / "policy.toml").write_text(POLICY, encoding="utf-8")
    planted = []
    for repo, kind, rule, rel, needle in _PLANTED:
        line = 0
        if needle:
            lines = repos[repo][rel].splitlines()
            line = next(i for i, text in enumerate(lines, 1) if needle in text)
        planted.append(Planted(repo, kind, rule, rel, line))
    return planted

"""Loopback stand-ins for PyPI's JSON API, the npm registry and OSV, shaped as they publish.

One server answers all three under their own prefixes (``/pypi/{name}/json``,
``/npm/{name}``, ``/osv/v1/...``) and records every request, so a test can say what was
asked (and that a cached run asked nothing). It also serves as a forward proxy: a request
line carrying an absolute URL (``GET http://pypi.invalid/pypi/...``) is answered alike and
recorded with its host.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from loopback import LoopbackServer, serving

ABBREVIATED = "application/vnd.npm.install-v1+json"


def _file(name: str, version: str, *, yanked: str | None = None) -> dict[str, Any]:
    """One release file as PyPI's JSON API lists it."""
    return {
        "comment_text": "",
        "digests": {"blake2b_256": "0" * 64, "md5": "0" * 32, "sha256": "1" * 64},
        "downloads": -1,
        "filename": f"{name}-{version}-py3-none-any.whl",
        "has_sig": False,
        "md5_digest": "0" * 32,
        "packagetype": "bdist_wheel",
        "python_version": "py3",
        "requires_python": ">=3.8",
        "size": 64928,
        "upload_time": "2024-05-20T18:32:12",
        "upload_time_iso_8601": "2024-05-20T18:32:12.123456Z",
        "url": f"https://files.pythonhosted.org/packages/{name}-{version}-py3-none-any.whl",
        "yanked": yanked is not None,
        "yanked_reason": yanked,
    }


def pypi_project(name: str, latest: str, versions: dict[str, str | None]) -> dict[str, Any]:
    """``GET /pypi/{name}/json``: ``versions`` maps each release to its yank reason (or None)."""
    releases = {
        v: [_file(name, v, yanked=why), _file(name, v, yanked=why)] for v, why in versions.items()
    }
    return {
        "info": {
            "author": "",
            "classifiers": ["Programming Language :: Python :: 3"],
            "home_page": "",
            "license": "Apache-2.0",
            "name": name,
            "package_url": f"https://pypi.org/project/{name}/",
            "project_url": f"https://pypi.org/project/{name}/",
            "release_url": f"https://pypi.org/project/{name}/{latest}/",
            "requires_dist": None,
            "requires_python": ">=3.8",
            "summary": f"{name} for tests",
            "version": latest,
            "yanked": False,
            "yanked_reason": None,
        },
        "last_serial": 24000000,
        "releases": releases,
        "urls": releases[latest],
        "vulnerabilities": [],
    }


def npm_package(name: str, latest: str, deprecated: dict[str, str | None]) -> dict[str, Any]:
    """The full document of ``GET /{name}``: ``deprecated`` maps each version to its message."""
    versions = {}
    for version, message in deprecated.items():
        manifest: dict[str, Any] = {
            "name": name,
            "version": version,
            "description": f"{name} for tests",
            "main": "index.js",
            "license": "MIT",
            "dependencies": {},
            "_id": f"{name}@{version}",
            "dist": {
                "shasum": "0" * 40,
                "tarball": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz",
                "integrity": "sha512-" + "A" * 86 + "==",
            },
        }
        if message is not None:
            manifest["deprecated"] = message
        versions[version] = manifest
    return {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": latest},
        "versions": versions,
        "time": {"modified": "2024-02-20T10:00:00.000Z", "created": "2012-04-23T16:37:11.912Z"},
        "readme": "...",
        "license": "MIT",
    }


def abbreviated(full: dict[str, Any]) -> dict[str, Any]:
    """The abbreviated document npm serves for ``Accept: application/vnd.npm.install-v1+json``."""
    keep = ("name", "version", "dependencies", "dist", "deprecated", "engines", "bin")
    return {
        "name": full["name"],
        "modified": full["time"]["modified"],
        "dist-tags": full["dist-tags"],
        "versions": {v: {k: m[k] for k in keep if k in m} for v, m in full["versions"].items()},
    }


def advisory(
    vuln_id: str,
    ecosystem: str,
    name: str,
    fixed: str,
    *,
    aliases: list[str],
    severity: str | None = None,
    introduced: str = "0",
) -> dict[str, Any]:
    """``GET /v1/vulns/{id}``: an OSV record with one ECOSYSTEM/SEMVER range."""
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": vuln_id,
        "modified": "2024-06-10T19:42:07.123Z",
        "published": "2018-10-29T19:05:34Z",
        "aliases": aliases,
        "summary": f"{name}: advisory {vuln_id}",
        "details": "Details of the advisory.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {
                    "ecosystem": ecosystem,
                    "name": name,
                    "purl": f"pkg:{ecosystem.lower()}/{name}",
                },
                "ranges": [
                    {
                        "type": "ECOSYSTEM" if ecosystem == "PyPI" else "SEMVER",
                        "events": [{"introduced": introduced}, {"fixed": fixed}],
                    }
                ],
            }
        ],
        "references": [{"type": "ADVISORY", "url": f"https://nvd.nist.gov/vuln/detail/{vuln_id}"}],
    }
    if severity is not None:
        record["database_specific"] = {"severity": severity, "github_reviewed": True}
    return record


@dataclass
class Seen:
    """One request the stand-in answered."""

    method: str
    host: str
    raw_path: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Registries:
    """What the stand-in serves, and what it was asked."""

    pypi: dict[str, dict[str, Any]] = field(default_factory=dict)
    npm: dict[str, dict[str, Any]] = field(default_factory=dict)
    vulns: dict[str, dict[str, Any]] = field(default_factory=dict)
    affects: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(OSV ecosystem, name, version) -> advisory ids."""
    status: dict[str, int] = field(default_factory=dict)
    """Path prefix -> an HTTP error status to answer instead (e.g. 503)."""
    page_size: int = 0
    """When set, querybatch gives this many advisories per result and a next_page_token."""
    delay: float = 0.0
    """Seconds to wait before answering (a slow registry)."""
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def asked(self, prefix: str = "") -> list[Seen]:
        """The requests whose path starts with ``prefix``."""
        with self.lock:
            return [s for s in self.seen if s.path.startswith(prefix)]

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, str, Any]:
        """(status, content type, document) for one request."""
        for prefix, status in self.status.items():
            if path.startswith(prefix):
                return status, "application/json", {"message": f"stand-in status {status}"}
        if method == "GET" and path.startswith("/pypi/") and path.endswith("/json"):
            doc = self.pypi.get(path[len("/pypi/") : -len("/json")])
            return (
                (200, "application/json", doc)
                if doc
                else (404, "application/json", {"message": "Not Found"})
            )
        if method == "GET" and path.startswith("/npm/"):
            doc = self.npm.get(path[len("/npm/") :])
            if doc is None:
                return 404, "application/json", {"error": "Not found"}
            if ABBREVIATED in headers.get("accept", ""):
                return 200, ABBREVIATED, abbreviated(doc)
            return 200, "application/json", doc
        if method == "POST" and path == "/osv/v1/querybatch":
            return 200, "application/json", {"results": [self._result(q) for q in body["queries"]]}
        if method == "GET" and path.startswith("/osv/v1/vulns/"):
            doc = self.vulns.get(path[len("/osv/v1/vulns/") :])
            return (
                (200, "application/json", doc)
                if doc
                else (404, "application/json", {"code": 5, "message": "Bug not found."})
            )
        return 404, "application/json", {"message": "no such endpoint"}

    def _result(self, query: dict[str, Any]) -> dict[str, Any]:
        package = query["package"]
        ids = self.affects.get((package["ecosystem"], package["name"], query["version"]), [])
        if not ids:
            return {}  # OSV's answer for a version with no known advisory
        start = int(query.get("page_token") or 0)
        end = start + self.page_size if self.page_size else len(ids)
        result: dict[str, Any] = {
            "vulns": [{"id": i, "modified": self.vulns[i]["modified"]} for i in ids[start:end]]
        }
        if end < len(ids):
            result["next_page_token"] = str(end)
        return result


def _handler(data: Registries) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)  # an absolute URL when asked as a proxy
            raw_path = parts.path
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            host = parts.netloc or headers.get("host", "")
            path = unquote(raw_path)
            with data.lock:
                data.seen.append(Seen(method, host, raw_path, path, headers, body))
            time.sleep(data.delay)
            status, content_type, doc = data.answer(method, path, headers, body)
            payload = json.dumps(doc).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up waiting (the timeout tests): nothing to answer

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def stand_in(data: Registries) -> Iterator[str]:
    """Serve ``data`` on loopback; yields the server's base URL."""
    with serving(LoopbackServer(_handler(data))) as server:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"


def world() -> Registries:
    """The packages the tests audit, as the registries and OSV describe them."""
    deprecated_request = (
        "request has been deprecated, see https://github.com/request/request/issues/3142"
    )
    core_js = "core-js@<3.23.3 is no longer maintained and not recommended for usage"
    data = Registries(
        pypi={
            "requests": pypi_project(
                "requests",
                "2.32.3",
                {
                    "2.19.0": None,
                    "2.31.0": None,
                    "2.32.0": "Yanked due to conflicts with CVE-2024-35195 mitigation",
                    "2.32.3": None,
                },
            ),
            "flask": pypi_project("flask", "3.0.3", {"2.0.1": None, "3.0.3": None}),
            "httpx": pypi_project("httpx", "0.27.0", {"0.23.0": None, "0.27.0": None}),
        },
        npm={
            "lodash": npm_package(
                "lodash",
                "4.17.21",
                {"4.17.11": None, "4.17.15": None, "4.17.20": None, "4.17.21": None},
            ),
            "request": npm_package(
                "request", "2.88.2", {"2.88.0": deprecated_request, "2.88.2": deprecated_request}
            ),
            "core-js": npm_package("core-js", "3.36.0", {"2.6.12": core_js, "3.36.0": None}),
            "@babel/core": npm_package("@babel/core", "7.24.0", {"7.0.0": None, "7.24.0": None}),
        },
    )
    data.vulns = {
        v["id"]: v
        for v in (
            advisory(
                "GHSA-x84v-xcm2-53pg",
                "PyPI",
                "requests",
                "2.20.0",
                aliases=["CVE-2018-18074", "PYSEC-2018-28"],
                severity="HIGH",
            ),
            advisory(
                "PYSEC-2018-28",
                "PyPI",
                "requests",
                "2.20.0",
                aliases=["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
            ),
            advisory(
                "GHSA-j8r2-6x86-q33q",
                "PyPI",
                "requests",
                "2.31.0",
                aliases=["CVE-2023-32681"],
                severity="MODERATE",
                introduced="2.3.0",
            ),
            advisory(
                "GHSA-jf85-cpcp-j695",
                "npm",
                "lodash",
                "4.17.12",
                aliases=["CVE-2019-10744"],
                severity="CRITICAL",
            ),
            advisory(
                "GHSA-p6mc-m468-83gw",
                "npm",
                "lodash",
                "4.17.19",
                aliases=["CVE-2020-8203"],
                severity="HIGH",
                introduced="3.7.0",
            ),
            advisory(
                "GHSA-35jh-r3h4-6jhm",
                "npm",
                "lodash",
                "4.17.21",
                aliases=["CVE-2021-23337"],
                severity="HIGH",
            ),
        )
    }
    data.affects = {
        ("PyPI", "requests", "2.19.0"): [
            "GHSA-j8r2-6x86-q33q",
            "GHSA-x84v-xcm2-53pg",
            "PYSEC-2018-28",
        ],
        ("npm", "lodash", "4.17.11"): [
            "GHSA-35jh-r3h4-6jhm",
            "GHSA-jf85-cpcp-j695",
            "GHSA-p6mc-m468-83gw",
        ],
        ("npm", "lodash", "4.17.15"): ["GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"],
    }
    return data

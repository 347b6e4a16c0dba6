"""The missing-tests judgement on each language's test layout, and on what it must leave out.

Each repository is a small lookalike of a real one's layout (pytest, unittest, Jest,
Vitest, Mocha, ``go test``, Cargo), written to a temporary folder: one module its tests
reach and one they do not, so a layout that is not recognised shows up as a wrong set.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_helpers import state_dir, write_repo  # noqa: F401 (fixture)

from orchestra_audit.analyse import audit_repo
from orchestra_audit.findings import RepoAudit
from orchestra_audit.policy import AuditPolicy

KEY = b"k" * 32
PY = "def {0}(x):\n    return x\n"
JS = "export function {0}(x) {{\n  return x;\n}}\n"
GO = "package flag\n\nfunc {0}(x int) int {{\n\treturn x\n}}\n"
RS = "pub fn {0}(x: u8) -> u8 {{\n    x\n}}\n"


def audit(root: Path, files: dict[str, str | bytes]) -> RepoAudit:
    return audit_repo(write_repo(root, files), root.name, AuditPolicy(), KEY)


def untested(result: RepoAudit) -> set[str]:
    return {f.file for f in result.findings if f.rule == "tests.untested-module"}


def rules(result: RepoAudit) -> set[str]:
    return {f.rule for f in result.findings if f.kind == "tests"}


LAYOUTS: dict[str, dict[str, str | bytes]] = {
    "pytest tests/ folder": {
        "shop/cart.py": PY.format("add"),
        "shop/tax.py": PY.format("levy"),
        "tests/test_cart.py": "from shop.cart import add\n",
    },
    "unittest *_test.py beside the module": {
        "shop/cart.py": PY.format("add"),
        "shop/tax.py": PY.format("levy"),
        "shop/cart_test.py": "import unittest\nfrom shop import cart\n",
    },
    "testing/ folder": {
        "shop/cart.py": PY.format("add"),
        "shop/tax.py": PY.format("levy"),
        "testing/check_cart.py": "from shop.cart import add\n",
    },
    "jest __tests__/": {
        "src/cart.js": JS.format("add"),
        "src/tax.js": JS.format("levy"),
        "src/__tests__/basket.js": "import { add } from '../cart';\n",
    },
    "vitest *.spec.ts": {
        "src/cart.ts": JS.format("add"),
        "src/tax.ts": JS.format("levy"),
        "src/cart.spec.ts": "import { add } from './cart';\n",
    },
    "jest *.test.mjs": {
        "lib/cart.mjs": JS.format("add"),
        "lib/tax.mjs": JS.format("levy"),
        "lib/cart.test.mjs": "import { add } from './cart.mjs';\n",
    },
    "mocha test/ folder, CommonJS": {
        "lib/cart.cjs": "module.exports = function add(x) {\n  return x;\n};\n",
        "lib/tax.cjs": "exports.levy = function (x) {\n  return x;\n};\n",
        "test/basket.cjs": "const add = require('../lib/cart.cjs');\n",
    },
    "go _test.go in the package folder": {
        "go.mod": "module example.com/flag\n",
        "cart.go": GO.format("Add"),
        "tax.go": GO.format("Levy"),
        "basket_test.go": "package flag\n\nfunc TestAdd(t *testing.T) { Add(1) }\n",
    },
    "rust tests/ integration folder": {
        "Cargo.toml": '[package]\nname = "shop"\n',
        "src/cart.rs": RS.format("add"),
        "src/tax.rs": RS.format("levy"),
        "tests/basket.rs": "#[test]\nfn adds() {\n    assert_eq!(shop::cart::add(1), 1);\n}\n",
    },
    "rust #[cfg(test)] in the source file": {
        "Cargo.toml": '[package]\nname = "shop"\n',
        "src/cart.rs": RS.format("add") + "\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        "src/tax.rs": RS.format("levy"),
    },
    "rust doc test": {
        "Cargo.toml": '[package]\nname = "shop"\n',
        "src/cart.rs": "/// ```\n/// assert_eq!(shop::cart::add(1), 1);\n/// ```\n"
        + RS.format("add"),
        "src/tax.rs": "/// ```text\n/// not run\n/// ```\n" + RS.format("levy"),
    },
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_is_recognised(tmp_path: Path, layout: str) -> None:
    result = audit(tmp_path / "repo", LAYOUTS[layout])
    tax = next(p for p in LAYOUTS[layout] if "tax." in p)
    assert untested(result) == {tax}
    assert "tests.none" not in rules(result)
    assert result.stats.source_files == 2


@pytest.mark.parametrize(
    "files",
    [
        {"package.json": "{}", "src/index.ts": "export const run = (x: number) => x;\n"},
        {"index.js": "var x = 1;\nmodule.exports = function slugify(s) {\n  return s;\n};\n"},
        {"go.mod": "module example.com/x\n", "main.go": GO.format("Run")},
        {"Cargo.toml": "[package]\n", "src/lib.rs": RS.format("run")},
    ],
    ids=["typescript", "commonjs", "go", "rust"],
)
def test_a_repository_with_no_tests_at_all_gets_one_finding(
    tmp_path: Path, files: dict[str, str | bytes]
) -> None:
    result = audit(tmp_path / "bare", files)
    assert rules(result) == {"tests.none"}
    assert result.stats.test_files == 0


def test_a_go_test_file_is_a_test_not_product_code(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "flag",
        {
            "flag.go": GO.format("Parse"),
            "flag_test.go": "package flag\n\nfunc helper() int { return 1 }\n\n"
            "func TestParse(t *testing.T) { Parse(helper()) }\n",
        },
    )
    assert result.findings == []
    assert (result.stats.source_files, result.stats.test_files) == (1, 1)


def test_a_language_without_a_test_layout_is_stated_not_skipped(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "app",
        {
            "app/cart.py": PY.format("add"),
            "tests/test_cart.py": "from app.cart import add\n",
            "src/main/java/App.java": "class App {}\n",
            "src/main/java/Util.java": "class Util {}\n",
        },
    )
    notes = [(n.reason, n.files, n.detail) for n in result.stats.tests_scope]
    assert notes == [("no-test-layout", 2, "java")]
    assert "Not judged for tests: 2 java file(s)." in result.summary
    assert result.findings == []


def test_test_data_vendored_minified_and_generated_code_is_left_out_and_counted(
    tmp_path: Path,
) -> None:
    result = audit(
        tmp_path / "svc",
        {
            "svc/cart.py": PY.format("add"),
            "tests/test_cart.py": "from svc.cart import add\n",
            "testdata/golden.go": GO.format("Golden"),
            "tests/fixtures/app.py": PY.format("fixture_app"),
            "src/__snapshots__/cart.js.snap": "exports[`x`] = `1`;\n",
            "vendor/github.com/x/y/y.go": GO.format("Y"),
            "svc/_vendor/six.py": PY.format("six"),
            "third_party/lib.js": JS.format("lib"),
            "svc/_click/LICENSE.txt": "BSD\n",
            "svc/_click/core.py": PY.format("command"),
            "static/app.min.js": "function a(b){return b}\n",
            "api/api.pb.go": GO.format("Api"),
            "svc/api_pb2.py": PY.format("message"),
            "gen/model.go": "// Code generated by sqlc. DO NOT EDIT.\n" + GO.format("Model"),
            "gen/schema.py": "# Code generated by tool. DO NOT EDIT.\n" + PY.format("schema"),
            "web/icons.js": "/**\n * @generated\n */\n" + JS.format("icon"),
        },
    )
    assert result.findings == []  # none of them is an untested module
    counts = {n.reason: n.files for n in result.stats.tests_scope}
    assert counts == {"test-data": 2, "vendored": 4, "minified": 1, "generated": 5}
    assert (result.stats.source_files, result.stats.test_files) == (1, 1)
    assert "4 vendored file(s) (e.g. " in result.summary


def test_a_generated_header_must_say_do_not_edit_to_count(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "gen",
        {
            "pkg/a.go": "// Code generated by hand, then edited.\n" + GO.format("A"),
            "pkg/b_test.go": "package flag\n",
        },
    )
    assert untested(result) == {"pkg/a.go"}
    assert result.stats.tests_scope == []


MYPY_LIKE: dict[str, str | bytes] = {
    "checker/__init__.py": "",
    "checker/infer.py": PY.format("infer"),
    "checker/solve.py": PY.format("solve"),
    "checker/test/__init__.py": "",
    "checker/test/testcheck.py": "import os\nfrom checker import build\n\n"
    'DATA = os.path.join("test-data", "unit")\n',
    "test-data/unit/check-infer.test": "[case testInfer]\nx = 1\n[out]\n",
    "test-data/unit/check-solve.test": "[case testSolve]\ny = 2\n[out]\n",
    "tools/report.py": PY.format("report"),
}


def test_a_data_driven_suite_tests_its_package_as_a_whole(tmp_path: Path) -> None:
    result = audit(tmp_path / "checker", MYPY_LIKE)
    assert untested(result) == {"tools/report.py"}  # outside the package: judged alone
    notes = [(n.reason, n.files, n.example) for n in result.stats.tests_scope]
    assert notes == [("tested-as-package", 2, "checker")]
    assert result.stats.test_files == 4  # two test modules and two case files
    assert "Tested as a whole: checker/ (2 module(s): checker/test/testcheck.py" in (result.summary)


def test_without_its_data_folder_the_same_suite_judges_module_by_module(tmp_path: Path) -> None:
    files = {k: v for k, v in MYPY_LIKE.items() if not k.startswith("test-data/")}
    result = audit(tmp_path / "checker", files)
    assert untested(result) == {"checker/infer.py", "checker/solve.py", "tools/report.py"}
    assert result.stats.tests_scope == []


def test_fixtures_do_not_make_a_suite_data_driven(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "lib",
        {
            "lib/cart.py": PY.format("add"),
            "lib/tax.py": PY.format("levy"),
            "tests/test_cart.py": 'from lib.cart import add\nDATA = "fixtures/cart.json"\n',
            "tests/fixtures/cart.json": "{}\n",
        },
    )
    assert untested(result) == {"lib/tax.py"}


def test_go_package_level_credit_stays_in_its_folder(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "tool",
        {
            "go.mod": "module example.com/tool\n",
            "parse/parse.go": GO.format("Parse"),
            "parse/lex.go": GO.format("Lex"),
            "parse/parse_test.go": 'package flag\n\nvar golden = "testdata/case.txt"\n',
            "parse/testdata/case.txt": "a b\n",
            "emit/emit.go": GO.format("Emit"),
            "emit/emit_other_test.go": "package flag\n",
        },
    )
    assert untested(result) == {"emit/emit.go"}


def test_a_rust_files_own_test_module_counts_as_test_lines(tmp_path: Path) -> None:
    module = "\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {}\n}\n"
    result = audit(tmp_path / "crate", {"src/cart.rs": RS.format("add") + module})
    assert (result.stats.source_lines, result.stats.test_lines) == (3, 5)
    assert result.findings == []


def test_bin_scripts_package_json_does_not_publish_are_tooling(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "pkg",
        {
            "package.json": '{"name": "pkg", "bin": {"pkg": "./bin/cli.js"}}',
            "lib/core.js": JS.format("core"),
            "bin/cli.js": JS.format("main"),
            "bin/release.js": JS.format("release"),
            "test/core.test.js": "import { core } from '../lib/core.js';\n",
        },
    )
    assert untested(result) == {"bin/cli.js"}


def test_a_monorepo_package_with_its_own_licence_is_judged(tmp_path: Path) -> None:
    result = audit(
        tmp_path / "mono",
        {
            "packages/ui/LICENSE": "MIT\n",
            "packages/ui/package.json": "{}",
            "packages/ui/src/button.ts": JS.format("button"),
            "packages/ui/src/button.test.ts": "import { button } from './button';\n",
            "packages/ui/src/menu.ts": JS.format("menu"),
        },
    )
    assert untested(result) == {"packages/ui/src/menu.ts"}
    assert result.stats.tests_scope == []

"""Data of the missing-tests judgement: code not judged module by module, and why.

A repository's ``RepoStats.tests_scope`` lists it in typed notes, so a reader (or a
program) can tell "no findings" from "not looked at": test-data, vendored, minified and
generated files left out, languages the audit has no test layout for, and packages a
data-driven suite tests as a whole. A repository judged file by file has none, so the list
costs a model's window nothing then. Every field is required, as in
``orchestra_audit.findings``, so the schema stays valid for strict structured-output modes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LeftOutReason = Literal["test-data", "vendored", "minified", "generated"]
"""Why a code file is not judged: test material, others' code, or not written by hand."""

ScopeReason = LeftOutReason | Literal["no-test-layout", "tested-as-package"]
"""A left-out reason; or a language without a known test layout; or a data-driven suite."""


class ScopeNote(BaseModel):
    """Files the missing-tests judgement did not judge one by one, for one reason."""

    reason: ScopeReason = Field(
        description="test-data, vendored, minified, generated, no-test-layout or tested-as-package."
    )
    files: int = Field(description="How many code files (source modules for a package).")
    example: str = Field(description="One of the files, or the package's folder.")
    detail: str = Field(
        description="The language (no-test-layout), or the suite and the data it reads."
    )


def scope_sentence(notes: list[ScopeNote]) -> str:
    """The notes in a sentence or two for people, ``""`` when there are none.

    Example:
        >>> scope_sentence(
        ...     [
        ...         ScopeNote(reason="vendored", files=3, example="vendor/a.go", detail=""),
        ...         ScopeNote(reason="no-test-layout", files=2, example="A.java", detail="java"),
        ...     ]
        ... )
        ' Not judged for tests: 3 vendored file(s) (e.g. vendor/a.go); 2 java file(s).'
    """
    left = [
        f"{n.files} {n.detail} file(s)"
        if n.reason == "no-test-layout"
        else f"{n.files} {n.reason} file(s) (e.g. {n.example})"
        for n in notes
        if n.reason != "tested-as-package"
    ]
    whole = [
        f"{n.example}/ ({n.files} module(s): {n.detail})"
        for n in notes
        if n.reason == "tested-as-package"
    ]
    out = f" Not judged for tests: {'; '.join(left)}." if left else ""
    return out + (f" Tested as a whole: {'; '.join(whole)}." if whole else "")

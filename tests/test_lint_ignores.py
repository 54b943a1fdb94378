"""Every lint ignore in the code base says why, on its own line: a bare `# noqa: X` or `# type: ignore[x]` is
refused, so an ignore cannot outlive the reason it was added for without anyone noticing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_IGNORE = re.compile(r"(# noqa(?::[ A-Z0-9,]+)?|# type: ignore(?:\[[^\]]*\])?)(?P<rest>.*)$")


def bare_ignores(text: str) -> list[int]:
    """The line numbers whose lint ignore gives no reason after it."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _IGNORE.search(line)
        if match and len(match["rest"].strip(" #:-—()")) < 4:
            found.append(number)
    return found


def test_a_bare_ignore_is_found_and_one_with_its_reason_is_not() -> None:
    text = "x = f()  # type: ignore[misc]\ny = g()  # noqa: S608  # our own table name\nimport z  # noqa: F401\n"
    assert bare_ignores(text) == [1, 3]


def test_every_lint_ignore_gives_its_reason() -> None:
    files = [p for part in ("src", "tests", "benchmarks") for p in (ROOT / part).rglob("*.py")]
    assert len(files) > 400
    bare = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in bare_ignores(p.read_text(encoding="utf-8"))]
    assert bare == []

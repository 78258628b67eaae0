"""docs/cli.md lists every flag of django-ghost, and every refused gh-ost flag, with the
text the code gives it (cli.flags.iter_flag_rows): the reference cannot fall behind."""

from __future__ import annotations

import re
from pathlib import Path

from django_ghost.cli.flags import iter_flag_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _doc_rows() -> dict[str, str]:
    return dict(re.findall(r"^\| `(--[a-z0-9-]+)` \| (.*) \|$", DOC.read_text(), flags=re.M))


def test_cli_doc__every_flag__has_a_row_with_the_code_text() -> None:
    expected = {flag: text for flag, _status, text in iter_flag_rows()}
    documented = _doc_rows()
    missing = sorted(set(expected) - set(documented))
    assert not missing, f"flags missing from docs/cli.md: {missing}"
    differ = sorted(f for f in expected if documented[f] != expected[f])
    assert not differ, f"docs/cli.md rows that differ from the code's text: {differ}"


def test_cli_doc__no_stale_rows() -> None:
    expected = {flag for flag, _status, _text in iter_flag_rows()}
    stale = sorted(set(_doc_rows()) - expected)
    assert not stale, f"docs/cli.md lists flags the code does not have: {stale}"

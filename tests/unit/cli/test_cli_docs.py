"""docs/cli.md's flag tables are the code's (cli/docs.py generates them from
cli.flags.iter_flag_rows): the reference cannot fall behind. Regenerate them with
``python -m django_ghost.cli.docs``."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_ghost.cli import docs
from django_ghost.cli.flags import all_flags, rejected_flags

DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def _generated(text: str) -> str:
    return text[text.index(docs.BEGIN) : text.index(docs.END) + len(docs.END)]


def test_cli_doc__generated_tables__same_as_the_code() -> None:
    assert docs.DOC == DOC
    assert _generated(DOC.read_text()) == docs.render_tables(), (
        "docs/cli.md's flag tables are stale: run python -m django_ghost.cli.docs"
    )


def test_cli_doc__every_flag__has_one_row() -> None:
    text = _generated(DOC.read_text())
    for name in [*all_flags(), *rejected_flags()]:
        assert text.count(f"| `--{name}` |") == 1, name


def test_docs_rewrite__stale_table__replaced_and_prose_kept() -> None:
    stale = f"# Title\n\nprose before\n\n{docs.BEGIN}\n| `--gone` | old |\n{docs.END}\nafter\n"
    fresh = docs.rewrite(stale)
    assert fresh.startswith("# Title\n\nprose before\n\n")
    assert fresh.endswith("\nafter\n")
    assert "--gone" not in fresh
    assert docs.render_tables() in fresh
    assert docs.rewrite(fresh) == fresh


def test_docs_rewrite__markers_missing__refused_naming_them() -> None:
    with pytest.raises(ValueError, match="markers"):
        docs.rewrite("# no tables here\n")


def test_docs_main__check_on_stale_file__exit_1_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "cli.md"
    stale = f"{docs.BEGIN}\n{docs.END}\n"
    path.write_text(stale)
    assert docs.main(["--check", str(path)]) == 1
    assert path.read_text() == stale
    assert docs.main([str(path)]) == 0
    assert docs.main(["--check", str(path)]) == 0
    assert "| `--chunk-size` |" in path.read_text()

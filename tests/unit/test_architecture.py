"""The dependency rules hold, and the import-linter contracts really catch violations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_engine_import__fresh_interpreter__does_not_load_django() -> None:
    code = (
        "import sys, django_ghost.engine; "
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"django modules loaded by the engine: {done.stdout}"


def _lint_copy(
    tmp_path: Path, violation: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the project's contracts over a copy of the package."""
    shutil.copytree(
        ROOT / "django_ghost",
        tmp_path / "django_ghost",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if violation:
        module, line = violation
        (tmp_path / "django_ghost" / module).write_text(f'"""Deliberate violation."""\n{line}\n')
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def test_import_contracts__clean_tree__pass(tmp_path: Path) -> None:
    done = _lint_copy(tmp_path, None)
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_contracts__engine_imports_django__fail(tmp_path: Path) -> None:
    done = _lint_copy(tmp_path, ("engine/_violation.py", "import django.db"))
    assert done.returncode != 0
    assert "The engine never imports Django BROKEN" in done.stdout


def test_import_contracts__replication_outside_binlog__fail(tmp_path: Path) -> None:
    done = _lint_copy(tmp_path, ("engine/_violation.py", "import pymysqlreplication"))
    assert done.returncode != 0
    assert "Only django_ghost.engine.binlog imports pymysqlreplication BROKEN" in done.stdout

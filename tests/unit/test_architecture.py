"""The dependency rules hold, and the import-linter contracts really catch violations;
no module in tests/ imports a test module (shared pieces live in helper modules)."""

from __future__ import annotations

import ast
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


def _test_module_imports(tests: Path) -> list[str]:
    """``file: module`` for every import, below ``tests``, of a ``test_*.py`` module."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        package = path.relative_to(tests.parent).with_suffix("").parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1] if node.level else ())
                module = ".".join(p for p in (base, node.module or "") if p)
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                target = tests.parent.joinpath(*parts).with_suffix(".py")
                if parts[0] == tests.name and parts[-1].startswith("test_") and target.is_file():
                    found.append(f"{path.relative_to(tests.parent)}: {name}")
    return found


def test_tests_imports__whole_tests_tree__no_module_imports_a_test_module() -> None:
    assert _test_module_imports(ROOT / "tests") == []


def test_tests_imports__planted_imports__each_form_caught(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "unit").mkdir(parents=True)
    (tests / "unit" / "test_a.py").write_text("X = 1\n")
    (tests / "unit" / "helpers.py").write_text("Y = 2\n")
    (tests / "unit" / "test_b.py").write_text(
        "from tests.unit.test_a import X\n"
        "from tests.unit import test_a\n"
        "import tests.unit.test_a\n"
        "from .test_a import X\n"
        "from . import test_a\n"
        "from tests.unit.helpers import Y\n"
    )
    assert _test_module_imports(tests) == [
        "tests/unit/test_b.py: tests.unit.test_a",
        "tests/unit/test_b.py: tests.unit.test_a",
        "tests/unit/test_b.py: tests.unit.test_a",
        "tests/unit/test_b.py: tests.unit.test_a",
        "tests/unit/test_b.py: tests.unit.test_a",
    ]

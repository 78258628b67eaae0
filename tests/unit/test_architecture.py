"""The dependency and size rules hold, and the import-linter contracts really catch
violations; no module in tests/ imports a test module (shared pieces live in helper modules)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _oversized(package: Path) -> list[str]:
    """Every module over MAX_MODULE_LINES and every function over MAX_FUNCTION_LINES."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(package.parent).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    return found


def test_sizes__django_ghost__no_module_over_500_no_function_over_80_lines() -> None:
    oversized = _oversized(ROOT / "django_ghost")
    assert not oversized, "too large (split by job):\n" + "\n".join(oversized)


def test_sizes__oversized_module_and_function__both_named(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (package / "long_function.py").write_text(f"def too_long() -> None:\n{body}\n")
    (package / "long_module.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    (package / "fits.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    assert _oversized(package) == [
        f"pkg/long_function.py:1 too_long(): {MAX_FUNCTION_LINES + 1} lines",
        f"pkg/long_module.py: {MAX_MODULE_LINES + 1} lines",
    ]


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
        target = tmp_path / "django_ghost" / module
        # An existing module gets the import appended; a new one is created around it.
        text = target.read_text() if target.exists() else '"""Deliberate violation."""\n'
        target.write_text(f"{text}\n{line}\n")
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


def _broken(done: subprocess.CompletedProcess[str], contract: str) -> bool:
    """Whether lint-imports failed and reported the contract starting with ``contract``."""
    return done.returncode != 0 and any(
        line.startswith(contract) and line.endswith(" BROKEN") for line in done.stdout.splitlines()
    )


def test_import_contracts__lower_layer_imports_higher__fail(tmp_path: Path) -> None:
    done = _lint_copy(
        tmp_path, ("engine/sql/_violation.py", "import django_ghost.engine.table.info")
    )
    assert _broken(done, "The engine is layered one way"), done.stdout


def test_import_contracts__engine_imports_django_operation__fail(tmp_path: Path) -> None:
    done = _lint_copy(tmp_path, ("engine/_violation.py", "import django_ghost.operations"))
    assert _broken(done, "The engine never imports the Django side of django_ghost"), done.stdout


def test_import_contracts__cli_imports_django__fail(tmp_path: Path) -> None:
    # The CLI is one module or a package; either way the import goes into a module of it.
    cli = "cli/_violation.py" if (ROOT / "django_ghost" / "cli").is_dir() else "cli.py"
    done = _lint_copy(tmp_path, (cli, "import django"))
    assert _broken(done, "The standalone CLI never imports Django"), done.stdout


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

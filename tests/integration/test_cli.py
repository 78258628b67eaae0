"""django-ghost against the real server: noop, --execute, a failing ALTER, no leaked password."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_ghost.cli.main import main
from tests.integration.helpers import assert_migrated_like_mirror, copy_as_mirror
from tests.plugins.mariadb import TestDatabase

CREATE = (
    "CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(40) NOT NULL, qty INT NOT NULL) ENGINE=InnoDB"
)


@pytest.fixture
def items(db: TestDatabase) -> TestDatabase:
    db.execute(CREATE)
    db.execute(
        "INSERT INTO items (name, qty) VALUES " + ", ".join(f"('n{i}', {i})" for i in range(250))
    )
    return db


def connection_flags(db: TestDatabase) -> list[str]:
    server = db.server
    return [f"--host={server.host}", f"--port={server.port}", f"--user={server.user}"]


def run(db: TestDatabase, *flags: str) -> tuple[int, str, str]:
    """main() with the password in GHOST_PASSWORD, as the docs recommend."""
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [*connection_flags(db), *flags],
        environ={"GHOST_PASSWORD": db.server.password},
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_cli__noop__prints_new_structure_and_leaves_nothing(items: TestDatabase) -> None:
    before = items.show_create("items")
    code, out, err = run(
        items, f"--database={items.name}", "--table=items", "--alter=ADD COLUMN note VARCHAR(20)"
    )
    assert code == 0, err
    assert "New table structure follows" in out
    assert "CREATE TABLE `items`" in out
    assert "`note` varchar(20)" in out
    assert "nothing was changed" in out
    assert items.tables() == ["items"]
    assert items.show_create("items") == before


def test_cli__execute__adds_column_and_keeps_rows(items: TestDatabase) -> None:
    before = items.checksum("items", "id, name, qty", "id")
    code, out, err = run(
        items,
        f"--database={items.name}",
        "--table=items",
        "--alter",
        "ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'x'",
        "--chunk-size=50",
        "--execute",
    )
    assert code == 0, err
    assert "note" in [r[0] for r in items.query("SHOW COLUMNS FROM items")]
    assert items.checksum("items", "id, name, qty", "id") == before
    assert items.scalar("SELECT COUNT(*) FROM items WHERE note = 'x'") == 250
    assert "rows copied:    250" in out
    assert "checksum:       verified" in out
    assert "Copy: " in out  # at least one status line
    assert sorted(items.tables()) == ["_items_del", "items"]


def test_cli__attempt_instant_ddl__done_in_place_and_reported(items: TestDatabase) -> None:
    before = items.checksum("items", "id, name, qty", "id")
    code, out, err = run(
        items,
        f"--database={items.name}",
        "--table=items",
        "--alter=ADD COLUMN note VARCHAR(20)",
        "--attempt-instant-ddl",
        "--execute",
    )
    assert code == 0, err
    assert "applied the ALTER with ALGORITHM=INSTANT" in out
    assert "nothing was copied" in out
    assert "`note` varchar(20)" in items.show_create("items")
    assert items.checksum("items", "id, name, qty", "id") == before
    assert items.tables() == ["items"]


def test_cli__execute_with_qualified_alter__database_and_table_from_statement(
    items: TestDatabase,
) -> None:
    mirror = copy_as_mirror(items, "items")
    code, _, err = run(
        items,
        f"--alter=ALTER TABLE `{items.name}`.`items` ADD INDEX qty_idx (qty)",
        "--execute",
        "--ok-to-drop-table",
    )
    assert code == 0, err
    assert "KEY `qty_idx` (`qty`)" in items.show_create("items")
    assert_migrated_like_mirror(items, "ADD INDEX qty_idx (qty)", "items", mirror)
    items.execute(f"DROP TABLE {mirror}")  # the oracle's, not a leftover of the run
    assert items.tables() == ["items"]


def test_cli__bad_alter__exit_1_clear_message_table_untouched(items: TestDatabase) -> None:
    before = items.checksum("items", "*", "id")
    before_create = items.show_create("items")
    code, out, err = run(
        items,
        f"--database={items.name}",
        "--table=items",
        "--alter=MODIFY COLUMN no_such_column INT",
        "--execute",
    )
    assert code == 1
    assert "django-ghost: error:" in err
    assert "no_such_column" in err
    assert "Traceback" not in err
    assert items.show_create("items") == before_create
    assert items.checksum("items", "*", "id") == before
    assert items.tables() == ["items"]


def test_cli__password_flag__never_printed(items: TestDatabase) -> None:
    password = items.server.password
    assert len(password) >= 4, "the sandbox engine user should have a real password"
    copy_as_mirror(items, "items")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            *connection_flags(items),
            f"--password={password}",
            f"--database={items.name}",
            "--table=items",
            "--alter=ADD COLUMN note INT",
            "--execute",
            "--debug",
        ],
        environ={},
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert_migrated_like_mirror(items, "ADD COLUMN note INT", "items")
    assert "warning: --password is visible" in err.getvalue()
    assert password not in out.getvalue()
    assert password not in err.getvalue()


def test_cli__wrong_password__exit_1_without_echoing_it(items: TestDatabase) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            *connection_flags(items),
            f"--database={items.name}",
            "--table=items",
            "--alter=ADD x INT",
        ],
        environ={"MYSQL_PWD": "not-the-password-42"},
        stdout=out,
        stderr=err,
    )
    assert code == 1
    assert "Cannot connect" in err.getvalue()
    assert "not-the-password-42" not in out.getvalue() + err.getvalue()
    assert items.tables() == ["items"]


def test_cli__console_script_with_conf_file__noop_succeeds(
    items: TestDatabase, tmp_path: Path
) -> None:
    script = Path(sys.executable).parent / "django-ghost"
    if not script.exists():
        pytest.fail(
            f"the django-ghost console script is not installed beside {sys.executable}: "
            "install the project (make venv, or pip install -e .)",
            pytrace=False,
        )
    server = items.server
    conf = tmp_path / "ghost.cnf"
    conf.write_text(
        f"[client]\nuser={server.user}\npassword=${{SECRET}}\nhost={server.host}\n"
        f"port={server.port}\n"
    )
    conf.chmod(0o600)
    env = {"PATH": os.environ.get("PATH", ""), "SECRET": server.password}
    done = subprocess.run(
        [
            str(script),
            f"--conf={conf}",
            f"--alter=ALTER TABLE {items.name}.items ADD COLUMN note INT",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "`note` int(11)" in done.stdout or "`note` int" in done.stdout
    assert server.password not in done.stdout + done.stderr
    assert items.tables() == ["items"]

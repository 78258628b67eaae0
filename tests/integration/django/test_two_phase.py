"""Two-phase online migrations: sync now, approve the cut-over later, with ghost_ctl.

A postponed ``ghost_migrate`` runs in a thread (as a deploy job would run in the
background) while a writer thread keeps changing the table; ``ghost_ctl`` is called like
an operator would call it, through ``call_command``.
"""

from __future__ import annotations

import io
import json
import random
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_ghost.conf import postpone_flag_path, resolve
from tests.integration.helpers import assert_same_rows, definition_body
from tests.plugins.mariadb import wait_for

from .conftest import FORCE_ONLINE, DjangoEnv

FLOWS = "tests.integration.django.testapp.flows"
TABLE = "testapp_item"
ROWS = 3000
BYTEBASE = {
    "ghost_table_template": "~{table}_{timestamp}_gho",
    "changelog_table_template": "~{table}_{timestamp}_ghc",
    "old_table_template": "~{table}_{timestamp}_del",
}


@contextmanager
def online_flow(**ghost: Any) -> Iterator[None]:
    with override_settings(
        MIGRATION_MODULES={"testapp": f"{FLOWS}.online"}, GHOST={**FORCE_ONLINE, **ghost}
    ):
        yield


def ctl(*args: str) -> str:
    out = io.StringIO()
    call_command("ghost_ctl", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def status_json(table: str = TABLE) -> dict[str, Any] | None:
    try:
        return dict(json.loads(ctl("status", table, "--json")))
    except CommandError:
        return None


class Background(threading.Thread):
    """``manage.py ghost_migrate testapp --postpone-cut-over`` in the background."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(name="ghost-migrate", daemon=True)
        self.args, self.kwargs = args, kwargs
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connections

        try:
            call_command("ghost_migrate", *self.args, verbosity=0, **self.kwargs)
        except BaseException as exc:  # looked at by the test
            self.error = exc
        finally:
            connections.close_all()


class Writer(threading.Thread):
    """Updates, inserts and deletes rows, remembering what the table must hold."""

    def __init__(self, dj: DjangoEnv):
        super().__init__(name="writer", daemon=True)
        self.conn = dj.db.connect()
        rows = dj.db.query(f"SELECT id, name, qty FROM {TABLE}")
        self.expected: dict[int, tuple[str, int]] = {r[0]: (r[1], r[2]) for r in rows}
        self.codes: dict[int, str] = {r[0]: "x" for r in rows}
        """The ``code`` each row must hold: the AddField default, or what was inserted."""
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.idle = threading.Event()
        self.writes = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        rng = random.Random(8)
        cur = self.conn.cursor()
        try:
            while not self.stop.is_set():
                if self.paused.is_set():
                    self.idle.set()
                    self.stop.wait(0.01)
                    continue
                self.idle.clear()
                self.write_one(cur, rng)
                self.writes += 1
                self.stop.wait(0.002)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.conn.close()

    def write_one(self, cur: Any, rng: random.Random) -> None:
        roll = rng.random()
        if roll < 0.25:
            name = f"w{self.writes}"
            code = "x"
            try:
                cur.execute(f"INSERT INTO {TABLE} (name, qty) VALUES (%s, 1)", [name])
            except MySQLdb.IntegrityError:
                # After the cut-over `code` is NOT NULL without a default, as in Django.
                cur.execute(f"INSERT INTO {TABLE} (name, qty, code) VALUES (%s, 1, 'w')", [name])
                code = "w"
            self.expected[int(cur.lastrowid)] = (name, 1)
            self.codes[int(cur.lastrowid)] = code
        elif roll < 0.35 and self.expected:
            row = rng.choice(list(self.expected))
            cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [row])
            del self.expected[row]
            del self.codes[row]
        elif self.expected:
            row = rng.choice(list(self.expected))
            qty = rng.randint(0, 10_000)
            cur.execute(f"UPDATE {TABLE} SET qty = %s WHERE id = %s", [qty, row])
            self.expected[row] = (self.expected[row][0], qty)


def prepare(dj: DjangoEnv, alias: str = "default") -> None:
    dj.migrate("testapp", "0001_initial", database=alias, command="migrate")
    dj.database(alias).execute(
        f"INSERT INTO {TABLE} (name, qty) VALUES "
        + ", ".join(f"('n{i}', {i})" for i in range(ROWS))
    )


def assert_definition_as_stock(dj: DjangoEnv) -> None:
    """The oracle of the new definition: Django's stock backend, the same migrations."""
    dj.migrate("testapp", database="stock", command="migrate")
    assert definition_body(dj.db, TABLE) == definition_body(dj.stock, TABLE)


def rows_of(dj: DjangoEnv, table: str) -> list[tuple[Any, ...]]:
    return dj.db.query(f"SELECT id, name, qty FROM `{table}` ORDER BY id")


def ghost_tables(dj: DjangoEnv, pattern: str) -> list[str]:
    return [t for t in dj.db.tables() if re.fullmatch(pattern, t)]


def history(dj: DjangoEnv) -> list[tuple[Any, ...]]:
    return dj.db.query(
        "SELECT status, checksum_verified, cut_over_stall_seconds FROM django_ghost_onlinerun "
        "WHERE table_name = %s ORDER BY id",
        [TABLE],
    )


def wait_postponed(run: Background) -> dict[str, Any]:
    def waiting() -> dict[str, Any] | None:
        data = status_json()
        if data and str(data["phase"]).startswith("postponed"):
            return data
        return None

    data = wait_for(lambda: waiting() or run.error is not None or not run.is_alive(), timeout=120)
    assert run.error is None, run.error
    assert isinstance(data, dict), f"never postponed: {status_json()}"
    return data


def test_two_phase__postponed_under_writes__waits_in_sync_and_records_only_after_approve(
    dj: DjangoEnv,
) -> None:
    with online_flow():
        prepare(dj)
        writer = Writer(dj)
        writer.start()
        run = Background("testapp", postpone_cut_over=True, chunk_size=250)
        run.start()
        try:
            data = wait_postponed(run)
            assert data["phase"] == "postponed: waiting for cut-over approval"
            assert data["alias"] == "default" and data["table"] == TABLE
            flag = Path(postpone_flag_path(resolve("default"), TABLE))
            assert flag.exists()
            text = ctl("status")
            assert "phase: postponed: waiting for cut-over approval" in text
            assert f"ghost_ctl approve {TABLE}" in text
            assert dj.applied() == ["0001_initial"], "recorded before the cut-over"
            # The history row follows at the next progress report (every 0.5 s).
            assert wait_for(lambda: [h[0] for h in history(dj)] == ["waiting"], timeout=10)
            with pytest.raises(CommandError, match="is running"):
                ctl("cleanup", TABLE, "--yes")
            # In sync under writes: once the writer pauses, the ghost holds what the
            # original holds, without any cut-over.
            writes_before = writer.writes
            assert wait_for(lambda: writer.writes > writes_before + 50, timeout=30)
            writer.paused.set()
            assert writer.idle.wait(10)
            assert wait_for(
                lambda: rows_of(dj, f"_{TABLE}_gho") == rows_of(dj, TABLE), timeout=30
            ), "ghost table not in sync while postponed"
            live = status_json()
            assert live is not None and live["backlog"] == 0
            assert live["events_applied"] > 0
            writer.paused.clear()

            assert "cut-over no longer postponed" in ctl("approve", TABLE)
            run.join(120)
        finally:
            writer.stop.set()
            writer.join(10)
            if run.is_alive():  # never leave a migration behind a failed assertion
                ctl("panic", TABLE)
                run.join(60)
    assert not run.is_alive() and run.error is None, run.error
    assert not writer.errors, writer.errors
    assert dj.applied() == ["0001_initial", "0002_online"]
    assert "`code`" in dj.db.show_create(TABLE)
    actual = {r[0]: (r[1], r[2]) for r in rows_of(dj, TABLE)}
    assert actual == writer.expected
    assert dict(dj.db.query(f"SELECT id, code FROM {TABLE}")) == writer.codes
    with online_flow():
        assert_definition_as_stock(dj)
    # 0002 is two online copies (AddField, then AddIndex): one approval covered both.
    runs = history(dj)
    assert [(status, checksum) for status, checksum, _ in runs] == [("done", 1), ("done", 1)]
    assert all(stall is not None for _, _, stall in runs)
    assert not flag.exists()
    with pytest.raises(CommandError, match="No online migration"):
        ctl("status")


def test_two_phase__panic_while_postponed__unrecorded_original_intact_leftovers_cleaned(
    dj: DjangoEnv,
) -> None:
    with online_flow():
        prepare(dj)
        before = rows_of(dj, TABLE)
        schema_before = dj.db.show_create(TABLE)
        run = Background("testapp", postpone_cut_over=True)
        run.start()
        try:
            wait_postponed(run)
            assert "panic" in ctl("panic", TABLE)
            run.join(60)
        finally:
            if run.is_alive():
                ctl("panic", TABLE)
                run.join(60)
        assert isinstance(run.error, CommandError), run.error
        assert "NOT recorded" in str(run.error)
        assert dj.applied() == ["0001_initial"]
        assert dj.db.show_create(TABLE) == schema_before
        assert rows_of(dj, TABLE) == before
        assert [h[0] for h in history(dj)] == ["aborted"]

        # What the aborted run left: its postpone flag file (the engine dropped its tables).
        flag = Path(postpone_flag_path(resolve("default"), TABLE))
        listing = ctl("leftovers")
        assert flag.exists() and str(flag) in listing and "flag-file" in listing

        out = ctl("cleanup", TABLE, "--yes")
        assert f"Removed flag-file {flag}" in out
        assert not flag.exists()
        assert "No leftovers" in ctl("leftovers")
        assert rows_of(dj, TABLE) == before


def test_two_phase__bytebase_templates__end_to_end_with_approve(dj: DjangoEnv) -> None:
    with online_flow(**BYTEBASE):
        prepare(dj)
        run = Background("testapp", postpone_cut_over=True)
        run.start()
        try:
            wait_postponed(run)
            helpers = ghost_tables(dj, rf"~{TABLE}_\d{{14}}_(gho|ghc)")
            assert sorted(t[-3:] for t in helpers) == ["ghc", "gho"], dj.db.tables()
            assert not ghost_tables(dj, rf"_{TABLE}_(gho|ghc)")
            # A running migration's helper tables are not leftovers.
            assert "No leftovers" in ctl("leftovers")
            ctl("approve", TABLE)
            run.join(120)
        finally:
            if run.is_alive():
                ctl("panic", TABLE)
                run.join(60)
        assert run.error is None, run.error
        assert dj.applied() == ["0001_initial", "0002_online"]
        assert "`code`" in dj.db.show_create(TABLE)
        assert dj.db.scalar(f"SELECT COUNT(*) FROM {TABLE}") == ROWS
        # The oracle: Django's stock backend, the same migrations over the same rows.
        prepare(dj, "stock")
        assert_definition_as_stock(dj)
        assert_same_rows(dj.db, TABLE, TABLE, expected_db=dj.stock)
        assert not [t for t in dj.db.tables() if t.startswith("~")]
        assert [h[0] for h in history(dj)] == ["done", "done"]


def _stale_socket(path: str) -> None:
    """A socket file nobody listens on, as a killed migration leaves it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()


def test_ghost_ctl__leftovers_of_killed_runs_both_name_styles__listed_then_cleaned(
    dj: DjangoEnv,
) -> None:
    with online_flow(**BYTEBASE):
        prepare(dj)
        like = f"CREATE TABLE `{{}}` LIKE {TABLE}"
        killed = [
            f"~{TABLE}_20240101120000_gho",
            f"~{TABLE}_20240101120000_ghc",
            f"_{TABLE}_gho",
            f"_{TABLE}_ghc",
        ]
        old = f"~{TABLE}_20231231000000_del"
        for name in [*killed, old]:
            dj.db.execute(like.format(name))
        dj.db.execute(f"INSERT INTO `{old}` SELECT * FROM {TABLE} LIMIT 10")
        config = resolve("default")
        from django_ghost.conf import control_socket_path

        sock = control_socket_path(config, TABLE)
        _stale_socket(sock)
        flag = Path(postpone_flag_path(config, TABLE))
        flag.touch()
        try:
            with pytest.raises(CommandError, match="stale.*--remove-stale"):
                ctl("approve", TABLE)
            listing = ctl("leftovers")
            for name in [*killed, old, sock, str(flag)]:
                assert name in listing, (name, listing)

            with pytest.raises(CommandError, match="pass --yes"):
                ctl("cleanup", TABLE)  # stdin is not a terminal under pytest
            assert set(killed) <= set(dj.db.tables())

            out = ctl("cleanup", TABLE, "--yes")
            assert f"Keeping old table {old}" in out
            tables = set(dj.db.tables())
            assert not set(killed) & tables
            assert {TABLE, old} <= tables
            assert not Path(sock).exists() and not flag.exists()

            ctl("cleanup", TABLE, "--yes", "--drop-old")
            assert old not in dj.db.tables()
            assert dj.db.scalar(f"SELECT COUNT(*) FROM {TABLE}") == ROWS
            assert "No leftovers" in ctl("leftovers")
        finally:
            for path in (Path(sock), flag):
                path.unlink(missing_ok=True)

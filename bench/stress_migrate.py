"""How a stress run migrates the table: the ALTER shapes, the engine in-process
(``Migrator``) or as the CLI in a child process, the watch on its control socket, and the
recovery an operator would do after a killed run (``--resume``, or a fresh run when there
is nothing to resume).

The outcome of a migration is text for the report plus two facts: whether it ended the
way the run expects (migrated; or, for the XA load, refused with an error naming XA) and
whether the table carries the new schema. The data itself is judged elsewhere, by the
replay (stress_run.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import MySQLdb

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.control.client import send
from django_ghost.engine.migrator import Migrator

from .stress_model import TABLE
from .stress_writers import Target

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class AlterShape:
    name: str
    sql: str
    mark: str
    """Text of SHOW CREATE TABLE that tells the new schema (``!`` first: its absence)."""
    added: tuple[tuple[str, Any], ...] = ()
    """New columns and the value every row must have."""

    def migrated(self, ddl: str) -> bool:
        if self.mark.startswith("!"):
            return self.mark[1:] not in ddl
        return self.mark in ddl


ALTERS = {
    a.name: a
    for a in (
        AlterShape("add-column", "ADD COLUMN x INT NOT NULL DEFAULT 7", "`x` int", (("x", 7),)),
        AlterShape(
            "widen", "MODIFY w VARCHAR(80) NOT NULL, MODIFY v BIGINT NOT NULL", "`v` bigint"
        ),
        AlterShape("add-index", "ADD INDEX kvw (v, w)", "KEY `kvw`"),
        AlterShape("drop-column", "DROP COLUMN z", "!`z` int"),
        AlterShape("add-unique", "ADD UNIQUE KEY un (n)", "UNIQUE KEY `un`"),
    )
}


@dataclasses.dataclass(frozen=True)
class Knobs:
    """Engine settings of the stress runs (small tables get small chunks)."""

    chunk_size: int = 1000
    checksum_chunk_size: int = 2000
    nice_ratio: float = 0.0
    timeout: float = 900.0
    checksum: bool = True
    """False: the engine's own checksum is off (the verification by key stays on),
    so that the replay and the verification by key judge what the cut-over swaps in."""

    def options(self) -> dict[str, Any]:
        return {
            "chunk_size": self.chunk_size,
            "checksum_chunk_size": self.checksum_chunk_size,
            "nice_ratio": self.nice_ratio,
            "checkpoint_seconds": 1,
            "cut_over_lock_timeout_seconds": 1,
            "ok_to_drop_table": True,
            "checksum": self.checksum,
            # Off with the checksum: nothing but the replay judges the apply.
            "verify_applied_keys": self.checksum,
        }


@dataclasses.dataclass
class Outcome:
    status: str = "ok"
    """ok; recovered (the operator's ``--resume``, or a fresh run, completed it);
    refused (the XA load refused with an error naming XA); or failed."""
    expected: bool = True
    detail: list[str] = dataclasses.field(default_factory=list)
    cut_over_attempts: int = 0

    def fail(self, why: str) -> Outcome:
        self.status, self.expected = "failed", False
        self.detail.append(why)
        return self

    def text(self) -> str:
        return f"{self.status}: {'; '.join(self.detail)}" if self.detail else self.status


Noise = Callable[[Migrator, Callable[[], bool], Outcome], None]
"""The operator beside an in-process run: (migrator, is the run alive, the outcome)."""


class Migration:
    """One run's migration of ``t`` on ``target`` with ``alter``; files under ``work``."""

    def __init__(
        self, target: Target, alter: AlterShape, knobs: Knobs, work: Path, rng: random.Random
    ):
        self.target, self.alter, self.knobs, self.rng = target, alter, knobs, rng
        self.sock = str(work / "ctl.sock")
        self.flag = work / "postpone"
        self.work = work
        self.children = 0
        self.stuck = ""

    # -- the engine in this process --------------------------------------------------------

    def config(self, **options: Any) -> GhostConfig:
        t = self.target
        return GhostConfig(
            host=t.host,
            port=t.port,
            user=t.user,
            password=t.password,
            database=t.database,
            table=TABLE,
            alter=self.alter.sql,
            execute=True,
            serve_socket_file=self.sock,
            **{**self.knobs.options(), **options},
        )

    def in_process(self, *, xa: bool = False, noise: Noise | None = None) -> Outcome:
        """``Migrator.run()`` in a thread; ``noise`` (the operator) runs beside it and
        may add to the outcome."""
        options = {"postpone_cut_over_flag_file": str(self.flag)} if noise else {}
        if noise:
            self.flag.touch()
        migrator = Migrator(self.config(**options))
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = migrator.run()
            except BaseException as exc:  # noqa: BLE001 - the outcome reports it
                box["error"] = exc

        thread = threading.Thread(target=run, daemon=True, name="stress-migration")
        thread.start()
        outcome = Outcome()
        if noise:
            noise(migrator, thread.is_alive, outcome)
        thread.join(self.knobs.timeout)
        if thread.is_alive():
            stuck = self.panic()
            thread.join(60)
            return outcome.fail(stuck)
        outcome.cut_over_attempts = migrator.context.cut_over_attempts
        error = box.get("error")
        if error is None:
            outcome.detail.append(f"{migrator.context.cut_over_attempts} cut-over attempt(s)")
            return outcome
        return self.refused_or_failed(outcome, f"{type(error).__name__}: {error}", xa)

    def refused_or_failed(self, outcome: Outcome, error: str, xa: bool) -> Outcome:
        if xa and "XA" in error:
            outcome.status = "refused"
            outcome.detail.append(f"XA refused as expected: {error[:300]}")
            return outcome
        return outcome.fail(error[:600])

    def panic(self) -> str:
        """Stop a run that overran ``knobs.timeout``; what it was doing then."""
        status = "no status"
        with contextlib.suppress(OSError):
            status = send(self.sock, "sup").strip()
            send(self.sock, "panic")
        self.stuck = f"no end within {self.knobs.timeout:.0f}s (panic sent; {status})"
        return self.stuck

    # -- the CLI in a child process ---------------------------------------------------------

    def spawn(self, *flags: str, postpone: bool = False) -> subprocess.Popen[str]:
        """``python -m django_ghost.cli`` for this migration, output to files in ``work``."""
        t = self.target
        options = self.knobs.options()
        args = [
            sys.executable,
            "-m",
            "django_ghost.cli",
            f"--host={t.host}",
            f"--port={t.port}",
            f"--user={t.user}",
            f"--database={t.database}",
            f"--table={TABLE}",
            f"--alter={self.alter.sql}",
            "--execute",
            f"--serve-socket-file={self.sock}",
            "--initially-drop-socket-file",
            *(f"--{name.replace('_', '-')}={flag_value(v)}" for name, v in options.items()),
            *flags,
        ]
        if postpone:
            self.flag.touch()
            args.append(f"--postpone-cut-over-flag-file={self.flag}")
        self.children += 1
        env = {**os.environ, "GHOST_PASSWORD": t.password}
        env.pop("MYSQL_PWD", None)
        log = open(self.work / f"cli-{self.children}.log", "w")  # noqa: SIM115 - child's
        return subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )

    def log_tail(self, lines: int = 3) -> str:
        path = self.work / f"cli-{self.children}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(line for line in text.strip().splitlines()[-lines:])

    def wait(self, proc: subprocess.Popen[str]) -> int | None:
        try:
            return proc.wait(self.knobs.timeout)
        except subprocess.TimeoutExpired:
            self.panic()
            try:
                return proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return None

    def table_state(self) -> tuple[str, list[str]]:
        """("migrated" | "original" | "missing", the helper tables present)."""
        conn = self.target.connect()
        try:
            cur = conn.cursor()
            cur.execute("SHOW TABLES")
            tables = sorted(str(r[0]) for r in cur.fetchall())
            helpers = [n for n in tables if n.startswith("_t_") or n.startswith("t~")]
            if TABLE not in tables:
                return "missing", helpers
            cur.execute(f"SHOW CREATE TABLE {TABLE}")
            ddl = str(cur.fetchone()[1])
        finally:
            conn.close()
        return ("migrated" if self.alter.migrated(ddl) else "original"), helpers

    def recover(self, outcome: Outcome) -> Outcome:
        """After a killed or failed run: what an operator does. Already swapped: done.
        Otherwise ``--resume``; when there was no checkpoint yet, a fresh run."""
        state, helpers = self.table_state()
        outcome.detail.append(f"after it: table {state}, helpers {helpers or 'none'}")
        if state == "missing":
            return outcome.fail("the table is missing")
        if state == "migrated":
            outcome.detail.append("swapped before the kill")
            return outcome
        for attempt in range(5):
            code = self.wait(self.spawn("--resume"))
            if code is None:
                return outcome.fail(f"--resume: {self.stuck}")
            if code == 0:
                outcome.status = "recovered"
                outcome.detail.append("--resume completed")
                return outcome
            tail = self.log_tail()
            if "No checkpoint" in tail or "Run without resume" in tail:
                outcome.detail.append(f"--resume refused ({tail[:200]}); fresh run")
                code = self.wait(
                    self.spawn("--initially-drop-ghost-table", "--initially-drop-old-table")
                )
                if code == 0:
                    outcome.status = "recovered"
                    return outcome
                return outcome.fail(f"fresh run failed: {self.log_tail()}")
            if "Another migration" in tail and attempt < 4:
                time.sleep(1.0)  # the killed run's session is not gone yet
                continue
            break
        return outcome.fail(f"--resume failed: {self.log_tail()}")


def flag_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class Watch:
    """The CLI child's progress, read from its control socket (``status-json``) and the
    server's process list."""

    def __init__(self, migration: Migration, proc: subprocess.Popen[str]):
        self.migration, self.proc = migration, proc
        self.phases: list[str] = []
        self.last: dict[str, Any] = {}
        self.admin = migration.target.connect()

    def close(self) -> None:
        with contextlib.suppress(MySQLdb.Error):
            self.admin.close()

    def poll(self) -> dict[str, Any] | None:
        try:
            status: dict[str, Any] = json.loads(
                send(self.migration.sock, "status-json", timeout=2.0)
            )
        except (OSError, ValueError):
            return None
        self.last = status
        phase = str(status.get("phase", ""))
        if not self.phases or self.phases[-1] != phase:
            self.phases.append(phase)
        return status

    def until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> bool:
        """Poll until ``predicate(status)``; False if the child ended or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            status = self.poll()
            if status is not None and predicate(status):
                return True
            time.sleep(0.01)
        return False

    def statements(self) -> list[tuple[str, str]]:
        """(statement, state) of the other sessions running in the stressed database."""
        cur = self.admin.cursor()
        cur.execute(
            "SELECT INFO, STATE FROM information_schema.PROCESSLIST "
            "WHERE ID <> CONNECTION_ID() AND DB = %s AND INFO IS NOT NULL",
            (self.migration.target.database,),
        )
        return [(str(info), str(state or "")) for info, state in cur.fetchall()]

    def until_statement(self, predicate: Callable[[str, str], bool], timeout: float) -> str:
        """Poll the process list until a statement matches; return it ('' if none)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for info, state in self.statements():
                if predicate(info, state):
                    return info
            time.sleep(0.005)
        return ""

    def where(self) -> str:
        s = self.last
        return (
            f"phase {s.get('phase', '?')!r}, copied {s.get('rows_copied', 0):,}, "
            f"applied {s.get('events_applied', 0):,}"
        )

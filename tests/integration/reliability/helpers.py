"""Shared pieces of the reliability tests: a mirrored writer, CLI subprocesses, probes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.plugins.mariadb import TestDatabase

REPO = Path(__file__).resolve().parents[3]


def seed(db: TestDatabase, rows: int = 3000, table: str = "t") -> None:
    """``table`` (id, v, w) with ``rows`` rows, and an identical ``<table>_mirror``."""
    for name in (table, f"{table}_mirror"):
        db.execute(f"CREATE TABLE `{name}` (id INT PRIMARY KEY, v INT, w VARCHAR(20))")
        db.execute(
            f"INSERT INTO `{name}` (id, v, w) SELECT seq, seq, CONCAT('x', seq) "
            f"FROM seq_1_to_{rows}"
        )


class MirrorWriter(threading.Thread):
    """Applies every write to the table and to its mirror, with explicit keys, so the
    mirror holds exactly what the table should hold. Counts failed writes."""

    def __init__(self, db: TestDatabase, table: str = "t", *, start_id: int = 1_000_000):
        super().__init__(daemon=True)
        self.conn = db.connect()
        self.table = table
        self.mirror = f"{table}_mirror"
        self.stop = threading.Event()
        self.writes = 0
        self.failures: list[str] = []
        self.next_id = start_id
        self.max_latency = 0.0
        """Longest time one statement on the table took (seconds)."""

    def statements(self, n: int) -> list[tuple[str, tuple[Any, ...]]]:
        self.next_id += 1
        return [
            ("INSERT INTO {t} (id, v, w) VALUES (%s, %s, %s)", (self.next_id, n, f"w{n}")),
            ("UPDATE {t} SET v = v + 1 WHERE id = %s", (n * 7 % 3000,)),
            ("DELETE FROM {t} WHERE id = %s", (n * 13 % 3000,)),
            ("UPDATE {t} SET id = id + 5000000 WHERE id = %s", (n * 17 % 3000,)),
        ]

    def run(self) -> None:
        cur = self.conn.cursor()
        n = 0
        while not self.stop.is_set():
            n += 1
            for sql, params in self.statements(n):
                for table in (self.table, self.mirror):
                    try:
                        started = time.monotonic()
                        cur.execute(sql.format(t=f"`{table}`"), params)
                        if table == self.table:
                            elapsed = time.monotonic() - started
                            self.max_latency = max(self.max_latency, elapsed)
                        self.writes += 1
                    except Exception as exc:  # noqa: BLE001 - counted and asserted on
                        self.failures.append(f"{table}: {exc}")
            time.sleep(0.001)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        self.conn.close()


def rows_md5(db: TestDatabase, table: str, columns: str = "id, v, w") -> tuple[int, str]:
    return db.checksum(table, columns, order_by="id")


def cli_env(db: TestDatabase) -> dict[str, str]:
    env = dict(os.environ)
    env["GHOST_PASSWORD"] = db.server.password
    env.pop("MYSQL_PWD", None)
    return env


def spawn_cli(db: TestDatabase, *flags: str, env: dict[str, str] | None = None) -> Any:
    """``python -m django_ghost.cli`` with the connection flags and the password in the
    environment."""
    server = db.server
    cmd = [
        sys.executable,
        "-m",
        "django_ghost.cli",
        f"--host={server.host}",
        f"--port={server.port}",
        f"--user={server.user}",
        f"--database={db.name}",
        *flags,
    ]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env if env is not None else cli_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(db: TestDatabase, *flags: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = spawn_cli(db, *flags)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def helper_tables(db: TestDatabase, table: str = "t") -> list[str]:
    return sorted(n for n in db.tables() if n.startswith(f"_{table}_"))

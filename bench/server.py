"""The benchmark server: a durable sandbox MariaDB, and a few SQL helpers for the bench.

Durable means ``sync_binlog=1`` and ``innodb_flush_log_at_trx_commit=1``: every commit
(each copy chunk, each apply batch, each sysbench transaction) pays its fsyncs, as in
production. The sandbox's buffer pool is fixed (512 MiB), so the default tables
(about 250 MB for 1M sysbench rows) fit in memory: the CPU- and log-bound regime.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import MySQLdb

BENCH_DATABASE = "sbtest"

# Recorded in the report: what decides copy and apply speed on the server side.
SETTINGS = (
    "version",
    "innodb_buffer_pool_size",
    "innodb_log_file_size",
    "innodb_flush_log_at_trx_commit",
    "sync_binlog",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "innodb_doublewrite",
    "innodb_autoinc_lock_mode",
    "transaction_isolation",
)


@dataclasses.dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str = BENCH_DATABASE

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }

    def connect(self) -> Any:
        return MySQLdb.connect(autocommit=True, **self.connect_kwargs())

    def execute(self, sql: str) -> int:
        conn = self.connect()
        try:
            return int(conn.cursor().execute(sql))
        finally:
            conn.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql)
            return list(cur.fetchall())
        finally:
            conn.close()

    def scalar(self, sql: str) -> Any:
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def row_count(self, table: str) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM `{table}`"))

    def checksum(self, table: str) -> int:
        """CHECKSUM TABLE: content-based, so equal before and after a null rebuild. It
        reads every row, which also warms the buffer pool the same way for each tool."""
        return int(self.query(f"CHECKSUM TABLE `{table}`")[0][1] or 0)

    def settings(self) -> dict[str, str]:
        names = ", ".join(f"'{n}'" for n in SETTINGS)
        rows = self.query(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})")
        return {str(k): str(v) for k, v in rows}

    def table_mb(self, table: str) -> float:
        size = self.scalar(
            "SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = '{self.database}' AND TABLE_NAME = '{table}'"
        )
        return float(size or 0) / 1e6

    def drop_leftovers(self, table: str) -> list[str]:
        """Drop what a tool stopped by the time limit leaves behind (pt-osc's triggers and
        new table, gh-ost's and ours' helper tables), so that the next run starts from
        the bare table: pt-osc's triggers left on it made every later tool refuse it.
        Returns what was dropped."""
        dropped: list[str] = []
        triggers = self.query(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE "
            f"EVENT_OBJECT_SCHEMA = '{self.database}' AND EVENT_OBJECT_TABLE = '{table}' "
            "AND TRIGGER_NAME LIKE 'pt\\_osc\\_%'"
        )
        for (name,) in triggers:
            self.execute(f"DROP TRIGGER IF EXISTS `{name}`")
            dropped.append(str(name))
        for suffix in ("new", "old", "gho", "ghc", "del"):
            helper = f"_{table}_{suffix}"
            if self.scalar(f"SHOW TABLES LIKE '{helper}'") is not None:
                self.execute(f"DROP TABLE IF EXISTS `{helper}`")
                dropped.append(helper)
        return dropped

    def binlog_bytes(self) -> int:
        return sum(int(r[1]) for r in self.query("SHOW BINARY LOGS"))

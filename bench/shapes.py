"""The benchmarked table shapes (perf-anchors.md section 7): how each is built and probed.

- ``sysbench``: sysbench's own ``sbtest1`` (INT auto-increment key, index on ``k``,
  CHAR(120), CHAR(60)), built by ``sysbench ... prepare`` so that the write load
  (``oltp_write_only``) runs against exactly the table it expects.
- ``wide``: 31 columns covering the common types (integers, DECIMAL, FLOAT, CHAR/VARCHAR
  utf8mb4, TEXT, JSON, BLOB, temporal types, ENUM, SET, BIT, BINARY) and 4 secondary
  indexes, one on a random-valued column: CPU per row and index maintenance.
- ``composite``: a composite key (tenant_id INT, code VARCHAR(64) case-insensitive), the
  key shape whose values are not memory-comparable (dedup and key decoding).

Rows are generated on the server from MariaDB's SEQUENCE engine (``seq_1_to_N``): no row
passes through Python, so building 200,000 wide rows takes seconds.

Each shape also gets one extra *probe row* outside the range any load touches: the
cut-over stall probe updates it every 10 ms (so the probe never conflicts with the load
on a row lock, and the row count stays predictable).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

GENERATE_BATCH = 50_000  # rows per INSERT ... SELECT: bounded binlog cache per statement


@dataclasses.dataclass(frozen=True)
class Shape:
    """One table shape: its name, table, size and the statements the bench needs."""

    name: str
    table: str
    rows: int
    probe_sql: str  # adds 1 to probe_column of the probe row
    probe_where: str  # selects the probe row
    probe_column: str
    probe_start: int  # the probe column's value as built
    add_index: str  # the optional second ALTER (an index on a random-valued column)
    drop_index: str  # undoes add_index between tools, so each starts from the same table

    def probe_value_sql(self) -> str:
        return f"SELECT {self.probe_column} FROM {self.table} WHERE {self.probe_where}"

    def probe_reset_sql(self) -> str:
        column, start = self.probe_column, self.probe_start
        return f"UPDATE {self.table} SET {column} = {start} WHERE {self.probe_where}"

    def describe(self) -> str:
        return f"{self.name} `{self.table}` {self.rows:,} rows"


def sysbench_shape(rows: int) -> Shape:
    probe_id = rows + 1_000  # sysbench only touches ids in 1..table_size
    return Shape(
        name="sysbench",
        table="sbtest1",
        rows=rows,
        probe_sql=f"UPDATE sbtest1 SET k = k + 1 WHERE id = {probe_id}",
        probe_where=f"id = {probe_id}",
        probe_column="k",
        probe_start=0,
        add_index="ADD INDEX bench_c (c(20))",
        drop_index="DROP INDEX bench_c",
    )


def wide_shape(rows: int) -> Shape:
    return Shape(
        name="wide",
        table="wide1",
        rows=rows,
        probe_sql=f"UPDATE wide1 SET int_c = int_c + 1 WHERE id = {rows + 1}",
        probe_where=f"id = {rows + 1}",
        probe_column="int_c",
        probe_start=(rows + 1) * 7,  # int_c = seq * 7 in WIDE_SELECT
        add_index="ADD INDEX bench_email (email)",
        drop_index="DROP INDEX bench_email",
    )


def composite_shape(rows: int) -> Shape:
    return Shape(
        name="composite",
        table="composite1",
        rows=rows,
        probe_sql="UPDATE composite1 SET qty = qty + 1 WHERE tenant_id = -1 AND code = 'probe'",
        probe_where="tenant_id = -1 AND code = 'probe'",
        probe_column="qty",
        probe_start=0,
        add_index="ADD INDEX bench_note (note(20))",
        drop_index="DROP INDEX bench_note",
    )


WIDE_DDL = """
CREATE TABLE wide1 (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  tiny_c TINYINT NOT NULL,
  small_c SMALLINT NOT NULL,
  medium_c MEDIUMINT NOT NULL,
  int_c INT NOT NULL,
  big_c BIGINT NOT NULL,
  uint_c INT UNSIGNED NOT NULL,
  rnd BIGINT NOT NULL,
  float_c FLOAT NULL,
  double_c DOUBLE NULL,
  dec_c DECIMAL(18,4) NOT NULL,
  bool_c TINYINT(1) NOT NULL,
  char_c CHAR(32) NOT NULL,
  name VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
  email VARCHAR(191) NOT NULL,
  text_c TEXT NULL,
  json_c JSON NULL,
  blob_c BLOB NULL,
  date_c DATE NULL,
  time_c TIME(3) NULL,
  dt_c DATETIME(6) NOT NULL,
  ts_c TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  year_c YEAR NULL,
  enum_c ENUM('new','paid','shipped','returned') NOT NULL,
  set_c SET('a','b','c','d') NULL,
  bit_c BIT(8) NULL,
  bin_c BINARY(16) NOT NULL,
  varbin_c VARBINARY(64) NULL,
  uuid_c CHAR(36) NULL,
  nullable_c INT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (id),
  KEY idx_rnd (rnd),
  KEY idx_name (name),
  KEY idx_dt (dt_c),
  KEY idx_enum_int (enum_c, int_c)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

# Deterministic values from the sequence number: the same data every run.
WIDE_SELECT = """
SELECT seq, CAST(seq % 128 AS SIGNED) - 64, seq % 32768, seq % 8388607, seq * 7, seq * 1000003,
  seq % 4294967295, CRC32(seq) * 2654435761 % 1000000007,
  seq / 7, seq / 13, seq * 1.2345, seq % 2,
  LEFT(MD5(seq), 32), CONCAT('Name ', seq, ' Ünïcödé ', LEFT(SHA1(seq), 10)),
  CONCAT('user', seq, '@example.com'),
  REPEAT(MD5(seq), 4), JSON_OBJECT('n', seq, 'tag', LEFT(MD5(seq), 8), 'ok', seq % 2 = 0),
  UNHEX(SHA1(seq)),
  DATE('2020-01-01') + INTERVAL (seq % 2000) DAY, SEC_TO_TIME(seq % 86400) + INTERVAL 0.123 SECOND,
  FROM_UNIXTIME(1600000000 + seq) + INTERVAL 0.000001 * (seq % 1000000) SECOND,
  FROM_UNIXTIME(1600000000 + seq), 1990 + seq % 100,
  ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'returned'), ELT(1 + seq % 4, 'a', 'a,b', 'c', ''),
  seq % 256, UNHEX(MD5(seq)), UNHEX(SHA1(seq)),
  CONCAT_WS('-', LEFT(MD5(seq), 8), '4abc', '8def', '0123', LEFT(SHA1(seq), 12)),
  IF(seq % 3 = 0, NULL, seq), FROM_UNIXTIME(1600000000 + seq)
FROM seq_{lo}_to_{hi}
"""

COMPOSITE_DDL = """
CREATE TABLE composite1 (
  tenant_id INT NOT NULL,
  code VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(12,2) NOT NULL,
  note VARCHAR(200) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (tenant_id, code),
  KEY idx_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

# Mixed-case codes: under the case-insensitive collation 'Sku-1' and 'sku-1' would be the
# same key, so the codes differ by number as well (no duplicate key).
COMPOSITE_SELECT = """
SELECT seq % 100, CONCAT(IF(seq % 2 = 0, 'Sku-', 'sku_'), seq, IF(seq % 3 = 0, 'Ä', 'a')),
  seq % 1000, seq * 0.01, CONCAT('note ', MD5(seq)), FROM_UNIXTIME(1600000000 + seq)
FROM seq_{lo}_to_{hi}
"""


def _fill(execute: Callable[[str], Any], table: str, select: str, rows: int) -> None:
    lo = 1
    while lo <= rows:
        hi = min(rows, lo + GENERATE_BATCH - 1)
        execute(f"INSERT INTO {table} {select.format(lo=lo, hi=hi)}")
        lo = hi + 1


def build_wide(execute: Callable[[str], Any], rows: int) -> None:
    execute("DROP TABLE IF EXISTS wide1")
    execute(WIDE_DDL)
    _fill(execute, "wide1", WIDE_SELECT, rows + 1)  # the last row is the probe row


def build_composite(execute: Callable[[str], Any], rows: int) -> None:
    execute("DROP TABLE IF EXISTS composite1")
    execute(COMPOSITE_DDL)
    _fill(execute, "composite1", COMPOSITE_SELECT, rows)
    execute("INSERT INTO composite1 VALUES (-1, 'probe', 0, 0, 'probe row', NOW(3))")


def add_sysbench_probe_row(execute: Callable[[str], Any], rows: int) -> None:
    execute(f"INSERT INTO sbtest1 (id, k, c, pad) VALUES ({rows + 1_000}, 0, 'probe', 'probe')")

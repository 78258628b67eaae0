"""Probe of the apply's visibility fence: is every transaction up to a binlog position
visible to a READ COMMITTED read started after the position was read?

Writer threads insert rows (fresh inserts: the case whose implicit locks InnoDB releases
before the transaction leaves the read-view system) as fast as they can, autocommit or
in small transactions. A prober loops: read a position P by one of the methods below,
then, on a READ COMMITTED session, read the ids of the recent rows. Afterwards the
binlog is decoded (our own decoder) to find the end position of each insert's
transaction, and every sample is checked: each recent id whose transaction ends at or
before P must have been in the prober's read. A miss is printed and counted.

Methods:
- ``snapshot``: ``SHOW STATUS LIKE 'binlog_snapshot_%'`` on an autocommit session
  (MariaDB reads ``last_commit_pos`` under ``LOCK_commit_ordered``): the fence's method.
- ``snapshot-trx``: the same inside ``START TRANSACTION WITH CONSISTENT SNAPSHOT``.
- ``master``: ``SHOW MASTER STATUS`` (the end of the binlog, which includes groups
  written but not yet committed in InnoDB): the control, which is expected to miss.

Usage (against a sandbox: ``python -m django_ghost.sandbox start --dir .sandbox``)::

    .venv/bin/python -m bench.visibility_probe --port 3306 --method snapshot --seconds 30

It prints one JSON line: samples, ids checked, misses.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

import MySQLdb

from django_ghost.engine.binlog.coordinates import current_position
from django_ghost.engine.binlog.events import BinlogPosition, RowChange, TransactionEnd
from django_ghost.engine.binlog.reader import WatchSpec
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.mysql.connection import ConnectionSpec

SCHEMA = "visibility_probe"
WINDOW = 3000
"""How far below the highest id of the previous sample the prober reads."""


def _connect(args: argparse.Namespace, **extra: Any) -> Any:
    return MySQLdb.connect(
        host=args.host, port=args.port, user=args.user, password=args.password, **extra
    )


def _writer(args: argparse.Namespace, stop: threading.Event, index: int) -> None:
    conn = _connect(args, autocommit=True, database=SCHEMA)
    cur = conn.cursor()
    n = 0
    while not stop.is_set():
        n += 1
        if n % 3 == 0:
            cur.execute("BEGIN")
            for _ in range(1 + n % 4):
                cur.execute("INSERT INTO p (w) VALUES (%s)", (index,))
            cur.execute("COMMIT")
        else:
            cur.execute("INSERT INTO p (w) VALUES (%s)", (index,))
    conn.close()


def _position(cur: Any, method: str) -> BinlogPosition:
    if method == "master":
        cur.execute("SHOW MASTER STATUS")
        row = cur.fetchone()
        return BinlogPosition(str(row[0]), int(row[1]))
    if method == "snapshot-trx":
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    cur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
    values = {str(name).lower(): str(value) for name, value in cur.fetchall()}
    if method == "snapshot-trx":
        cur.execute("COMMIT")
    return BinlogPosition(values["binlog_snapshot_file"], int(values["binlog_snapshot_position"]))


def _probe(args: argparse.Namespace, stop: threading.Event, samples: list[Any]) -> None:
    fence = _connect(args, autocommit=True)
    reader = _connect(args, autocommit=True, database=SCHEMA)
    fcur, rcur = fence.cursor(), reader.cursor()
    rcur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    top = 0
    while not stop.is_set():
        position = _position(fcur, args.method)
        low = max(0, top - WINDOW)
        rcur.execute("SELECT id FROM p WHERE id > %s", (low,))
        seen = {int(row[0]) for row in rcur.fetchall()}
        samples.append((position, low, seen))
        if seen:
            top = max(seen)
    fence.close()
    reader.close()


def _commit_positions(args: argparse.Namespace, start: BinlogPosition) -> dict[int, Any]:
    """id -> end position of the transaction that inserted it."""
    stream = BinlogStream(
        ConnectionSpec(host=args.host, port=args.port, user=args.user, password=args.password),
        server_id=4_000_000_000 - args.port,
        schema=SCHEMA,
        watch={"p": WatchSpec(columns=("id",))},
        start=start,
    )
    pending: list[int] = []
    ends: dict[int, Any] = {}
    conn = _connect(args)
    end = current_position(conn)
    conn.close()
    try:
        while True:
            events = stream.read(10_000, 1.0)
            for event in events:
                if isinstance(event, RowChange) and event.after is not None:
                    pending.append(int(event.after[0]))
                elif isinstance(event, TransactionEnd):
                    for ident in pending:
                        ends[ident] = event.position
                    pending.clear()
            if not events or stream.position >= end:
                return ends
    finally:
        stream.close()


def _key(position: BinlogPosition) -> tuple[int, int]:
    return int(position.file.rpartition(".")[2]), position.pos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="ghost")
    parser.add_argument("--password", default="ghost-sandbox")
    parser.add_argument("--method", choices=("snapshot", "snapshot-trx", "master"))
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)

    setup = _connect(args, autocommit=True)
    cur = setup.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    cur.execute(f"CREATE DATABASE {SCHEMA}")
    cur.execute(f"CREATE TABLE {SCHEMA}.p (id BIGINT AUTO_INCREMENT PRIMARY KEY, w INT)")
    start = current_position(setup)
    setup.close()

    stop = threading.Event()
    samples: list[Any] = []
    threads = [
        threading.Thread(target=_writer, args=(args, stop, i), daemon=True)
        for i in range(args.writers)
    ]
    threads.append(threading.Thread(target=_probe, args=(args, stop, samples), daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()

    ends = _commit_positions(args, start)
    checked = misses = 0
    for position, low, seen in samples:
        limit = _key(position)
        # Ids are handed out roughly in commit order: look a window past the highest read.
        for ident in range(low + 1, max(seen, default=low) + WINDOW):
            end = ends.get(ident)
            if end is None or _key(end) > limit:
                continue
            checked += 1
            if ident not in seen:
                misses += 1
                if misses <= 5:
                    print(f"miss: id {ident} ends at {end}, read after {position}", file=sys.stderr)
    print(
        json.dumps(
            {
                "method": args.method,
                "samples": len(samples),
                "rows": len(ends),
                "checked": checked,
                "misses": misses,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

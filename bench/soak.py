"""Soak: one online migration under sustained writes and operator noise (``make soak``).

Starts a dedicated durable sandbox, seeds a table (300,000 rows by default) and an
identical mirror, runs writer threads that apply every write to both (each thread owns
its own keys, so the mirror ends exactly as the table should), and migrates the table
while a controller randomly sends ``throttle``/``no-throttle``, ``chunk-size=`` and
``max-lag-millis=`` over the control socket. At the postponed cut-over gate a long
transaction holds a metadata lock, the cut-over is unpostponed and must retry; the
transaction then ends and the cut-over succeeds. The writers keep going a little after
the swap; then the mirror gets the plain ALTER and both tables are compared row by row.

Bounded: the whole run aborts (panic) after ``--max-minutes`` (20). Not part of CI.
Exit status 0 only when the checksum is identical and no client write failed.

    python bench/soak.py [--rows 300000] [--writers 4] [--max-minutes 20] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import MySQLdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.control.client import send
from django_ghost.engine.migrator import Migrator  # noqa: E402
from django_ghost.sandbox import Sandbox, ServerInfo  # noqa: E402

ALTER = "ADD COLUMN note VARCHAR(30) NOT NULL DEFAULT 'soak', MODIFY w VARCHAR(60), ADD INDEX (v)"
DB = "soak"
HELD_KEY = 0


def connect(info: ServerInfo, **kwargs: Any) -> Any:
    return MySQLdb.connect(
        host=info.host,
        port=info.port,
        user=info.user,
        password=info.password,
        database=DB,
        autocommit=True,
        charset="utf8mb4",
        **kwargs,
    )


class Writer(threading.Thread):
    """Writes to t and t_mirror; owns keys k with k % count == index."""

    def __init__(self, info: ServerInfo, index: int, count: int, rows: int):
        super().__init__(daemon=True, name=f"writer-{index}")
        self.conn = connect(info)
        self.index, self.count, self.rows = index, count, rows
        self.stop = threading.Event()
        self.rng = random.Random(index)
        self.next_id = 10_000_000 * (index + 1)
        self.writes = 0
        self.failures: list[str] = []
        self.max_latency = 0.0

    def key(self) -> int:
        k = self.rng.randrange(1, self.rows // self.count) * self.count + self.index
        return k if k != HELD_KEY else k + self.count

    def statement(self) -> tuple[str, tuple[Any, ...]]:
        roll = self.rng.random()
        if roll < 0.35:
            self.next_id += 1
            return "INSERT INTO {t} (id, v, w) VALUES (%s, %s, %s)", (
                self.next_id,
                self.rng.randrange(1000),
                f"i{self.next_id}",
            )
        if roll < 0.75:
            return "UPDATE {t} SET v = v + 1, w = CONCAT('u', v) WHERE id = %s", (self.key(),)
        if roll < 0.9:
            return "DELETE FROM {t} WHERE id = %s", (self.key(),)
        k = self.key()
        return "UPDATE {t} SET id = id + %s WHERE id = %s", (100_000_000 * self.count, k)

    def run(self) -> None:
        cur = self.conn.cursor()
        while not self.stop.is_set():
            sql, params = self.statement()
            for table in ("t", "t_mirror"):
                started = time.monotonic()
                try:
                    cur.execute(sql.format(t=table), params)
                    self.writes += 1
                except MySQLdb.Error as exc:
                    self.failures.append(f"{table}: {exc}")
                if table == "t":
                    self.max_latency = max(self.max_latency, time.monotonic() - started)
            time.sleep(0.002)


def table_md5(conn: Any, table: str) -> tuple[int, str]:
    cur = conn.cursor(MySQLdb.cursors.SSCursor)
    cur.execute(f"SELECT id, v, w, note FROM {table} ORDER BY id")
    digest = hashlib.md5()
    count = 0
    for row in cur:
        digest.update(repr(row).encode())
        count += 1
    cur.close()
    return count, digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--max-minutes", type=float, default=20.0)
    parser.add_argument("--dir", default="", help="sandbox directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    args = parser.parse_args(argv)
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    base = Path(args.dir or tempfile.mkdtemp(prefix="dg-soak-"))
    box = Sandbox(base, durable=True)
    info = box.start()
    print(f"sandbox: {info.host}:{info.port} in {base} (durable)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="dgs", dir="/tmp"))
    sock, flag = str(work / "ctl.sock"), work / "postpone"
    writers: list[Writer] = []
    try:
        admin = MySQLdb.connect(**info.connect_kwargs(), autocommit=True)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.cursor().execute(f"CREATE DATABASE {DB}")
        admin.close()
        conn = connect(info)
        cur = conn.cursor()
        for table in ("t", "t_mirror"):
            cur.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, v INT, w VARCHAR(40))")
            cur.execute(
                f"INSERT INTO {table} SELECT seq, seq % 1000, CONCAT('s', seq) "
                f"FROM seq_0_to_{args.rows - 1}"
            )
        print(f"seeded {args.rows:,} rows in {time.monotonic() - started:.0f}s", flush=True)
        writers = [Writer(info, i, args.writers, args.rows) for i in range(args.writers)]
        for w in writers:
            w.start()
        config = GhostConfig(
            host=info.host,
            port=info.port,
            user=info.user,
            password=info.password,
            database=DB,
            table="t",
            alter=ALTER,
            execute=True,
            chunk_size=1000,
            cut_over_lock_timeout_seconds=1,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=sock,
        )
        migrator = Migrator(config)
        outcome: dict[str, Any] = {}

        def migrate() -> None:
            try:
                outcome["result"] = migrator.run()
            except BaseException as exc:  # noqa: BLE001 - reported in the summary
                outcome["error"] = exc

        runner = threading.Thread(target=migrate, daemon=True)
        runner.start()
        ctx = migrator.context
        rng = random.Random(7)
        sent = {"throttle": 0, "no-throttle": 0, "chunk-size": 0, "max-lag-millis": 0}
        while runner.is_alive() and not ctx.phase.startswith("postponed"):
            if time.monotonic() > deadline:
                raise TimeoutError("the copy did not finish within --max-minutes")
            time.sleep(rng.uniform(0.3, 1.5))
            with contextlib.suppress(OSError):
                command = rng.choice(["throttle", "no-throttle", "chunk-size", "max-lag-millis"])
                if command == "chunk-size":
                    reply = send(sock, f"chunk-size={rng.choice([100, 500, 2000, 5000])}")
                elif command == "max-lag-millis":
                    reply = send(sock, f"max-lag-millis={rng.choice([500, 1500, 5000])}")
                else:
                    reply = send(sock, command)
                    if command == "throttle":
                        time.sleep(rng.uniform(0.2, 1.0))
                        send(sock, "no-throttle")
                        sent["no-throttle"] += 1
                if reply.startswith("error"):
                    raise RuntimeError(f"{command}: {reply}")
                sent[command] += 1
            pct = 100.0 * ctx.rows_copied / max(args.rows, 1)
            print(f"  copy {pct:5.1f}%  applied {ctx.events_applied:,}  {ctx.phase}", flush=True)
        with contextlib.suppress(OSError):
            send(sock, "no-throttle")
        if runner.is_alive():
            print("postponed: holding a metadata lock, then unpostponing", flush=True)
            holder = connect(info)
            holder.autocommit(False)
            holder.cursor().execute(f"SELECT * FROM t WHERE id = {HELD_KEY} FOR UPDATE")
            time.sleep(2)
            send(sock, "unpostpone")
            while runner.is_alive() and ctx.cut_over_attempts < 2:
                if time.monotonic() > deadline:
                    raise TimeoutError("no cut-over attempt within --max-minutes")
                time.sleep(0.05)
            time.sleep(1.5)
            holder.rollback()
            holder.close()
        runner.join(timeout=max(1.0, deadline - time.monotonic()))
        if runner.is_alive():
            with contextlib.suppress(OSError):
                send(sock, "panic")
            runner.join(timeout=30)
            raise TimeoutError("the migration did not finish within --max-minutes")
        time.sleep(2)  # writes after the swap
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(timeout=30)
        error = outcome.get("error")
        result = outcome.get("result")
        identical = False
        ours = mirror = (0, "")
        if error is None:
            cur.execute(f"ALTER TABLE t_mirror {ALTER}")
            ours, mirror = table_md5(conn, "t"), table_md5(conn, "t_mirror")
            identical = ours == mirror
        writes = sum(w.writes for w in writers)
        failures = [f for w in writers for f in w.failures]
        print("\n== soak summary ==")
        print(f"  migration:          {'ok' if error is None else f'FAILED: {error!r}'}")
        if result is not None:
            print(f"  rows copied:        {result.rows_copied:,}")
            print(f"  events applied:     {result.events_applied:,}")
            print(f"  checksum verified:  {result.checksum_verified}")
            print(
                f"  cut-over:           {result.cut_over_attempts} attempts, stall "
                f"{result.cut_over_stall_seconds:.3f}s"
            )
        print(f"  socket commands:    {sent}")
        print(f"  client writes:      {writes:,} ({len(failures)} failed)")
        print(f"  max write latency:  {max(w.max_latency for w in writers):.3f}s")
        print(f"  final rows:         {ours[0]:,} (mirror {mirror[0]:,})")
        print(f"  md5:                {ours[1]} vs {mirror[1]}")
        print(f"  table == mirror:    {'IDENTICAL' if identical else 'DIFFERENT'}")
        print(f"  wall time:          {time.monotonic() - started:.0f}s")
        for f in failures[:5]:
            print(f"  failure: {f}")
        ok = (
            error is None
            and identical
            and not failures
            and result is not None
            and result.cut_over_attempts >= 2
        )
        print(f"  verdict:            {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        for w in writers:
            w.stop.set()
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            box.stop()
            if not args.dir:
                shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

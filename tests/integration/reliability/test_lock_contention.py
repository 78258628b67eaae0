"""A long transaction holds a metadata lock on the table when the cut-over comes.

Extends test_operations' ``test_cut_over__long_transaction__retries_then_succeeds``: the
application keeps writing (to the table and a mirror) the whole time and no write waits
longer than about twice the cut-over lock timeout; two pollers check every few ms that
the table exists and answers; the cut-over retries, succeeds once the transaction ends,
and the result equals the mirror after a plain ALTER.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.integration.helpers import MirroredWriter, Run, make_config, rows_md5, seed
from tests.plugins.mariadb import TestDatabase, wait_for

TIMEOUT = 1  # cut_over_lock_timeout_seconds


class Poller(threading.Thread):
    """Checks, every ``interval`` s, that the table is listed and readable."""

    def __init__(self, db: TestDatabase, interval: float = 0.003):
        super().__init__(daemon=True)
        self.show_conn = db.connect()
        self.select_conn = db.connect()
        self.interval = interval
        self.stop = threading.Event()
        self.polls = 0
        self.problems: list[str] = []

    def run(self) -> None:
        show = self.show_conn.cursor()
        select = self.select_conn.cursor()
        while not self.stop.is_set():
            try:
                show.execute("SHOW TABLES LIKE 't'")
                if not show.fetchall():
                    self.problems.append(f"{time.monotonic():.3f} SHOW TABLES: t missing")
                select.execute("SELECT 1 FROM t LIMIT 1")
                select.fetchall()
            except Exception as exc:  # noqa: BLE001 - recorded and asserted on
                self.problems.append(f"{time.monotonic():.3f} {exc}")
            self.polls += 1
            time.sleep(self.interval)


def test_cut_over__long_transaction_holds_metadata_lock__writes_bounded_table_never_missing(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 3000)
    db.execute("INSERT INTO t (id, v, w) VALUES (-5, 0, 'held')")
    db.execute("INSERT INTO t_mirror (id, v, w) VALUES (-5, 0, 'held')")
    writer = MirroredWriter(db)
    poller = Poller(db)
    writer.start()
    poller.start()
    flag = tmp_path / "postpone"
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT NOT NULL DEFAULT 3",
            cut_over_lock_timeout_seconds=TIMEOUT,
            postpone_cut_over_flag_file=str(flag),
            serve_socket_file=str(tmp_path / "s.sock"),
        )
    )
    run.start()
    ctx = run.migrator.context
    assert wait_for(run.postponed, timeout=60)
    holder = db.connect(autocommit=False)
    try:
        holder.cursor().execute("SELECT * FROM t WHERE id = -5 FOR UPDATE")  # metadata lock
        writer.max_latency = 0.0  # measure from the cut-over on
        flag.unlink()
        assert wait_for(lambda: ctx.cut_over_attempts >= 3, timeout=60)
        writes_during = writer.writes
        time.sleep(0.5)
        assert writer.writes > writes_during  # the application is not stuck behind the lock
        assert "`x`" not in db.show_create("t")
    finally:
        # Always release the lock: a failing assertion must not leave the database
        # teardown (DROP DATABASE) waiting on it forever.
        holder.rollback()
        holder.close()
    run.join(timeout=60)
    time.sleep(0.3)
    writer.finish()
    poller.stop.set()
    poller.join(timeout=10)
    assert run.error is None, repr(run.error)
    assert run.result.cut_over_attempts >= 3
    assert run.result.checksum_verified
    assert writer.failures == []
    print(f"max write latency {writer.max_latency:.3f}s, attempts {run.result.cut_over_attempts}")
    assert writer.max_latency < 2 * TIMEOUT + 0.75, writer.max_latency
    assert poller.polls > 200 and poller.problems == []
    db.execute("ALTER TABLE t_mirror ADD COLUMN x INT NOT NULL DEFAULT 3")
    assert rows_md5(db, "t", "id, v, w, x") == rows_md5(db, "t_mirror", "id, v, w, x")

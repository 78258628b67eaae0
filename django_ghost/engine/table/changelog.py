"""The changelog table: heartbeats and state markers written by us, read back from the binlog.

Rows follow gh-ost's layout (id 1 = heartbeat, 2 = state, others audit). Writing a value
and then seeing it arrive through the binlog stream is how the engine knows how far
behind the stream is (heartbeat lag) and that every change before a point has been
applied (the sentinel used before the checksum and inside the cut-over).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..mysql.connection import Connection, ConnectionSpec, execute
from ..sql.quote import quote_identifier as q

HEARTBEAT_ID = 1
STATE_ID = 2
LATENCY_PROBE_ID = 3
"""The row the latency target's probe rewrites (throttle/latency.py); the stream ignores it."""


def create_table_sql(name: str) -> str:
    return (
        f"CREATE TABLE {q(name)} ("
        "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "last_update TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) "
        "ON UPDATE CURRENT_TIMESTAMP(6), "
        "hint VARCHAR(64) CHARACTER SET ascii NOT NULL, "
        "value VARCHAR(16000) CHARACTER SET ascii NOT NULL, "
        "UNIQUE KEY hint_uidx (hint)"
        ") ENGINE=InnoDB AUTO_INCREMENT=256 COMMENT='django_ghost changelog'"
    )


class Changelog:
    """Writes heartbeat and state rows to the changelog table."""

    def __init__(self, conn: Connection, table: str):
        self.conn = conn
        self.table = table
        self._lock = threading.Lock()

    def write(self, hint: str, value: str, *, fixed_id: int = 0) -> None:
        sql = (
            f"INSERT INTO {q(self.table)} (id, hint, value) VALUES (NULLIF(%s, 0), %s, %s) "
            "ON DUPLICATE KEY UPDATE last_update = NOW(6), value = VALUES(value)"
        )
        with self._lock:
            execute(self.conn, sql, (fixed_id, hint, value))

    def heartbeat(self) -> None:
        self.write("heartbeat", repr(time.time()), fixed_id=HEARTBEAT_ID)

    def state(self, value: str) -> None:
        self.write("state", value, fixed_id=STATE_ID)


class Heartbeat:
    """Writes a heartbeat every interval on its own connection, in a daemon thread.

    ``allowed`` is asked before each write: critical-load hibernation stops every write to
    the server, heartbeats included (gh-ost's hibernation reads and writes nothing).
    """

    def __init__(
        self,
        spec: ConnectionSpec,
        table: str,
        interval: float,
        connect: Callable[[ConnectionSpec], Connection],
        on_error: Callable[[BaseException], None],
        allowed: Callable[[], bool] = lambda: True,
    ):
        self.spec = spec
        self._allowed = allowed
        self.table = table
        self.interval = interval
        self._connect = connect
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ghost-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failures = 0
        conn = None
        while not self._stop.is_set():
            if not self._allowed():
                self._stop.wait(self.interval)
                continue
            try:
                if conn is None:
                    conn = self._connect(self.spec)
                Changelog(conn, self.table).heartbeat()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - reported through on_error
                failures += 1
                conn = None
                if failures >= 30:
                    self._on_error(exc)
                    return
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()

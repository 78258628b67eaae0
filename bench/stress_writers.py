"""Stress writers: one thread per key partition, at full speed, recording what committed.

A writer runs transactions of the hostile mix (stress_shapes.py) under a random
isolation level each, and keeps its partition's model in step: the model changes as each
statement is sent, and is undone unless the transaction commits. Every committing
transaction also inserts a marker row (writer, seq) into ``stress_txn``; when the
connection is lost at COMMIT or after XA PREPARE (a server restart), the writer
reconnects, finishes its own prepared XA branch (XA RECOVER) and reads the marker to learn
whether the transaction committed. So the model holds exactly the committed transactions,
whatever happened to the connection, without ever reading the migrated table.

Errors are sorted: deadlocks (rolled back by the server; the writer goes on with a new
transaction; attributed to the engine when its statements are in InnoDB's deadlock
report, else to two writers), lost connections (expected only while a fault is on), and
everything else, which is a client error. A statement that reports other affected rows
than the model predicts is a "rowcount surprise": the table already differs from the
replay (or the harness is wrong), either way a failure.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import random
import threading
import time
from typing import Any

import MySQLdb

from .stress_model import MARKERS, ModelError, Partition
from .stress_shapes import TxShape, mix

CONNECTION_LOST = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})
DEADLOCK, LOCK_WAIT = 1213, 1205
ISOLATION = ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")
ENGINE_MARKS = ("_t_gho", "_t_ghc", "`t~g`", "LOCK IN SHARE MODE", "FOR SHARE", "django-ghost")
SAMPLES = 8
RECONNECT_SECONDS = 180.0


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the stressed table lives."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def connect(self, **kwargs: Any) -> Any:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            "autocommit": True,
            "charset": "utf8mb4",
        }
        params.update(kwargs)
        return MySQLdb.connect(**params)


@dataclasses.dataclass
class WriterStats:
    committed: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    rolled_back: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    statements: int = 0
    deadlocks_engine: int = 0
    deadlocks_writers: int = 0
    lost_in_fault: int = 0
    in_doubt_committed: int = 0
    in_doubt_not: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    surprises: list[str] = dataclasses.field(default_factory=list)
    deadlock_samples: list[str] = dataclasses.field(default_factory=list)

    def add(self, other: WriterStats) -> None:
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, list):
                mine.extend(
                    theirs[: max(0, SAMPLES - len(mine))] if "samples" in f.name else theirs
                )
            elif isinstance(mine, collections.Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)

    @property
    def transactions(self) -> int:
        return sum(self.committed.values()) + sum(self.rolled_back.values())


def deadlock_side(conn: Any) -> tuple[str, str]:
    """("engine" or "writers", the report) from InnoDB's latest deadlock report."""
    try:
        cur = conn.cursor()
        cur.execute("SHOW ENGINE INNODB STATUS")
        text = str(cur.fetchone()[2])
    except MySQLdb.Error:
        return "writers", "(no report)"
    start = text.find("LATEST DETECTED DEADLOCK")
    end = text.find("TRANSACTIONS\n------------", start)
    report = text[start:end] if start >= 0 else ""
    side = "engine" if any(mark in report for mark in ENGINE_MARKS) else "writers"
    return side, report[:3000]


class Writer(threading.Thread):
    """Writes to its partition until ``stop`` is set; see the module docstring.

    ``fault`` is set by the run while a fault may cut connections (a server restart):
    connections lost then are expected, at any other time they are client errors.
    ``pace`` spaces the transactions out (``make stress --rate``)."""

    def __init__(
        self,
        target: Target,
        part: Partition,
        *,
        seed: int,
        xa: bool,
        fault: threading.Event,
        pace: float = 0.0,
    ):
        super().__init__(daemon=True, name=f"stress-writer-{part.index}")
        self.target, self.part, self.fault = target, part, fault
        self.rng = random.Random(seed * 1000 + part.index)
        self.shapes, self.weights = mix(xa)
        self.pace = pace
        """Seconds between the starts of two transactions (0: full speed)."""
        self.stop = threading.Event()
        self.stats = WriterStats()
        self.seq = 0
        self.state = "idle"
        self.conn: Any = target.connect()

    def run(self) -> None:
        next_at = time.monotonic()
        try:
            while not self.stop.is_set():
                self.transaction()
                if self.pace:
                    next_at = max(next_at + self.pace, time.monotonic() - 1.0)
                    self.stop.wait(next_at - time.monotonic())
        except ModelError as exc:
            self.stats.errors.append(f"harness: {exc}")
        except Exception as exc:  # noqa: BLE001 - reported as a client error
            self.stats.errors.append(f"writer {self.part.index} stopped: {exc!r}")
        finally:
            with contextlib.suppress(MySQLdb.Error):
                self.conn.close()

    def transaction(self) -> None:
        shape = self.rng.choices(self.shapes, self.weights)[0]
        self.seq += 1
        xid = f"'stress-{self.part.index}-{self.seq}'"
        self.state = "open"
        try:
            cur = self.conn.cursor()
            cur.execute(f"SET TRANSACTION ISOLATION LEVEL {self.rng.choice(ISOLATION)}")
            cur.execute(f"XA START {xid}" if shape.xa else "BEGIN")
            for stmt in shape.body(self.part, self.rng):
                got = cur.execute(stmt.sql, stmt.params or None)
                self.stats.statements += 1
                if stmt.rows is not None and got != stmt.rows:
                    self.stats.surprises.append(
                        f"{shape.name}: {stmt.sql} {stmt.params}: expected {stmt.rows} "
                        f"rows, the server reported {got}"
                    )
            committed = self.finish(cur, shape, xid)
        except MySQLdb.Error as exc:
            committed = self.failed(exc, shape, xid)
        if committed:
            self.part.commit()
            self.stats.committed[shape.name] += 1
        else:
            self.part.undo_to(0)
        self.state = "idle"

    def finish(self, cur: Any, shape: TxShape, xid: str) -> bool:
        """End the transaction as its shape says; True if it committed."""
        if shape.end == "rollback":
            cur.execute("ROLLBACK")
            self.stats.rolled_back[shape.name] += 1
            return False
        # The marker also keeps an XA branch from being read-only at PREPARE.
        cur.execute(f"INSERT INTO {MARKERS} VALUES (%s, %s)", (self.part.index, self.seq))
        if shape.end == "commit":
            self.state = "committing"
            cur.execute("COMMIT")
            return True
        cur.execute(f"XA END {xid}")
        if shape.end == "xa-one-phase":
            self.state = "committing"
            cur.execute(f"XA COMMIT {xid} ONE PHASE")
            return True
        cur.execute(f"XA PREPARE {xid}")
        self.state = "prepared"
        # A coordinator's round trip: the branch's rows are in the binlog (logged at
        # PREPARE) before they are committed.
        time.sleep(self.rng.uniform(0, 0.02))
        if shape.end == "xa-rollback":
            cur.execute(f"XA ROLLBACK {xid}")
            self.stats.rolled_back[shape.name] += 1
            return False
        cur.execute(f"XA COMMIT {xid}")
        return True

    def failed(self, exc: MySQLdb.Error, shape: TxShape, xid: str) -> bool:
        """Sort the error, end the transaction; True if it committed after all."""
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in CONNECTION_LOST:
            if self.fault.is_set():
                self.stats.lost_in_fault += 1
            else:
                self.stats.errors.append(f"{shape.name}: connection lost outside a fault: {exc}")
            self.reconnect()
        elif code == DEADLOCK:
            self._rollback(shape, xid)
            side, report = deadlock_side(self.conn)
            if side == "engine":
                self.stats.deadlocks_engine += 1
            else:
                self.stats.deadlocks_writers += 1
            if len(self.stats.deadlock_samples) < SAMPLES:
                self.stats.deadlock_samples.append(report)
        else:
            self.stats.errors.append(f"{shape.name} ({self.state}): {exc}")
            self._rollback(shape, xid)
        if self.state in ("committing", "prepared"):
            return self.resolve(shape, xid)
        return False

    def _rollback(self, shape: TxShape, xid: str) -> None:
        """Roll back an open transaction; a session whose XA branch will not end cleanly
        is replaced (a disconnect rolls back a branch that is not prepared)."""
        if self.state == "prepared":
            return  # resolve() finishes a prepared branch
        statements = [f"XA END {xid}", f"XA ROLLBACK {xid}"] if shape.xa else ["ROLLBACK"]
        for sql in statements:
            try:
                self.conn.cursor().execute(sql)
            except MySQLdb.Error:
                if shape.xa or sql == "ROLLBACK":
                    self.reconnect()
                    return

    def reconnect(self) -> None:
        with contextlib.suppress(MySQLdb.Error):
            self.conn.close()
        deadline = time.monotonic() + RECONNECT_SECONDS
        while True:
            try:
                self.conn = self.target.connect()
                return
            except MySQLdb.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def resolve(self, shape: TxShape, xid: str) -> bool:
        """After an error at COMMIT or past XA PREPARE: finish our prepared branch as
        intended, then the marker tells whether the transaction committed."""
        for attempt in range(50):
            try:
                cur = self.conn.cursor()
                if shape.xa:
                    cur.execute("XA RECOVER")
                    if any(f"'{row[3]!s}'" == xid for row in cur.fetchall()):
                        verb = "ROLLBACK" if shape.end == "xa-rollback" else "COMMIT"
                        cur.execute(f"XA {verb} {xid}")
                cur.execute(
                    f"SELECT COUNT(*) FROM {MARKERS} WHERE writer = %s AND seq = %s",
                    (self.part.index, self.seq),
                )
                committed = bool(cur.fetchone()[0])
                break
            except MySQLdb.Error as exc:
                if attempt == 49 or not (exc.args and exc.args[0] in CONNECTION_LOST):
                    raise
                self.reconnect()
        if committed:
            self.stats.in_doubt_committed += 1
        else:
            self.stats.in_doubt_not += 1
        return committed


def total(writers: list[Writer]) -> WriterStats:
    stats = WriterStats()
    for w in writers:
        stats.add(w.stats)
    return stats

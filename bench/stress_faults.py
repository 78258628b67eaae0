"""The stress scenarios: what happens to the migration while the writers write.

- ``none``: ``Migrator.run()`` in-process, nothing else.
- ``operator``: in-process, with an operator at the control socket during the copy
  (throttle/no-throttle, chunk-size=, max-lag-millis=), and at the postponed cut-over a
  transaction holding a metadata lock on the table while the cut-over is unpostponed: the
  first attempt must time out and the cut-over retry (at least 2 attempts).
- ``xa``: in-process, the writers' mix includes XA transactions. An engine that refuses
  XA with an error naming it leaves the original table, which must still equal the
  replay; the refusal is the expected outcome then, not a failure.
- ``kill-copy``, ``kill-catchup``, ``kill-checksum``, ``kill-postponed``,
  ``kill-cutover``: the CLI in a child process, SIGKILLed at a random moment of that
  phase (read from its control socket and the server's process list), then recovered as
  an operator would (stress_migrate.Migration.recover: ``--resume``).
- ``restart``: the CLI, and the server restarted (clean shutdown, same port) mid-copy;
  the engine should resume by itself, else ``--resume``.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import MySQLdb

from django_ghost.engine.control.client import send
from django_ghost.engine.migrator import Migrator

from .stress_migrate import Migration, Outcome, Watch
from .stress_model import TABLE
from .stress_writers import Target

LATER = ("verifying", "postponed", "cutting over", "cut over", "done")
"""Phases after the first catch-up (a kill aimed earlier lands there if it was missed)."""


@dataclasses.dataclass
class Stage:
    """What a scenario acts on."""

    migration: Migration
    rows: int
    rng: random.Random
    fault: threading.Event
    """Set while connections may be cut (the writers count their losses as expected)."""
    restart: Callable[[], None] | None
    holders: list[Any] = dataclasses.field(default_factory=list)


def hold_metadata_lock(target: Target) -> Any:
    """A transaction with a locking read of a key no writer uses: it holds a metadata
    lock on the table that a cut-over's LOCK TABLES must wait for (READ COMMITTED, so no
    gap lock stands in the writers' way)."""
    conn = target.connect()
    cur = conn.cursor()
    cur.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    cur.execute("BEGIN")
    cur.execute(f"SELECT id FROM {TABLE} WHERE id = 0 FOR UPDATE")
    return conn


def release(holders: list[Any]) -> None:
    while holders:
        conn = holders.pop()
        try:
            conn.rollback()
            conn.close()
        except MySQLdb.Error:
            pass


# -- in-process runs ---------------------------------------------------------------------


def none(stage: Stage) -> Outcome:
    return stage.migration.in_process()


def xa(stage: Stage) -> Outcome:
    return stage.migration.in_process(xa=True)


def operator(stage: Stage) -> Outcome:
    def noise(migrator: Migrator, alive: Callable[[], bool], outcome: Outcome) -> None:
        operate(stage, migrator, alive, outcome)

    outcome = stage.migration.in_process(noise=noise)
    if outcome.status == "ok" and outcome.cut_over_attempts < 2:
        outcome.fail(f"{outcome.cut_over_attempts} cut-over attempt(s) despite the held lock")
    return outcome


def operate(stage: Stage, migrator: Migrator, alive: Callable[[], bool], outcome: Outcome) -> None:
    """Random socket commands during the copy, then the held lock at the cut-over."""
    sock, rng, ctx = stage.migration.sock, stage.rng, migrator.context
    chunk = stage.migration.knobs.chunk_size
    sent: collections.Counter[str] = collections.Counter()
    while alive() and not ctx.phase.startswith("postponed"):
        time.sleep(rng.uniform(0.1, 0.6))
        command = rng.choice(
            [
                "throttle",
                f"chunk-size={rng.choice([max(10, chunk // 2), chunk, chunk * 2, chunk * 5])}",
                f"max-lag-millis={rng.choice([500, 1500, 5000])}",
            ]
        )
        try:
            reply = send(sock, command)
            if command == "throttle":
                time.sleep(rng.uniform(0.05, 0.4))
                send(sock, "no-throttle")
        except OSError:
            continue
        if reply.startswith("error"):
            outcome.detail.append(f"socket refused {command!r}: {reply.strip()}")
        sent[command.split("=")[0]] += 1
    outcome.detail.append(f"socket commands {dict(sent)}")
    if not alive():
        return
    holder = hold_metadata_lock(stage.migration.target)
    try:
        time.sleep(0.3)
        send(sock, "unpostpone")
        deadline = time.monotonic() + 60
        while alive() and ctx.cut_over_attempts < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        release([holder])


# -- kills of the CLI --------------------------------------------------------------------


def _copy(stage: Stage, watch: Watch) -> str:
    share = stage.rng.uniform(0.1, 0.9)
    watch.until(
        lambda s: (
            s.get("phase") != "copying"
            and s.get("phase") != "starting"
            or s.get("rows_copied", 0) >= share * stage.rows
        ),
        stage.migration.knobs.timeout,
    )
    return f"copy at {share:.0%}"


def _catchup(stage: Stage, watch: Watch) -> str:
    watch.until(
        lambda s: s.get("phase") == "catching up" or str(s.get("phase")).startswith(LATER),
        stage.migration.knobs.timeout,
    )
    time.sleep(stage.rng.uniform(0, 0.05))
    return "catch-up"


def _checksum(stage: Stage, watch: Watch) -> str:
    watch.until(
        lambda s: s.get("phase") == "verifying" or str(s.get("phase")).startswith(LATER[1:]),
        stage.migration.knobs.timeout,
    )
    running = watch.until_statement(lambda info, _: "CRC32(" in info, 5.0)
    time.sleep(stage.rng.uniform(0, 0.02))
    return "checksum" + (" (a checksum query running)" if running else " (no query seen)")


def _postponed(stage: Stage, watch: Watch) -> str:
    watch.until(
        lambda s: str(s.get("phase")).startswith("postponed"), stage.migration.knobs.timeout
    )
    time.sleep(stage.rng.uniform(0, 1.0))
    return "postponed cut-over"


def _cutover(stage: Stage, watch: Watch) -> str:
    migration = stage.migration
    watch.until(lambda s: str(s.get("phase")).startswith("postponed"), migration.knobs.timeout)
    how = stage.rng.choice(("lock-wait", "rename", "random"))
    if how == "lock-wait":
        stage.holders.append(hold_metadata_lock(migration.target))
    migration.flag.unlink(missing_ok=True)
    if how == "lock-wait":
        seen = watch.until_statement(
            lambda info, state: info.startswith("LOCK TABLES") and "lock" in state, 30.0
        )
        time.sleep(stage.rng.uniform(0, 0.8))
        return f"cut-over, waiting for its lock ({'seen' if seen else 'not seen'})"
    if how == "rename":
        seen = watch.until_statement(lambda info, _: info.upper().startswith("RENAME"), 30.0)
        return f"cut-over, at {seen[:80]!r}" if seen else "cut-over (no RENAME seen)"
    time.sleep(stage.rng.uniform(0, 0.5))
    return "cut-over, random moment after unpostpone"


KILL_POINTS = {
    "kill-copy": _copy,
    "kill-catchup": _catchup,
    "kill-checksum": _checksum,
    "kill-postponed": _postponed,
    "kill-cutover": _cutover,
}


def kill(stage: Stage, point: str) -> Outcome:
    migration = stage.migration
    # Postponed, so that the run cannot end before a kill aimed at an earlier phase.
    proc = migration.spawn(postpone=True)
    watch = Watch(migration, proc)
    outcome = Outcome()
    try:
        where = KILL_POINTS[point](stage, watch)
        ended = proc.poll()
        if ended is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            outcome.detail.append(f"SIGKILL at {where}: {watch.where()}")
        else:
            outcome.detail.append(f"MISSED: the run ended (exit {ended}) before the kill")
    finally:
        release(stage.holders)
        watch.close()
        migration.flag.unlink(missing_ok=True)
    if proc.returncode == 0:
        return outcome
    return migration.recover(outcome)


# -- server restart ----------------------------------------------------------------------


def restart(stage: Stage) -> Outcome:
    migration = stage.migration
    outcome = Outcome()
    if stage.restart is None:
        return outcome.fail("no way to restart this server (use the harness's own sandbox)")
    proc = migration.spawn()
    watch = Watch(migration, proc)
    share = stage.rng.uniform(0.2, 0.8)
    watch.until(
        lambda s: (
            s.get("phase") not in ("starting", "copying")
            or s.get("rows_copied", 0) >= share * stage.rows
        ),
        migration.knobs.timeout,
    )
    where = watch.where()
    watch.close()
    stage.fault.set()
    started = time.monotonic()
    try:
        stage.restart()
    finally:
        down = time.monotonic() - started
        # Writers that were blocked may learn of the restart a little later.
        clear = threading.Timer(3.0, stage.fault.clear)
        clear.daemon = True
        clear.start()
    outcome.detail.append(f"server restarted at {where} (down {down:.1f}s)")
    code = migration.wait(proc)
    if code is None:
        return outcome.fail(migration.stuck)
    if code == 0:
        outcome.detail.append("the run finished by itself")
        return outcome
    outcome.detail.append(f"the run failed (exit {code}): {migration.log_tail(1)[:300]}")
    return migration.recover(outcome)


def _kill_at(point: str) -> Callable[[Stage], Outcome]:
    return lambda stage: kill(stage, point)


SCENARIOS: dict[str, Callable[[Stage], Outcome]] = {
    "none": none,
    "operator": operator,
    "xa": xa,
    **{point: _kill_at(point) for point in KILL_POINTS},
    "restart": restart,
}

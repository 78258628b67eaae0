"""The cut-over stall probe: one single-row write to the migrated table every 10 ms.

It runs in its own process (so the orchestrator's and the engine's GIL cannot delay it),
autocommit, from before the migration starts until the bench sends SIGTERM. The longest
time one write waited is the stall an application would have seen; it is usually the
cut-over (the table is locked for the rename) but under load can also be a row lock
held by a copy chunk, so the time of the longest wait is reported too. Errors are
counted and the probe reconnects, because an online migration must not make a write
*fail* either.

:class:`ProbeProcess` is the bench's (the parent's) side: it starts the child and always
stops it, SIGTERM then SIGKILL after a timeout, because a probe left running keeps
writing every 10 ms and raises the machine's load for every later run. The child also
stops by itself once its parent is gone (a killed bench cannot run its ``finally``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import MySQLdb

INTERVAL = 0.010


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", required=True, help="MySQLdb.connect kwargs as JSON")
    parser.add_argument("--sql", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = json.loads(args.connect)
    running = True

    def stop(_signum: int, _frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    writes = errors = unmatched = 0
    unmatched_at: list[float] = []
    longest = 0.0
    longest_at = 0.0
    slow: list[tuple[float, float]] = []  # (epoch, seconds) of every wait over 100 ms
    last_error = ""
    conn = None
    parent = os.getppid()
    # A changed parent pid means the bench died (we were re-parented): stop, or this
    # process would write every 10 ms until the machine reboots.
    while running and os.getppid() == parent:
        begun = time.monotonic()
        try:
            if conn is None:
                conn = MySQLdb.connect(autocommit=True, **kwargs)
            affected = conn.cursor().execute(args.sql)
            writes += 1
            if affected != 1:
                # the probe row was not there: a write the application would have lost
                unmatched += 1
                unmatched_at.append(time.time())
        except MySQLdb.Error as exc:
            errors += 1
            last_error = str(exc)
            conn = None
        waited = time.monotonic() - begun
        if waited > longest:
            longest, longest_at = waited, time.time()
        if waited > 0.1:
            slow.append((time.time(), waited))
        time.sleep(max(0.0, INTERVAL - waited))
    result = {
        "writes": writes,
        "errors": errors,
        "unmatched": unmatched,
        "unmatched_at": unmatched_at[:20],
        "last_error": last_error,
        "max_wait_seconds": longest,
        "max_wait_at": longest_at,
        "slow": slow[-50:],
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh)
    return 0


class ProbeProcess:
    """One probe child, from :meth:`start` until :meth:`stop` (call it in a ``finally``)."""

    def __init__(self, connect: dict[str, Any], sql: str, out: Path, cwd: Path):
        self.args = [
            sys.executable,
            "-m",
            "bench.probe",
            "--connect",
            json.dumps(connect),
            "--sql",
            sql,
            "--out",
            str(out),
        ]
        self.out = out
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.out.unlink(missing_ok=True)  # a stale result must not pass for this run's
        self.proc = subprocess.Popen(self.args, cwd=self.cwd)

    def stop(self, timeout: float = 15.0) -> dict[str, Any]:
        """Stop the child (SIGTERM, then SIGKILL after ``timeout`` s); its result or {}.

        The probe may be blocked in a write behind a metadata lock when SIGTERM arrives
        (it handles the signal once the write returns), hence the wait before the kill.
        A killed probe writes no result: the run then has no probe figures, not stale ones.
        """
        proc, self.proc = self.proc, None
        if proc is None:
            return {}
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:
            result: dict[str, Any] = json.loads(self.out.read_text())
        except (OSError, ValueError):
            return {}
        return result


if __name__ == "__main__":
    sys.exit(main())

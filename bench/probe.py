"""The cut-over stall probe: one single-row write to the migrated table every 10 ms.

It runs in its own process (so the orchestrator's and the engine's GIL cannot delay it),
autocommit, from before the migration starts until the bench sends SIGTERM. The longest
time one write waited is the stall an application would have seen; it is usually the
cut-over (the table is locked for the rename) but under load can also be a row lock
held by a copy chunk, so the time of the longest wait is reported too. Errors are
counted and the probe reconnects, because an online migration must not make a write
*fail* either.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
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
    while running:
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


if __name__ == "__main__":
    sys.exit(main())

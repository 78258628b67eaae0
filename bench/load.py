"""The write load: ``sysbench oltp_write_only`` against ``sbtest1``, and its report.

sysbench runs in the background with ``--report-interval=1`` for far longer than needed
and is stopped with SIGTERM once the measured window is over; its stdout is line
buffered (``stdbuf -oL``) so that every per-second line is on disk when it is killed
(it prints no summary then). Each per-second line carries tps, the 95th percentile
latency of that second and the errors it ignored; the bench averages those over a
window of seconds (the warm-up baseline, or the migration) with the window given in
seconds since sysbench started.

Client errors are the sum of ``err/s`` (errors sysbench ignores and retries: deadlocks,
lock wait timeouts) plus every FATAL line (an error that kills the client thread, e.g.
error 1146 when a table disappears under a prepared statement).
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .server import Server

LINE = re.compile(
    r"\[\s*(?P<sec>\d+)s\s*\]\s+thds:\s*(?P<thds>\d+)\s+tps:\s*(?P<tps>[\d.]+).*?"
    r"lat \(ms,95%\):\s*(?P<p95>[\d.]+)\s+err/s:\s*(?P<err>[\d.]+)"
)


def sysbench_args(server: Server, rows: int, *, threads: int = 4) -> list[str]:
    return [
        "sysbench",
        "oltp_write_only",
        f"--mysql-host={server.host}",
        f"--mysql-port={server.port}",
        f"--mysql-user={server.user}",
        f"--mysql-password={server.password}",
        f"--mysql-db={server.database}",
        "--tables=1",
        f"--table-size={rows}",
        f"--threads={threads}",
    ]


def prepare(server: Server, rows: int) -> None:
    subprocess.run(
        [*sysbench_args(server, rows), "prepare"], check=True, capture_output=True, text=True
    )


@dataclasses.dataclass
class Second:
    sec: int
    threads: int
    tps: float
    p95_ms: float
    errors: float


@dataclasses.dataclass
class Window:
    """Averages of the per-second lines in one time window."""

    seconds: int
    tps: float
    p95_ms: float
    p95_max_ms: float
    errors: float


class Load:
    """One background sysbench run (``rate`` 0 means unthrottled)."""

    def __init__(self, server: Server, rows: int, rate: int, log: Path, *, threads: int = 4):
        self.server = server
        self.rows = rows
        self.rate = rate
        self.log = log
        self.threads = threads
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self, duration: int = 3600) -> None:
        args = [
            "stdbuf",
            "-oL",
            *sysbench_args(self.server, self.rows, threads=self.threads),
            f"--rate={self.rate}",
            f"--time={duration}",
            "--report-interval=1",
            "--percentile=95",
            "run",
        ]
        self.started = time.monotonic()
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)

    def now(self) -> float:
        """Seconds since sysbench started (the clock of its per-second lines)."""
        return time.monotonic() - self.started

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """Stop sysbench; return its exit code if it had already exited by itself."""
        assert self.proc is not None
        exited = self.proc.poll()
        if exited is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return exited

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def seconds(self) -> list[Second]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            Second(int(m["sec"]), int(m["thds"]), float(m["tps"]), float(m["p95"]), float(m["err"]))
            for m in LINE.finditer(text)
        ]

    def fatal_lines(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "FATAL" in line]

    def window(self, start: float, end: float) -> Window:
        # Line "[ n s ]" covers the second (n-1, n]: keep the lines wholly inside.
        inside = [s for s in self.seconds() if start < s.sec and s.sec - 1 < end]
        if not inside:
            return Window(0, 0.0, 0.0, 0.0, 0.0)
        return Window(
            seconds=len(inside),
            tps=sum(s.tps for s in inside) / len(inside),
            p95_ms=sum(s.p95_ms for s in inside) / len(inside),
            p95_max_ms=max(s.p95_ms for s in inside),
            errors=sum(s.errors for s in inside),
        )

    def samples(self, start: float, end: float, *, skip: float = 2.0) -> list[dict[str, Any]]:
        """Every per-second line from ``skip`` on, for the report's per-second plot.

        ``t`` is the end of the line's second relative to ``start`` (the migration's
        start), so the warm-up has t <= 0. ``phase`` marks each second as in :meth:`window`:
        "baseline" (warm-up, before the migration), "migration" (overlapping it; the
        seconds the within-target share counts) or "after".
        """
        rows: list[dict[str, Any]] = []
        for s in self.seconds():
            if s.sec <= skip:
                continue  # connection set-up and cold prepared statements, as the baseline
            if s.sec <= start:
                phase = "baseline"
            elif s.sec - 1 < end:
                phase = "migration"
            else:
                phase = "after"
            rows.append(
                {
                    "t": round(s.sec - start, 2),
                    "tps": s.tps,
                    "p95_ms": s.p95_ms,
                    "err": s.errors,
                    "phase": phase,
                }
            )
        return rows

    def min_threads(self, start: float, end: float) -> int:
        """Fewest client threads alive in the window (threads die on a FATAL error)."""
        inside = [s for s in self.seconds() if start < s.sec and s.sec - 1 < end]
        return min((s.threads for s in inside), default=self.threads)

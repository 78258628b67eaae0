"""The cut-over stall with and without the verification by key, under a steady write load.

One durable sandbox MariaDB (``sync_binlog=1``, as ``make bench``), sysbench's
``sbtest1`` with ``--rows`` rows. Each run starts ``sysbench oltp_write_only`` at
``--rate`` transactions per second (4 row writes each: an indexed and a non-indexed
update, a delete and an insert of the same id; the default 500 is 2,000 writes/s),
waits ``--warmup`` seconds, then migrates the table twice (a null rebuild,
``ENGINE=InnoDB``, through bench/engine_run.py like ``make bench``): once with
``verify_applied_keys`` on and once off, the order swapped every run so that any drift
of the machine weighs on both alike. Everything else is at its default (the checksum
on, so only the keys applied after its snapshot are left to verify).

Per migration it records the cut-over stall (the engine's ``cut_over_stall_seconds``:
from the moment its lock is granted until the application's writes run again), the time
the verification by key took under the lock and the keys it compared (from the engine's
log line), the writes/s sysbench achieved during the migration and the load average.
It prints a table and a summary (median and max stall per mode), and writes the figures
as JSON to ``--results``.

Usage::

    .venv/bin/python -m bench.verify_stall --rows 200000 --rate 500 --runs 5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

from django_ghost.sandbox import Sandbox

from . import load, tools
from .server import Server

REPO = Path(__file__).resolve().parent.parent
WRITES_PER_TRANSACTION = 4
VERIFY_LINE = re.compile(
    r"cut-over verification by key: (?P<keys>\d+) keys compared, (?P<reapplied>\d+) "
    r"re-applied \((?P<seconds>[\d.]+) s under the lock; before it, in the background: "
    r"(?P<background>\d+) keys verified, (?P<background_reapplied>\d+) re-applied"
)


@dataclasses.dataclass
class Measure:
    run: int
    verify: bool
    ok: bool
    stall_seconds: float | None
    verify_seconds: float | None
    keys_under_lock: int | None
    keys_in_background: int | None
    reapplied_in_background: int | None
    writes_per_second: float
    wall_seconds: float
    loadavg: float
    error: str = ""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def migrate(
    server: Server, args: argparse.Namespace, logs: Path, run: int, verify: bool
) -> Measure:
    """One migration of sbtest1 under the running load."""
    name = f"run{run:02d}-{'on' if verify else 'off'}"
    running = tools.start_ours(
        server,
        "sbtest1",
        "ENGINE=InnoDB",
        logs,
        name,
        chunk_size=args.chunk_size,
        dml_batch_size=500,
        time_limit=args.time_limit,
        overrides={
            "verify_applied_keys": verify,
            "serve_socket_file": str(args.results / "ghost.sock"),
        },
    )
    outcome = tools.finish_ours(running, args.time_limit)
    found = VERIFY_LINE.search(running.err_path.read_text(errors="replace"))
    return Measure(
        run=run,
        verify=verify,
        ok=outcome.ok,
        stall_seconds=outcome.cut_over_stall_seconds,
        verify_seconds=float(found["seconds"]) if found else None,
        keys_under_lock=int(found["keys"]) if found else None,
        keys_in_background=int(found["background"]) if found else None,
        reapplied_in_background=int(found["background_reapplied"]) if found else None,
        writes_per_second=0.0,
        wall_seconds=outcome.wall_seconds,
        loadavg=round(os.getloadavg()[0], 2),
        error=outcome.error[:300],
    )


def measure(server: Server, args: argparse.Namespace, logs: Path) -> list[Measure]:
    measures: list[Measure] = []
    for run in range(1, args.runs + 1):
        order = (True, False) if run % 2 else (False, True)
        traffic = load.Load(server, args.rows, args.rate, logs / f"run{run:02d}-sysbench.log")
        traffic.start()
        try:
            time.sleep(args.warmup)
            for verify in order:
                started = traffic.now()
                done = migrate(server, args, logs, run, verify)
                window = traffic.window(started, traffic.now())
                done.writes_per_second = round(window.tps * WRITES_PER_TRANSACTION, 1)
                measures.append(done)
                log(
                    f"run {run} verify={'on ' if verify else 'off'} ok={done.ok} "
                    f"stall={_fmt(done.stall_seconds)} s, verification under the lock "
                    f"{_fmt(done.verify_seconds)} s over {done.keys_under_lock} keys "
                    f"({done.keys_in_background} verified and {done.reapplied_in_background} "
                    f"re-applied before it), {done.writes_per_second:.0f} "
                    f"writes/s, load {done.loadavg} {done.error}"
                )
        finally:
            traffic.stop()
    return measures


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary(measures: list[Measure]) -> list[str]:
    lines = [
        "| run | verification | stall (s) | of it, verification (s) | keys under the lock "
        "| keys verified before (re-applied) | writes/s | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        background = f"{m.keys_in_background} ({m.reapplied_in_background})" if m.verify else "-"
        lines.append(
            f"| {m.run} | {'on' if m.verify else 'off'} | {_fmt(m.stall_seconds)} | "
            f"{_fmt(m.verify_seconds)} | {m.keys_under_lock if m.verify else '-'} | "
            f"{background} | {m.writes_per_second:.0f} | {m.loadavg} |"
        )
    lines.append("")
    for verify in (True, False):
        stalls = [m.stall_seconds for m in measures if m.verify is verify and m.ok]
        stalls = [s for s in stalls if s is not None]
        if stalls:
            lines.append(
                f"verification {'on ' if verify else 'off'}: {len(stalls)} runs, stall median "
                f"{statistics.median(stalls):.3f} s, max {max(stalls):.3f} s"
            )
    failed = [m for m in measures if not m.ok]
    if failed:
        lines.append(f"{len(failed)} migrations failed: {[m.error for m in failed]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=500, help="sysbench transactions/s")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "verify")
    args = parser.parse_args(argv)
    if shutil.which("sysbench") is None:
        sys.exit("sysbench is not installed (apt-get install sysbench, or make bench once)")
    logs = args.results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sandbox_dir = args.results / "sandbox"
    shutil.rmtree(sandbox_dir, ignore_errors=True)
    sandbox = Sandbox(sandbox_dir, durable=True)
    info = sandbox.start()
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    try:
        server = Server(info.host, info.port, info.user, info.password)
        admin = Server(info.host, info.port, info.user, info.password, database="mysql")
        admin.execute("SET GLOBAL sync_binlog = 1")
        admin.execute(f"CREATE DATABASE IF NOT EXISTS {server.database}")
        log(f"sandbox up on port {info.port}; preparing sbtest1 ({args.rows} rows)")
        load.prepare(server, args.rows)
        measures = measure(server, args, logs)
    finally:
        sandbox.stop()
    results = {
        "settings": vars(args) | {"results": str(args.results)},
        "cpus": os.cpu_count(),
        "loadavg_start": loadavg_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "measures": [dataclasses.asdict(m) for m in measures],
    }
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    (args.results / f"{stamp}.json").write_text(json.dumps(results, indent=1))
    print("\n".join(summary(measures)))
    print(f"load average at start {loadavg_start}, at end {results['loadavg_end']}")
    return 0 if all(m.ok for m in measures) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``make stress``: online migrations under a hostile concurrent write load, judged by an
oracle that does not depend on the engine.

Each run seeds ``t`` (BIGINT key, a UNIQUE BIGINT ``u``, a UNIQUE ``_ci`` VARCHAR ``s``,
an indexed ``n``), starts writer threads at full speed, each owning a key partition, with
a hostile mix (stress_shapes.py: single and multi-row inserts, updates, primary-key
moves into and out of the copied range, unique-value swaps between two rows in one
transaction, case-only changes of ``s``, deletes, REPLACE and upserts colliding on each
unique key, 50-statement transactions, rollbacks and savepoints, XA in the ``xa``
scenario, a random isolation level per transaction), migrates ``t`` with one ALTER shape
(stress_migrate.ALTERS) under one scenario (stress_faults.py: none, an operator at the
socket, XA, SIGKILL of the CLI in copy / catch-up / checksum / postponed cut-over /
cut-over then ``--resume``, a server restart), keeps writing for a while after the
cut-over, then compares ``t`` key by key with the seed replayed with every committed
transaction (stress_run.py).

Runs cycle over every scenario, and over the ALTER shapes so that 45 runs cover every
pair. It prints one line per run, then runs, rows, transactions and mismatches per
scenario and per ALTER shape. Exit status 1 on any row missing, unexpected or changed, any
client error or rowcount surprise, or a migration that ended otherwise than expected
(a deadlock the server resolved, and a connection lost while the server restarts, are
counted apart: see docs/reliability.md).

    python -m bench.stress [--runs 50] [--rows 200000] [--seconds 0] [--writers 4]
                           [--scenarios a,b] [--alters a,b] [--seed 1] [--dir D] [--keep]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

from django_ghost.sandbox import Sandbox

from .stress_faults import SCENARIOS
from .stress_migrate import ALTERS, Knobs
from .stress_run import RunReport, RunSpec, Server, run_one
from .stress_writers import WriterStats


def plan(runs: int, alters: list[str], scenarios: list[str]) -> list[tuple[str, str]]:
    """Every scenario in turn; the ALTER shape shifts each round, so that
    ``len(alters) * len(scenarios)`` runs cover every pair once."""
    done = []
    for i in range(runs):
        r, q = i % len(scenarios), i // len(scenarios)
        done.append((alters[(q + r) % len(alters)], scenarios[r]))
    return done


def knobs_for(rows: int, scenario: str, run: int, verify: str) -> Knobs:
    """Chunks sized to the table; the engine's own verification as ``verify`` says
    (``alternate``: off in every second run), always on to kill it mid-checksum."""
    chunk = max(50, min(1000, rows // 100))
    checksum = verify == "on" or (verify == "alternate" and run % 2 == 1)
    if scenario == "kill-checksum":
        checksum = True
    timeout = max(120.0, rows / 1000 * 0.9)  # a normal run copies 200,000 rows in ~20 s
    return Knobs(chunk, 2 * chunk, checksum=checksum, timeout=timeout)


def summary(reports: list[RunReport], key: str) -> list[str]:
    groups: dict[str, list[RunReport]] = collections.defaultdict(list)
    for r in reports:
        groups[getattr(r.spec, key)].append(r)
    head = (
        f"  {key:<15} {'runs':>4} {'rows':>11} {'txns':>10} {'mismatch':>8} "
        f"{'errors':>6} {'surpr':>5} {'dl eng/wr':>10} {'lost':>5}  outcomes"
    )
    lines = [head]
    for name in sorted(groups):
        group = groups[name]
        stats = WriterStats()
        for r in group:
            stats.add(r.stats)
        outcomes = collections.Counter(
            r.outcome.status + (" (missed kill)" if "MISSED" in r.outcome.text() else "")
            for r in group
        )
        lines.append(
            f"  {name:<15} {len(group):>4} {sum(r.spec.rows for r in group):>11,} "
            f"{stats.transactions:>10,} {sum(r.diff.total for r in group):>8} "
            f"{len(stats.errors):>6} {len(stats.surprises):>5} "
            f"{stats.deadlocks_engine:>4}/{stats.deadlocks_writers:<5} "
            f"{stats.lost_in_fault:>5}  {dict(outcomes)}"
        )
    return lines


def report(reports: list[RunReport], started: float) -> int:
    stats = WriterStats()
    for r in reports:
        stats.add(r.stats)
    failed = [r for r in reports if r.failed]
    print("\n== stress summary ==")
    print(
        f"  runs {len(reports)}, rows seeded {sum(r.spec.rows for r in reports):,}, "
        f"transactions {stats.transactions:,} (committed {sum(stats.committed.values()):,}, "
        f"rolled back {sum(stats.rolled_back.values()):,}), statements {stats.statements:,}"
    )
    print(
        f"  mismatches: {sum(r.diff.total for r in reports)} rows "
        f"(missing {sum(r.diff.missing for r in reports)}, "
        f"unexpected {sum(r.diff.unexpected for r in reports)}, "
        f"changed {sum(r.diff.changed for r in reports)})"
    )
    print(f"  client errors {len(stats.errors)}, rowcount surprises {len(stats.surprises)}")
    print(
        f"  counted apart: deadlocks {stats.deadlocks_engine} with the engine, "
        f"{stats.deadlocks_writers} between writers (rolled back, the writer went on); "
        f"connections lost in a restart {stats.lost_in_fault} (in doubt at commit: "
        f"{stats.in_doubt_committed} committed, {stats.in_doubt_not} not, by the marker)"
    )
    print("  per scenario:")
    print("\n".join(summary(reports, "scenario")))
    print("  per ALTER shape:")
    print("\n".join(summary(reports, "alter")))
    print(
        "  transactions committed per shape: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(stats.committed.items()))
    )
    print(f"  wall time {time.monotonic() - started:.0f}s")
    for r in failed:
        print(
            f"  FAILED run {r.spec.index} ({r.spec.alter} x {r.spec.scenario}, seed "
            f"{r.spec.seed}): {r.outcome.text()}"
        )
    print(f"  verdict: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="start no run after this many seconds (0: no limit)",
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="transactions per second of all writers together (default 0: full speed)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--alters", default=",".join(ALTERS))
    parser.add_argument(
        "--engine-verify",
        choices=("on", "off", "alternate"),
        default="alternate",
        help="the engine's own checksum (default: off every "
        "second run, so that the replay and the verification by key judge those cut-overs)",
    )
    parser.add_argument("--logs", default="", help="keep the CLI runs' output here")
    parser.add_argument("--dir", default="", help="sandbox directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    args = parser.parse_args(argv)
    scenarios, alters = args.scenarios.split(","), args.alters.split(",")
    unknown = [s for s in scenarios if s not in SCENARIOS] + [a for a in alters if a not in ALTERS]
    if unknown:
        parser.error(f"unknown scenario or ALTER shape: {unknown}")
    started = time.monotonic()
    base = Path(args.dir or tempfile.mkdtemp(prefix="dg-stress-"))
    box = Sandbox(base)
    box.start()
    print(f"sandbox: {box.primary.host}:{box.primary.port} in {base}", flush=True)
    reports: list[RunReport] = []
    try:
        server = Server.of_sandbox(box)
        for i, (alter, scenario) in enumerate(plan(args.runs, alters, scenarios), 1):
            if args.seconds and time.monotonic() - started > args.seconds:
                print(f"time budget reached after {len(reports)} runs", flush=True)
                break
            knobs = knobs_for(args.rows, scenario, i, args.engine_verify)
            spec = RunSpec(
                i,
                alter,
                scenario,
                args.rows,
                args.writers,
                args.seed + i - 1,
                knobs,
                rate=args.rate,
                logs=args.logs,
            )
            done = run_one(server, spec)
            reports.append(done)
            print(done.line(), flush=True)
            for text in done.details() if done.failed else []:
                print(f"    {text}", flush=True)
    finally:
        if not args.keep:
            box.stop()
            if not args.dir:
                shutil.rmtree(base, ignore_errors=True)
    return report(reports, started)


if __name__ == "__main__":
    sys.exit(main())

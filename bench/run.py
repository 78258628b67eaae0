"""``make bench``: django_ghost against ALGORITHM=COPY, pt-online-schema-change and gh-ost.

One run, on one durable sandbox MariaDB, same tables for every tool (protocol:
docs/benchmarks.md and ../shared/research/perf-anchors.md section 7):

1. build the shapes (sysbench ``sbtest1``, ``wide1``, ``composite1``);
2. idle, per shape: ``ALTER ... ALGORITHM=COPY`` (the floor), ours, pt-osc, gh-ost (if
   found: tools.find_ghost), each a null rebuild (``ENGINE=InnoDB``), optionally ADD
   INDEX too; ours once more at gh-ost's chunk size (1000) on the sysbench shape. On the
   sysbench null rebuild, COPY and ours run alternately ``--idle-repeats`` times (COPY,
   ours, COPY, ours, ...), each run marked with its ``repeat`` index; the report takes
   their medians (bench/repeats.py);
3. under ``sysbench oltp_write_only --rate=R`` on ``sbtest1`` for each R (0 = unthrottled):
   warm-up (the baseline p95), then each tool, while a probe writes every 10 ms; ours
   once more with ``--max-latency-millis`` (``--latency-target-millis``, 0 skips it);
   the load's per-second lines are kept in the run's record (the report's p95 plot);
4. apply capacity: ours copies, then holds its apply while sysbench writes unthrottled
   for ``--apply-write-seconds``; the drain of that backlog is timed (engine_run.py);
5. results to ``bench/results/<stamp>.json``, the report to ``docs/benchmarks.md`` and
   its per-second p95 plot to ``docs/benchmarks-p95.png`` (bench/plot.py).

The command line is bench/options.py; the host's tools and figures bench/machine.py.

Every tool run is checked: the row count must not change (sysbench's delete + insert of
the same id keeps it constant), an idle run must keep ``CHECKSUM TABLE`` equal, and ours
must report its own checksum verified. A tool that fails or times out is recorded as
such in the table, never dropped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

from django_ghost.sandbox import Sandbox

from . import load, report, shapes, tools
from .machine import ensure_tools, environment, loadavg, log
from .options import REPO, Options, parse_args
from .probe import ProbeProcess
from .server import Server

NULL_REBUILD = "ENGINE=InnoDB"
# the sysbench null rebuild's tools run alternately, --idle-repeats times (Bench.idle_pairs)
PAIRED = ("ALGORITHM=COPY", "ours")
GHOST_CHUNK_SIZE = tools.GHOST_CHUNK_SIZE


def tuned_variant(chunk_size: int) -> str:
    """The tuned run's label suffix; at gh-ost's chunk size, say so (issue #19's target)."""
    own = ", gh-ost's" if chunk_size == GHOST_CHUNK_SIZE else ""
    return f" (chunk {chunk_size}{own})"


def _load_label(rate: int | None) -> str:
    return "idle" if rate is None else f"rate={rate}"


@dataclasses.dataclass
class Observed:
    """What :meth:`Bench.observe` saw around one tool run (load figures None when idle)."""

    outcome: tools.Outcome = dataclasses.field(
        default_factory=lambda: tools.Outcome("", False, 0.0, error="not run")
    )
    probe: dict[str, Any] = dataclasses.field(default_factory=dict)
    sysload: load.Load | None = None
    baseline: load.Window | None = None
    during: load.Window | None = None
    min_threads: int | None = None
    load_exit: int | None = None
    fatal: list[str] = dataclasses.field(default_factory=list)
    samples: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    end_seconds: float | None = None
    loadavg_before: list[float] = dataclasses.field(default_factory=list)


class Bench:
    def __init__(self, options: Options, server: Server):
        self.o = options
        self.server = server
        self.logs = options.results / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.runs: list[dict[str, Any]] = []
        self.counter = 0

    # -- one measured tool run -----------------------------------------------------------

    def _name(self, label: str) -> str:
        self.counter += 1
        return f"{self.counter:02d}-{label}"

    def run_tool(
        self,
        tool: str,
        shape: shapes.Shape,
        alter: str,
        *,
        chunk_size: int | None = None,
        sysload: load.Load | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> tools.Outcome:
        name = self._name(f"{tool.replace('=', '-')}-{shape.name}-{'load' if sysload else 'idle'}")
        try:
            return self._run_tool(tool, shape, alter, name, chunk_size, overrides)
        finally:
            dropped = self.server.drop_leftovers(shape.table)
            if dropped:
                log(f"  dropped what {tool} left behind: {', '.join(dropped)}")

    def _run_tool(
        self,
        tool: str,
        shape: shapes.Shape,
        alter: str,
        name: str,
        chunk_size: int | None,
        overrides: dict[str, Any] | None,
    ) -> tools.Outcome:
        table = shape.table
        if tool == "ours":
            return tools.run_ours(
                self.server,
                table,
                alter,
                self.logs,
                name,
                chunk_size=chunk_size or self.o.chunk_size,
                dml_batch_size=self.o.dml_batch_size,
                time_limit=self.o.time_limit,
                overrides=overrides,
            )
        if tool == "pt-osc":
            return tools.run_ptosc(
                self.server, table, alter, self.logs, name, time_limit=self.o.time_limit
            )
        if tool == "gh-ost":
            return tools.run_ghost(
                self.o.ghost_bin,
                self.server,
                table,
                alter,
                self.logs,
                name,
                time_limit=self.o.time_limit,
            )
        return tools.run_copy_floor(self.server, table, alter)

    def observe(
        self,
        tool: str,
        shape: shapes.Shape,
        rate: int | None,
        label: str,
        run: Callable[[load.Load | None], tools.Outcome],
    ) -> Observed:
        """``run`` the tool under the load (unless idle) and the probe, and their figures.

        The probe and sysbench are stopped whatever happens to the tool run (a failure, a
        time-out, an exception, Ctrl-C): a child left running would load the machine
        for every later run, and after the bench.
        """
        seen = Observed()
        if rate is not None:
            seen.sysload = load.Load(
                self.server,
                shape.rows,
                rate,
                self.logs / f"{self.counter + 1:02d}-sysbench.log",
                threads=self.o.threads,
            )
        probe = None
        if tool != "ALGORITHM=COPY":  # the floor blocks writes by design; no probe there
            out = self.logs / f"{self.counter + 1:02d}-probe.json"
            probe = ProbeProcess(self.server.connect_kwargs(), shape.probe_sql, out, REPO)
        sysload = seen.sysload
        try:
            if sysload is not None:
                sysload.start()
                time.sleep(self.o.warmup)
                # skip the first seconds: connection set-up and cold prepared statements
                seen.baseline = sysload.window(2, sysload.now())
            if probe is not None:
                probe.start()
                time.sleep(0.5)
            seen.loadavg_before = loadavg()
            t0 = sysload.now() if sysload else 0.0
            log(label)
            seen.outcome = run(sysload)
            t1 = sysload.now() if sysload else 0.0
            if probe is not None:
                seen.probe = probe.stop()
            if sysload is not None:
                time.sleep(2)
                seen.during = sysload.window(t0, t1)
                seen.min_threads = sysload.min_threads(t0, t1 + 2)
                seen.load_exit = sysload.stop()
                seen.fatal = sysload.fatal_lines()
                seen.samples = sysload.samples(t0, t1)
                seen.end_seconds = round(t1 - t0, 2)
        finally:
            if probe is not None:
                probe.stop()  # no-op when already stopped
            if sysload is not None and sysload.alive():
                sysload.stop()
        return seen

    def measure(
        self,
        tool: str,
        shape: shapes.Shape,
        alter: str,
        alter_label: str,
        *,
        rate: int | None = None,
        chunk_size: int | None = None,
        variant: str = "",
        overrides: dict[str, Any] | None = None,
        repeat: int | None = None,
    ) -> dict[str, Any]:
        """One row of the table: the tool's outcome, the load's impact, the probe, checks.

        ``repeat``: the repetition's index (1..--idle-repeats) of a repeated idle run,
        kept in the row.
        """
        table = shape.table
        idle = rate is None
        count_before = self.server.row_count(table)
        sum_before = self.server.checksum(table) if idle else None
        binlog_before = self.server.binlog_bytes()
        label = f"{tool}{variant} on {shape.name} ({alter_label}, {_load_label(rate)})"
        if repeat is not None:
            label += f", repetition {repeat} of {self.o.idle_repeats}"
        seen = self.observe(
            tool,
            shape,
            rate,
            label,
            lambda sysload: self.run_tool(
                tool, shape, alter, chunk_size=chunk_size, sysload=sysload, overrides=overrides
            ),
        )
        outcome, probe_result = seen.outcome, seen.probe
        binlog_after = self.server.binlog_bytes()
        probe_lost = None
        if probe_result:
            # Every probe write committed before, during or after the cut-over must be in
            # the new table: the row's value counts them. Then reset it, so the idle
            # CHECKSUM TABLE comparison sees the data as built.
            value = int(self.server.scalar(shape.probe_value_sql()))
            probe_lost = shape.probe_start + probe_result["writes"] - value
            self.server.execute(shape.probe_reset_sql())
        count_after = self.server.row_count(table)
        sum_after = self.server.checksum(table) if idle else None
        problems = []
        if count_after != count_before:
            problems.append(f"row count {count_before} -> {count_after}")
        if idle and sum_after != sum_before:
            problems.append("CHECKSUM TABLE differs")
        if tool == "ours" and outcome.ok and not outcome.checksum_verified:
            problems.append("engine checksum not verified")
        if not outcome.ok:
            problems.append("did not complete")
        if probe_lost:
            problems.append(f"{probe_lost} probe writes missing from the table")
        row: dict[str, Any] = {
            "tool": tool + variant,
            "shape": shape.name,
            "rows": count_before,
            "alter": alter_label,
            "rate": rate,
            "overrides": overrides or {},
            "outcome": dataclasses.asdict(outcome),
            "probe": probe_result,
            "baseline": dataclasses.asdict(seen.baseline) if seen.baseline else None,
            "during": dataclasses.asdict(seen.during) if seen.during else None,
            # per-second load samples (t = seconds since the migration started) and the
            # migration's end on that clock, for the report's p95 plot and target share
            "samples": seen.samples,
            "migration_end_seconds": seen.end_seconds,
            "load_fatal": seen.fatal[:5],
            "load_fatal_count": len(seen.fatal),
            "load_exited_early": seen.load_exit,
            "load_min_threads": seen.min_threads,
            "binlog_bytes": binlog_after - binlog_before,
            "loadavg_before": seen.loadavg_before,
            "loadavg_after": loadavg(),
            "correct": not problems,
            "problems": problems,
        }
        if repeat is not None:
            row["repeat"] = repeat
        self.runs.append(row)
        status = "ok" if outcome.ok else f"FAILED: {outcome.error[:300]}"
        log(
            f"  -> {outcome.wall_seconds:.2f} s, {status}"
            + (f"; problems: {problems}" if problems else "")
        )
        if shape.drop_index and alter_label == "add index" and outcome.ok:
            self.server.execute(f"ALTER TABLE `{table}` {shape.drop_index}")
        return row

    # -- phases --------------------------------------------------------------------------

    def idle_tools(self) -> list[str]:
        names = ["ALGORITHM=COPY", "ours"]
        if not self.o.skip_ptosc:
            names.append("pt-osc")
        if self.o.ghost_bin:
            names.append("gh-ost")
        return names

    def idle(self, shape_list: list[shapes.Shape]) -> None:
        for shape in shape_list:
            alters = [(NULL_REBUILD, "null rebuild")]
            if self.o.with_add_index:
                alters.append((shape.add_index, "add index"))
            for alter, label in alters:
                reference = shape.name == "sysbench" and label == "null rebuild"
                singles = self.idle_tools()
                if reference:
                    self.idle_pairs(shape, alter, label)
                    singles = [t for t in singles if t not in PAIRED]
                for tool in singles:
                    self.measure(tool, shape, alter, label)
                if reference and self.o.tuned_chunk_size:
                    self.measure(
                        "ours",
                        shape,
                        alter,
                        label,
                        chunk_size=self.o.tuned_chunk_size,
                        variant=tuned_variant(self.o.tuned_chunk_size),
                    )

    def idle_pairs(self, shape: shapes.Shape, alter: str, label: str) -> None:
        """COPY then ours, ``--idle-repeats`` times. One run each is too noisy on a small
        machine (COPY alone: 2.76 s, then 3.26 s); alternating puts a COPY run just
        before each run of ours, so that a drift of the machine's speed during the bench
        weighs on both of a pair alike. measure() resets the table after each run as
        for any other."""
        for k in range(1, self.o.idle_repeats + 1):
            for tool in PAIRED:
                self.measure(tool, shape, alter, label, repeat=k)

    def loaded(self, shape: shapes.Shape) -> None:
        for rate in self.o.rates:
            for tool in self.idle_tools()[1:]:
                self.measure(tool, shape, NULL_REBUILD, "null rebuild", rate=rate)
            target = self.o.latency_target_millis
            if target:
                # ours with a latency target: how far the load's p95 stays within it,
                # and what the pacing costs in wall time (docs/throttling.md).
                self.measure(
                    "ours",
                    shape,
                    NULL_REBUILD,
                    "null rebuild",
                    rate=rate,
                    overrides={"max_latency_millis": target},
                    variant=f" (--max-latency-millis={target})",
                )

    def apply_capacity(self, shape: shapes.Shape, dml_batch_size: int) -> dict[str, Any]:
        """Throttle after the copy, write for N s unthrottled, release, time the drain."""
        gate = self.o.results / "apply-gate"
        shutil.rmtree(gate, ignore_errors=True)
        gate.mkdir(parents=True)
        name = self._name(f"ours-apply-capacity-{dml_batch_size}")
        log(f"apply capacity on {shape.name}, dml_batch_size={dml_batch_size}: copy, then hold")
        limit = self.o.time_limit + self.o.apply_write_seconds
        running = tools.start_ours(
            self.server,
            shape.table,
            NULL_REBUILD,
            self.logs,
            name,
            # the copy only sets the stage here: the default chunk size (the tuned one is
            # gh-ost's 1000, a slower copy that would only lengthen the run)
            chunk_size=self.o.chunk_size,
            dml_batch_size=dml_batch_size,
            time_limit=limit,
            apply_gate=gate,
            overrides=self.o.apply_overrides,
        )
        deadline = time.monotonic() + self.o.time_limit
        while not (gate / "throttled").exists() and not running.exited():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        sysload = load.Load(
            self.server, shape.rows, 0, self.logs / f"{name}-sysbench.log", threads=self.o.threads
        )
        offered = None
        if (gate / "throttled").exists():
            log(f"  held; sysbench unthrottled for {self.o.apply_write_seconds} s")
            sysload.start(duration=self.o.apply_write_seconds)
            sysload.wait()
            offered = sysload.window(0, self.o.apply_write_seconds + 1)
        (gate / "release").write_text("go")
        log("  released; draining")
        outcome = tools.finish_ours(running, limit)
        measured = outcome.extra.get("apply", {})
        result = {
            "dml_batch_size": dml_batch_size,
            "overrides": self.o.apply_overrides,
            "outcome": dataclasses.asdict(outcome),
            "write_seconds": self.o.apply_write_seconds,
            "offered": dataclasses.asdict(offered) if offered else None,
            # oltp_write_only: 2 UPDATEs, 1 DELETE, 1 INSERT = 4 row events a transaction
            "offered_events_per_second": offered.tps * 4 if offered else None,
            "apply": measured,
            "loadavg": loadavg(),
        }
        log(f"  -> {measured or outcome.error}")
        return result


def main(argv: list[str] | None = None) -> int:
    o = parse_args(argv)
    ensure_tools()
    started = time.time()
    env = environment(o.ghost_bin, REPO, started)
    if o.ghost_bin and not os.access(o.ghost_bin, os.X_OK):
        sys.exit(f"GH_OST_BIN={o.ghost_bin} is not an executable file")
    sandbox_dir = o.results / "sandbox"
    shutil.rmtree(sandbox_dir, ignore_errors=True)  # same data every run: start empty
    sandbox = Sandbox(sandbox_dir, durable=True)
    info = sandbox.start()
    try:
        server = Server(info.host, info.port, info.user, info.password)
        # The sandbox's durable mode leaves sync_binlog at the server default (0 on
        # MariaDB); the protocol wants an fsync of the binlog on every commit.
        admin = Server(info.host, info.port, info.user, info.password, database="mysql")
        admin.execute("SET GLOBAL sync_binlog = 1")
        admin.execute(f"CREATE DATABASE IF NOT EXISTS {server.database}")
        log(f"sandbox up on port {info.port}; building tables")
        all_shapes = {
            "sysbench": shapes.sysbench_shape(o.sysbench_rows),
            "wide": shapes.wide_shape(o.wide_rows),
            "composite": shapes.composite_shape(o.composite_rows),
        }
        t = time.monotonic()
        load.prepare(server, o.sysbench_rows)
        shapes.add_sysbench_probe_row(server.execute, o.sysbench_rows)
        wanted = o.shapes
        if "wide" in wanted:
            shapes.build_wide(server.execute, o.wide_rows)
        if "composite" in wanted:
            shapes.build_composite(server.execute, o.composite_rows)
        env["build_seconds"] = round(time.monotonic() - t, 1)
        for shape in all_shapes.values():
            if shape.name in wanted or shape.name == "sysbench":
                server.execute(f"ANALYZE TABLE {shape.table}")  # fresh sizes for the report
        env["server"] = server.settings()
        env["table_mb"] = {
            s.name: round(server.table_mb(s.table), 1)
            for s in all_shapes.values()
            if s.name in wanted or s.name == "sysbench"
        }
        bench = Bench(o, server)
        if "idle" in o.phases:
            bench.idle([all_shapes[n] for n in wanted])
        if o.rates and "load" in o.phases:
            bench.loaded(all_shapes["sysbench"])
        apply_results = []
        if o.apply_write_seconds > 0 and "apply" in o.phases:
            for size in o.apply_dml_batch_sizes:
                apply_results.append(bench.apply_capacity(all_shapes["sysbench"], size))
        env["loadavg_end"] = loadavg()
        env["duration_seconds"] = round(time.time() - started)
        settings = o.settings()
        results = {"env": env, "settings": settings, "runs": bench.runs, "apply": apply_results}
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
        o.results.mkdir(parents=True, exist_ok=True)
        for path in (o.results / f"{stamp}.json", o.results / "latest.json"):
            path.write_text(json.dumps(results, indent=1))
        if str(o.report) not in ("", "."):
            print(report.write(results, o.report))
            log(f"report written to {o.report} (and {report.PLOT_NAME} beside it)")
        else:
            print(report.render(results))
    finally:
        if not o.keep_server:
            sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

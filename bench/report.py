"""Renders a bench result (bench/results/latest.json) as docs/benchmarks.md.

``python -m bench.report [results.json]`` re-renders without re-running the bench
(``--write`` also rewrites docs/benchmarks.md, its p95 plot docs/benchmarks-p95.png and
the latest block of docs/performance.md). Ratios are computed here, from the raw numbers
the run recorded, so the JSON stays the single source and the method can be read in one
place; figures from per-second and per-phase detail are in bench/figures.py, the plot in
bench/plot.py. The targets are issue #19's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from . import figures, plot, repeats
from .figures import (
    OVERLOAD,
    copy_rate,
    errors_text,
    fmt,
    load_label,
    overloaded,
    p95_text,
    ratio,
    tps_text,
    wall_seconds,
)
from .targets import latency_target, summary

PLOT_NAME = "benchmarks-p95.png"  # written next to docs/benchmarks.md


def _wall_text(run: dict[str, Any], group: list[dict[str, Any]]) -> str:
    """The wall time; of a repeated group the median and its range, and how many failed."""
    out = run["outcome"]
    if not out["ok"]:  # the median run failed only when every repetition did
        return f"**failed** ({fmt(out['wall_seconds'], 0)} s)"
    walls = repeats.wall_spread(group)
    text = walls.text() if walls else fmt(out["wall_seconds"])
    failed = len(group) - (walls.count if walls else 0)
    return text + (f"; {failed} of {len(group)} failed" if failed else "")


def _status(group: list[dict[str, Any]]) -> str:
    """✓ only when every repetition was correct; the problems of each one that was not."""
    if len(group) == 1:
        run = group[0]
        return "✓" if run["correct"] else "✗ " + "; ".join(run["problems"])
    wrong = [(k, r) for k, r in enumerate(group, 1) if not r["correct"]]
    if not wrong:
        return "✓"
    return "✗ " + "; ".join(
        f"repeat {r.get('repeat', k)}: " + ", ".join(r["problems"]) for k, r in wrong
    )


def _row(run: dict[str, Any], runs: list[dict[str, Any]], target_ms: float) -> str:
    """One row of "All runs"; an idle group repeated by --idle-repeats is shown by its
    median ``run``, with the group's wall-time range and pair ratios."""
    out = run["outcome"]
    group = repeats.group_of(runs, run)
    wall = wall_seconds(run)
    if run["rate"] is None:
        floor = repeats.vs_copy(runs, group)
        vs_floor = floor.text(2, "×") if floor else fmt(None)
        vs_idle = None
    else:
        vs_floor = fmt(None)
        own = repeats.idle_wall(runs, run["tool"], run["shape"], run["alter"])
        vs_idle = ratio(wall, own)
    probe = run.get("probe") or {}
    probe_ms = probe.get("max_wait_seconds")
    probe_text = fmt(probe_ms * 1000 if probe_ms is not None else None, 0)
    if probe.get("errors"):
        probe_text += f" ({probe['errors']} err)"
    stall = out.get("cut_over_stall_seconds")
    cpu_per_m = out["cpu_seconds"] / run["rows"] * 1e6 if out["cpu_seconds"] else None
    return (
        f"| {run['shape']} | {run['alter']} | {load_label(run['rate'])} | {run['tool']} "
        f"| {_wall_text(run, group)} | {vs_floor} | {fmt(vs_idle, 2, '×')} "
        f"| {fmt(copy_rate(run) if out['ok'] else None, 0)} | {tps_text(run)} | {p95_text(run)} "
        f"| {errors_text(run)} | {figures.share_text(run, target_ms)} "
        f"| {probe_text} | {fmt(stall * 1000 if stall is not None else None, 0)} "
        f"| {fmt(out['peak_rss_mb'] or None, 0)} | {fmt(cpu_per_m, 1)} | {_status(group)} |"
    )


def _repetitions(count: int) -> str:
    if count < 2:
        return "**one repetition** (no error bars)"
    return (
        f"idle ALGORITHM=COPY and ours on sysbench **{count} times, alternately** (median "
        "and range), every other run **one repetition** (no error bars)"
    )


def _repeated_method(count: int) -> list[str]:
    """The method of --idle-repeats, when the run used it (else the line above says it)."""
    if count < 2:
        return []
    return [
        f"- **idle, repeated** ({count} times, `--idle-repeats`): on the sysbench shape, the "
        "null rebuild's `ALGORITHM=COPY` and ours at the defaults ran alternately (COPY, "
        "ours, COPY, ours, ...), each on the table as the run before left it, so that each "
        "run of ours has a COPY run just before it and a change in the machine's speed "
        "during the bench weighs on both alike. Their rows show the median wall time and, "
        "in brackets, the range; ours' **÷ COPY** is the median of the per-pair ratios "
        "(each run of ours ÷ the COPY run just before it), with their range, and is what "
        "the issue-19 target is judged on. The median of an even count is the lower middle "
        "one, so it is always a measured run: the rows' other figures (copy rate, probe, "
        "stall, RSS, CPU, the phases below) are those of that median run, and **correct** "
        "is ✓ only when every repetition was. Every other idle ÷ COPY on sysbench (pt-osc, "
        "gh-ost, the tuned run) divides by the median COPY run; **÷ own idle** and the "
        "latency target's cost divide by ours' median idle run. The JSON keeps every "
        "repetition (field `repeat`).",
    ]


def _plot_section(results: dict[str, Any]) -> list[str]:
    """The link to the p95 plot, when there is a loaded run to plot."""
    if not plot.plotted_runs(results):
        return []
    return [
        "## Load p95 per second",
        "",
        f"[![load p95 per second]({PLOT_NAME})]({PLOT_NAME}): for each load rate, the "
        "load's p95 latency in each second (log scale) against the seconds since the "
        "migration started, one line per tool, the warm-up before it as the baseline; "
        "dashed lines mark where each tool's migration ended"
        + (
            f", the dotted line the latency target ({latency_target(results):g} ms) where "
            "ours also ran with `max_latency_millis`"
            if any("max-latency" in r["tool"] for r in results["runs"])
            else ""
        )
        + ", crosses the seconds in which no transaction completed.",
        "",
    ]


def render(results: dict[str, Any]) -> str:
    env, settings, runs = results["env"], results["settings"], results["runs"]
    target = latency_target(results)
    server = env.get("server", {})
    repeated = repeats.most_repeats(runs)
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.run`; options: `python -m bench.run --help`).",
        "Do not edit by hand: re-run the bench, or re-render: `python -m bench.report --write`.",
        "How the engine gets these numbers, and how to tune it: [performance.md](performance.md).",
        "",
        "## Latest run",
        "",
        f"- **When**: {env['started']}, {env.get('duration_seconds', '?')} s in all, "
        f"{_repetitions(repeated)}.",
        f"- **Machine**: {env['cpus']} CPUs ({env['cpu_model']}), kernel {env['kernel']}; "
        f"load average (1/5/15 min) {env['loadavg_start']} at the start, "
        f"{env.get('loadavg_end')} at the end (the load's own sysbench runs raise it; "
        "anything else running on the machine makes every number noisier). The load "
        "average before and after each run is in the JSON (`bench/results/latest.json`).",
        f"- **Engine**: commit {env.get('git_head', '?')}"
        + (" plus uncommitted changes to django_ghost/" if env.get("git_dirty") else "")
        + ".",
        f"- **Versions**: MariaDB {server.get('version', '?')}, Python {env['python']}, "
        f"{env['sysbench']}, {env['pt_osc']}, gh-ost: {env['gh_ost']}.",
        "- **Server** (a durable sandbox, all tools and sysbench on the same host): "
        + ", ".join(f"`{k}={v}`" for k, v in sorted(server.items()) if k != "version")
        + ".",
        f"- **Tables**: sizes in MB {env.get('table_mb')}; built in {env.get('build_seconds')} s.",
        f"- **Settings**: ours `chunk_size={settings['ours_chunk_size']}` (the default), "
        f"`dml_batch_size={settings['ours_dml_batch_size']}`"
        + (
            f", plus one idle run at `chunk_size={tuned}`"
            if (tuned := settings.get("ours_tuned_chunk_size"))
            else ""
        )
        + (
            f" and, under load, one with `max_latency_millis={paced}`"
            if (paced := settings.get("ours_max_latency_millis"))
            else ""
        )
        + "; pt-online-schema-change with its "
        "defaults (`--chunk-time 0.5`); sysbench `oltp_write_only`, "
        f"{settings['sysbench_threads']} threads, rates {settings['rates']} (0 = unthrottled), "
        f"{settings['warmup_seconds']:.0f} s warm-up before each migration; a tool run is "
        f"stopped after {settings['time_limit_seconds']:.0f} s.",
        "",
        "## Key figures against the targets (issue 19)",
        "",
        "| figure | target | measured | verdict |",
        "| --- | --- | --- | --- |",
        *summary(results),
        "",
        *_plot_section(results),
        "## All runs",
        "",
        "| shape | alter | load | tool | wall s | ÷ COPY | ÷ own idle | copy rows/s "
        f"| load tps base → during | load p95 ms base → during | client errors "
        f"| s with p95 ≤ {target:g} ms | probe max wait ms "
        "| engine stall ms | peak RSS MB | CPU s / M rows | correct |",
        "|" + " --- |" * 17,
        *[_row(run, runs, target) for run in repeats.representatives(runs)],
        "",
        *figures.phase_table(repeats.representatives(runs), median_of=repeated),
    ]
    if results.get("notes"):
        out += ["## Notes on this run", "", *[f"- {note}" for note in results["notes"]], ""]
    failures = [r for r in runs if not r["outcome"]["ok"] or r.get("load_fatal_count")]
    if failures:
        out += ["## Failures, as recorded", ""]
        for r in failures:
            group = repeats.group_of(runs, r)
            k = r.get("repeat", group.index(r) + 1)
            which = f", repetition {k} of {len(group)}" if len(group) > 1 else ""
            what = f"{r['tool']} on {r['shape']} ({load_label(r['rate'])}{which})"
            if not r["outcome"]["ok"]:
                error = " ".join(r["outcome"]["error"].split())[:500]
                out.append(f"- {what} did not complete: `{error}`")
            if overloaded(r):
                out.append(
                    f"- {what}: sysbench could not sustain its --rate on this server and "
                    f"exited (`{OVERLOAD}`): the load's figures for this run are those of a "
                    "saturated server, not of the tool."
                )
            others = [line for line in r.get("load_fatal") or [] if OVERLOAD not in line]
            if others:
                out.append(
                    f"- {what}: the load had fatal client errors (client threads died), "
                    f"e.g. `{others[0][:300]}`"
                )
        out.append("")
    out += [
        "## How each figure is measured",
        "",
        "- **wall s**: start to cut-over done and cleanup, as the tool reports it (ours: "
        "`MigrationResult.wall_seconds`, without the ~0.5 s Python start-up of the child "
        "process; pt-osc and gh-ost: the process's wall time). **÷ COPY**: divided by "
        "`ALTER TABLE ... <alter>, ALGORITHM=COPY` on the same table, idle, just before.",
        *_repeated_method(repeated),
        "- **÷ own idle**: a loaded run's wall time divided by the same tool's idle run.",
        "- **copy rows/s**: rows ÷ copy phase (ours: `copy_seconds`; pt-osc: between its "
        "`Copying` and `Copied rows OK` lines, one-second resolution).",
        "- **load p95**: mean of sysbench's per-second 95th percentile latency during the "
        "migration, against the warm-up seconds just before it (baseline). **client "
        "errors**: errors sysbench ignored and retried (deadlocks, lock waits) plus fatal "
        "ones, which kill a client thread. **s with p95 ≤ target**: the share of the "
        "migration's seconds (those that overlap it) whose p95 was within the latency "
        "target; a second without any completed transaction counts as over it.",
        "- **probe max wait**: a separate process updates one row of the migrated table every "
        "10 ms (a row no load touches) and records its longest wait, usually the cut-over. "
        "**engine stall**: the lock time the engine itself reports.",
        "- **peak RSS** and **CPU s / M rows**: `wait4()` rusage of the tool's own process "
        "(the server's work is not in it: for pt-osc, whose copy and triggers run in the "
        "server, it is only Perl's share).",
        "- **apply capacity**: ours copies the table, then holds its apply while sysbench "
        f"writes unthrottled for {settings['apply_write_seconds']} s (the binlog reader "
        "keeps reading into its bounded queue, then waits); the load stops, the apply is "
        "released and the drain until the catch-up is done is timed: row events ÷ seconds "
        "(decode and apply together). `max_lag_millis` throttles on replication lag (of the "
        "inspected replica or of `throttle_control_replicas`), never on the engine's own "
        "stream delay on a primary, so a deliberate backlog drains at the engine's defaults; "
        "an override given with `--apply-max-lag-millis` is shown in the row.",
        "- **correct**: the row count is unchanged (sysbench deletes and re-inserts the same "
        "id, so it stays constant), idle runs leave `CHECKSUM TABLE` equal, ours reports "
        "its own chunked checksum verified at a consistent snapshot, and **no probe write "
        "is missing**: the probe adds 1 to its row each time, so after the run the row must "
        "hold its start value plus the number of writes that succeeded. A missing write is "
        "one the application saw succeed but that did not survive the migration (e.g. it "
        "landed in the original table after the last change was copied to the ghost).",
        "- **server**: the sandbox's durable mode sets `innodb_flush_log_at_trx_commit=1`; "
        "the bench also sets `sync_binlog=1` (MariaDB's default is 0). With both, every "
        "commit costs fsyncs, which caps sysbench's throughput on this machine: where the "
        "load's measured tps is below its `--rate`, the server was saturated and that "
        "rate behaved as unthrottled.",
        "",
    ]
    return "\n".join(out)


BEGIN, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"


def update_performance(path: Path, results: dict[str, Any]) -> bool:
    """Replace the marked "latest results" block of docs/performance.md; False if absent."""
    if not path.exists():
        return False
    text = path.read_text()
    if BEGIN not in text or END not in text:
        return False
    env = results["env"]
    block = [
        BEGIN,
        f"Run of {env['started']}: {env['cpus']} CPUs, load average {env['loadavg_start']} "
        f"at the start; MariaDB {env.get('server', {}).get('version', '?')}."
        + (
            f" Idle ALGORITHM=COPY and ours: medians of {repeated} alternating runs each."
            if (repeated := repeats.most_repeats(results["runs"])) > 1
            else ""
        ),
        "",
        "| figure | target | measured | verdict |",
        "| --- | --- | --- | --- |",
        *summary(results),
        END,
    ]
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + "\n".join(block) + tail)
    return True


def write(results: dict[str, Any], markdown: Path) -> str:
    """Write the report to ``markdown``, its p95 plot beside it (when matplotlib is
    installed) and the latest block of performance.md in the same directory."""
    text = render(results)
    markdown.write_text(text)
    plot.write_p95_plot(results, markdown.parent / PLOT_NAME)
    update_performance(markdown.parent / "performance.md", results)
    return text


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report [results.json] [--write]``: print, or with --write also
    rewrite docs/benchmarks.md, docs/benchmarks-p95.png and the latest block of
    docs/performance.md."""
    args = argv if argv is not None else sys.argv[1:]
    rewrite = "--write" in args
    args = [a for a in args if a != "--write"]
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results" / "latest.json"
    results = json.loads(path.read_text())
    if rewrite:
        print(write(results, Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"))
    else:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

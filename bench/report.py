"""Renders a bench result (bench/results/latest.json) as docs/benchmarks.md.

``python -m bench.report [results.json]`` re-renders without re-running the bench.
Ratios are computed here, from the raw numbers the run recorded, so the JSON stays the
single source and the method can be read in one place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TARGETS = {
    "idle_vs_copy": 1.8,
    "load2000_vs_idle": 1.5,
    "apply_events_per_second": 40_000,
    "stall_seconds": 1.0,
    "rss_mb": 200,
}


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def _load_label(rate: int | None) -> str:
    if rate is None:
        return "idle"
    return "unthrottled" if rate == 0 else f"rate={rate}"


def _copy_rate(run: dict[str, Any]) -> float | None:
    out = run["outcome"]
    rows = out["rows_copied"] or run["rows"]
    seconds = out["copy_seconds"]
    return rows / seconds if seconds else None


def _find(runs: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for run in runs:
        if all(run.get(k) == v for k, v in match.items()):
            return run
    return None


def _wall(run: dict[str, Any] | None) -> float | None:
    if run is None or not run["outcome"]["ok"]:
        return None
    return float(run["outcome"]["wall_seconds"])


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _p95(run: dict[str, Any]) -> str:
    base, during = run.get("baseline"), run.get("during")
    if not base or not during or not during["seconds"]:
        return "–"
    ratio = during["p95_ms"] / base["p95_ms"] if base["p95_ms"] else None
    return f"{base['p95_ms']:.1f} → {during['p95_ms']:.1f} ({_fmt(ratio, 1, '×')})"


OVERLOAD = "event queue is full"  # sysbench's own message when --rate exceeds capacity


def _overloaded(run: dict[str, Any]) -> bool:
    """sysbench gave up because the server could not sustain the offered --rate: its
    event queue overflowed and it exited. That is the load's limit, not a client error
    caused by the tool (it happens without any migration once the rate is too high)."""
    return any(OVERLOAD in line for line in run.get("load_fatal") or [])


def _saturated(run: dict[str, Any]) -> bool:
    """The server did not even reach the offered rate before the migration started."""
    base = run.get("baseline") or {}
    return bool(run["rate"]) and base.get("tps", 0) < 0.9 * run["rate"]


def _tps(run: dict[str, Any]) -> str:
    base, during = run.get("baseline"), run.get("during")
    if not base or not during or not during["seconds"]:
        return "–"
    text = f"{base['tps']:,.0f} → {during['tps']:,.0f}"
    if _saturated(run):
        text += " (saturated)"
    return text


def _errors(run: dict[str, Any]) -> str:
    if run["rate"] is None:
        return "–"
    during = run.get("during") or {}
    ignored = int(during.get("errors", 0))
    fatal = [line for line in run.get("load_fatal") or [] if OVERLOAD not in line]
    count = run.get("load_fatal_count", 0) - (1 if _overloaded(run) else 0)
    text = f"{ignored + count}"
    if fatal:
        # sysbench logs two FATAL lines per dying client thread (the error, then
        # "thread_run function failed")
        text += f" ({count} fatal log lines)"
    if _overloaded(run):
        text += "; sysbench overloaded and exited"
    return text


def _row(run: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    out = run["outcome"]
    floor = _find(runs, tool="ALGORITHM=COPY", shape=run["shape"], alter=run["alter"])
    idle_same = _find(runs, tool=run["tool"], shape=run["shape"], alter=run["alter"], rate=None)
    wall = _wall(run)
    vs_floor = _ratio(wall, _wall(floor)) if run["rate"] is None else None
    vs_idle = _ratio(wall, _wall(idle_same)) if run["rate"] is not None else None
    probe = run.get("probe") or {}
    probe_ms = probe.get("max_wait_seconds")
    probe_text = _fmt(probe_ms * 1000 if probe_ms is not None else None, 0)
    if probe.get("errors"):
        probe_text += f" ({probe['errors']} err)"
    stall = out.get("cut_over_stall_seconds")
    cpu_per_m = out["cpu_seconds"] / run["rows"] * 1e6 if out["cpu_seconds"] else None
    status = "✓" if run["correct"] else "✗ " + "; ".join(run["problems"])
    wall_text = (
        _fmt(out["wall_seconds"]) if out["ok"] else f"**failed** ({_fmt(out['wall_seconds'], 0)} s)"
    )
    return (
        f"| {run['shape']} | {run['alter']} | {_load_label(run['rate'])} | {run['tool']} "
        f"| {wall_text} | {_fmt(vs_floor, 2, '×')} | {_fmt(vs_idle, 2, '×')} "
        f"| {_fmt(_copy_rate(run) if out['ok'] else None, 0)} | {_tps(run)} | {_p95(run)} "
        f"| {_errors(run)} "
        f"| {probe_text} | {_fmt(stall * 1000 if stall is not None else None, 0)} "
        f"| {_fmt(out['peak_rss_mb'] or None, 0)} | {_fmt(cpu_per_m, 1)} | {status} |"
    )


def summary(results: dict[str, Any]) -> list[str]:
    runs = results["runs"]
    lines = []

    def idle(tool: str) -> dict[str, Any] | None:
        return _find(runs, tool=tool, shape="sysbench", alter="null rebuild", rate=None)

    floor = _wall(idle("ALGORITHM=COPY"))
    ours_idle = _wall(idle("ours"))
    rows = idle("ours")["rows"] if idle("ours") else 0
    ghost_idle = idle("gh-ost")
    ghost = _fmt(_ratio(_wall(ghost_idle), floor), 2, "×") if ghost_idle else "not run"
    ok = "met" if (r := _ratio(ours_idle, floor)) is not None and r <= 1.8 else "**not met**"
    lines.append(
        f"| idle {rows:,}-row sysbench rebuild ÷ ALGORITHM=COPY | ≤ 1.8× | "
        f"ours {_fmt(r, 2, '×')} ({_fmt(ours_idle)} s vs {_fmt(floor)} s); "
        f"pt-osc {_fmt(_ratio(_wall(idle('pt-osc')), floor), 2, '×')}; "
        f"gh-ost {ghost} | {ok} |"
    )
    tuned = next(
        (r for r in runs if r["tool"].startswith("ours (chunk") and r["rate"] is None), None
    )
    if tuned is not None:
        lines.append(
            f"| same, {tuned['tool']} | (tuning) | {_fmt(_ratio(_wall(tuned), floor), 2, '×')} "
            f"({_fmt(_wall(tuned))} s) | – |"
        )
    for tool in ("ours", "pt-osc", "gh-ost"):
        run = _find(runs, tool=tool, shape="sysbench", rate=2000)
        if run is None:
            continue
        wall = _wall(run)
        errors = _errors(run)
        target = "≤ 1.5×, 0 errors" if tool == "ours" else "(peer)"
        verdict = "–"
        if tool == "ours":
            r = _ratio(wall, ours_idle)
            verdict = "met" if r is not None and r <= 1.5 and errors == "0" else "**not met**"
            if _saturated(run) or _overloaded(run):
                verdict += " (the server could not sustain rate=2000: load saturated)"
        lines.append(
            f"| under rate=2000 ÷ own idle, client errors, p95 base → during ({tool}) | {target} "
            f"| {_fmt(_ratio(wall, _wall(idle(tool))), 2, '×') if wall else 'failed'}; "
            f"client errors: {errors}; p95 ms {_p95(run)} | {verdict} |"
        )
    unthrottled = _find(runs, tool="ours", shape="sysbench", rate=0)
    if unthrottled is not None:
        during = unthrottled.get("during") or {}
        lines.append(
            f"| completes under the unthrottled load | completes | "
            f"{'completed' if unthrottled['outcome']['ok'] else 'did not complete'} in "
            f"{_fmt(unthrottled['outcome']['wall_seconds'])} s at {_fmt(during.get('tps'), 0)} tps "
            f"({_fmt(_ratio(_wall(unthrottled), ours_idle), 2, '×')} idle) | "
            f"{'met' if unthrottled['outcome']['ok'] else '**not met**'} |"
        )
    completed = [
        r for r in runs if r["tool"] == "ours" and r["rate"] is not None and r["outcome"]["ok"]
    ]
    if completed:
        best = max(completed, key=lambda r: (r.get("during") or {}).get("tps", 0))
        tps = (best.get("during") or {}).get("tps", 0)
        lines.append(
            f"| max write rate at which ours completed | – | {_load_label(best['rate'])}: "
            f"{tps:,.0f} tps ≈ {tps * 4:,.0f} row events/s | – |"
        )
    for apply in results.get("apply") or []:
        measured = apply.get("apply") or {}
        size = apply.get("dml_batch_size")
        default = " (default)" if size == results["settings"]["ours_dml_batch_size"] else ""
        label = f"apply capacity (backlog drain), dml_batch_size={size}{default}"
        for key, value in (apply.get("overrides") or {}).items():
            label += f", {key}={value:,}" if isinstance(value, int) else f", {key}={value}"
        if measured:
            eps = measured.get("events_per_second", 0)
            lines.append(
                f"| {label} | ≥ 40,000 events/s | {eps:,.0f} events/s "
                f"({measured['drained_events']:,} events in {measured['drain_seconds']:.1f} s; "
                f"offered {_fmt(apply.get('offered_events_per_second'), 0)} events/s while "
                f"held) | {'met' if eps >= 40_000 else '**not met**'} |"
            )
        else:
            error = " ".join(apply["outcome"]["error"].split())[:300]
            lines.append(f"| {label} | ≥ 40,000 events/s | failed: {error} | **not met** |")
    ours_runs = [r for r in runs if r["tool"].startswith("ours")]
    if ours_runs:
        worst = max((r.get("probe") or {}).get("max_wait_seconds", 0) for r in ours_runs)
        engine = max((r["outcome"].get("cut_over_stall_seconds") or 0) for r in ours_runs)
        lines.append(
            f"| cut-over stall, worst of our runs | ≤ 1 s | probe {worst * 1000:,.0f} ms, "
            f"engine-reported {engine * 1000:,.0f} ms | {'met' if worst <= 1 else '**not met**'} |"
        )
        rss = max(r["outcome"]["peak_rss_mb"] for r in ours_runs)
        lines.append(
            f"| peak RSS, worst of our runs | ≤ 200 MB at 10M rows | {rss:,.0f} MB (largest table "
            f"{max(r['rows'] for r in ours_runs):,} rows; 10M not run by default) | "
            f"{'met at this size' if rss <= 200 else '**not met**'} |"
        )
    return lines


def render(results: dict[str, Any]) -> str:
    env, settings, runs = results["env"], results["settings"], results["runs"]
    server = env.get("server", {})
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
        "**one repetition** (no error bars).",
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
        f"`dml_batch_size={settings['ours_dml_batch_size']}`, plus one run at "
        f"`chunk_size={settings['ours_tuned_chunk_size']}`"
        + (
            f" and, under load, one with `max_latency_millis={target}`"
            if (target := settings.get("ours_max_latency_millis"))
            else ""
        )
        + "; pt-online-schema-change with its "
        "defaults (`--chunk-time 0.5`); sysbench `oltp_write_only`, "
        f"{settings['sysbench_threads']} threads, rates {settings['rates']} (0 = unthrottled), "
        f"{settings['warmup_seconds']:.0f} s warm-up before each migration; a tool run is "
        f"stopped after {settings['time_limit_seconds']:.0f} s.",
        "",
        "## Key figures against the targets (issue 9)",
        "",
        "| figure | target | measured | verdict |",
        "| --- | --- | --- | --- |",
        *summary(results),
        "",
        "## All runs",
        "",
        "| shape | alter | load | tool | wall s | ÷ COPY | ÷ own idle | copy rows/s "
        "| load tps base → during | load p95 ms base → during | client errors "
        "| probe max wait ms "
        "| engine stall ms | peak RSS MB | CPU s / M rows | correct |",
        "|" + " --- |" * 16,
        *[_row(run, runs) for run in runs],
        "",
    ]
    if results.get("notes"):
        out += ["## Notes on this run", "", *[f"- {note}" for note in results["notes"]], ""]
    failures = [r for r in runs if not r["outcome"]["ok"] or r.get("load_fatal_count")]
    if failures:
        out += ["## Failures, as recorded", ""]
        for r in failures:
            what = f"{r['tool']} on {r['shape']} ({_load_label(r['rate'])})"
            if not r["outcome"]["ok"]:
                error = " ".join(r["outcome"]["error"].split())[:500]
                out.append(f"- {what} did not complete: `{error}`")
            if _overloaded(r):
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
        "- **÷ own idle**: a loaded run's wall time divided by the same tool's idle run.",
        "- **copy rows/s**: rows ÷ copy phase (ours: `copy_seconds`; pt-osc: between its "
        "`Copying` and `Copied rows OK` lines, one-second resolution).",
        "- **load p95**: mean of sysbench's per-second 95th percentile latency during the "
        "migration, against the warm-up seconds just before it (baseline). **client "
        "errors**: errors sysbench ignored and retried (deadlocks, lock waits) plus fatal "
        "ones, which kill a client thread.",
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
        f"at the start; MariaDB {env.get('server', {}).get('version', '?')}.",
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


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report [results.json] [--write]``: print, or with --write also
    rewrite docs/benchmarks.md and the latest block of docs/performance.md."""
    args = argv if argv is not None else sys.argv[1:]
    write = "--write" in args
    args = [a for a in args if a != "--write"]
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results" / "latest.json"
    results = json.loads(path.read_text())
    text = render(results)
    print(text)
    if write:
        docs = Path(__file__).resolve().parent.parent / "docs"
        (docs / "benchmarks.md").write_text(text)
        update_performance(docs / "performance.md", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

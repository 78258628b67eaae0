"""Figures read from one run's record (bench/results/*.json), for the report's tables.

Formatting and ratios of the recorded numbers, and those derived from a run's detail
rather than its averages:

- the share of a loaded migration's seconds whose load p95 stayed within the latency
  target (issue #19: with ``max_latency_millis=20``, p95 ≤ 20 ms in ≥ 90 % of them),
  from the per-second samples run.py keeps (``run["samples"]``, bench/load.py);
- the table of ours' time per engine phase (``outcome["phase_seconds"]``, from
  ``MigrationResult.phase_seconds`` through bench/engine_run.py).

Old result files have neither field: their cells render "–", never an error.
"""

from __future__ import annotations

from typing import Any


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def copy_rate(run: dict[str, Any]) -> float | None:
    out = run["outcome"]
    rows = out["rows_copied"] or run["rows"]
    seconds = out["copy_seconds"]
    return rows / seconds if seconds else None


def find(runs: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for run in runs:
        if all(run.get(k) == v for k, v in match.items()):
            return run
    return None


def wall_seconds(run: dict[str, Any] | None) -> float | None:
    if run is None or not run["outcome"]["ok"]:
        return None
    return float(run["outcome"]["wall_seconds"])


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def p95_text(run: dict[str, Any]) -> str:
    base, during = run.get("baseline"), run.get("during")
    if not base or not during or not during["seconds"]:
        return "–"
    ratio = during["p95_ms"] / base["p95_ms"] if base["p95_ms"] else None
    return f"{base['p95_ms']:.1f} → {during['p95_ms']:.1f} ({fmt(ratio, 1, '×')})"


OVERLOAD = "event queue is full"  # sysbench's own message when --rate exceeds capacity


def overloaded(run: dict[str, Any]) -> bool:
    """sysbench gave up because the server could not sustain the offered --rate: its
    event queue overflowed and it exited. That is the load's limit, not a client error
    caused by the tool (it happens without any migration once the rate is too high)."""
    return any(OVERLOAD in line for line in run.get("load_fatal") or [])


def saturated(run: dict[str, Any]) -> bool:
    """The server did not even reach the offered rate before the migration started."""
    base = run.get("baseline") or {}
    return bool(run["rate"]) and base.get("tps", 0) < 0.9 * run["rate"]


def tps_text(run: dict[str, Any]) -> str:
    base, during = run.get("baseline"), run.get("during")
    if not base or not during or not during["seconds"]:
        return "–"
    text = f"{base['tps']:,.0f} → {during['tps']:,.0f}"
    if saturated(run):
        text += " (saturated)"
    return text


def errors_text(run: dict[str, Any]) -> str:
    if run["rate"] is None:
        return "–"
    during = run.get("during") or {}
    ignored = int(during.get("errors", 0))
    fatal = [line for line in run.get("load_fatal") or [] if OVERLOAD not in line]
    count = run.get("load_fatal_count", 0) - (1 if overloaded(run) else 0)
    text = f"{ignored + count}"
    if fatal:
        # sysbench logs two FATAL lines per dying client thread (the error, then
        # "thread_run function failed")
        text += f" ({count} fatal log lines)"
    if overloaded(run):
        text += "; sysbench overloaded and exited"
    return text


# Column of the phase table -> the engine phases (context.set_phase names) it sums.
# "cut over" is the engine's phase after the swap: dropping the old table and the
# changelog, i.e. the clean-up. Any other phase (starting, postponed, ...) is "other".
PHASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "copy": ("copying",),
    "index build": ("building indexes",),
    "catch-up": ("catching up",),
    "verification": ("verifying",),
    "cut-over": ("cutting over",),
    "clean-up": ("cut over",),
}


def load_label(rate: int | None) -> str:
    if rate is None:
        return "idle"
    return "unthrottled" if rate == 0 else f"rate={rate}"


def migration_seconds(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The samples of the seconds that overlap the migration (those the share counts)."""
    return [s for s in run.get("samples") or [] if s.get("phase") == "migration"]


def within_target_share(run: dict[str, Any], target_ms: float) -> float | None:
    """Fraction of the migration's seconds with the load's p95 ≤ ``target_ms``; None
    without samples (an idle run, or a result file from before they were kept).

    A second in which no transaction completed (tps 0, e.g. every client waiting on the
    cut-over's lock) is over target: sysbench prints p95 0 for it, which is no latency
    an application would call fine.
    """
    seconds = migration_seconds(run)
    if not seconds:
        return None
    within = sum(1 for s in seconds if s["tps"] > 0 and s["p95_ms"] <= target_ms)
    return within / len(seconds)


def share_text(run: dict[str, Any], target_ms: float) -> str:
    """ "93 % of 41 s", or "–" when the run has no samples."""
    share = within_target_share(run, target_ms)
    if share is None:
        return "–"
    return f"{share * 100:.0f} % of {len(migration_seconds(run))} s"


def phase_cells(outcome: dict[str, Any]) -> list[str]:
    """One cell per PHASE_COLUMNS entry plus "other", seconds with 2 decimals."""
    phases: dict[str, float] = outcome.get("phase_seconds") or {}
    if not phases:
        return ["–"] * (len(PHASE_COLUMNS) + 1)
    known = {name for names in PHASE_COLUMNS.values() for name in names}
    cells = [f"{sum(phases.get(n, 0.0) for n in names):.2f}" for names in PHASE_COLUMNS.values()]
    cells.append(f"{sum(v for k, v in phases.items() if k not in known):.2f}")
    return cells


def phase_table(runs: list[dict[str, Any]], *, median_of: int = 1) -> list[str]:
    """The "Time per phase (ours)" section: one row per run of ours; [] without any.

    ``median_of`` > 1: the idle runs repeated by --idle-repeats are given as their median
    run (bench/repeats.py), and the intro says so.
    """
    ours = [r for r in runs if r["tool"].startswith("ours")]
    if not ours:
        return []
    head = ["shape", "alter", "load", "tool", "wall s", *PHASE_COLUMNS, "other"]
    lines = [
        "## Time per phase (ours)",
        "",
        "Seconds the engine spent in each phase (`MigrationResult.phase_seconds`): "
        "catch-ups inside the verification and the cut-over count as catch-up; "
        "idle, the index build runs beside the checksum's first half (the original's "
        "sums), so its column holds both, and verification the rest of the checksum; "
        "under load it runs early, on the rows copied in the first second (copy/deferred.py), "
        "and verification is the whole checksum; "
        "clean-up is after the swap (dropping the old table and the changelog). "
        '"–": not recorded (a failed run, or a result from before phases were timed).'
        + (
            f" An idle run repeated {median_of} times (`--idle-repeats`) is shown by its "
            "median run."
            if median_of > 1
            else ""
        ),
        "",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ]
    for run in ours:
        out = run["outcome"]
        load = load_label(run["rate"])
        wall = f"{out['wall_seconds']:.2f}" if out["ok"] else "failed"
        cells = [run["shape"], run["alter"], load, run["tool"], wall, *phase_cells(out)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]

"""The per-second p95 plot of the loaded runs: docs/benchmarks-p95.png.

One panel per load rate; in each, one line per tool run: the load's per-second p95
latency (sysbench ``lat (ms,95%)``) against seconds since that migration started, the
warm-up before it (t ≤ 0) as its baseline. A dashed vertical line marks where each
tool's migration ended (its process exited), and a horizontal one the latency target
when ours ran with ``max_latency_millis`` under that rate. Seconds in which no
transaction completed have no p95 (sysbench prints 0): they are drawn as crosses along
the panel's top.

matplotlib is the optional ``bench`` extra (``make bench`` installs it): without it
:func:`write_p95_plot` says so and returns False, and the markdown is written anyway.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

# Same colour for the same tool in every panel, so panels read alike.
COLOURS = {"ours": "tab:blue", "gh-ost": "tab:green", "pt-osc": "tab:red"}
LATENCY_COLOUR = "tab:orange"  # ours with max_latency_millis


def plotted_runs(results: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Loaded runs with samples, by rate (in the order the bench ran the rates)."""
    by_rate: dict[int, list[dict[str, Any]]] = {}
    for run in results["runs"]:
        if run["rate"] is not None and run.get("samples"):
            by_rate.setdefault(run["rate"], []).append(run)
    return by_rate


def _colour(tool: str) -> str:
    if tool.startswith("ours") and "max-latency" in tool:
        return LATENCY_COLOUR
    return COLOURS.get(tool.split(" ")[0], "tab:gray")


def _latency_target(runs: list[dict[str, Any]]) -> float | None:
    for run in runs:
        target = (run.get("overrides") or {}).get("max_latency_millis")
        if target:
            return float(target)
    return None


def write_p95_plot(results: dict[str, Any], path: Path) -> bool:
    """Render the plot to ``path``; False (and one line saying why) when not written."""
    by_rate = plotted_runs(results)
    if not by_rate:
        return False  # no loaded run with samples: nothing to draw (an idle-only run)
    if importlib.util.find_spec("matplotlib") is None:
        print(f"matplotlib is not installed (pip install -e '.[bench]'): {path} not written")
        return False
    # The Figure API with the Agg canvas: no pyplot global state, no display needed.
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = Figure(figsize=(10, 3.6 * len(by_rate)), layout="constrained")
    axes = fig.subplots(len(by_rate), 1, squeeze=False)[:, 0]
    for ax, (rate, runs) in zip(axes, by_rate.items(), strict=True):
        _panel(ax, rate, runs)
        # plain milliseconds at 1-2-5 steps on the log axis (its default labels read
        # "4×10^1", and labelled minor ticks overlap once the range spans decades)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle("Load p95 latency per second during each migration (sysbench oltp_write_only)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # No software/date metadata: the same JSON renders the same bytes.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return True


def _panel(ax: Any, rate: int, runs: list[dict[str, Any]]) -> None:
    top = max((s["p95_ms"] for r in runs for s in r["samples"]), default=1.0) * 1.6
    for run in runs:
        colour = _colour(run["tool"])
        done = [s for s in run["samples"] if s["tps"] > 0 and s["p95_ms"] > 0]
        stalled = [s["t"] for s in run["samples"] if not (s["tps"] > 0 and s["p95_ms"] > 0)]
        label = run["tool"] + ("" if run["outcome"]["ok"] else " (failed)")
        ax.plot([s["t"] for s in done], [s["p95_ms"] for s in done], color=colour, label=label)
        if stalled:
            ax.plot(stalled, [top] * len(stalled), "x", color=colour)
        end = run.get("migration_end_seconds")
        if end is not None:
            ax.axvline(end, color=colour, linestyle="--", linewidth=1)
    target = _latency_target(runs)
    if target is not None:
        ax.axhline(target, color="black", linestyle=":", linewidth=1)
        ax.annotate(
            f"target {target:g} ms",
            (0, target),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.axvline(0, color="gray", linewidth=0.8)  # the migration's start; warm-up to its left
    ax.set_yscale("log")
    ax.set_title("unthrottled" if rate == 0 else f"--rate={rate}", fontsize=10)
    ax.set_xlabel("seconds since the migration started (dashed: that tool's end)")
    ax.set_ylabel("p95 ms (log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")

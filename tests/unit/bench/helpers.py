"""Shared by the bench's unit tests: hand-made result records (bench/results/*.json) of
the shape bench/run.py writes, for the report, the targets and the repetitions."""

from __future__ import annotations

from typing import Any


def make_outcome(wall: float, *, phases: dict[str, float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tool": "ours",
        "ok": True,
        "wall_seconds": wall,
        "copy_seconds": wall / 2,
        "rows_copied": 1000,
        "events_applied": 0,
        "cpu_seconds": 1.0,
        "peak_rss_mb": 30.0,
        "cut_over_stall_seconds": 0.01,
        "checksum_verified": True,
        "error": "",
        "extra": {},
    }
    if phases is not None:
        out["phase_seconds"] = phases
    return out


def make_samples(p95_during: list[float], *, tps: float = 500.0) -> list[dict[str, Any]]:
    """Three warm-up seconds at 5 ms, then one sample per migration second, then one after."""
    rows = [
        {"t": t, "tps": tps, "p95_ms": 5.0, "err": 0.0, "phase": "baseline"} for t in (-2, -1, 0)
    ]
    rows += [
        {"t": i + 1, "tps": tps if p95 else 0.0, "p95_ms": p95, "err": 0.0, "phase": "migration"}
        for i, p95 in enumerate(p95_during)
    ]
    rows.append({"t": len(p95_during) + 1, "tps": tps, "p95_ms": 5.0, "err": 0.0, "phase": "after"})
    return rows


def make_run(
    tool: str,
    wall: float,
    *,
    rate: int | None = None,
    samples: list[dict[str, Any]] | None = None,
    phases: dict[str, float] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    loaded = rate is not None
    return {
        "tool": tool,
        "shape": "sysbench",
        "rows": 1000,
        "alter": "null rebuild",
        "rate": rate,
        "overrides": overrides or {},
        "outcome": make_outcome(wall, phases=phases),
        "probe": {"max_wait_seconds": 0.02, "writes": 10, "errors": 0},
        "baseline": {"seconds": 3, "tps": 500.0, "p95_ms": 5.0, "p95_max_ms": 5.0, "errors": 0}
        if loaded
        else None,
        "during": {"seconds": 10, "tps": 480.0, "p95_ms": 9.0, "p95_max_ms": 30.0, "errors": 0}
        if loaded
        else None,
        "samples": samples or [],
        "migration_end_seconds": wall if loaded else None,
        "load_fatal": [],
        "load_fatal_count": 0,
        "correct": True,
        "problems": [],
    }


PHASES = {
    "starting": 0.11,
    "copying": 6.35,
    "building indexes": 1.14,
    "catching up": 0.10,
    "verifying": 2.57,
    "cutting over": 0.02,
    "cut over": 0.27,
    "postponed: waiting for cut-over approval": 0.5,
}


def make_results(*, with_phases: bool = True, paced_share_ok: bool = True) -> dict[str, Any]:
    phases = PHASES if with_phases else None
    # 10 migration seconds: 9 within 20 ms (90 %) when ok, else 8 (80 %)
    paced = [10.0] * 9 + [40.0] if paced_share_ok else [10.0] * 8 + [40.0, 0.0]
    return {
        "env": {
            "started": "2026-12-06 06:00:00 UTC",
            "cpus": 2,
            "cpu_model": "test",
            "kernel": "test",
            "loadavg_start": [0.1, 0.1, 0.1],
            "python": "3.11",
            "sysbench": "sysbench 1.0.20",
            "pt_osc": "pt-osc 3.2.1",
            "gh_ost": "not run",
        },
        "settings": {
            "ours_chunk_size": 5000,
            "ours_tuned_chunk_size": 1000,
            "ours_dml_batch_size": 500,
            "ours_max_latency_millis": 20,
            "warmup_seconds": 10.0,
            "time_limit_seconds": 300.0,
            "apply_write_seconds": 30,
            "apply_dml_batch_sizes": [500],
            "sysbench_threads": 8,
            "rates": [2000],
        },
        "runs": [
            make_run("ALGORITHM=COPY", 10.0),
            make_run("ours", 14.0, phases=phases),
            make_run("ours (chunk 1000, gh-ost's)", 16.0, phases=phases),
            make_run(
                "ours",
                20.0,
                rate=2000,
                samples=make_samples([10.0] * 5 + [50.0] * 5),
                phases=phases,
            ),
            make_run(
                "ours (--max-latency-millis=20)",
                50.0,
                rate=2000,
                samples=make_samples(paced),
                phases=phases,
                overrides={"max_latency_millis": 20},
            ),
        ],
        "apply": [
            {
                "dml_batch_size": 500,
                "overrides": {},
                "outcome": make_outcome(30.0),
                "apply": {
                    "events_per_second": 65_000.0,
                    "drained_events": 650_000,
                    "drain_seconds": 10.0,
                },
                "offered_events_per_second": 8000.0,
            }
        ],
    }


def row_of(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))

"""The bench's command line (``python -m bench.run --help``) and the options it yields."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from django_ghost.engine.config import GhostConfig

from . import tools

REPO = Path(__file__).resolve().parent.parent
GHOST_CHUNK_SIZE = tools.GHOST_CHUNK_SIZE
DESCRIPTION = "django_ghost against ALGORITHM=COPY, pt-online-schema-change and gh-ost."


@dataclasses.dataclass
class Options:
    """The parsed command line; :meth:`settings` is the part the results record."""

    sysbench_rows: int
    wide_rows: int
    composite_rows: int
    rates: list[int]
    warmup: float
    chunk_size: int
    tuned_chunk_size: int
    idle_repeats: int
    dml_batch_size: int
    time_limit: float
    threads: int
    apply_write_seconds: int
    apply_dml_batch_sizes: list[int]
    apply_overrides: dict[str, Any]
    latency_target_millis: int
    phases: list[str]
    with_add_index: bool
    skip_ptosc: bool
    ghost_bin: str
    results: Path
    report: Path
    keep_server: bool
    shapes: list[str]

    def settings(self) -> dict[str, Any]:
        """The settings the results record (``settings``), which the report states."""
        return {
            "ours_chunk_size": self.chunk_size,
            "ours_tuned_chunk_size": self.tuned_chunk_size,
            "idle_repeats": self.idle_repeats,
            "ours_dml_batch_size": self.dml_batch_size,
            "ours_max_latency_millis": self.latency_target_millis,
            "warmup_seconds": self.warmup,
            "time_limit_seconds": self.time_limit,
            "apply_write_seconds": self.apply_write_seconds,
            "apply_dml_batch_sizes": self.apply_dml_batch_sizes,
            "sysbench_threads": self.threads,
            "rates": self.rates,
        }


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description=DESCRIPTION)
    p.add_argument("--sysbench-rows", type=int, default=1_000_000)
    p.add_argument("--wide-rows", type=int, default=200_000)
    p.add_argument("--composite-rows", type=int, default=200_000)
    p.add_argument(
        "--shapes", default="sysbench,wide,composite", help="comma list of shapes to run idle"
    )
    p.add_argument(
        "--rates", default="500,2000,0", help="sysbench --rate values (0 = unthrottled); '' skips"
    )
    p.add_argument(
        "--apply-max-lag-millis",
        type=int,
        default=0,
        help="max_lag_millis for the apply-capacity runs; 0 keeps the engine default (the "
        "engine no longer throttles on its own binlog lag on a primary, so a deliberate "
        "backlog drains at the default)",
    )
    p.add_argument("--phases", default="idle,load,apply", help="which phases to run")
    p.add_argument("--warmup", type=float, default=10.0, help="load seconds before a migration")
    p.add_argument(
        "--chunk-size", type=int, default=GhostConfig.chunk_size, help="ours: GhostConfig default"
    )
    p.add_argument(
        "--tuned-chunk-size",
        type=int,
        default=GHOST_CHUNK_SIZE,
        help="ours once more idle at this chunk size (default gh-ost's, for a like-for-like "
        "comparison); 0 skips the tuned run",
    )
    p.add_argument(
        "--idle-repeats",
        type=int,
        default=3,
        help="idle sysbench null rebuild: ALGORITHM=COPY and ours at the defaults N times, "
        "alternately; the report takes the medians (one run is too noisy on a small "
        "machine to judge the ≤ 1.5× target); 1 runs each once",
    )
    p.add_argument("--dml-batch-size", type=int, default=500)
    p.add_argument("--time-limit", type=float, default=300.0, help="per tool run, seconds")
    p.add_argument(
        "--threads",
        type=int,
        default=8,
        help="sysbench client threads (more threads let group commit batch the fsyncs of a "
        "durable server, which --rate=2000 needs on a small machine)",
    )
    p.add_argument("--apply-write-seconds", type=int, default=30, help="0 skips apply capacity")
    p.add_argument(
        "--apply-dml-batch-sizes",
        default="500,5000",
        help="dml_batch_size values for the apply-capacity runs (500 is the default)",
    )
    p.add_argument(
        "--latency-target-millis",
        type=int,
        default=20,
        help="under load, ours once more with max_latency_millis=N; 0 skips that run",
    )
    p.add_argument("--with-add-index", action="store_true", help="also run ADD INDEX idle")
    p.add_argument("--skip-ptosc", action="store_true")
    p.add_argument("--skip-gh-ost", action="store_true", help="leave gh-ost out even if found")
    p.add_argument("--results", default=str(REPO / "bench" / "results"))
    p.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"), help="'' skips")
    p.add_argument("--keep-server", action="store_true", help="leave the sandbox running")
    a = p.parse_args(argv)
    if a.idle_repeats < 1:
        p.error("--idle-repeats must be at least 1")
    opts = Options(
        sysbench_rows=a.sysbench_rows,
        wide_rows=a.wide_rows,
        composite_rows=a.composite_rows,
        rates=[int(r) for r in a.rates.split(",") if r.strip()],
        warmup=a.warmup,
        chunk_size=a.chunk_size,
        tuned_chunk_size=a.tuned_chunk_size,
        idle_repeats=a.idle_repeats,
        dml_batch_size=a.dml_batch_size,
        time_limit=a.time_limit,
        threads=a.threads,
        apply_write_seconds=a.apply_write_seconds,
        apply_dml_batch_sizes=[int(b) for b in a.apply_dml_batch_sizes.split(",") if b.strip()],
        with_add_index=a.with_add_index,
        skip_ptosc=a.skip_ptosc,
        ghost_bin="" if a.skip_gh_ost else tools.find_ghost(),
        results=Path(a.results),
        report=Path(a.report) if a.report else Path(),
        keep_server=a.keep_server,
        shapes=[s.strip() for s in a.shapes.split(",") if s.strip()],
        apply_overrides=(
            {"max_lag_millis": a.apply_max_lag_millis} if a.apply_max_lag_millis else {}
        ),
        phases=[p.strip() for p in a.phases.split(",") if p.strip()],
        latency_target_millis=a.latency_target_millis,
    )
    return opts

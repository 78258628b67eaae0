"""Runs one django_ghost migration in its own process and prints the outcome as JSON.

The bench starts this as a child so that the CPU seconds and the peak RSS it reports are
the engine's own (``getrusage(RUSAGE_SELF)`` at exit covers every engine thread: copy,
binlog stream, heartbeat), not the orchestrator's or sysbench's.

``--apply-gate DIR`` turns on the apply-capacity measurement (the Vitess method:
throttle, write, unthrottle, time the drain). When the copy is done and the migration
first tries to catch up, the run stops applying and writes ``DIR/throttled``; the binlog
stream keeps reading meanwhile (into its bounded queue, then it waits). The bench writes
for a while, stops writing, then creates ``DIR/release``; this process records the
events applied and the time from release until the catch-up returns (lag under
``max_lag_millis`` and an almost empty queue). That is the decode + apply rate of the
backlog, with nothing else competing for the engine.

This is done by overriding ``catch_up`` rather than through the control socket's
``throttle`` command so that it does not depend on the socket being wired in, and so
the throttled period starts exactly at the end of the copy (a throttle during the copy
would measure copy and apply together).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from django_ghost.engine.apply.streaming import Streaming
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.progress import ProgressSnapshot

PROGRESS_EVERY = 5.0  # seconds between progress lines on stderr (kept in bench/results/logs)


class ApplyGateMigrator(Migrator):
    """A Migrator whose first catch-up waits at a gate: see the module docstring."""

    def __init__(self, config: GhostConfig, gate: Path, **kwargs: Any):
        super().__init__(config, **kwargs)
        self.gate = gate
        self.gated = False
        self.measure: dict[str, float] = {}

    def catch_up(
        self, streaming: Streaming, *, max_wait: float | None = None, settle: bool = False
    ) -> None:
        if self.gated:
            super().catch_up(streaming, max_wait=max_wait, settle=settle)
            return
        self.gated = True
        (self.gate / "throttled").write_text(str(time.time()))
        while not (self.gate / "release").exists():
            streaming.check_abort()
            time.sleep(0.01)
        before = self.context.events_applied
        queued = streaming.streamer.queue.qsize()
        started = time.monotonic()
        super().catch_up(streaming, max_wait=max_wait, settle=settle)
        seconds = time.monotonic() - started
        events = self.context.events_applied - before
        self.measure = {
            "drain_seconds": seconds,
            "drained_events": events,
            "queued_at_release": queued,
            "events_per_second": events / seconds if seconds > 0 else 0.0,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="GhostConfig fields as JSON")
    parser.add_argument("--time-limit", type=float, default=0.0, help="abort after N seconds")
    parser.add_argument("--apply-gate", default="", help="directory for the apply gate files")
    args = parser.parse_args(argv)
    # The engine's own log and a progress line every few seconds go to stderr, which the
    # bench keeps per run: a failed or slow run can then be explained after the fact.
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    last = [0.0]

    def progress(snap: ProgressSnapshot) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        print(
            f"{snap.elapsed_seconds:7.1f}s {snap.phase}: copied {snap.rows_copied}, "
            f"applied {snap.events_applied}, backlog {snap.backlog}, lag {snap.lag_seconds}",
            file=sys.stderr,
            flush=True,
        )

    config = GhostConfig(**json.loads(args.config))
    stop = threading.Event()
    if args.time_limit > 0:
        timer = threading.Timer(args.time_limit, stop.set)
        timer.daemon = True
        timer.start()
    migrator: Migrator
    if args.apply_gate:
        migrator = ApplyGateMigrator(config, Path(args.apply_gate), stop=stop, on_progress=progress)
    else:
        migrator = Migrator(config, stop=stop, on_progress=progress)
    out: dict[str, Any] = {"ok": False}
    started = time.monotonic()
    try:
        result = migrator.run()
        out.update(
            ok=True,
            rows_copied=result.rows_copied,
            events_applied=result.events_applied,
            wall_seconds=result.wall_seconds,
            copy_seconds=result.copy_seconds,
            cut_over_stall_seconds=result.cut_over_stall_seconds,
            cut_over_attempts=result.cut_over_attempts,
            checksum_verified=result.checksum_verified,
            phase_seconds=result.phase_seconds,
        )
    except BaseException as exc:  # noqa: BLE001 - the bench records every failure
        out.update(
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=8),
            wall_seconds=time.monotonic() - started,
            rows_copied=migrator.context.rows_copied,
            events_applied=migrator.context.events_applied,
            phase=migrator.context.phase,
            time_limit_hit=stop.is_set(),
        )
    if isinstance(migrator, ApplyGateMigrator):
        out["apply"] = migrator.measure
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    out["peak_rss_mb"] = usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

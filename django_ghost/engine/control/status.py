"""The control socket's status texts: gh-ost's one-line status, the "hint" block of live
settings, and ``status-json``.

The one status line of the project: the socket's ``status``/``sup``, the progress log,
the ``status`` hook and ``django-ghost``'s periodic status line (cli/output.py) all print
:func:`format_status_line`, so it is not the server's own.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from ..context import MigrationContext
from ..progress import ProgressSnapshot


def format_status_line(snap: ProgressSnapshot) -> str:
    """gh-ost's one-line status: copy progress, applied events, lag, state and ETA; with
    a latency target, the measured p95 and the pacing after it."""
    state = f"throttled, {snap.throttle_reason}" if snap.throttle_reason else snap.phase
    lag = "n/a" if snap.lag_seconds is None else f"{snap.lag_seconds:.2f}s"
    eta = "n/a" if snap.eta_seconds is None else f"{snap.eta_seconds:.0f}s"
    return (
        f"Copy: {snap.rows_copied}/{snap.rows_estimate} {snap.percent:.1f}%; "
        f"Applied: {snap.events_applied}; Backlog: {snap.backlog}; "
        f"Time: {snap.elapsed_seconds:.0f}s; Rate: {snap.rows_per_second:.0f} rows/s; "
        f"Lag: {lag}; State: {state}; ETA: {eta}{format_pacing(snap)}"
    )


def format_pacing(snap: ProgressSnapshot) -> str:
    """The latency target's part of the status line ("" while it is off)."""
    if snap.latency_target_millis <= 0:
        return ""
    p95 = "n/a" if snap.latency_p95_millis is None else f"{snap.latency_p95_millis:.1f}ms"
    return (
        f"; Latency p95: {p95} (target {snap.latency_target_millis}ms); "
        f"Pacing: chunk {snap.pacing_chunk_size}, pause {snap.pacing_pause_seconds:.2f}s"
    )


def format_hint_block(
    context: MigrationContext,
    *,
    applier: str,
    inspector: str,
    flag_files: Mapping[str, str],
    postpone_flag_file: str,
    listeners: str,
) -> str:
    """gh-ost's "hint" block: what is migrated where, and every live setting."""
    config, knobs = context.config, context.knobs
    lines = [
        f"# Migrating `{config.database}`.`{config.table}`",
        f"# Applier: {applier}; inspector: {inspector}",
        f"# Running for {context.elapsed():.0f}s; phase: {context.phase}",
        f"# chunk-size: {knobs.chunk_size}; max-lag-millis: {knobs.max_lag_millis}ms;"
        f" dml-batch-size: {knobs.dml_batch_size}; nice-ratio: {knobs.nice_ratio:g}",
        f"# max-latency-millis: {context.pacing.target_millis or '-'}",
        f"# max-load: {knobs.max_load or '-'}; critical-load: {knobs.critical_load or '-'}",
        f"# throttle-query: {knobs.throttle_query or '-'};"
        f" throttle-http: {knobs.throttle_http or '-'};"
        f" throttle-control-replicas: {knobs.throttle_control_replicas or '-'}",
        f"# forced throttle: {yes_no(knobs.forced_throttle)};"
        f" postpone cut-over: {yes_no(knobs.postpone_cut_over)}",
    ]
    files = dict(flag_files)
    if postpone_flag_file:
        files["postpone-cut-over-flag-file"] = postpone_flag_file
    for label, path in files.items():
        if path:
            lines.append(f"# {label}: {path}{' [set]' if os.path.exists(path) else ''}")
    lines.append(f"# Serving on {listeners}")
    return "\n".join(lines)


def format_status_json(snap: ProgressSnapshot, context: MigrationContext) -> str:
    """``status-json``: the progress snapshot plus the knobs, positions and abort state."""
    data = snap.as_dict()
    ctx = context
    data["knobs"] = dataclasses.asdict(ctx.knobs)
    data["throttled"] = data.get("throttle_reason") is not None
    data["abort_reason"] = ctx.abort_reason
    data["streamer_position"] = position_text(ctx.streamer_position)
    data["applied_position"] = position_text(ctx.applied_position)
    data["cut_over_attempts"] = ctx.cut_over_attempts
    return json.dumps(data, sort_keys=True, default=str)


def position_text(position: Any) -> str | None:
    return None if position is None else str(position)


def yes_no(flag: bool) -> str:
    return "true" if flag else "false"

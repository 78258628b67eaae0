"""Metrics during a real migration on the sandbox: gh-ost's StatsD lines arrive at a UDP
listener, the control socket's ``metrics`` command answers Prometheus text that agrees
with ``status-json``, and ``prometheus_file`` is written."""

from __future__ import annotations

import json
from pathlib import Path

from django_ghost.engine.control.client import send
from tests.integration.helpers import (
    MirroredWriter,
    Run,
    StatsdListener,
    assert_migrated_like_mirror,
    make_config,
    seed,
)
from tests.plugins.mariadb import TestDatabase, wait_for
from tests.unit.engine.helpers import parse_prometheus

ALTER = "ADD COLUMN x INT"


def values(samples: list[tuple[str, dict[str, str], float]], name: str) -> list[float]:
    return [value for sample, _, value in samples if sample == name]


def test_metrics__migration_with_statsd_and_prometheus__gh_ost_metrics_and_consistent_text(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 3000)
    listener = StatsdListener()
    listener.start()
    sock = str(tmp_path / "ctl.sock")
    throttle, postpone = tmp_path / "throttle", tmp_path / "postpone"
    throttle.touch()
    prom = tmp_path / "ghost.prom"
    writer = MirroredWriter(db)
    writer.start()
    run = Run(
        make_config(
            db,
            "t",
            ALTER,
            serve_socket_file=sock,
            statsd_addr=f"127.0.0.1:{listener.port}",
            statsd_tags="env:test,team:db",
            prometheus_file=str(prom),
            prometheus_file_interval_seconds=1,
            throttle_flag_file=str(throttle),
            postpone_cut_over_flag_file=str(postpone),
        )
    )
    run.start()
    try:
        # A throttled interval, then the copy runs until the cut-over is postponed.
        # Two samples of the throttled state: the interval lasts at least a second.
        active = "throttle.active"
        assert wait_for(lambda: [v for v, _, _ in listener.named(active)].count("1") >= 2, 30)
        assert wait_for(lambda: prom.exists(), timeout=10)
        throttle.unlink()
        assert wait_for(run.postponed, timeout=60)
        families, samples = parse_prometheus(send(sock, "metrics"))
        status = json.loads(send(sock, "status-json"))
    finally:
        writer.finish()
        throttle.unlink(missing_ok=True)
        postpone.unlink(missing_ok=True)
        run.join(timeout=120)
        listener.close()
    assert run.error is None, run.error
    assert writer.failures == []
    assert_migrated_like_mirror(db, ALTER)

    # The socket's Prometheus text: labelled, typed, and what status-json says.
    labels = {"database": db.name, "table": "t", "env": "test", "team": "db"}
    assert all(sample_labels.items() >= labels.items() for _, sample_labels, _ in samples)
    assert families["django_ghost_row_copy_rows_copied"][0] == "gauge"
    assert values(samples, "django_ghost_row_copy_rows_copied") == [status["rows_copied"]]
    assert values(samples, "django_ghost_row_copy_rows_estimate") == [status["rows_estimate"]]
    assert values(samples, "django_ghost_row_copy_progress_percent") == [100.0]
    applied = values(samples, "django_ghost_dml_events_applied")
    assert len(applied) == 1 and 0 < applied[0] <= status["events_applied"]
    phases = [s[1]["phase"] for s in samples if s[0] == "django_ghost_migration_phase"]
    assert phases == [status["phase"]]
    assert values(samples, "django_ghost_throttle_active") == [0]
    ended = [s for s in samples if s[0] == "django_ghost_throttle_events_total"]
    assert [(s[1]["reason"], s[2]) for s in ended] == [("throttle-flag-file", 1.0)]

    # gh-ost's StatsD metrics, by its names, tags first then the metric's own.
    assert listener.named("startup")[0][:2] == ("1", "c")
    copied = listener.named("row_copy.rows_copied")
    assert all(kind == "g" and tags.items() >= labels.items() for _, kind, tags in copied)
    assert int(copied[-1][0]) == run.result.rows_copied
    for name in ("row_copy.rows_estimate", "dml.events_applied", "binlog.backlog_size"):
        assert listener.named(name), name
    for name in ("lag.heartbeat_seconds", "lag.replication_seconds"):
        lags = listener.named(name)
        assert lags and {tags["throttled"] for _, _, tags in lags} <= {"true", "false"}
        assert all(float(value) >= 0 for value, _, _ in lags)
    assert {value for value, _, _ in listener.named("throttle.active")} == {"0", "1"}
    throttled = listener.named("throttle.events_total")
    assert [(v, tags["reason"]) for v, _, tags in throttled] == [("1", "throttle-flag-file")]
    attempts = listener.named("cut_over.attempts_total")
    assert [tags["outcome"] for _, _, tags in attempts] == ["success"]
    assert [k for _, k, _ in listener.named("cut_over.total_duration_milliseconds")] == ["h"]
    phases = listener.named("cut_over.phase_duration_milliseconds")
    assert {(tags["phase"], tags["outcome"]) for _, _, tags in phases} == {
        ("magic_lock", "success"),
        ("magic_rename", "success"),
        ("unlock", "success"),
    }
    kinds = {tags["kind"] for _, _, tags in listener.named("query.duration_milliseconds")}
    assert {"range_select", "chunk_copy", "binlog_apply"} <= kinds
    stages = {tags["stage"] for _, _, tags in listener.named("sleep.total_milliseconds")}
    assert "cut_over_postpone" in stages

    # The file's last write, when the migration ended: the copy complete, one cut-over.
    _, written = parse_prometheus(prom.read_text())
    assert values(written, "django_ghost_row_copy_rows_copied") == [run.result.rows_copied]
    assert values(written, "django_ghost_cut_over_attempts_total") == [1.0]


def test_metrics__two_step_cut_over__its_phases_in_the_prometheus_file(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 500)
    prom = tmp_path / "ghost.prom"
    config = make_config(db, "t", ALTER, cut_over="two-step", prometheus_file=str(prom))
    run = Run(config)
    run.start()
    run.join(timeout=120)
    assert run.error is None, run.error
    assert_migrated_like_mirror(db, ALTER)
    families, samples = parse_prometheus(prom.read_text())
    family = "django_ghost_cut_over_phase_duration_milliseconds"
    assert families[family][0] == "summary"
    counted = {
        (labels["phase"], labels["outcome"]): value
        for name, labels, value in samples
        if name == f"{family}_count"
    }
    assert counted == {
        ("original_table_lock", "success"): 1.0,
        ("magic_rename", "success"): 1.0,
        ("unlock", "success"): 1.0,
    }
    assert values(samples, "django_ghost_row_copy_rows_copied") == [500.0]
    assert values(samples, "django_ghost_startup_total") == [1.0]

"""Metrics: DogStatsD lines and their tags, the StatsD sender on real sockets, the
Prometheus text format (escaping included), the options, and the reporter's sampling."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.control.metrics import MetricsReporter, sample_gauges
from django_ghost.engine.control.server import ControlServer
from django_ghost.engine.cutover.attempts import Attempt, CutOverAttemptFailed, retry
from django_ghost.engine.errors import ConfigError, CutOverError
from django_ghost.engine.metrics import prometheus
from django_ghost.engine.metrics.catalogue import CATALOGUE
from django_ghost.engine.metrics.registry import Registry, Series
from django_ghost.engine.metrics.statsd import StatsdClient, format_line, format_value, pack
from django_ghost.engine.option_syntax import parse_statsd_addr, parse_tags
from django_ghost.engine.progress import ProgressSnapshot
from tests.unit.engine.helpers import parse_prometheus


def snapshot(**changes: object) -> ProgressSnapshot:
    values: dict[str, object] = {
        "database": "shop",
        "table": "orders",
        "phase": "copying",
        "elapsed_seconds": 12.5,
        "rows_copied": 300,
        "rows_estimate": 1200,
        "rows_per_second": 24.0,
        "events_applied": 17,
        "backlog": 5,
        "lag_seconds": 0.25,
        "throttle_reason": None,
        "eta_seconds": 37.5,
    }
    values.update(changes)
    return ProgressSnapshot(**values)  # type: ignore[arg-type]


def receive_lines(listener: socket.socket, until: str) -> list[str]:
    """Lines of the datagrams received until one line starts with ``until``."""
    lines: list[str] = []
    while not any(line.startswith(until) for line in lines):
        lines += listener.recv(65535).decode().split("\n")
    return lines


def udp_listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


# -- DogStatsD lines ------------------------------------------------------------------------


def test_format_line__gauge_with_tags__dogstatsd_line() -> None:
    line = format_line("gh_ost.", "row_copy.rows_copied", 300, "gauge", [("env", "prod")])
    assert line == "gh_ost.row_copy.rows_copied:300|g|#env:prod"


def test_format_line__kinds__their_type_letters() -> None:
    assert format_line("gh_ost.", "startup", 1, "counter") == "gh_ost.startup:1|c"
    histogram = format_line("gh_ost.", "query.duration_milliseconds", 12, "histogram")
    assert histogram == "gh_ost.query.duration_milliseconds:12|h"


def test_format_line__reserved_characters_in_tags__replaced() -> None:
    line = format_line("gh_ost.", "migration.phase", 1, "gauge", [("phase", "a|b,c#d\ne")])
    assert line == "gh_ost.migration.phase:1|g|#phase:a_b_c_d_e"


def test_format_line__tag_value_with_colon__kept() -> None:
    line = format_line("gh_ost.", "migration.phase", 1, "gauge", [("phase", "postponed: wait")])
    assert line is not None and line.endswith("|#phase:postponed: wait")


@pytest.mark.parametrize(
    ("value", "text"),
    [(3, "3"), (2.0, "2"), (0.25, "0.25"), (-1.5, "-1.5"), (1e-9, "0"), (12345678.5, "12345678.5")],
)
def test_format_value__numbers__no_exponent(value: float, text: str) -> None:
    assert format_value(value) == text


def test_format_line__nan__not_sent() -> None:
    assert format_line("gh_ost.", "lag.heartbeat_seconds", float("nan"), "gauge") is None


def test_pack__many_lines__datagrams_within_the_limit() -> None:
    lines = [f"gh_ost.x:{i}|g" for i in range(200)]
    payloads = list(pack(lines, 100))
    assert all(len(p) <= 100 for p in payloads)
    assert b"\n".join(payloads).decode().split("\n") == lines


# -- the sender, on real sockets --------------------------------------------------------------


def test_statsd_client__udp__buffered_lines_arrive_on_flush() -> None:
    listener = udp_listener()
    port = listener.getsockname()[1]
    client = StatsdClient(("127.0.0.1", port), tags=[("env", "test")], namespace="gh_ost.")
    try:
        client.gauge("row_copy.rows_copied", 42)
        client.count("cut_over.attempts_total", 1, {"outcome": "success"})
        client.flush()
        lines = listener.recv(65535).decode().split("\n")
    finally:
        client.close()
        listener.close()
    assert lines == [
        "gh_ost.row_copy.rows_copied:42|g|#env:test",
        "gh_ost.cut_over.attempts_total:1|c|#env:test,outcome:success",
    ]


def test_statsd_client__unix_datagram_socket__lines_arrive(tmp_path: Path) -> None:
    path = str(tmp_path / "dsd.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(5)
    address = parse_statsd_addr(f"unix://{path}")
    assert address is not None
    client = StatsdClient(address, namespace="gh_ost.")
    try:
        client.count("startup")
        client.flush()
        assert listener.recv(65535) == b"gh_ost.startup:1|c"
    finally:
        client.close()
        listener.close()


def test_statsd_client__nobody_listening__flush_does_not_raise(tmp_path: Path) -> None:
    client = StatsdClient(str(tmp_path / "absent.sock"), namespace="gh_ost.")
    client.gauge("throttle.active", 0)
    client.flush()
    client.close()
    assert client.sent == 0


def test_statsd_client__unresolvable_host__config_error_names_the_option() -> None:
    with pytest.raises(ConfigError, match="statsd-addr"):
        StatsdClient(("no-such-host.invalid", 8125), namespace="gh_ost.")


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", None),
        ("127.0.0.1:8125", ("127.0.0.1", 8125)),
        ("[::1]:8125", ("::1", 8125)),
        ("unix:///var/run/dsd.sock", "/var/run/dsd.sock"),
        ("/var/run/dsd.sock", "/var/run/dsd.sock"),
    ],
)
def test_parse_statsd_addr__valid__parsed(text: str, parsed: object) -> None:
    assert parse_statsd_addr(text) == parsed


@pytest.mark.parametrize("text", ["localhost", "host:notaport", "unix://relative", "h:0"])
def test_statsd_addr__malformed__config_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="statsd-addr"):
        GhostConfig(statsd_addr=text).validate()


def test_parse_tags__list__pairs_in_order() -> None:
    assert parse_tags("env:prod, service:shop,url:http://x") == [
        ("env", "prod"),
        ("service", "shop"),
        ("url", "http://x"),
    ]


@pytest.mark.parametrize("text", ["env", "env:", ":prod", "e v:x", "env:a|b", "env:a#b"])
def test_statsd_tags__malformed__config_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="statsd-tags"):
        GhostConfig(statsd_tags=text).validate()


def test_runtime_metrics_interval__out_of_range__config_refused() -> None:
    with pytest.raises(ConfigError, match="runtime_metrics_interval"):
        GhostConfig(runtime_metrics_interval=-1).validate()


# -- the Prometheus text format ---------------------------------------------------------------


def test_render__gauge_and_counter__help_type_and_labels() -> None:
    text = prometheus.render(
        [
            Series("row_copy.rows_copied", "gauge", (), 300),
            Series("cut_over.attempts_total", "counter", (("outcome", "retry"),), 2),
        ],
        [("database", "shop"), ("table", "orders")],
    )
    assert text == (
        "# HELP django_ghost_row_copy_rows_copied Rows copied to the ghost table so far.\n"
        "# TYPE django_ghost_row_copy_rows_copied gauge\n"
        'django_ghost_row_copy_rows_copied{database="shop",table="orders"} 300\n'
        "# HELP django_ghost_cut_over_attempts_total Cut-over attempts by outcome: success, "
        "retry, abort.\n"
        "# TYPE django_ghost_cut_over_attempts_total counter\n"
        'django_ghost_cut_over_attempts_total{database="shop",table="orders",outcome="retry"} 2\n'
    )


def test_render__histogram__summary_with_sum_and_count() -> None:
    registry = Registry()
    registry.histogram("query.duration_milliseconds", 5, {"kind": "chunk_copy"})
    registry.histogram("query.duration_milliseconds", 7, {"kind": "chunk_copy"})
    families, samples = parse_prometheus(prometheus.render(registry.series()))
    family = "django_ghost_query_duration_milliseconds"
    assert families[family][0] == "summary"
    assert (f"{family}_sum", {"kind": "chunk_copy"}, 12.0) in samples
    assert (f"{family}_count", {"kind": "chunk_copy"}, 2.0) in samples


def test_render__label_values__backslash_quote_newline_escaped() -> None:
    value = 'C:\\dir "x"\nnext'
    text = prometheus.render([Series("migration.phase", "gauge", (("phase", value),), 1)])
    assert 'phase="C:\\\\dir \\"x\\"\\nnext"' in text
    _, samples = parse_prometheus(text)
    assert samples == [("django_ghost_migration_phase", {"phase": value}, 1.0)]


def test_render__tag_key_not_a_label_name__sanitised() -> None:
    text = prometheus.render([Series("throttle.active", "gauge", (), 0)], [("kube.ns-1", "a")])
    assert 'django_ghost_throttle_active{kube_ns_1="a"} 0' in text


def test_render__special_floats__prometheus_spelling() -> None:
    assert prometheus.format_number(float("inf")) == "+Inf"
    assert prometheus.format_number(float("nan")) == "NaN"
    assert prometheus.format_number(0.5) == "0.5"


def test_catalogue__prometheus_names__valid_unique_counters_end_in_total() -> None:
    names = [spec.prometheus_name for spec in CATALOGUE.values()]
    assert len(set(names)) == len(names)
    for spec in CATALOGUE.values():
        assert spec.prometheus_name.startswith("django_ghost_")
        assert spec.prometheus_name.replace("_", "a").isalnum(), spec.name
        if spec.kind == "counter":
            assert spec.prometheus_name.endswith("_total"), spec.name


# -- sampling ---------------------------------------------------------------------------------


def test_sample_gauges__snapshot__gh_ost_gauges_with_its_values() -> None:
    context = MigrationContext(GhostConfig(chunk_size=700))
    series = sample_gauges(
        snapshot(throttle_reason="max-load Threads_running=30>=25"),
        context,
        replication_lag=None,
        throttle_source="max-load",
    )
    values = {(s.name, s.labels): s.value for s in series}
    assert values[("row_copy.rows_copied", ())] == 300
    assert values[("row_copy.rows_estimate", ())] == 1200
    assert values[("dml.events_applied", ())] == 17
    assert values[("binlog.backlog_size", ())] == 5
    assert values[("lag.heartbeat_seconds", (("throttled", "true"),))] == 0.25
    assert values[("lag.replication_seconds", (("throttled", "true"),))] == 0.25
    assert values[("throttle.active", ())] == 1
    assert values[("throttle.reason", (("reason", "max-load"),))] == 1
    assert values[("row_copy.progress_percent", ())] == 25.0
    assert values[("row_copy.chunk_size", ())] == 700
    assert values[("migration.phase", (("phase", "copying"),))] == 1


def test_sample_gauges__lag_and_eta_unknown__left_out() -> None:
    context = MigrationContext(GhostConfig())
    series = sample_gauges(
        snapshot(lag_seconds=None, eta_seconds=None),
        context,
        replication_lag=None,
        throttle_source=None,
    )
    names = {s.name for s in series}
    assert "lag.heartbeat_seconds" not in names and "row_copy.eta_seconds" not in names
    assert "throttle.reason" not in names


def reporter(config: GhostConfig, snap: ProgressSnapshot, now: list[float]) -> MetricsReporter:
    return MetricsReporter(config, MigrationContext(config), lambda: snap, clock=lambda: now[0])


def test_reporter__throttled_interval_ends__duration_and_event_by_starting_source() -> None:
    now = [100.0]
    metrics = reporter(GhostConfig(database="shop", table="orders"), snapshot(), now)
    metrics.throttle_changed("flag-file /tmp/x", "throttle-flag-file")
    now[0] = 102.5
    metrics.throttle_changed("max-load Threads_running=30", "max-load")
    now[0] = 103.0
    metrics.throttle_changed(None, None)
    _, samples = parse_prometheus(prometheus.render(metrics.registry.series()))
    reason = {"reason": "throttle-flag-file"}
    assert ("django_ghost_throttle_events_total", reason, 1.0) in samples
    assert ("django_ghost_throttle_duration_milliseconds_sum", reason, 3000.0) in samples


def test_reporter__prometheus_text__base_labels_and_tags_on_every_series() -> None:
    config = GhostConfig(database="shop", table="orders", statsd_tags="env:prod")
    metrics = reporter(config, snapshot(), [0.0])
    metrics.sink.count("cut_over.attempts_total", 1, {"outcome": "success"})
    families, samples = parse_prometheus(metrics.prometheus_text())
    assert samples
    for name, labels, _ in samples:
        assert labels["database"] == "shop" and labels["table"] == "orders", name
        assert labels["env"] == "prod", name
    assert families["django_ghost_row_copy_rows_copied"][0] == "gauge"
    assert families["django_ghost_python_runtime_threads"][0] == "gauge"
    values = {name: value for name, labels, value in samples if "outcome" not in labels}
    assert values["django_ghost_row_copy_rows_copied"] == 300
    assert values["django_ghost_row_copy_progress_percent"] == 25.0


def test_reporter__runtime_metrics_off__no_runtime_series() -> None:
    config = GhostConfig(runtime_metrics_interval=0)
    families, _ = parse_prometheus(reporter(config, snapshot(), [0.0]).prometheus_text())
    assert not [name for name in families if "python_runtime" in name]


def test_reporter__started__sends_gauges_and_startup_to_statsd_and_writes_file(
    tmp_path: Path,
) -> None:
    listener = udp_listener()
    port = listener.getsockname()[1]
    path = tmp_path / "ghost.prom"
    config = GhostConfig(
        database="shop",
        table="orders",
        statsd_addr=f"127.0.0.1:{port}",
        statsd_tags="env:test",
        prometheus_file=str(path),
    )
    context = MigrationContext(config)
    metrics = MetricsReporter(config, context, snapshot)
    try:
        metrics.start()
        assert context.metrics is metrics.sink
        lines = receive_lines(listener, "gh_ost.row_copy.rows_copied:")
    finally:
        metrics.stop()
        listener.close()
    sent = metrics.statsd.sent if metrics.statsd else 0
    metrics.stop()  # again: a run's release may stop its operations twice
    assert metrics.statsd is not None and metrics.statsd.sent == sent
    assert "gh_ost.startup:1|c|#database:shop,table:orders,env:test" in lines
    assert "gh_ost.row_copy.rows_copied:300|g|#database:shop,table:orders,env:test" in lines
    _, samples = parse_prometheus(path.read_text())
    assert (
        "django_ghost_startup_total",
        {"database": "shop", "table": "orders", "env": "test"},
        1.0,
    ) in samples
    assert not list(tmp_path.glob("*.tmp"))


def test_reporter__prometheus_file_unwritable__migration_goes_on(tmp_path: Path) -> None:
    config = GhostConfig(prometheus_file=str(tmp_path / "missing-dir" / "ghost.prom"))
    metrics = reporter(config, snapshot(), [0.0])
    metrics.write_file()
    assert not (tmp_path / "missing-dir").exists()


def test_control_server__metrics_command__prometheus_text(tmp_path: Path) -> None:
    context = MigrationContext(GhostConfig(database="shop", table="orders"))
    metrics = MetricsReporter(context.config, context, snapshot)
    server = ControlServer(
        context,
        snapshot,
        socket_path=str(tmp_path / "s.sock"),
        metrics_text=metrics.prometheus_text,
    )
    _, samples = parse_prometheus(server.handle("metrics"))
    assert (
        "django_ghost_dml_events_applied",
        {"database": "shop", "table": "orders"},
        17.0,
    ) in samples
    assert server.handle("metrics=1").startswith("error: metrics are read-only")


def test_control_server__metrics_command_without_reporter__error() -> None:
    context = MigrationContext(GhostConfig())
    server = ControlServer(context, snapshot, socket_path="/tmp/unused-metrics.sock")
    assert server.handle("metrics").startswith("error: no metrics")


def test_reporter__tick_clock__file_rewritten_only_when_due(tmp_path: Path) -> None:
    path = tmp_path / "ghost.prom"
    now = [1000.0]
    config = GhostConfig(prometheus_file=str(path), prometheus_file_interval_seconds=10)
    metrics = reporter(config, snapshot(), now)
    metrics._tick()
    assert path.exists()
    path.unlink()
    now[0] += 5
    metrics._tick()
    assert not path.exists()
    now[0] += 5
    metrics._tick()
    assert path.exists()


# -- the cut-over's metrics -------------------------------------------------------------------


class ScriptedAttempt(Attempt):
    """An attempt that fails the first ``failures`` times, with no server."""

    def __init__(self, context: MigrationContext, failures: int):
        self.context = context
        self.original = "t"
        self.ghost = "_t_gho"
        self.failures = failures

    def run(self) -> None:
        with self.phase("unlock"):
            if self.failures > 0:
                self.failures -= 1
                raise CutOverAttemptFailed("lock wait timeout")


def cut_over_counts(registry: Registry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        s.labels: (s.value if s.kind == "counter" else s.count)
        for s in registry.series()
        if s.name == name
    }


def test_retry__two_failures_then_success__attempt_outcomes_and_backoff_recorded() -> None:
    context = MigrationContext(GhostConfig(default_retries=5))
    registry = Registry()
    context.metrics = registry
    retry(ScriptedAttempt(context, failures=2), sleep=lambda _: None, before_attempt=None)
    assert cut_over_counts(registry, "cut_over.attempts_total") == {
        (("outcome", "retry"),): 2,
        (("outcome", "success"),): 1,
    }
    assert cut_over_counts(registry, "cut_over.total_duration_milliseconds") == {
        (("outcome", "success"),): 1
    }
    assert cut_over_counts(registry, "cut_over.phase_duration_milliseconds") == {
        (("outcome", "abort"), ("phase", "unlock")): 2,
        (("outcome", "success"), ("phase", "unlock")): 1,
    }
    assert cut_over_counts(registry, "sleep.total_milliseconds") == {
        (("stage", "retry_backoff"),): 2000
    }


def test_retry__every_attempt_fails__abort_counted_once() -> None:
    context = MigrationContext(GhostConfig(default_retries=2))
    registry = Registry()
    context.metrics = registry
    with pytest.raises(CutOverError):
        retry(ScriptedAttempt(context, failures=9), sleep=lambda _: None, before_attempt=None)
    assert cut_over_counts(registry, "cut_over.attempts_total") == {
        (("outcome", "retry"),): 2,
        (("outcome", "abort"),): 1,
    }
    assert cut_over_counts(registry, "cut_over.total_duration_milliseconds") == {
        (("outcome", "abort"),): 1
    }

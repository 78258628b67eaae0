"""Throttler: check order, live knobs, caching, critical-load, hibernation, waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError, ConfigError
from django_ghost.engine.option_syntax import format_load, parse_load, parse_replicas
from django_ghost.engine.throttle.http import http_head_status
from django_ghost.engine.throttle.options import ThrottleOptions
from django_ghost.engine.throttle.order import ThrottleReaders
from django_ghost.engine.throttle.protocol import NoopThrottler, Throttler
from django_ghost.engine.throttle.throttler import RealThrottler


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeStatus:
    """SHOW GLOBAL STATUS as a dict the test changes; counts reads."""

    def __init__(self, **values: int) -> None:
        self.values: dict[str, Any] = dict(values)
        self.reads = 0

    def __call__(self) -> Mapping[str, Any]:
        self.reads += 1
        return dict(self.values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def context(clock: FakeClock) -> MigrationContext:
    return MigrationContext(GhostConfig(database="shop", table="orders"), clock=clock)


def make(context: MigrationContext, clock: FakeClock, **kwargs: Any) -> RealThrottler:
    options = kwargs.pop("options", ThrottleOptions(throttle_additional_flag_file=""))
    on_change = kwargs.pop("on_change", None)
    readers = ThrottleReaders(**kwargs)
    return RealThrottler(
        context, options=options, readers=readers, clock=clock, on_change=on_change
    )


# -- parsing -------------------------------------------------------------------------------


def test_parse_load__two_variables__mapping() -> None:
    assert parse_load(" Threads_running=25, Threads_connected = 500 ") == {
        "Threads_running": 25,
        "Threads_connected": 500,
    }


def test_parse_load__empty__no_thresholds() -> None:
    assert parse_load("") == {}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Threads_running", "is not Variable=Threshold"),
        ("Threads_running=abc", "is not an integer"),
        ("=5", "is not Variable=Threshold"),
        ("Threads-running=5", "is not a status variable name"),
        ("Threads_running=-1", "must not be negative"),
    ],
)
def test_parse_load__malformed__config_error_names_part(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_load(text, name="critical-load")


def test_format_load__parsed__round_trips() -> None:
    assert format_load(parse_load("A=1, B=2")) == "A=1,B=2"


def test_parse_replicas__with_and_without_port__default_3306() -> None:
    assert parse_replicas("r1, r2:3307") == [("r1", 3306), ("r2", 3307)]


@pytest.mark.parametrize("text", ["r1:abc", "r1:0", ":3306"])
def test_parse_replicas__bad_entry__config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_replicas(text)


def test_options_from_config__missing_fields__defaults_kept() -> None:
    options = ThrottleOptions.from_config(GhostConfig())
    assert options == ThrottleOptions()


def test_options_from_config__fields_present__taken() -> None:
    class Config:
        panic_flag_file = "/tmp/panic"
        ignore_http_errors = True

    options = ThrottleOptions.from_config(Config())
    assert options.panic_flag_file == "/tmp/panic"
    assert options.ignore_http_errors is True
    assert options.throttle_http_interval_millis == 100


# -- protocol and noop ---------------------------------------------------------------------


def test_noop_throttler__any_time__never_throttles(context: MigrationContext) -> None:
    throttler: Throttler = NoopThrottler(context)
    throttler.start()
    assert throttler.check() is None
    assert throttler.wait_while_throttled() is False
    assert throttler.heartbeat_allowed() is True
    assert throttler.nice(5.0) == 0.0
    throttler.stop()


def test_noop_throttler__aborted__wait_raises(context: MigrationContext) -> None:
    context.request_abort("because")
    with pytest.raises(AbortedError, match="because"):
        NoopThrottler(context).wait_while_throttled()


def test_real_throttler__structurally__is_a_throttler(
    context: MigrationContext, clock: FakeClock
) -> None:
    throttler: Throttler = make(context, clock)
    assert throttler.check() is None


# -- individual checks ---------------------------------------------------------------------


def test_check__nothing_configured__none_and_context_cleared(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.throttle_reason = "stale"
    assert make(context, clock).check() is None
    assert context.throttle_reason is None


def test_check__forced_by_user__commanded_reason(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.forced_throttle = True
    throttler = make(context, clock)
    assert throttler.check() == "commanded by user"
    assert context.throttle_reason == "commanded by user"
    context.knobs.forced_throttle = False
    assert throttler.check() is None


@pytest.mark.parametrize("which", ["throttle_flag_file", "throttle_additional_flag_file"])
def test_check__flag_file_present__throttled_until_removed(
    context: MigrationContext, clock: FakeClock, tmp_path: Path, which: str
) -> None:
    flag = tmp_path / "throttle"
    options = ThrottleOptions(**{"throttle_additional_flag_file": "", which: str(flag)})
    throttler = make(context, clock, options=options)
    assert throttler.check() is None
    flag.touch()
    assert throttler.check() == f"flag-file {flag}"
    flag.unlink()
    assert throttler.check() is None


def test_check__panic_file__aborts_context(
    context: MigrationContext, clock: FakeClock, tmp_path: Path
) -> None:
    panic = tmp_path / "panic"
    throttler = make(context, clock, options=ThrottleOptions(panic_flag_file=str(panic)))
    assert throttler.check() is None
    panic.touch()
    throttler.check()
    assert context.aborted
    assert "panic" in (context.abort_reason or "")


def test_check__max_load_met__throttled_with_values(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=30)
    context.knobs.max_load = "Threads_running=25"
    assert make(context, clock, status_reader=status).check() == (
        "max-load Threads_running=30 >= 25"
    )


def test_check__max_load_below__not_throttled(context: MigrationContext, clock: FakeClock) -> None:
    context.knobs.max_load = "Threads_running=25"
    assert make(context, clock, status_reader=FakeStatus(Threads_running=24)).check() is None


def test_check__max_load_variable_case__matched_case_insensitively(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.max_load = "threads_running=5"
    reason = make(context, clock, status_reader=FakeStatus(Threads_running=9)).check()
    assert reason == "max-load threads_running=9 >= 5"


def test_check__max_load_unknown_variable__throttled_with_explanation(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.max_load = "No_such_var=5"
    reason = make(context, clock, status_reader=FakeStatus(Threads_running=1)).check()
    assert reason == "max-load: unknown status variable No_such_var"


def test_check__status_read_fails__throttled_not_aborted(
    context: MigrationContext, clock: FakeClock
) -> None:
    def broken() -> Mapping[str, Any]:
        raise OSError("gone away")

    context.knobs.critical_load = "Threads_running=5"
    reason = make(context, clock, status_reader=broken).check()
    assert reason is not None and "gone away" in reason
    assert not context.aborted


def test_check__max_load_changed_live__new_threshold_used_at_once(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.max_load = "Threads_running=50"
    throttler = make(context, clock, status_reader=FakeStatus(Threads_running=30))
    assert throttler.check() is None
    context.knobs.max_load = "Threads_running=20"
    assert throttler.check() == "max-load Threads_running=30 >= 20"


def test_check__status_within_general_interval__read_once(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=1)
    context.knobs.max_load = "Threads_running=25"
    throttler = make(context, clock, status_reader=status)
    throttler.check()
    clock.advance(0.5)
    throttler.check()
    assert status.reads == 1
    clock.advance(0.6)
    throttler.check()
    assert status.reads == 2


def test_check__no_load_configured__status_never_read(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=1)
    make(context, clock, status_reader=status).check()
    assert status.reads == 0


def test_check__throttle_query_positive__throttled(
    context: MigrationContext, clock: FakeClock
) -> None:
    answers = {"select 1": 1, "select 0": 0, "select null": None, "select '2.5'": "2.5"}
    throttler = make(context, clock, scalar_query=answers.__getitem__)
    for sql, expected in [
        ("select 1", "throttle-query"),
        ("select 0", None),
        ("select null", None),
        ("select '2.5'", "throttle-query"),
    ]:
        context.knobs.throttle_query = sql
        assert throttler.check() == expected, sql


def test_check__throttle_query_errors__ignored(context: MigrationContext, clock: FakeClock) -> None:
    def failing(sql: str) -> object:
        raise RuntimeError("syntax error")

    context.knobs.throttle_query = "select nonsense"
    assert make(context, clock, scalar_query=failing).check() is None


def test_check__throttle_query_cached__rerun_after_interval(
    context: MigrationContext, clock: FakeClock
) -> None:
    calls: list[str] = []

    def query(sql: str) -> object:
        calls.append(sql)
        return 0

    context.knobs.throttle_query = "select 0"
    throttler = make(context, clock, scalar_query=query)
    throttler.check()
    throttler.check()
    assert len(calls) == 1
    clock.advance(1.0)
    throttler.check()
    assert len(calls) == 2


def test_check__http_statuses__only_200_passes(context: MigrationContext, clock: FakeClock) -> None:
    status = {"code": 200}
    throttler = make(context, clock, http_checker=lambda url, timeout: status["code"])
    context.knobs.throttle_http = "http://checker.local/throttle"
    assert throttler.check() is None
    status["code"] = 429
    clock.advance(0.2)
    assert throttler.check() == "throttle-http: status 429"


def test_check__http_url_mentions_freno__freno_wording(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.throttle_http = "http://freno.local/check/gh-ost"
    throttler = make(context, clock, http_checker=lambda url, timeout: 417)
    assert throttler.check() == "freno: status 417"


def test_check__http_connection_error__throttled(
    context: MigrationContext, clock: FakeClock
) -> None:
    def refused(url: str, timeout: float) -> int:
        raise ConnectionRefusedError("refused")

    context.knobs.throttle_http = "http://127.0.0.1:9/"
    assert make(context, clock, http_checker=refused).check() == "throttle-http: connection error"


def test_check__http_connection_error_ignored__not_throttled(
    context: MigrationContext, clock: FakeClock
) -> None:
    def refused(url: str, timeout: float) -> int:
        raise ConnectionRefusedError("refused")

    options = ThrottleOptions(ignore_http_errors=True, throttle_additional_flag_file="")
    context.knobs.throttle_http = "http://127.0.0.1:9/"
    assert make(context, clock, http_checker=refused, options=options).check() is None


def test_check__http_timeout__passed_in_seconds(
    context: MigrationContext, clock: FakeClock
) -> None:
    seen: list[float] = []
    options = ThrottleOptions(throttle_http_timeout_millis=250, throttle_additional_flag_file="")
    context.knobs.throttle_http = "http://x/"
    make(context, clock, options=options, http_checker=lambda u, t: seen.append(t) or 200).check()
    assert seen == [0.25]


def test_http_head_status__no_scheme__oserror() -> None:
    with pytest.raises(OSError):
        http_head_status("checker.local/throttle", 0.5)


def test_check__lag_above_max__throttled(context: MigrationContext, clock: FakeClock) -> None:
    lag = {"value": 2.0}
    throttler = make(context, clock, lag_reader=lambda: lag["value"])
    context.knobs.max_lag_millis = 1500
    assert throttler.check() == "lag=2.000s"
    context.knobs.max_lag_millis = 3000
    assert throttler.check() is None


def test_check__lag_unknown__not_throttled(context: MigrationContext, clock: FakeClock) -> None:
    assert make(context, clock, lag_reader=lambda: None).check() is None


def test_check__control_replica_lagging__names_host(
    context: MigrationContext, clock: FakeClock
) -> None:
    seen: list[str] = []

    def lags(replicas: str) -> Mapping[str, float | None]:
        seen.append(replicas)
        return {"r1:3306": 0.1, "r2:3306": 5.0}

    context.knobs.throttle_control_replicas = "r1,r2"
    assert make(context, clock, replica_lag_reader=lags).check() == "r2:3306 replica-lag=5.000s"
    assert seen == ["r1,r2"]


def test_check__control_replica_read_error__throttled(
    context: MigrationContext, clock: FakeClock
) -> None:
    def broken(replicas: str) -> Mapping[str, float | None]:
        raise OSError("no route")

    context.knobs.throttle_control_replicas = "r1"
    reason = make(context, clock, replica_lag_reader=broken).check()
    assert reason is not None and "no route" in reason


def test_check__control_replicas_changed__cache_invalidated(
    context: MigrationContext, clock: FakeClock
) -> None:
    seen: list[str] = []

    def lags(replicas: str) -> Mapping[str, float | None]:
        seen.append(replicas)
        return {}

    throttler = make(context, clock, replica_lag_reader=lags)
    context.knobs.throttle_control_replicas = "r1"
    throttler.check()
    context.knobs.throttle_control_replicas = "r2"
    throttler.check()
    assert seen == ["r1", "r2"]


def test_check__collaborator_bug__fails_safe_throttled(
    context: MigrationContext, clock: FakeClock
) -> None:
    def buggy() -> float | None:
        raise ZeroDivisionError("oops")

    reason = make(context, clock, lag_reader=buggy).check()
    assert reason == "throttle check failed: oops"


# -- order ---------------------------------------------------------------------------------


def test_check__several_reasons__gh_ost_order_first_wins(
    context: MigrationContext, clock: FakeClock, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.touch()
    options = ThrottleOptions(throttle_flag_file=str(flag), throttle_additional_flag_file="")
    throttler = make(
        context,
        clock,
        options=options,
        status_reader=FakeStatus(Threads_running=100),
        scalar_query=lambda sql: 1,
        http_checker=lambda u, t: 500,
        lag_reader=lambda: 99.0,
    )
    knobs = context.knobs
    knobs.forced_throttle = True
    knobs.max_load = "Threads_running=1"
    knobs.throttle_query = "select 1"
    knobs.throttle_http = "http://x/"
    expected = [
        "commanded by user",
        f"flag-file {flag}",
        "max-load Threads_running=100 >= 1",
        "throttle-query",
        "throttle-http: status 500",
        "lag=99.000s",
    ]
    got = []
    for _ in expected:
        got.append(throttler.check())
        # remove the reason just seen, so the next one shows
        if knobs.forced_throttle:
            knobs.forced_throttle = False
        elif flag.exists():
            flag.unlink()
        elif knobs.max_load:
            knobs.max_load = ""
        elif knobs.throttle_query:
            knobs.throttle_query = ""
        elif knobs.throttle_http:
            knobs.throttle_http = ""
    assert got == expected


def test_check__on_change_callback__called_on_transitions_only(
    context: MigrationContext, clock: FakeClock
) -> None:
    changes: list[str | None] = []
    throttler = make(context, clock, on_change=changes.append)
    throttler.check()
    context.knobs.forced_throttle = True
    throttler.check()
    throttler.check()
    context.knobs.forced_throttle = False
    throttler.check()
    assert changes == ["commanded by user", None]


# -- critical-load -------------------------------------------------------------------------


def test_critical_load__met_no_interval__aborts(
    context: MigrationContext, clock: FakeClock
) -> None:
    context.knobs.critical_load = "Threads_running=10"
    reason = make(context, clock, status_reader=FakeStatus(Threads_running=12)).check()
    assert reason == "critical-load met: Threads_running=12 >= 10"
    assert context.abort_reason == "critical-load met: Threads_running=12 >= 10"


def test_critical_load__spike_gone_before_recheck__continues(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=12)
    options = ThrottleOptions(critical_load_interval_millis=500, throttle_additional_flag_file="")
    context.knobs.critical_load = "Threads_running=10"
    throttler = make(context, clock, status_reader=status, options=options)
    assert throttler.check() == "critical-load Threads_running=12 >= 10, re-checking"
    status.values["Threads_running"] = 3
    clock.advance(0.6)
    assert throttler.check() is None
    assert not context.aborted


def test_critical_load__still_met_after_interval__aborts_with_fresh_read(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=12)
    options = ThrottleOptions(critical_load_interval_millis=300, throttle_additional_flag_file="")
    context.knobs.critical_load = "Threads_running=10"
    throttler = make(context, clock, status_reader=status, options=options)
    throttler.check()
    clock.advance(0.1)
    throttler.check()
    assert not context.aborted
    status.values["Threads_running"] = 15
    clock.advance(0.25)  # interval passed, general (1 s) cache not expired: must re-read
    throttler.check()
    assert context.abort_reason == "critical-load met: Threads_running=15 >= 10"


def test_critical_load__hibernate__no_reads_then_resumes(
    context: MigrationContext, clock: FakeClock
) -> None:
    status = FakeStatus(Threads_running=12)
    options = ThrottleOptions(critical_load_hibernate_seconds=10, throttle_additional_flag_file="")
    context.knobs.critical_load = "Threads_running=10"
    throttler = make(context, clock, status_reader=status, options=options)
    assert throttler.check() == "critical-load-hibernate for 10s (Threads_running=12 >= 10)"
    assert not context.aborted
    assert throttler.heartbeat_allowed() is False
    reads = status.reads
    clock.advance(5)
    reason = throttler.check()
    assert reason is not None and reason.startswith("critical-load-hibernate")
    assert status.reads == reads
    status.values["Threads_running"] = 1
    clock.advance(6)
    assert throttler.check() is None
    assert throttler.heartbeat_allowed() is True
    assert status.reads == reads + 1


# -- waiting, nice, thread -----------------------------------------------------------------


def test_wait_while_throttled__not_throttled__returns_false_at_once(
    context: MigrationContext, clock: FakeClock
) -> None:
    assert make(context, clock).wait_while_throttled() is False


def test_wait_while_throttled__aborted_while_waiting__raises(context: MigrationContext) -> None:
    context.knobs.forced_throttle = True
    throttler = RealThrottler(context, options=ThrottleOptions(tick_seconds=0.01))
    timer = threading.Timer(0.05, context.request_abort, args=("panic from test",))
    timer.start()
    with pytest.raises(AbortedError, match="panic from test"):
        throttler.wait_while_throttled()
    timer.join()


def test_wait_while_throttled__thread_running__returns_after_unthrottle(
    context: MigrationContext, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.touch()
    options = ThrottleOptions(
        throttle_flag_file=str(flag), throttle_additional_flag_file="", tick_seconds=0.01
    )
    throttler = RealThrottler(context, options=options)
    throttler.start()
    try:
        threading.Timer(0.1, flag.unlink).start()
        assert throttler.wait_while_throttled() is True
        assert context.throttle_reason is None
    finally:
        throttler.stop()


def test_wait_while_throttled__on_wait__called_at_each_wake_up_while_throttled(
    context: MigrationContext, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.touch()
    options = ThrottleOptions(
        throttle_flag_file=str(flag), throttle_additional_flag_file="", tick_seconds=0.01
    )
    throttler = RealThrottler(context, options=options)
    reasons: list[str | None] = []

    def on_wait() -> None:
        reasons.append(context.throttle_reason)
        if len(reasons) == 3:
            flag.unlink()

    assert throttler.wait_while_throttled(on_wait) is True
    assert len(reasons) == 3 and all(r == f"flag-file {flag}" for r in reasons)


def test_start_stop__thread__evaluates_then_ends(context: MigrationContext) -> None:
    context.knobs.forced_throttle = True
    throttler = RealThrottler(context, options=ThrottleOptions(tick_seconds=0.01))
    throttler.start()
    deadline = time.monotonic() + 5
    while context.throttle_reason is None and time.monotonic() < deadline:
        time.sleep(0.01)
    throttler.stop()
    assert context.throttle_reason == "commanded by user"
    assert not any(t.name == "ghost-throttler" for t in threading.enumerate())


def test_nice__ratio_set__sleeps_ratio_times_busy(context: MigrationContext) -> None:
    context.knobs.nice_ratio = 0.5
    throttler = RealThrottler(context)
    started = time.monotonic()
    assert throttler.nice(0.04) == pytest.approx(0.02)
    assert time.monotonic() - started >= 0.015


def test_nice__ratio_zero__no_pause(context: MigrationContext) -> None:
    context.knobs.nice_ratio = 0.0
    assert RealThrottler(context).nice(10.0) == 0.0


def test_check__on_change_raises__logged_and_reason_still_published(
    context: MigrationContext, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(reason: str | None) -> None:
        raise RuntimeError("changelog down")

    context.knobs.forced_throttle = True
    assert make(context, clock, on_change=broken).check() == "commanded by user"
    assert context.throttle_reason == "commanded by user"
    assert "on_change callback failed" in caplog.text


def test_wait_while_throttled__after_stop__still_throttles_synchronously(
    context: MigrationContext,
) -> None:
    context.knobs.forced_throttle = True
    throttler = RealThrottler(context, options=ThrottleOptions(tick_seconds=0.01))
    throttler.start()
    throttler.stop()
    released = threading.Event()

    def loop() -> None:
        throttler.wait_while_throttled()
        released.set()

    worker = threading.Thread(target=loop)
    worker.start()
    assert not released.wait(0.1)
    context.knobs.forced_throttle = False
    worker.join(timeout=5)
    assert released.is_set()


def test_parse_replicas__ipv6_with_port__address_and_port() -> None:
    assert parse_replicas("[::1]:3308, db2") == [("::1", 3308), ("db2", 3306)]

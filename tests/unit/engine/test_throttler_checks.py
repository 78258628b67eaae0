"""The throttle sources one by one, and the order the throttler runs them in."""

from __future__ import annotations

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import LiveKnobs, MigrationContext
from django_ghost.engine.throttle.check import ThrottleCheck
from django_ghost.engine.throttle.flag import PanicFlag, ThrottleFlag
from django_ghost.engine.throttle.forced import ForcedThrottle
from django_ghost.engine.throttle.lag import ControlReplicaLag, OwnLag
from django_ghost.engine.throttle.load import Hibernation, LoadStatus
from django_ghost.engine.throttle.options import ThrottleOptions
from django_ghost.engine.throttle.order import ThrottleReaders, gh_ost_checks
from django_ghost.engine.throttle.throttler import RealThrottler

# gh-ost's Throttler.shouldThrottle, first to last.
GH_OST_ORDER = [
    "critical-load-hibernate",
    "panic-flag-file",
    "critical-load",
    "forced-throttle",
    "throttle-flag-file",
    "throttle-additional-flag-file",
    "max-load",
    "throttle-query",
    "throttle-http",
    "max-lag-millis",
    "throttle-control-replicas",
]


@pytest.fixture
def context() -> MigrationContext:
    return MigrationContext(GhostConfig(database="shop", table="orders"))


def test_gh_ost_checks__names__gh_ost_order(context: MigrationContext) -> None:
    checks = gh_ost_checks(context, ThrottleOptions(), ThrottleReaders())
    assert [check.name for check in checks] == GH_OST_ORDER


def test_real_throttler__checks__built_in_gh_ost_order(context: MigrationContext) -> None:
    throttler = RealThrottler(context)
    assert [check.name for check in throttler.checks] == GH_OST_ORDER


def test_gh_ost_checks__shared_status__one_read_for_critical_and_max_load(
    context: MigrationContext,
) -> None:
    reads: list[int] = []

    def status() -> dict[str, int]:
        reads.append(1)
        return {"Threads_running": 3}

    readers = ThrottleReaders(status_reader=status)
    throttler = RealThrottler(context, options=ThrottleOptions(), readers=readers)
    context.knobs.critical_load = "Threads_running=50"
    context.knobs.max_load = "Threads_running=40"
    assert throttler.check() is None
    assert len(reads) == 1


def test_check_protocol__default__heartbeat_allowed() -> None:
    check: ThrottleCheck = ForcedThrottle()
    assert check.heartbeat_allowed(0.0) is True


def test_forced_throttle__knob__commanded_by_user() -> None:
    knobs = LiveKnobs.from_config(GhostConfig())
    assert ForcedThrottle().check(0.0, knobs) is None
    knobs.forced_throttle = True
    assert ForcedThrottle().check(0.0, knobs) == "commanded by user"


def test_throttle_flag__fake_file_exists__reason_names_path() -> None:
    knobs = LiveKnobs.from_config(GhostConfig())
    present = {"/run/flag"}
    check = ThrottleFlag("throttle-flag-file", "/run/flag", present.__contains__)
    assert check.check(0.0, knobs) == "flag-file /run/flag"
    present.clear()
    assert check.check(0.0, knobs) is None


def test_throttle_flag__no_path__file_never_tested() -> None:
    def never(path: str) -> bool:
        raise AssertionError(path)

    knobs = LiveKnobs.from_config(GhostConfig())
    assert ThrottleFlag("throttle-flag-file", "", never).check(0.0, knobs) is None


def test_panic_flag__fake_file_exists__aborts(context: MigrationContext) -> None:
    check = PanicFlag(context, "/run/panic", lambda path: True)
    assert check.check(0.0, context.knobs) == "panic flag file found"
    assert context.abort_reason == (
        "found panic flag file /run/panic; aborting (helper tables dropped, original untouched)"
    )


def test_hibernation__begun__heartbeats_stop_until_the_end() -> None:
    knobs = LiveKnobs.from_config(GhostConfig())
    hibernation = Hibernation(LoadStatus(None, 1.0))
    assert hibernation.check(0.0, knobs) is None
    hibernation.begin(100.0, 10)
    assert hibernation.heartbeat_allowed(105.0) is False
    assert hibernation.check(105.0, knobs) == "critical-load-hibernate for another 5s"
    assert hibernation.heartbeat_allowed(110.0) is True
    assert hibernation.check(110.0, knobs) is None


def test_own_lag__no_reader__never_throttles() -> None:
    assert OwnLag(None).check(0.0, LiveKnobs.from_config(GhostConfig())) is None


def test_control_replica_lag__unknown_lag__throttled() -> None:
    knobs = LiveKnobs.from_config(GhostConfig(throttle_control_replicas="r1"))
    check = ControlReplicaLag(lambda replicas: {"r1:3306": None})
    assert check.check(0.0, knobs) == "r1:3306 replica-lag unknown"

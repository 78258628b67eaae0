"""The apply's visibility fence without a server: binlog order across file rollover, the
statement each flavour uses, the backoff, the bound and abort (apply/fence.py).

MySQL cannot be installed on the test machines: its path (gtid_owned, GTID_SUBSET) is
verified here against a fake session, and documented in docs/cut-over.md as such.
"""

from __future__ import annotations

import dataclasses

import pytest

from django_ghost.engine.apply.fence import (
    FENCE_TIMEOUT_FACTOR,
    GTID_EXECUTED_CONTAINS,
    GTID_OWNED,
    MAX_BACKOFF,
    SNAPSHOT_STATUS,
    GtidProbe,
    SnapshotProbe,
    VisibilityFence,
    VisibilityFenceTimeout,
    binlog_order,
    owned_gtid_set,
    probe_for,
    reached,
)
from django_ghost.engine.binlog.events import BinlogPosition
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.errors import AbortedError, GhostError, PreflightError
from django_ghost.engine.mysql.server import ServerFacts

from .helpers import FenceServer

UUID1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
UUID2 = "4e11fa47-71ca-11e1-9e33-c80aa9429563"


def pos(file: str, offset: int) -> BinlogPosition:
    return BinlogPosition(file, offset)


class Clock:
    """A monotonic clock that only moves when the fence sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_fence(
    server: FenceServer, probe: SnapshotProbe | GtidProbe | None = None, **config: object
) -> tuple[VisibilityFence, Clock]:
    clock = Clock()
    context = MigrationContext(GhostConfig(database="s", table="t", alter="FORCE", **config))  # type: ignore[arg-type]
    fence = VisibilityFence(
        server,  # type: ignore[arg-type]
        probe or SnapshotProbe(same_server=True),
        context,
        clock=clock,
        sleep=clock.sleep,
    )
    return fence, clock


def facts(version: str, **extra: str) -> ServerFacts:
    return ServerFacts(
        version=version,
        log_bin=True,
        binlog_format="ROW",
        binlog_row_image="FULL",
        binlog_row_metadata="FULL",
        binlog_compressed=False,
        binlog_row_value_options="",
        hostname="db",
        port=3306,
        server_id=1,
        global_time_zone="SYSTEM",
        log_slave_updates=False,
        **extra,  # type: ignore[arg-type]
    )


# -- binlog order ----------------------------------------------------------------------


def test_binlog_order__file_rollover__numeric_extension_wins() -> None:
    assert reached(pos("binlog.1000000", 4), pos("binlog.999999", 900_000))
    assert not reached(pos("binlog.999999", 900_000), pos("binlog.1000000", 4))
    assert reached(pos("binlog.000010", 4), pos("binlog.000009", 900_000))


def test_binlog_order__same_file__offsets_compare() -> None:
    assert reached(pos("binlog.000003", 500), pos("binlog.000003", 500))
    assert not reached(pos("binlog.000003", 499), pos("binlog.000003", 500))


def test_binlog_order__no_numeric_extension__refused() -> None:
    with pytest.raises(GhostError, match="no numeric extension"):
        binlog_order(pos("binlog", 4))


# -- MariaDB: the committed binlog position --------------------------------------------


def test_wait__committed_position_past_the_target__one_round_trip() -> None:
    server = FenceServer([("binlog.000002", 100)])
    fence, clock = make_fence(server)

    fence.wait(pos("binlog.000002", 100))

    assert [sql for sql, _ in server.statements] == [SNAPSHOT_STATUS]
    assert clock.sleeps == []


def test_wait__already_covered__no_round_trip() -> None:
    server = FenceServer([("binlog.000002", 5000)])
    fence, _ = make_fence(server)
    fence.wait(pos("binlog.000002", 100))

    fence.wait(pos("binlog.000002", 4000))
    fence.wait(pos("binlog.000001", 9_999_999))

    assert len(server.statements) == 1
    assert fence.waits == 1


def test_wait__committed_position_behind__polls_with_backoff_until_reached() -> None:
    behind = [("binlog.000002", 10)] * 4
    server = FenceServer([*behind, ("binlog.000003", 4)])
    fence, clock = make_fence(server)

    fence.wait(pos("binlog.000002", 900))  # reached by a position in the next file

    assert len(server.statements) == 5
    assert clock.sleeps == [0.001, 0.002, 0.004, 0.008]


def test_wait__never_reached__times_out_naming_cause_and_remedy() -> None:
    server = FenceServer([("binlog.000002", 10)])
    fence, clock = make_fence(server, cut_over_lock_timeout_seconds=2)

    with pytest.raises(VisibilityFenceTimeout) as raised:
        fence.wait(pos("binlog.000002", 900))

    message = str(raised.value)
    assert "binlog.000002:900" in message
    assert f"within {FENCE_TIMEOUT_FACTOR * 2} s" in message
    assert "original table is untouched" in message
    assert "cut_over_lock_timeout_seconds" in message
    assert max(clock.sleeps) == MAX_BACKOFF
    assert FENCE_TIMEOUT_FACTOR * 2 <= clock.now < FENCE_TIMEOUT_FACTOR * 2 + MAX_BACKOFF


def test_wait__aborted_while_waiting__aborted_error_without_waiting_out_the_bound() -> None:
    server = FenceServer([("binlog.000002", 10)])
    fence, clock = make_fence(server)
    original_sleep = clock.sleep

    def sleep_then_abort(seconds: float) -> None:
        original_sleep(seconds)
        fence.context.request_abort("panic")

    fence._sleep = sleep_then_abort

    with pytest.raises(AbortedError, match="panic"):
        fence.wait(pos("binlog.000002", 900))

    assert len(clock.sleeps) == 1


def test_wait__timed_out__later_waits_not_taken_as_covered() -> None:
    server = FenceServer([("binlog.000002", 10)], end=("binlog.000002", 700))
    fence, _ = make_fence(server, probe=SnapshotProbe(same_server=False))
    with pytest.raises(VisibilityFenceTimeout):
        fence.wait(pos("replica-bin.000007", 900))

    assert not fence.probe.covers(pos("replica-bin.000007", 900))


def test_wait__binlog_read_on_a_replica__target_is_the_primarys_binlog_end() -> None:
    server = FenceServer(
        [("binlog.000002", 10), ("binlog.000002", 700)], end=("binlog.000002", 700)
    )
    fence, _ = make_fence(server, probe=SnapshotProbe(same_server=False))

    fence.wait(pos("replica-bin.000007", 123_456))  # the replica's coordinates
    fence.wait(pos("replica-bin.000007", 100))

    assert [sql for sql, _ in server.statements] == [
        "SELECT VERSION()",
        "SHOW MASTER STATUS",
        SNAPSHOT_STATUS,
        SNAPSHOT_STATUS,
    ]


# -- MySQL: gtid_executed ---------------------------------------------------------------


def test_owned_gtid_set__two_sources__one_gtid_set() -> None:
    owned = f"{UUID1}:5#12:6#13{UUID2}:7#3"

    assert owned_gtid_set(owned) == f"{UUID1}:5,{UUID1}:6,{UUID2}:7"


def test_owned_gtid_set__tagged_gtid__tag_kept() -> None:
    assert owned_gtid_set(f"{UUID1}:batch:9#4") == f"{UUID1}:batch:9"


def test_owned_gtid_set__nothing_owned__empty() -> None:
    assert owned_gtid_set("") == ""


def test_owned_gtid_set__unreadable__refused_not_skipped() -> None:
    with pytest.raises(GhostError, match="Cannot read @@GLOBAL.gtid_owned"):
        owned_gtid_set(f"{UUID1}:5#12 ANONYMOUS")


def test_wait__mysql_gtids_owned__polls_gtid_subset_until_executed() -> None:
    server = FenceServer(owned=f"{UUID1}:5#12", executed_after=3)
    fence, clock = make_fence(server, probe=GtidProbe())

    fence.wait(pos("binlog.000002", 900))

    assert server.statements == [
        (GTID_OWNED, []),
        (GTID_EXECUTED_CONTAINS, [f"{UUID1}:5"]),
        (GTID_EXECUTED_CONTAINS, [f"{UUID1}:5"]),
        (GTID_EXECUTED_CONTAINS, [f"{UUID1}:5"]),
    ]
    assert clock.sleeps == [0.001, 0.002]


def test_wait__mysql_nothing_owned__no_gtid_check() -> None:
    server = FenceServer(owned="")
    fence, _ = make_fence(server, probe=GtidProbe())

    fence.wait(pos("binlog.000002", 900))
    fence.wait(pos("binlog.000002", 800))

    assert server.statements == [(GTID_OWNED, [])]


# -- the fence each server gets ---------------------------------------------------------


def test_probe_for__mariadb__committed_binlog_position() -> None:
    probe = probe_for(facts("10.11.19-MariaDB-log"), same_server=True)

    assert isinstance(probe, SnapshotProbe)
    assert probe.same_server


def test_probe_for__mysql_with_gtids__gtid_executed() -> None:
    assert isinstance(probe_for(facts("8.0.36", gtid_mode="ON"), same_server=True), GtidProbe)


@pytest.mark.parametrize("mode", ["", "OFF", "ON_PERMISSIVE"])
def test_probe_for__mysql_without_gtids__refused_naming_the_remedy(mode: str) -> None:
    server = facts("8.0.36", gtid_mode=mode)

    with pytest.raises(PreflightError, match="gtid_mode=ON"):
        probe_for(server, same_server=True)
    assert any("gtid_mode" in problem for problem in server.binlog_problems())


def test_probe_for__mariadb_unoptimized_thread_scheduling__refused() -> None:
    server = facts("10.6.16-MariaDB", binlog_optimize_thread_scheduling="OFF")

    with pytest.raises(PreflightError, match="binlog_optimize_thread_scheduling=ON"):
        probe_for(server, same_server=True)


def test_binlog_problems__mariadb_defaults__none() -> None:
    server = facts("10.11.19-MariaDB-log", binlog_optimize_thread_scheduling="ON")

    assert server.binlog_problems() == []
    assert dataclasses.replace(server, log_bin=False).fence_problem() == ""

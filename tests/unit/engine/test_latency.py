"""The latency target (throttle/latency.py): the AIMD controller's decisions on fake
samples and a fake clock, the pacer's publishing, the copy's paced chunk size, the
throttler's pause, and what the status line, status-json and metrics show."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext, Pacing
from django_ghost.engine.control.metrics import sample_gauges
from django_ghost.engine.control.status import format_status_json, format_status_line
from django_ghost.engine.copy.copier import Copier
from django_ghost.engine.errors import ConfigError
from django_ghost.engine.metrics.catalogue import CATALOGUE
from django_ghost.engine.reporting import snapshot
from django_ghost.engine.sql.builder import KeyColumn
from django_ghost.engine.sql.columns import Column
from django_ghost.engine.table.info import TableInfo, UniqueKey
from django_ghost.engine.table.plan import build_plan
from django_ghost.engine.throttle.latency import (
    ControllerSettings,
    LatencyController,
    LatencyPacer,
    percentile,
)

TARGET = 20.0


def table(name: str) -> TableInfo:
    """A two-column table keyed by ``id``."""
    columns = tuple(
        Column(c, i, "int", "int(11)", False, None, None, False, None, 10, 0, None)
        for i, c in enumerate(("id", "v"), start=1)
    )
    key = UniqueKey("PRIMARY", ("id",), False)
    return TableInfo("s", name, "InnoDB", columns, (key,), 0, None, (), (), ())


class Samples:
    """Feeds a controller one sample every 50 ms of a fake clock."""

    def __init__(self, controller: LatencyController) -> None:
        self.controller = controller
        self.now = 1000.0

    def feed(self, millis: float, count: int) -> list[str]:
        """``count`` samples of ``millis``, deciding after each; the actions taken."""
        actions = []
        for _ in range(count):
            self.now += 0.05
            self.controller.add(self.now, millis)
            actions.append(self.controller.decide(self.now).action)
        return [a for a in actions if a != "hold"]


@pytest.fixture
def controller() -> LatencyController:
    """A controller past its slow start: at full speed, as after it ramped up."""
    return LatencyController(TARGET, ControllerSettings(initial_factor=1.0))


# -- the controller ------------------------------------------------------------------------


def test_percentile__twenty_values__nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 95) == 19.0
    assert percentile([7.0], 95) == 7.0


def test_controller__latency_above_target__chunk_factor_halves_and_pause_starts(
    controller: LatencyController,
) -> None:
    actions = Samples(controller).feed(TARGET * 3, 10)

    assert actions == ["backoff"]
    assert controller.chunk_factor == 0.5
    assert controller.pause_seconds == ControllerSettings().pause_step


def test_controller__latency_stays_high__backs_off_again_on_fresh_samples_only(
    controller: LatencyController,
) -> None:
    samples = Samples(controller)
    samples.feed(TARGET * 3, 10)
    # Fewer fresh samples than min_samples since the backoff: it waits to see its effect.
    assert samples.feed(TARGET * 3, 9) == []
    assert samples.feed(TARGET * 3, 1) == ["backoff"]
    assert controller.chunk_factor == 0.25
    assert controller.pause_seconds == pytest.approx(0.1)


def test_controller__latency_high_for_long__factor_and_pause_at_their_bounds(
    controller: LatencyController,
) -> None:
    Samples(controller).feed(TARGET * 10, 10 * 40)

    settings = ControllerSettings()
    assert controller.chunk_factor == settings.min_factor
    assert controller.pause_seconds == settings.max_pause


def test_controller__latency_falls__recovers_additively_to_full_speed(
    controller: LatencyController,
) -> None:
    samples = Samples(controller)
    samples.feed(TARGET * 3, 20)  # two backoffs: factor 0.25, pause 0.1
    assert samples.feed(TARGET * 0.2, 10) == ["recover"]
    assert controller.chunk_factor == pytest.approx(0.30)
    assert controller.pause_seconds == pytest.approx(0.05)

    samples.feed(TARGET * 0.2, 10 * 30)

    assert controller.chunk_factor == 1.0
    assert controller.pause_seconds == 0.0
    assert not controller.paced


def test_controller__after_a_spike_to_the_longest_pause__pause_gone_in_six_recoveries(
    controller: LatencyController,
) -> None:
    samples = Samples(controller)
    samples.feed(TARGET * 10, 10 * 40)
    assert controller.pause_seconds == ControllerSettings().max_pause
    pauses = []
    for _ in range(6):
        assert samples.feed(TARGET * 0.2, 10) == ["recover"]
        pauses.append(controller.pause_seconds)
    assert pauses == pytest.approx([1.0, 0.5, 0.25, 0.125, 0.0625, 0.0])
    assert controller.chunk_factor < 0.5  # the factor grows back additively: still low


def test_controller__latency_between_recovery_line_and_target__holds(
    controller: LatencyController,
) -> None:
    samples = Samples(controller)
    samples.feed(TARGET * 3, 10)
    factor, pause = controller.chunk_factor, controller.pause_seconds

    assert samples.feed(TARGET * 0.85, 100) == []
    assert (controller.chunk_factor, controller.pause_seconds) == (factor, pause)


def test_controller__low_latency_at_full_speed__nothing_to_recover(
    controller: LatencyController,
) -> None:
    assert Samples(controller).feed(1.0, 100) == []
    assert controller.chunk_factor == 1.0 and controller.pause_seconds == 0.0


def test_controller__one_slow_sample_among_many__p95_ignores_it(
    controller: LatencyController,
) -> None:
    samples = Samples(controller)
    samples.feed(1.0, 30)
    assert samples.feed(TARGET * 50, 1) == []
    assert controller.chunk_factor == 1.0


def test_controller__start__slow_start_doubles_to_full_speed() -> None:
    controller = LatencyController(TARGET)
    assert controller.chunk_factor == pytest.approx(0.1) and controller.paced

    actions = Samples(controller).feed(TARGET * 0.2, 10 * 4)

    assert actions == ["recover"] * 4
    assert controller.chunk_factor == 1.0  # 0.1, 0.2, 0.4, 0.8, then capped at 1
    assert not controller.paced


def test_controller__backoff_during_slow_start__recovers_additively_after_it() -> None:
    controller = LatencyController(TARGET)
    samples = Samples(controller)
    samples.feed(TARGET * 0.2, 10)  # 0.1 -> 0.2
    samples.feed(TARGET * 3, 10)  # backoff: 0.1, pause 0.05; slow start is over
    assert controller.chunk_factor == pytest.approx(0.1)

    assert samples.feed(TARGET * 0.2, 10) == ["recover"]

    assert controller.chunk_factor == pytest.approx(0.15)
    assert not controller.slow_start


def test_controller__old_samples__leave_the_window(controller: LatencyController) -> None:
    samples = Samples(controller)
    samples.feed(TARGET * 0.8, 30)
    assert controller.p95(samples.now) == TARGET * 0.8

    later = samples.now + 10.0
    assert controller.p95(later) is None
    assert controller.decide(later).action == "hold"


# -- pacing as the copy and the status see it ------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "size", "expected"),
    [(1.0, 5000, 5000), (0.5, 5000, 2500), (0.001, 5000, 10), (0.001, 10, 10)],
)
def test_pacing_scale__factor__scaled_size_never_below_minimum(
    factor: float, size: int, expected: int
) -> None:
    assert Pacing(chunk_factor=factor).scale(size, 10) == expected


def test_pacer__probe_slower_than_target__publishes_the_backoff_in_the_context() -> None:
    context = MigrationContext(GhostConfig(database="s", table="t", max_latency_millis=20))
    clock = [1000.0]

    def slow_probe() -> None:
        clock[0] += 0.2  # 200 ms per probe: ten times the target

    pacer = LatencyPacer(context, slow_probe, clock=lambda: clock[0])
    actions = [pacer.step().action for _ in range(4)]

    assert actions == ["hold", "hold", "hold", "backoff"]  # two samples 0.5 s apart
    assert context.pacing.chunk_factor == pytest.approx(0.05)  # half the slow start's 0.1
    assert context.pacing.pause_seconds > 0
    assert context.pacing.p95_millis == pytest.approx(200.0)


def test_pacer__probe_lock_wait_timeout__counted_other_errors_not() -> None:
    context = MigrationContext(GhostConfig(database="s", table="t", max_latency_millis=20))
    clock = [1000.0]
    error: list[Exception] = [OSError(1205, "Lock wait timeout exceeded")]

    def failing_probe() -> None:
        clock[0] += 1.0
        raise error[0]

    pacer = LatencyPacer(context, failing_probe, clock=lambda: clock[0])
    pacer.step()
    assert context.pacing.p95_millis == pytest.approx(1000.0)

    error[0] = OSError(2013, "Lost connection")
    fresh = LatencyPacer(
        MigrationContext(GhostConfig(max_latency_millis=20)),
        failing_probe,
        clock=lambda: clock[0],
    )
    assert fresh.step().p95_millis is None


def test_copy_next__paced__copies_the_scaled_chunk_and_time_target_sees_full_size() -> None:
    sizes: list[int] = []

    class Chunker:
        first, done = True, False

        def next_chunk(self, size: int) -> bool:
            sizes.append(size)
            return True

        def advance(self) -> None:
            pass

    class Writer:
        def cursor(self) -> Writer:
            return self

        def execute(self, sql: str, params: Any = None) -> int:
            return 1

        def close(self) -> None:
            pass

    plan = build_plan(table("t"), table("_t_gho"), renamed={}, dropped=frozenset())
    config = GhostConfig(database="s", table="t", alter="FORCE", chunk_size=1000)
    context = MigrationContext(config)
    context.pacing.chunk_factor = 0.25
    copier = Copier(
        Writer(),  # type: ignore[arg-type]
        plan,
        Chunker(),  # type: ignore[arg-type]
        context,
        ghost_table="_t_gho",
        key=(KeyColumn("id", "id", plan.original.column("id")),),
        lock_clause="",
    )

    copier.copy_next()

    assert sizes == [250]
    assert context.knobs.chunk_size == 1000


def paced_context() -> MigrationContext:
    config = GhostConfig(database="s", table="t", chunk_size=4000, max_latency_millis=20)
    context = MigrationContext(config)
    context.pacing.p95_millis = 35.5
    context.pacing.chunk_factor = 0.125
    context.pacing.pause_seconds = 0.2
    return context


def test_status_line__latency_target__shows_p95_target_and_pacing() -> None:
    line = format_status_line(snapshot(paced_context().config, paced_context()))

    assert line.endswith("; Latency p95: 35.5ms (target 20ms); Pacing: chunk 500, pause 0.20s")


def test_status_line__no_latency_target__gh_ost_line_unchanged() -> None:
    context = MigrationContext(GhostConfig(database="s", table="t"))
    line = format_status_line(snapshot(context.config, context))

    assert "Latency" not in line and line.endswith("State: starting; ETA: 0s")


def test_status_json__latency_target__measured_p95_and_pacing() -> None:
    context = paced_context()
    data = json.loads(format_status_json(snapshot(context.config, context), context))

    assert data["latency_target_millis"] == 20
    assert data["latency_p95_millis"] == 35.5
    assert data["pacing_chunk_size"] == 500
    assert data["pacing_pause_seconds"] == 0.2


def test_sample_gauges__latency_target__latency_and_pacing_gauges() -> None:
    context = paced_context()
    series = sample_gauges(
        snapshot(context.config, context), context, replication_lag=None, throttle_source=None
    )
    values = {s.name: s.value for s in series}

    assert values["latency.probe_p95_milliseconds"] == 35.5
    assert values["latency.target_milliseconds"] == 20
    assert values["pacing.chunk_size"] == 500
    assert values["pacing.pause_seconds"] == 0.2
    assert all(name in CATALOGUE for name in values)


def test_sample_gauges__no_latency_target__no_latency_gauges() -> None:
    context = MigrationContext(GhostConfig(database="s", table="t"))
    series = sample_gauges(
        snapshot(context.config, context), context, replication_lag=None, throttle_source=None
    )
    assert not [s for s in series if s.name.startswith(("latency.", "pacing."))]


def test_max_latency_millis__out_of_range__config_refused() -> None:
    with pytest.raises(ConfigError, match="max_latency_millis=-1 is out of range"):
        GhostConfig(max_latency_millis=-1).validate()


def test_controller__probes_slow_as_lock_waits__decides_on_two_samples() -> None:
    controller = LatencyController(TARGET)
    controller.add(1001.0, 1000.0)
    assert controller.decide(1001.0).action == "hold"
    controller.add(1002.05, 1000.0)

    assert controller.decide(1002.05).action == "backoff"


def test_pacer__inactive__no_probe_and_holds() -> None:
    context = MigrationContext(GhostConfig(max_latency_millis=20))
    probes: list[int] = []
    pacer = LatencyPacer(context, lambda: probes.append(1), active=lambda: False)

    assert pacer.step().action == "hold"
    assert probes == [] and context.pacing.p95_millis is None


def test_pacer__started__slow_start_factor_published_before_any_probe() -> None:
    context = MigrationContext(GhostConfig(database="s", table="t", max_latency_millis=20))
    probed = threading.Event()
    pacer = LatencyPacer(context, probed.wait, interval=60.0)  # its probe never returns
    pacer.start()
    try:
        assert context.pacing.chunk_factor == pytest.approx(0.1)
    finally:
        probed.set()
        pacer.stop()

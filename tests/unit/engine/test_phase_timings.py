"""Time per phase: the context adds up the seconds of each phase (a phase entered twice
counts both stays), and the result's log line lists them in the order first entered."""

from __future__ import annotations

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import MigrationContext
from django_ghost.engine.reporting import describe_phases


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def context() -> tuple[MigrationContext, Clock]:
    clock = Clock()
    config = GhostConfig(database="s", table="t", alter="ENGINE=InnoDB")
    return MigrationContext(config, clock=clock), clock


def test_phase_timings__phases_in_turn__seconds_of_each_current_included() -> None:
    ctx, clock = context()
    clock.now += 0.5
    ctx.set_phase("copying")
    clock.now += 4.0
    ctx.set_phase("catching up")
    clock.now += 1.0
    ctx.set_phase("verifying")
    clock.now += 2.0

    assert ctx.phase_timings() == {
        "starting": 0.5,
        "copying": 4.0,
        "catching up": 1.0,
        "verifying": 2.0,
    }


def test_phase_timings__phase_entered_again__both_stays_added() -> None:
    ctx, clock = context()
    ctx.set_phase("catching up")
    clock.now += 1.0
    ctx.set_phase("verifying")
    clock.now += 3.0
    ctx.set_phase("catching up")
    clock.now += 0.5
    ctx.set_phase("catching up")  # the same phase again: no new stay
    clock.now += 0.5

    assert ctx.phase_timings() == {"starting": 0.0, "catching up": 2.0, "verifying": 3.0}


def test_describe_phases__short_phases__left_out_others_in_order() -> None:
    text = describe_phases({"starting": 0.001, "copying": 6.349, "building indexes": 1.2})
    assert text == "copying 6.35 s, building indexes 1.20 s"

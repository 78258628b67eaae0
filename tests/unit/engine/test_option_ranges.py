"""One table of option ranges: GhostConfig validates with it, the live knobs' setters
take their ranges from it, and LiveKnobs start at the options' values."""

from __future__ import annotations

import dataclasses

import pytest

from django_ghost.engine.config import OPTION_RANGES, GhostConfig, option_types
from django_ghost.engine.context import LiveKnobs
from django_ghost.engine.control.commands import KNOB_RANGES
from django_ghost.engine.errors import ConfigError


def test_option_ranges__every_name__numeric_option_with_default_in_range() -> None:
    types = option_types()
    defaults = GhostConfig()
    for name, (low, high) in OPTION_RANGES.items():
        assert types[name] in (int, float), name
        assert low <= getattr(defaults, name) <= high, name


@pytest.mark.parametrize("name", sorted(OPTION_RANGES))
def test_validate__just_outside_range__refused_naming_range(name: str) -> None:
    low, high = OPTION_RANGES[name]
    for value in (low - 1, high + 1):
        with pytest.raises(ConfigError, match=rf"{name}={value} is out of range; allowed"):
            GhostConfig(**{name: value}).validate()
    GhostConfig(**{name: low}).validate()
    GhostConfig(**{name: high}).validate()


def test_validate__nice_ratio_too_high__message_unchanged() -> None:
    with pytest.raises(ConfigError, match=r"nice_ratio=100.5 is out of range; allowed 0\.\.100\."):
        GhostConfig(nice_ratio=100.5).validate()


def test_knob_ranges__derived__same_values_as_before() -> None:
    assert KNOB_RANGES == {
        "chunk_size": (10, 100_000),
        "dml_batch_size": (1, 10_000),
        "max_lag_millis": (100, 3_600_000),
        "nice_ratio": (0.0, 100.0),
    }
    assert all(KNOB_RANGES[name] == OPTION_RANGES[name] for name in KNOB_RANGES)


def test_live_knobs_from_config__option_named_knobs__take_the_option_value() -> None:
    config = GhostConfig(
        chunk_size=700,
        dml_batch_size=20,
        max_lag_millis=900,
        nice_ratio=0.5,
        max_load="Threads_running=9",
        critical_load="Threads_running=99",
        throttle_query="select 1",
        throttle_http="http://x/",
        throttle_control_replicas="r1",
    )
    knobs = LiveKnobs.from_config(config)
    assert knobs == LiveKnobs(
        chunk_size=700,
        dml_batch_size=20,
        max_lag_millis=900,
        nice_ratio=0.5,
        max_load="Threads_running=9",
        critical_load="Threads_running=99",
        throttle_query="select 1",
        throttle_http="http://x/",
        throttle_control_replicas="r1",
        forced_throttle=False,
        postpone_cut_over=False,
    )
    not_options = {f.name for f in dataclasses.fields(LiveKnobs)} - set(dataclasses.asdict(config))
    assert not_options == {"forced_throttle", "postpone_cut_over"}

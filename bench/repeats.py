"""The idle runs' repetitions (``--idle-repeats N``): medians, ranges and pair ratios.

On the sysbench shape's idle null rebuild, bench/run.py runs ALGORITHM=COPY and ours
(at the defaults) alternately N times (COPY, ours, COPY, ours, ...), each run marked with
its ``"repeat"`` index (1..N), so each ours run has a COPY run just before it. Every
other run is a single run. The report and the targets read the repetitions only
through this module:

- the idle runs of one tool, shape and alter form a *group* (one run when not repeated);
- the group's **median run** is the one with the median wall time among those that
  completed; with an even count it is the lower middle one, so the median is always a
  measured run, whose other figures (phases, CPU, RSS, probe) can be shown with it;
- ours ÷ COPY of a repeated group is the median of the per-pair ratios (each ours run ÷
  the COPY run of the same repetition); every other idle ratio divides by the median
  COPY run, and every "ours' idle time" is that of ours' median run.

Result files from before repetitions have no ``"repeat"`` field and one run per tool:
each group is that run, and every figure is the one it always was.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .figures import find, fmt, ratio, wall_seconds

COPY = "ALGORITHM=COPY"
Run = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Spread:
    """A median and the range it was taken from, over ``count`` values."""

    median: float
    low: float
    high: float
    count: int

    def text(self, digits: int = 2, suffix: str = "") -> str:
        """ "3.05 (2.76–3.26)"; a single value without its (empty) range."""
        value = fmt(self.median, digits, suffix)
        if self.count < 2:
            return value
        return f"{value} ({fmt(self.low, digits)}–{fmt(self.high, digits, suffix)})"


def median_low(values: list[float]) -> float:
    """The median, the lower middle one of an even count (always one of the values)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def spread(values: list[float]) -> Spread | None:
    if not values:
        return None
    return Spread(median_low(values), min(values), max(values), len(values))


def idle_group(runs: list[Run], tool: str, shape: str, alter: str) -> list[Run]:
    """The idle runs of ``tool`` on ``shape`` with ``alter``, in the order they ran."""
    return [
        r
        for r in runs
        if r["tool"] == tool and r["shape"] == shape and r["alter"] == alter and r["rate"] is None
    ]


def group_of(runs: list[Run], run: Run) -> list[Run]:
    """The runs ``run`` is shown with: its idle group, or itself alone when loaded."""
    if run["rate"] is not None:
        return [run]
    return idle_group(runs, run["tool"], run["shape"], run["alter"])


def median_run(group: list[Run]) -> Run | None:
    """The completed run with the median wall time; the first run when none completed
    (so that a failure is still shown as one); None for no run at all."""
    done = [r for r in group if wall_seconds(r) is not None]
    if not done:
        return group[0] if group else None
    middle = median_low([float(r["outcome"]["wall_seconds"]) for r in done])
    return next(r for r in done if wall_seconds(r) == middle)


def idle_wall(runs: list[Run], tool: str, shape: str, alter: str) -> float | None:
    """The median run's wall time of the tool's idle group (None: none completed)."""
    return wall_seconds(median_run(idle_group(runs, tool, shape, alter)))


def wall_spread(group: list[Run]) -> Spread | None:
    return spread([w for r in group if (w := wall_seconds(r)) is not None])


def pair_ratios(runs: list[Run], group: list[Run]) -> list[float]:
    """Each repeated run's wall time ÷ that of the COPY run of the same repetition
    (the one just before it); a pair with a failed run has no ratio."""
    ratios = []
    for run in group:
        if "repeat" not in run:
            continue
        floor = find(
            runs,
            tool=COPY,
            shape=run["shape"],
            alter=run["alter"],
            rate=None,
            repeat=run["repeat"],
        )
        value = ratio(wall_seconds(run), wall_seconds(floor))
        if value is not None:
            ratios.append(value)
    return ratios


def vs_copy(runs: list[Run], group: list[Run]) -> Spread | None:
    """An idle group's ratio to ALGORITHM=COPY on the same shape and alter: the median
    of its pair ratios when it was repeated alternately with COPY, else its median
    run ÷ COPY's median run."""
    first = group[0] if group else None
    if first is None:
        return None
    if first["tool"] != COPY and any("repeat" in r for r in group):
        return spread(pair_ratios(runs, group))
    floor = idle_wall(runs, COPY, first["shape"], first["alter"])
    single = ratio(wall_seconds(median_run(group)), floor)
    return None if single is None else Spread(single, single, single, 1)


def representatives(runs: list[Run]) -> list[Run]:
    """One run per group, in the order the groups first ran: a repeated idle group is
    shown by its median run, every other run by itself."""
    shown: list[Run] = []
    seen: set[tuple[str, str, str]] = set()
    for run in runs:
        if run["rate"] is not None:
            shown.append(run)
            continue
        key = (run["tool"], run["shape"], run["alter"])
        if key not in seen:
            seen.add(key)
            chosen = median_run(group_of(runs, run))
            shown.append(chosen if chosen is not None else run)
    return shown


def most_repeats(runs: list[Run]) -> int:
    """The largest idle group's size: 1 when nothing was repeated."""
    return max((len(group_of(runs, r)) for r in runs if r["rate"] is None), default=1)

"""--idle-repeats: the alternating idle runs (bench/run.py), their medians, ranges and pair
ratios (bench/repeats.py) and how the report and the targets show them, on hand-made
result records and a stand-in server: no MariaDB, no sysbench."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import options, repeats, report, run, shapes, targets, tools

from .helpers import PHASES, make_results, make_run, row_of

COPY = repeats.COPY
# (ALGORITHM=COPY, ours) wall seconds per repetition: pair ratios 1.40, 1.50, 1.545...
PAIRS = [(10.0, 14.0), (9.0, 13.5), (11.0, 17.0)]


def _repeated(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """make_results() with its idle COPY and ours replaced by alternating repetitions, through
    JSON as the report reads them. Each ours repetition's copy phase is half its wall
    time, which tells the phase table's row which run it shows."""
    results = make_results()
    first_copy, first_ours = results["runs"][:2]
    runs = []
    for k, (copy_wall, ours_wall) in enumerate(pairs, 1):
        floor = copy.deepcopy(first_copy)
        floor["outcome"]["wall_seconds"] = copy_wall
        ours = copy.deepcopy(first_ours)
        ours["outcome"]["wall_seconds"] = ours_wall
        ours["outcome"]["phase_seconds"] = {**PHASES, "copying": ours_wall / 2}
        floor["repeat"] = ours["repeat"] = k
        runs += [floor, ours]
    results["runs"] = runs + [make_run("pt-osc", 13.0)] + results["runs"][2:]
    results["settings"]["idle_repeats"] = len(pairs)
    parsed: dict[str, Any] = json.loads(json.dumps(results))
    return parsed


def _fail(record: dict[str, Any]) -> None:
    record["outcome"].update(ok=False, error="boom")
    record["correct"] = False
    record["problems"] = ["did not complete"]


def _all_runs(text: str) -> list[str]:
    """The lines of the report's "All runs" section."""
    return text.split("## All runs", 1)[1].split("## Time per phase", 1)[0].splitlines()


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]


# -- medians, ranges, pair ratios (bench/repeats.py) ---------------------------------------


def test_median_low__even_count__lower_middle_value() -> None:
    assert repeats.median_low([3.0, 1.0, 4.0, 2.0]) == 2.0
    assert repeats.median_low([5.0, 1.0, 3.0]) == 3.0


def test_spread_text__three_values__median_and_range() -> None:
    spread = repeats.spread([3.26, 2.76, 3.05])
    assert spread is not None
    assert spread.text() == "3.05 (2.76–3.26)"
    assert spread.text(2, "×") == "3.05× (2.76–3.26×)"


def test_spread_text__one_value__no_range() -> None:
    spread = repeats.spread([2.76])
    assert spread is not None and spread.text() == "2.76"


def test_vs_copy__three_alternating_pairs__median_pair_ratio_and_range() -> None:
    runs = _repeated(PAIRS)["runs"]
    ours = repeats.idle_group(runs, "ours", "sysbench", "null rebuild")
    assert [r["repeat"] for r in ours] == [1, 2, 3]
    pairs = repeats.vs_copy(runs, ours)
    assert pairs is not None and pairs.count == 3
    assert (pairs.median, pairs.low, pairs.high) == pytest.approx((1.5, 1.4, 17 / 11))
    walls = repeats.wall_spread(ours)
    assert walls == repeats.Spread(14.0, 13.5, 17.0, 3)
    floor = repeats.idle_group(runs, COPY, "sysbench", "null rebuild")
    assert repeats.wall_spread(floor) == repeats.Spread(10.0, 9.0, 11.0, 3)


def test_vs_copy__single_run_beside_repetitions__divided_by_median_copy() -> None:
    runs = _repeated(PAIRS)["runs"]
    ptosc = repeats.vs_copy(runs, repeats.idle_group(runs, "pt-osc", "sysbench", "null rebuild"))
    assert ptosc == repeats.Spread(1.3, 1.3, 1.3, 1)


def test_pair_ratios__copy_of_a_pair_failed__pair_left_out() -> None:
    runs = _repeated(PAIRS)["runs"]
    _fail(runs[2])  # the COPY of repetition 2
    ours = repeats.idle_group(runs, "ours", "sysbench", "null rebuild")
    assert repeats.pair_ratios(runs, ours) == pytest.approx([1.4, 17 / 11])


def test_median_run__even_count__lower_middle_run() -> None:
    runs = _repeated([(10.0, 14.0), (10.0, 12.0)])["runs"]
    median = repeats.median_run(repeats.idle_group(runs, "ours", "sysbench", "null rebuild"))
    assert median is not None and median["repeat"] == 2


# -- results JSON with repetitions -> the report -------------------------------------------


def test_render__three_repetitions__one_row_per_tool_with_medians_and_ranges() -> None:
    text = report.render(_repeated(PAIRS))
    idle = [
        line for line in _all_runs(text) if line.startswith("| sysbench | null rebuild | idle |")
    ]
    assert [_cells(line)[3] for line in idle] == [
        COPY,
        "ours",
        "pt-osc",
        "ours (chunk 1000, gh-ost's)",
    ]
    assert _cells(idle[0])[4:6] == ["10.00 (9.00–11.00)", "1.00×"]
    assert _cells(idle[1])[4:6] == ["14.00 (13.50–17.00)", "1.50× (1.40–1.55×)"]
    assert _cells(idle[1])[-1] == "✓"
    assert "**3 times, alternately**" in text
    assert "- **idle, repeated** (3 times, `--idle-repeats`)" in text


def test_render__three_repetitions__other_ratios_use_the_median_runs() -> None:
    text = report.render(_repeated(PAIRS))
    ptosc = row_of(_all_runs(text), "| sysbench | null rebuild | idle | pt-osc |")
    assert _cells(ptosc)[4:6] == ["13.00", "1.30×"]  # ÷ the median COPY, 10.00 s
    tuned = row_of(_all_runs(text), "| sysbench | null rebuild | idle | ours (chunk")
    assert _cells(tuned)[5] == "1.60×"
    loaded = row_of(_all_runs(text), "| sysbench | null rebuild | rate=2000 | ours |")
    assert _cells(loaded)[6] == "1.43×"  # 20 s ÷ ours' median idle run, 14 s


def test_render__failed_repetition__counted_and_flagged() -> None:
    results = _repeated(PAIRS)
    _fail(results["runs"][3])  # ours, repetition 2
    text = report.render(results)
    ours = row_of(_all_runs(text), "| sysbench | null rebuild | idle | ours |")
    # the median of the two that completed (14.0, 17.0) is the lower one
    assert _cells(ours)[4:6] == ["14.00 (14.00–17.00); 1 of 3 failed", "1.40× (1.40–1.55×)"]
    assert _cells(ours)[-1] == "✗ repeat 2: did not complete"
    assert "- ours on sysbench (idle, repetition 2 of 3) did not complete: `boom`" in text
    idle = row_of(targets.summary(results), "| idle 1,000-row sysbench rebuild")
    assert "ours 1.40×, median of 2 of 3 alternating pairs, 1.40–1.55×" in idle


def test_phase_table__three_repetitions__phases_of_the_median_run() -> None:
    text = report.render(_repeated(PAIRS))
    lines = text.split("## Time per phase (ours)", 1)[1].splitlines()
    rows = [line for line in lines if line.startswith("| sysbench | null rebuild | idle | ours |")]
    assert len(rows) == 1
    assert _cells(rows[0])[4:6] == ["14.00", "7.00"]  # the 14 s run copied for 7 s
    assert "An idle run repeated 3 times (`--idle-repeats`) is shown by its median run." in text


def test_update_performance__three_repetitions__block_says_medians(tmp_path: Path) -> None:
    path = tmp_path / "performance.md"
    path.write_text(f"head\n{report.BEGIN}\nold\n{report.END}\ntail\n")
    assert report.update_performance(path, _repeated(PAIRS))
    assert "Idle ALGORITHM=COPY and ours: medians of 3 alternating runs each." in path.read_text()


# -- the issue-19 verdict from the median pair ratio ---------------------------------------


def test_summary__median_pair_ratio_within_target__met() -> None:
    idle = row_of(targets.summary(_repeated(PAIRS)), "| idle 1,000-row sysbench rebuild")
    assert (
        "| ≤ 1.5× | ours 1.50×, median of 3 alternating pairs, 1.40–1.55× "
        "(median runs 14.00 s vs 10.00 s); pt-osc 1.30×; gh-ost not run | met |"
    ) in idle


def test_summary__median_pair_ratio_over_target_first_pair_under__not_met() -> None:
    # the first pair alone (1.40×) would have met the target
    results = _repeated([(10.0, 14.0), (10.0, 16.0), (10.0, 17.0)])
    lines = targets.summary(results)
    idle = row_of(lines, "| idle 1,000-row sysbench rebuild")
    assert "ours 1.60×, median of 3 alternating pairs, 1.40–1.70×" in idle
    assert idle.endswith("| **not met** |")
    # ÷ own idle and the latency target's cost divide by ours' median idle run, 16 s
    loaded = row_of(lines, "| under rate=2000 ÷ own idle, client errors, p95 base → during (ours)")
    assert "| 1.25×;" in loaded
    assert "took 3.12× ours' idle run" in row_of(lines, "| rate=2000: share of")


# -- repeats=1: today's output -------------------------------------------------------------


def test_render__one_repetition__same_as_without_repetitions() -> None:
    before = make_results()  # a record from before --idle-repeats: no "repeat" fields
    marked = copy.deepcopy(before)
    for run_record in marked["runs"][:2]:  # ALGORITHM=COPY and ours, idle
        run_record["repeat"] = 1
    marked["settings"]["idle_repeats"] = 1
    text = report.render(marked)
    assert text == report.render(before)
    assert "**one repetition** (no error bars)" in text
    assert "idle, repeated" not in text and "--idle-repeats" not in text
    ours = row_of(_all_runs(text), "| sysbench | null rebuild | idle | ours |")
    assert _cells(ours)[4:6] == ["14.00", "1.40×"]
    idle = row_of(targets.summary(marked), "| idle 1,000-row sysbench rebuild")
    assert idle.endswith(
        "| ≤ 1.5× | ours 1.40× (14.00 s vs 10.00 s); pt-osc –; gh-ost not run | met |"
    )


# -- the command line and the order of the runs (bench/options.py, bench/run.py) -----------


def test_parse_args__idle_repeats__default_three_one_allowed_zero_refused(
    tmp_path: Path,
) -> None:
    base = ["--skip-gh-ost", "--results", str(tmp_path)]
    assert options.parse_args(base).idle_repeats == 3
    one = options.parse_args([*base, "--idle-repeats", "1"])
    assert one.idle_repeats == 1 and one.settings()["idle_repeats"] == 1
    with pytest.raises(SystemExit):
        options.parse_args([*base, "--idle-repeats", "0"])


class _Server:
    """What Bench.measure asks of the server around an idle ALGORITHM=COPY run."""

    def row_count(self, table: str) -> int:
        return 1000

    def checksum(self, table: str) -> int:
        return 42

    def binlog_bytes(self) -> int:
        return 0

    def execute(self, sql: str) -> None:
        raise AssertionError(f"unexpected statement {sql}")


def _bench(tmp_path: Path, *args: str) -> run.Bench:
    opts = options.parse_args(["--skip-gh-ost", "--results", str(tmp_path), *args])
    return run.Bench(opts, _Server())  # type: ignore[arg-type]


def test_idle__three_repeats__copy_and_ours_alternate_then_single_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench(tmp_path, "--idle-repeats", "3")
    calls: list[tuple[str, str, str, int | None]] = []

    def measure(tool: str, shape: shapes.Shape, alter: str, label: str, **kw: Any) -> None:
        calls.append((tool + kw.get("variant", ""), shape.name, label, kw.get("repeat")))

    monkeypatch.setattr(bench, "measure", measure)
    bench.idle([shapes.sysbench_shape(1000), shapes.wide_shape(1000)])
    tuned = "ours" + run.tuned_variant(run.GHOST_CHUNK_SIZE)
    sysbench = [(t, r) for t, s, _, r in calls if s == "sysbench"]
    assert sysbench == [
        (COPY, 1),
        ("ours", 1),
        (COPY, 2),
        ("ours", 2),
        (COPY, 3),
        ("ours", 3),
        ("pt-osc", None),
        (tuned, None),
    ]
    assert [(t, r) for t, s, _, r in calls if s == "wide"] == [
        (COPY, None),
        ("ours", None),
        ("pt-osc", None),
    ]


def test_idle__one_repeat__each_tool_once_in_todays_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench(tmp_path, "--idle-repeats", "1", "--tuned-chunk-size", "0")
    calls: list[str] = []
    monkeypatch.setattr(bench, "measure", lambda tool, *a, **kw: calls.append(tool))
    bench.idle([shapes.sysbench_shape(1000)])
    assert calls == [COPY, "ours", "pt-osc"]


def test_measure__repetition__index_kept_in_the_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench(tmp_path, "--idle-repeats", "2")
    outcome = tools.Outcome(tool=COPY, ok=True, wall_seconds=2.5, copy_seconds=2.5)
    monkeypatch.setattr(bench, "run_tool", lambda *a, **kw: outcome)
    shape = shapes.sysbench_shape(1000)
    repeated = bench.measure(COPY, shape, run.NULL_REBUILD, "null rebuild", repeat=2)
    single = bench.measure(COPY, shape, run.NULL_REBUILD, "null rebuild")
    assert repeated["repeat"] == 2 and repeated["correct"]
    assert "repeat" not in single
    assert bench.runs == [repeated, single]

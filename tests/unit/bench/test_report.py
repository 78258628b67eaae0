"""bench/report.py and the modules it renders from (figures, targets, plot), on
hand-made result records: no server, no sysbench."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bench import figures, plot, report, targets

from .helpers import make_results, make_run, make_samples, row_of


def test_within_target_share__nine_of_ten_seconds__ninety_percent() -> None:
    run = make_run("ours", 10.0, rate=2000, samples=make_samples([10.0] * 9 + [25.0]))
    assert figures.within_target_share(run, 20.0) == pytest.approx(0.9)
    assert figures.share_text(run, 20.0) == "90 % of 10 s"


def test_within_target_share__second_without_transactions__counts_as_over() -> None:
    # sysbench prints p95 0 for a second in which nothing completed (a stalled load)
    run = make_run("ours", 10.0, rate=2000, samples=make_samples([10.0, 0.0]))
    assert figures.within_target_share(run, 20.0) == pytest.approx(0.5)


def test_within_target_share__baseline_and_after_seconds__not_counted() -> None:
    run = make_run("ours", 10.0, rate=2000, samples=make_samples([30.0]))
    assert figures.within_target_share(run, 20.0) == 0.0


def test_within_target_share__no_samples__none_and_dash() -> None:
    run = make_run("ours", 10.0)
    del run["samples"]  # a result file from before samples were kept
    assert figures.within_target_share(run, 20.0) is None
    assert figures.share_text(run, 20.0) == "–"


def test_summary__paced_run_within_target_and_cost__met() -> None:
    lines = targets.summary(make_results())
    row = row_of(lines, "| rate=2000: share of the migration's seconds with load p95 ≤ 20 ms")
    assert "ours (--max-latency-millis=20) 90 % of 10 s" in row
    assert "ours 50 % of 10 s" in row
    assert "3.57× ours' idle run" in row
    assert row.endswith("| met |")


def test_summary__paced_run_under_ninety_percent__not_met() -> None:
    lines = targets.summary(make_results(paced_share_ok=False))
    row = row_of(lines, "| rate=2000: share of")
    assert "80 % of 10 s" in row
    assert row.endswith("| **not met** |")


def test_summary__issue_19_targets__idle_tuned_and_apply_rows() -> None:
    lines = targets.summary(make_results())
    idle = row_of(lines, "| idle 1,000-row sysbench rebuild")
    assert "| ≤ 1.5× |" in idle and "ours 1.40×" in idle and idle.endswith("| met |")
    tuned = row_of(lines, "| same, ours (chunk 1000, gh-ost's)")
    assert "| ≤ 1.5× | 1.60×" in tuned and tuned.endswith("| **not met** |")
    apply = row_of(lines, "| apply capacity")
    assert "≥ 60,000 events/s" in apply and apply.endswith("| met |")


def test_render__issue_19__heading_and_plot_link() -> None:
    text = report.render(make_results())
    assert "## Key figures against the targets (issue 19)" in text
    assert f"]({report.PLOT_NAME})" in text
    assert "| s with p95 ≤ 20 ms |" in text


def test_render__idle_only__no_plot_link() -> None:
    results = make_results()
    results["runs"] = [r for r in results["runs"] if r["rate"] is None]
    assert report.PLOT_NAME not in report.render(results)


def test_phase_table__with_phase_seconds__columns_summed() -> None:
    lines = figures.phase_table(make_results()["runs"])
    assert "## Time per phase (ours)" in lines
    header = row_of(lines, "| shape |")
    assert header == (
        "| shape | alter | load | tool | wall s | copy | index build | catch-up "
        "| verification | cut-over | clean-up | other |"
    )
    row = row_of(lines, "| sysbench | null rebuild | idle | ours |")
    # other = starting 0.11 + postponed 0.5
    cells = [cell.strip() for cell in row.strip("|").split("|")][4:]
    assert cells == ["14.00", "6.35", "1.14", "0.10", "2.57", "0.02", "0.27", "0.61"]
    assert not any("ALGORITHM=COPY" in line for line in lines)


def test_phase_table__without_phase_seconds__dashes() -> None:
    lines = figures.phase_table(make_results(with_phases=False)["runs"])
    row = row_of(lines, "| sysbench | null rebuild | rate=2000 | ours |")
    assert (
        row == "| sysbench | null rebuild | rate=2000 | ours | 20.00 | – | – | – | – | – | – | – |"
    )


def test_phase_table__no_run_of_ours__empty() -> None:
    assert figures.phase_table([make_run("ALGORITHM=COPY", 1.0)]) == []


def test_write_p95_plot__matplotlib_installed__png_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "docs" / report.PLOT_NAME
    assert plot.write_p95_plot(make_results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_p95_plot__idle_only__nothing_written(tmp_path: Path) -> None:
    results = make_results()
    results["runs"] = [r for r in results["runs"] if r["rate"] is None]
    path = tmp_path / report.PLOT_NAME
    assert not plot.write_p95_plot(results, path)
    assert not path.exists()


def test_write_p95_plot__matplotlib_missing__says_so_and_markdown_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = plot.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "matplotlib" else real(name, *args)

    monkeypatch.setattr(plot.importlib.util, "find_spec", find_spec)
    markdown = tmp_path / "benchmarks.md"
    report.write(copy.deepcopy(make_results()), markdown)
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert markdown.read_text().startswith("# Benchmarks")
    assert not (tmp_path / report.PLOT_NAME).exists()

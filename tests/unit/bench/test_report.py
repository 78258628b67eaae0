"""bench/report.py and the modules it renders from (figures, targets, plot), on
hand-made result records: no server, no sysbench."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bench import figures, plot, report, targets


def _outcome(wall: float, *, phases: dict[str, float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tool": "ours",
        "ok": True,
        "wall_seconds": wall,
        "copy_seconds": wall / 2,
        "rows_copied": 1000,
        "events_applied": 0,
        "cpu_seconds": 1.0,
        "peak_rss_mb": 30.0,
        "cut_over_stall_seconds": 0.01,
        "checksum_verified": True,
        "error": "",
        "extra": {},
    }
    if phases is not None:
        out["phase_seconds"] = phases
    return out


def _samples(p95_during: list[float], *, tps: float = 500.0) -> list[dict[str, Any]]:
    """Three warm-up seconds at 5 ms, then one sample per migration second, then one after."""
    rows = [
        {"t": t, "tps": tps, "p95_ms": 5.0, "err": 0.0, "phase": "baseline"} for t in (-2, -1, 0)
    ]
    rows += [
        {"t": i + 1, "tps": tps if p95 else 0.0, "p95_ms": p95, "err": 0.0, "phase": "migration"}
        for i, p95 in enumerate(p95_during)
    ]
    rows.append({"t": len(p95_during) + 1, "tps": tps, "p95_ms": 5.0, "err": 0.0, "phase": "after"})
    return rows


def _run(
    tool: str,
    wall: float,
    *,
    rate: int | None = None,
    samples: list[dict[str, Any]] | None = None,
    phases: dict[str, float] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    loaded = rate is not None
    return {
        "tool": tool,
        "shape": "sysbench",
        "rows": 1000,
        "alter": "null rebuild",
        "rate": rate,
        "overrides": overrides or {},
        "outcome": _outcome(wall, phases=phases),
        "probe": {"max_wait_seconds": 0.02, "writes": 10, "errors": 0},
        "baseline": {"seconds": 3, "tps": 500.0, "p95_ms": 5.0, "p95_max_ms": 5.0, "errors": 0}
        if loaded
        else None,
        "during": {"seconds": 10, "tps": 480.0, "p95_ms": 9.0, "p95_max_ms": 30.0, "errors": 0}
        if loaded
        else None,
        "samples": samples or [],
        "migration_end_seconds": wall if loaded else None,
        "load_fatal": [],
        "load_fatal_count": 0,
        "correct": True,
        "problems": [],
    }


PHASES = {
    "starting": 0.11,
    "copying": 6.35,
    "building indexes": 1.14,
    "catching up": 0.10,
    "verifying": 2.57,
    "cutting over": 0.02,
    "cut over": 0.27,
    "postponed: waiting for cut-over approval": 0.5,
}


def _results(*, with_phases: bool = True, paced_share_ok: bool = True) -> dict[str, Any]:
    phases = PHASES if with_phases else None
    # 10 migration seconds: 9 within 20 ms (90 %) when ok, else 8 (80 %)
    paced = [10.0] * 9 + [40.0] if paced_share_ok else [10.0] * 8 + [40.0, 0.0]
    return {
        "env": {
            "started": "2026-12-06 06:00:00 UTC",
            "cpus": 2,
            "cpu_model": "test",
            "kernel": "test",
            "loadavg_start": [0.1, 0.1, 0.1],
            "python": "3.11",
            "sysbench": "sysbench 1.0.20",
            "pt_osc": "pt-osc 3.2.1",
            "gh_ost": "not run",
        },
        "settings": {
            "ours_chunk_size": 5000,
            "ours_tuned_chunk_size": 1000,
            "ours_dml_batch_size": 500,
            "ours_max_latency_millis": 20,
            "warmup_seconds": 10.0,
            "time_limit_seconds": 300.0,
            "apply_write_seconds": 30,
            "apply_dml_batch_sizes": [500],
            "sysbench_threads": 8,
            "rates": [2000],
        },
        "runs": [
            _run("ALGORITHM=COPY", 10.0),
            _run("ours", 14.0, phases=phases),
            _run("ours (chunk 1000, gh-ost's)", 16.0, phases=phases),
            _run("ours", 20.0, rate=2000, samples=_samples([10.0] * 5 + [50.0] * 5), phases=phases),
            _run(
                "ours (--max-latency-millis=20)",
                50.0,
                rate=2000,
                samples=_samples(paced),
                phases=phases,
                overrides={"max_latency_millis": 20},
            ),
        ],
        "apply": [
            {
                "dml_batch_size": 500,
                "overrides": {},
                "outcome": _outcome(30.0),
                "apply": {
                    "events_per_second": 65_000.0,
                    "drained_events": 650_000,
                    "drain_seconds": 10.0,
                },
                "offered_events_per_second": 8000.0,
            }
        ],
    }


def _row_of(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_within_target_share__nine_of_ten_seconds__ninety_percent() -> None:
    run = _run("ours", 10.0, rate=2000, samples=_samples([10.0] * 9 + [25.0]))
    assert figures.within_target_share(run, 20.0) == pytest.approx(0.9)
    assert figures.share_text(run, 20.0) == "90 % of 10 s"


def test_within_target_share__second_without_transactions__counts_as_over() -> None:
    # sysbench prints p95 0 for a second in which nothing completed (a stalled load)
    run = _run("ours", 10.0, rate=2000, samples=_samples([10.0, 0.0]))
    assert figures.within_target_share(run, 20.0) == pytest.approx(0.5)


def test_within_target_share__baseline_and_after_seconds__not_counted() -> None:
    run = _run("ours", 10.0, rate=2000, samples=_samples([30.0]))
    assert figures.within_target_share(run, 20.0) == 0.0


def test_within_target_share__no_samples__none_and_dash() -> None:
    run = _run("ours", 10.0)
    del run["samples"]  # a result file from before samples were kept
    assert figures.within_target_share(run, 20.0) is None
    assert figures.share_text(run, 20.0) == "–"


def test_summary__paced_run_within_target_and_cost__met() -> None:
    lines = targets.summary(_results())
    row = _row_of(lines, "| rate=2000: share of the migration's seconds with load p95 ≤ 20 ms")
    assert "ours (--max-latency-millis=20) 90 % of 10 s" in row
    assert "ours 50 % of 10 s" in row
    assert "3.57× ours' idle run" in row
    assert row.endswith("| met |")


def test_summary__paced_run_under_ninety_percent__not_met() -> None:
    lines = targets.summary(_results(paced_share_ok=False))
    row = _row_of(lines, "| rate=2000: share of")
    assert "80 % of 10 s" in row
    assert row.endswith("| **not met** |")


def test_summary__issue_19_targets__idle_tuned_and_apply_rows() -> None:
    lines = targets.summary(_results())
    idle = _row_of(lines, "| idle 1,000-row sysbench rebuild")
    assert "| ≤ 1.5× |" in idle and "ours 1.40×" in idle and idle.endswith("| met |")
    tuned = _row_of(lines, "| same, ours (chunk 1000, gh-ost's)")
    assert "| ≤ 1.5× | 1.60×" in tuned and tuned.endswith("| **not met** |")
    apply = _row_of(lines, "| apply capacity")
    assert "≥ 60,000 events/s" in apply and apply.endswith("| met |")


def test_render__issue_19__heading_and_plot_link() -> None:
    text = report.render(_results())
    assert "## Key figures against the targets (issue 19)" in text
    assert f"]({report.PLOT_NAME})" in text
    assert "| s with p95 ≤ 20 ms |" in text


def test_render__idle_only__no_plot_link() -> None:
    results = _results()
    results["runs"] = [r for r in results["runs"] if r["rate"] is None]
    assert report.PLOT_NAME not in report.render(results)


def test_phase_table__with_phase_seconds__columns_summed() -> None:
    lines = figures.phase_table(_results()["runs"])
    assert "## Time per phase (ours)" in lines
    header = _row_of(lines, "| shape |")
    assert header == (
        "| shape | alter | load | tool | wall s | copy | index build | catch-up "
        "| verification | cut-over | clean-up | other |"
    )
    row = _row_of(lines, "| sysbench | null rebuild | idle | ours |")
    # other = starting 0.11 + postponed 0.5
    cells = [cell.strip() for cell in row.strip("|").split("|")][4:]
    assert cells == ["14.00", "6.35", "1.14", "0.10", "2.57", "0.02", "0.27", "0.61"]
    assert not any("ALGORITHM=COPY" in line for line in lines)


def test_phase_table__without_phase_seconds__dashes() -> None:
    lines = figures.phase_table(_results(with_phases=False)["runs"])
    row = _row_of(lines, "| sysbench | null rebuild | rate=2000 | ours |")
    assert (
        row == "| sysbench | null rebuild | rate=2000 | ours | 20.00 | – | – | – | – | – | – | – |"
    )


def test_phase_table__no_run_of_ours__empty() -> None:
    assert figures.phase_table([_run("ALGORITHM=COPY", 1.0)]) == []


def test_write_p95_plot__matplotlib_installed__png_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "docs" / report.PLOT_NAME
    assert plot.write_p95_plot(_results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_p95_plot__idle_only__nothing_written(tmp_path: Path) -> None:
    results = _results()
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
    report.write(copy.deepcopy(_results()), markdown)
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert markdown.read_text().startswith("# Benchmarks")
    assert not (tmp_path / report.PLOT_NAME).exists()

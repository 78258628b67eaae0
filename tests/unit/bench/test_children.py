"""The bench's children and inputs, without a server: the probe is always stopped, the
load's per-second lines become samples, gh-ost is found beside the repository."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench import load, probe, tools
from bench.server import Server

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def _probe(tmp_path: Path, code: str) -> probe.ProbeProcess:
    """A ProbeProcess whose child is ``code`` instead of bench.probe (no server needed)."""
    proc = probe.ProbeProcess({}, "SELECT 1", tmp_path / "probe.json", tmp_path)
    proc.args = [sys.executable, "-c", code]
    return proc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_probe_stop__child_ignores_sigterm__killed_after_timeout(tmp_path: Path) -> None:
    proc = _probe(tmp_path, IGNORES_SIGTERM)
    proc.start()
    assert proc.proc is not None
    pid = proc.proc.pid
    time.sleep(0.5)  # let it install its handler
    started = time.monotonic()
    assert proc.stop(timeout=0.5) == {}  # killed: no result, not a stale one
    assert time.monotonic() - started < 10
    assert not _alive(pid)


def test_probe_stop__child_writes_result__returned_and_second_stop_noop(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    code = f"import json; json.dump({{'writes': 3}}, open({str(out)!r}, 'w'))"
    proc = _probe(tmp_path, code)
    proc.start()
    assert proc.proc is not None
    proc.proc.wait(30)
    assert proc.stop() == {"writes": 3}
    assert proc.stop() == {}


def test_probe_start__stale_result_from_earlier_run__removed(tmp_path: Path) -> None:
    (tmp_path / "probe.json").write_text(json.dumps({"writes": 99}))
    proc = _probe(tmp_path, "pass")
    proc.start()
    assert proc.stop() == {}


def _sysbench_line(sec: int, tps: float, p95: float, err: float) -> str:
    """One ``--report-interval=1`` line as sysbench 1.0 prints it."""
    return (
        f"[ {sec}s ] thds: 8 tps: {tps:.2f} qps: {tps * 4:.2f} (r/w/o: 0.00/0.00/0.00) "
        f"lat (ms,95%): {p95:.2f} err/s: {err:.2f} reconn/s: 0.00"
    )


SYSBENCH_LINES = "\n".join(
    _sysbench_line(*line)
    for line in [
        (1, 100.0, 50.0, 0.0),
        (2, 500.0, 5.0, 0.0),
        (3, 500.0, 6.0, 0.0),
        (4, 400.0, 30.0, 1.0),
        (5, 0.0, 0.0, 0.0),
        (6, 500.0, 5.0, 0.0),
    ]
)


def test_load_samples__sysbench_lines__phases_relative_to_the_migration(tmp_path: Path) -> None:
    log = tmp_path / "sysbench.log"
    log.write_text(SYSBENCH_LINES)
    sysload = load.Load(Server("127.0.0.1", 3306, "u", "p"), 1000, 2000, log)
    samples = sysload.samples(3.2, 4.8)  # the migration ran from 3.2 s to 4.8 s
    assert [(s["t"], s["phase"]) for s in samples] == [
        (-0.2, "baseline"),  # seconds 1 and 2 (connection set-up) are left out
        (0.8, "migration"),
        (1.8, "migration"),
        (2.8, "after"),
    ]
    assert samples[1] == {"t": 0.8, "tps": 400.0, "p95_ms": 30.0, "err": 1.0, "phase": "migration"}


def test_find_ghost__env_unset__shared_tools_beside_repo(tmp_path: Path) -> None:
    repo = tmp_path / "wt"
    binary = tmp_path / "shared" / "tools" / "gh-ost"
    binary.parent.mkdir(parents=True)
    assert tools.find_ghost({}, repo) == ""  # absent: gh-ost is left out, no failure
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert tools.find_ghost({}, repo) == str(binary)
    assert tools.find_ghost({"GH_OST_BIN": "/opt/gh-ost"}, repo) == "/opt/gh-ost"

"""The status hook event reaches every kind of hook, Python callables included."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from tests.integration.helpers import Run, make_config, seed
from tests.plugins.mariadb import TestDatabase, wait_for


class Recorder:
    """A Hooks implementation that keeps every event with its environment."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str]]] = []

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        self.events.append((event, dict(extra_env or {})))


def test_status_hook__python_hooks_without_hooks_path__status_events_with_line(
    db: TestDatabase, tmp_path: Path
) -> None:
    seed(db, 1000)
    flag = tmp_path / "postpone"
    flag.touch()
    recorder = Recorder()
    run = Run(
        make_config(
            db,
            "t",
            "ADD COLUMN x INT",
            postpone_cut_over_flag_file=str(flag),
            hooks_status_interval=1,
            serve_socket_file=str(tmp_path / "s.sock"),
        ),
        hooks=recorder,
    )
    run.start()
    assert wait_for(run.postponed, timeout=60)
    time.sleep(2.5)  # two status intervals while the cut-over waits
    flag.unlink()
    run.join(timeout=120)
    assert run.error is None, run.error
    statuses = [env for event, env in recorder.events if event == "status"]
    assert len(statuses) >= 2
    assert all(env["GHOST_STATUS"].startswith("Copy: ") for env in statuses)

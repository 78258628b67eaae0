"""Hooks: executable discovery and order, environment, failures, callables, composite."""

from __future__ import annotations

import logging
import os
import sys
import types
from collections.abc import Mapping
from pathlib import Path

import pytest

from django_ghost.engine.config import GhostConfig
from django_ghost.engine.errors import ConfigError, GhostError
from django_ghost.engine.hooks import (
    HOOK_EVENTS,
    CallableHooks,
    CompositeHooks,
    ExecutableHooks,
    HookError,
    Hooks,
    NoopHooks,
    build_hook_environment,
    with_gh_ost_names,
)
from django_ghost.engine.progress import ProgressSnapshot

BASE_ENV = {"GHOST_DATABASE_NAME": "shop", "GHOST_TABLE_NAME": "orders"}


def base_env() -> Mapping[str, str]:
    return BASE_ENV


def write_hook(directory: Path, name: str, body: str, executable: bool = True) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755 if executable else 0o644)
    return path


def snapshot(**changes: object) -> ProgressSnapshot:
    values: dict[str, object] = {
        "database": "shop",
        "table": "orders",
        "phase": "copying",
        "elapsed_seconds": 12.4,
        "rows_copied": 250,
        "rows_estimate": 1000,
        "rows_per_second": 50.0,
        "events_applied": 7,
        "backlog": 0,
        "lag_seconds": 0.25,
        "throttle_reason": None,
        "eta_seconds": 15.0,
    }
    values.update(changes)
    return ProgressSnapshot(**values)  # type: ignore[arg-type]


# -- noop and event names ------------------------------------------------------------------


def test_noop_hooks__known_event__nothing_happens() -> None:
    hooks: Hooks = NoopHooks()
    for event in HOOK_EVENTS:
        hooks.fire(event, {"X": "1"})


def test_fire__unknown_event__value_error() -> None:
    with pytest.raises(ValueError, match="unknown hook event 'on-startup'"):
        NoopHooks().fire("on-startup")


# -- executables ---------------------------------------------------------------------------


def test_hooks_for__both_prefixes__sorted_by_name(tmp_path: Path) -> None:
    write_hook(tmp_path, "ghost-on-startup-b", "true")
    write_hook(tmp_path, "gh-ost-on-startup", "true")
    write_hook(tmp_path, "ghost-on-startup-a", "true")
    write_hook(tmp_path, "gh-ost-on-status", "true")
    names = [p.name for p in ExecutableHooks(tmp_path, base_env).hooks_for("startup")]
    assert names == ["gh-ost-on-startup", "ghost-on-startup-a", "ghost-on-startup-b"]


def test_hooks_for__startup_and_start_replication__prefixes_do_not_overlap(
    tmp_path: Path,
) -> None:
    write_hook(tmp_path, "ghost-on-startup", "true")
    write_hook(tmp_path, "ghost-on-start-replication", "true")
    hooks = ExecutableHooks(tmp_path, base_env)
    assert [p.name for p in hooks.hooks_for("startup")] == ["ghost-on-startup"]
    assert [p.name for p in hooks.hooks_for("start-replication")] == ["ghost-on-start-replication"]


def test_hooks_for__not_executable__skipped_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_hook(tmp_path, "ghost-on-startup.sample", "exit 1", executable=False)
    with caplog.at_level(logging.WARNING, logger="django_ghost"):
        assert ExecutableHooks(tmp_path, base_env).hooks_for("startup") == []
    assert "not an executable file" in caplog.text


def test_fire__hooks_run__in_order_with_output_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "log"
    write_hook(tmp_path, "ghost-on-validated-2", f'echo second >> "{log}"; echo out2')
    write_hook(tmp_path, "gh-ost-on-validated", f'echo first >> "{log}"; echo err1 >&2')
    with caplog.at_level(logging.INFO, logger="django_ghost"):
        ExecutableHooks(tmp_path, base_env).fire("validated")
    assert log.read_text().split() == ["first", "second"]
    assert "[hook gh-ost-on-validated] err1" in caplog.text
    assert "[hook ghost-on-validated-2] out2" in caplog.text


def test_fire__environment__ghost_and_gh_ost_names_and_minimal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("MYSQL_PWD", "hunter2")
    out = tmp_path / "env"
    write_hook(tmp_path, "ghost-on-interactive-command", f'env > "{out}"')
    hooks = ExecutableHooks(tmp_path, base_env)
    hooks.fire("interactive-command", {"GHOST_COMMAND": "chunk-size=10"})
    env = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    assert env["GHOST_DATABASE_NAME"] == "shop"
    assert env["GH_OST_DATABASE_NAME"] == "shop"
    assert env["GHOST_HOOK_EVENT"] == "interactive-command"
    assert env["GHOST_COMMAND"] == "chunk-size=10"
    assert env["GH_OST_COMMAND"] == "'chunk-size=10'"  # gh-ost's literal quotes
    assert env["PATH"] == os.environ["PATH"]
    assert "SECRET_TOKEN" not in env and "MYSQL_PWD" not in env
    assert "hunter2" not in out.read_text()


def test_fire__non_zero_exit__hook_error_with_tail(tmp_path: Path) -> None:
    lines = "; ".join(f"echo line{i}" for i in range(30))
    write_hook(tmp_path, "ghost-on-before-cut-over", f"{lines}; exit 3")
    with pytest.raises(HookError) as info:
        ExecutableHooks(tmp_path, base_env).fire("before-cut-over")
    error = info.value
    assert isinstance(error, GhostError)
    assert error.hook == "ghost-on-before-cut-over" and error.event == "before-cut-over"
    message = str(error)
    assert "exit code 3" in message
    assert "line29" in message and "line9\n" not in message  # only the tail is kept


def test_fire__first_hook_fails__later_hooks_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_hook(tmp_path, "ghost-on-startup-1", "exit 1")
    write_hook(tmp_path, "ghost-on-startup-2", f'touch "{marker}"')
    with pytest.raises(HookError):
        ExecutableHooks(tmp_path, base_env).fire("startup")
    assert not marker.exists()


def test_fire__status_hook_fails__logged_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_hook(tmp_path, "ghost-on-status", "echo broken monitor; exit 1")
    with caplog.at_level(logging.ERROR, logger="django_ghost"):
        ExecutableHooks(tmp_path, base_env).fire("status", {"GHOST_STATUS": "Copy: 1/2"})
    assert "broken monitor" in caplog.text and "ignored" in caplog.text


def test_fire__batch_copy_retry_hook_fails__logged_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_hook(tmp_path, "gh-ost-on-batch-copy-retry", "echo $GH_OST_LAST_BATCH_COPY_ERROR; exit 1")
    with caplog.at_level(logging.INFO, logger="django_ghost"):
        ExecutableHooks(tmp_path, base_env).fire(
            "batch-copy-retry", {"GHOST_LAST_BATCH_COPY_ERROR": "1205: Lock wait"}
        )
    assert "ignored for event 'batch-copy-retry'" in caplog.text
    assert "1205: Lock wait" in caplog.text


def test_fire__timeout__hook_error(tmp_path: Path) -> None:
    write_hook(tmp_path, "ghost-on-success", "sleep 5")
    hooks = ExecutableHooks(tmp_path, base_env, timeout_seconds=0.2)
    with pytest.raises(HookError, match="still running after 0.2s"):
        hooks.fire("success")


def test_fire__no_matching_hook__nothing_runs(tmp_path: Path) -> None:
    calls: list[int] = []

    def provider() -> Mapping[str, str]:
        calls.append(1)
        return BASE_ENV

    ExecutableHooks(tmp_path, provider).fire("failure")
    assert calls == []  # the environment (a snapshot) is not even built


def test_with_gh_ost_names__status__quoted_copy() -> None:
    env = with_gh_ost_names({"GHOST_STATUS": "Copy: 1/2", "PATH": "/bin"})
    assert env == {"GHOST_STATUS": "Copy: 1/2", "GH_OST_STATUS": "'Copy: 1/2'", "PATH": "/bin"}


# -- callables -----------------------------------------------------------------------------


def test_callable_hooks__called__event_and_env(tmp_path: Path) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    hooks = CallableHooks([lambda event, env: seen.append((event, env))], base_env)
    hooks.fire("row-copy-complete", {"GHOST_EXTRA": "1"})
    event, env = seen[0]
    assert event == "row-copy-complete"
    assert env["GHOST_TABLE_NAME"] == "orders" and env["GHOST_EXTRA"] == "1"
    assert env["GHOST_HOOK_EVENT"] == "row-copy-complete"


def test_callable_hooks__raises__hook_error_names_callable() -> None:
    def veto(event: str, env: dict[str, str]) -> None:
        raise RuntimeError("not today")

    with pytest.raises(HookError, match="veto.*RuntimeError: not today"):
        CallableHooks([veto], base_env).fire("before-cut-over")


def test_callable_hooks__status_raises__logged_only(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: str, env: dict[str, str]) -> None:
        raise RuntimeError("monitor down")

    with caplog.at_level(logging.ERROR, logger="django_ghost"):
        CallableHooks([broken], base_env).fire("status")
    assert "monitor down" in caplog.text


def test_from_dotted_paths__comma_list__imported(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("ghost_test_hooks_mod")
    calls: list[str] = []
    module.record = lambda event, env: calls.append(event)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ghost_test_hooks_mod", module)
    hooks = CallableHooks.from_dotted_paths(
        "ghost_test_hooks_mod.record, ghost_test_hooks_mod:record", base_env
    )
    hooks.fire("success")
    assert calls == ["success", "success"]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("nodots", "not a dotted path"),
        ("no_such_module_xyz.func", "cannot import"),
        ("os.path.no_such_function", "no callable"),
    ],
)
def test_from_dotted_paths__bad_path__config_error(path: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        CallableHooks.from_dotted_paths(path, base_env)


# -- composite -----------------------------------------------------------------------------


class Recorder:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        self.log.append(f"{self.name}:{event}")
        if self.fail:
            raise HookError(event, self.name, "failed on purpose")


def test_composite__every_hooks__fired_in_order() -> None:
    log: list[str] = []
    CompositeHooks([Recorder("a", log), Recorder("b", log)]).fire("before-row-copy")
    assert log == ["a:before-row-copy", "b:before-row-copy"]


def test_composite__first_fails__rest_skipped_error_propagates() -> None:
    log: list[str] = []
    hooks = CompositeHooks([Recorder("a", log, fail=True), Recorder("b", log)])
    with pytest.raises(HookError):
        hooks.fire("validated")
    assert log == ["a:validated"]


def test_composite__unknown_event__value_error() -> None:
    with pytest.raises(ValueError):
        CompositeHooks([]).fire("no-such-event")


# -- environment builder -------------------------------------------------------------------


def test_build_hook_environment__snapshot__every_documented_variable() -> None:
    config = GhostConfig(
        database="shop", table="orders", alter="ADD COLUMN x INT", password="hunter2"
    )
    env = build_hook_environment(
        config,
        snapshot(),
        ghost_table="_orders_gho",
        old_table="_orders_del",
        migrated_host="db1:3306",
        inspected_host="db2:3306",
        heartbeat_lag_seconds=0.5,
    )
    assert env["GHOST_DATABASE_NAME"] == "shop"
    assert env["GHOST_GHOST_TABLE_NAME"] == "_orders_gho"
    assert env["GHOST_OLD_TABLE_NAME"] == "_orders_del"
    assert env["GHOST_DDL"] == "ADD COLUMN x INT"
    assert env["GHOST_ELAPSED_SECONDS"] == "12"
    assert env["GHOST_COPIED_ROWS"] == "250" and env["GHOST_ESTIMATED_ROWS"] == "1000"
    assert env["GHOST_PROGRESS"] == "25.00"
    assert env["GHOST_ETA_SECONDS"] == "15"
    assert env["GHOST_INSPECTED_LAG"] == "0.250" and env["GHOST_HEARTBEAT_LAG"] == "0.500"
    assert env["GHOST_DRY_RUN"] == "true"
    assert env["GHOST_MIGRATED_HOST"] == "db1:3306"
    assert "hunter2" not in env.values()
    assert all(isinstance(v, str) for v in env.values())


def test_build_hook_environment__unknown_eta_and_lag__empty_strings() -> None:
    env = build_hook_environment(
        GhostConfig(execute=True),
        snapshot(eta_seconds=None, lag_seconds=None, throttle_reason="flag-file"),
        ghost_table="g",
        old_table="o",
    )
    assert env["GHOST_ETA_SECONDS"] == "" and env["GHOST_INSPECTED_LAG"] == ""
    assert env["GHOST_THROTTLE_REASON"] == "flag-file"
    assert env["GHOST_DRY_RUN"] == "false"

"""Sandbox behaviour that needs no server."""

from __future__ import annotations

import os

import pytest

from django_ghost import sandbox


def test_find_server_binary__none_installed__names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox, "_sbin", lambda name: None)
    with pytest.raises(sandbox.SandboxError, match="apt-get install mariadb-server"):
        sandbox.find_server_binary()


def test_socket_path__long_datadir__falls_back_to_short_path(tmp_path: object) -> None:
    from pathlib import Path

    deep = Path("/tmp") / ("x" * 120)
    path = sandbox._socket_path(deep)
    assert len(path) <= sandbox.MAX_SOCKET_PATH


def test_server_info__dsn__has_user_and_port() -> None:
    info = sandbox.ServerInfo(
        role="primary",
        host="127.0.0.1",
        port=3307,
        socket="/s",
        user="u",
        password="p",
        server_id=1,
        datadir="/d",
        pid=1,
    )
    assert info.dsn() == "mysql://u:p@127.0.0.1:3307/"


def test_recorded_pid__now_another_process__not_taken_for_the_server() -> None:
    # This test process stands in for "some other process that got the recorded pid".
    assert not sandbox._runs_datadir(os.getpid(), "/no/such/sandbox/primary")
    assert sandbox._runs_datadir(os.getpid(), "pytest")  # part of this process's cmdline

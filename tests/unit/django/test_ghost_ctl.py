"""ghost_ctl without a database: path templates, discovery and errors over fake sockets.

A fake control server answers like the engine's (``status-json`` names its database and
table, other lines are echoed back as ``ok: <line>``), so discovery, routing of commands
and every error path run for real over unix sockets.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_ghost.conf import (
    MAX_SOCKET_PATH_BYTES,
    control_socket_path,
    postpone_flag_path,
    resolve,
)
from django_ghost.engine.errors import ConfigError


class FakeServer:
    """A control socket answering one line per connection, like ControlServer."""

    def __init__(self, path: str, database: str, table: str, phase: str = "copying"):
        self.path, self.database, self.table, self.phase = path, database, table, phase
        self.lines: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.1)
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                line = conn.makefile().readline().strip()
                self.lines.append(line)
                conn.sendall(self.reply(line).encode())

    def reply(self, line: str) -> str:
        if line == "status-json":
            return json.dumps({"database": self.database, "table": self.table, "phase": self.phase})
        if line == "status":
            return f"# Migrating `{self.database}`.`{self.table}`\n# phase: {self.phase}\n"
        if line.startswith("chunk-size=oops"):
            return "error: chunk-size='oops' is not an integer\n"
        return f"ok: {line}\n"

    def close(self) -> None:
        self.closing.set()
        self.thread.join(2)
        self.sock.close()
        Path(self.path).unlink(missing_ok=True)


@pytest.fixture
def sockdir() -> Iterator[Path]:
    # Short on purpose: pytest's tmp_path would push socket paths over 107 bytes.
    with tempfile.TemporaryDirectory(prefix="gctl") as path:
        template = f"{path}/{{alias}}.{{database}}.{{table}}.sock"
        flag = f"{path}/{{alias}}.{{database}}.{{table}}.postpone"
        with override_settings(
            GHOST={"socket_path_template": template, "postpone_flag_file_template": flag}
        ):
            yield Path(path)


@pytest.fixture
def servers() -> Iterator[list[FakeServer]]:
    started: list[FakeServer] = []
    yield started
    for server in started:
        server.close()


def start(servers: list[FakeServer], alias: str, table: str, **kw: str) -> FakeServer:
    config = resolve(alias)
    server = FakeServer(control_socket_path(config, table), config.engine.database, table, **kw)
    servers.append(server)
    return server


def ctl(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ghost_ctl", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stale(path: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()


# -- paths -----------------------------------------------------------------------------


def test_control_socket_path__default_template__alias_database_table_in_tmpdir() -> None:
    with override_settings(GHOST={}):
        config = resolve("default")
        path = control_socket_path(config, "orders")
    name = settings.DATABASES["default"]["NAME"]
    assert path == f"{tempfile.gettempdir()}/django-ghost.default.{name}.orders.sock"
    assert postpone_flag_path(config, "orders") == path[: -len(".sock")] + ".postpone"


def test_control_socket_path__over_107_bytes__hashed_and_distinct_per_table() -> None:
    with override_settings(GHOST={}):
        config = resolve("default")
        long_a = control_socket_path(config, "a" * 64)
        long_b = control_socket_path(config, "a" * 63 + "b")
    assert len(os.fsencode(long_a)) <= MAX_SOCKET_PATH_BYTES
    assert os.path.basename(long_a).startswith("django-ghost.") and long_a != long_b


def test_control_socket_path__serve_socket_file_set__used_as_given() -> None:
    with override_settings(GHOST={"serve_socket_file": "/run/ghost.sock"}):
        assert control_socket_path(resolve("default"), "orders") == "/run/ghost.sock"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{tmpdir}/x.sock", "must contain {table}"),
        ("{tmpdir}/{schema}.{table}.sock", "uses {schema}"),
        ("{tmpdir}/{table.sock", "malformed"),
    ],
)
def test_resolve__bad_socket_path_template__config_error(template: str, message: str) -> None:
    with (
        override_settings(GHOST={"socket_path_template": template}),
        pytest.raises(ConfigError, match=message),
    ):
        resolve("default")


# -- running migrations ----------------------------------------------------------------


def test_ghost_ctl_status__nothing_running__clear_error(sockdir: Path) -> None:
    with pytest.raises(CommandError, match="No online migration of this project is running"):
        ctl("status")


def test_ghost_ctl_status__one_postponed__shows_it_and_how_to_approve(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    start(servers, "default", "orders", phase="postponed: waiting for cut-over approval")

    out, _ = ctl("status")

    assert "default: " in out and ".orders" in out
    assert "ghost_ctl approve orders" in out


def test_ghost_ctl_approve__running__sends_unpostpone_naming_the_table(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    server = start(servers, "default", "orders")

    out, _ = ctl("approve", "orders")

    assert server.lines[-1] == "unpostpone=orders"
    assert "ok: unpostpone=orders" in out


def test_ghost_ctl_set__several_knobs__each_sent(sockdir: Path, servers: list[FakeServer]) -> None:
    server = start(servers, "default", "orders")

    ctl("set", "orders", "chunk-size=2000", "max-lag-millis=3000")

    assert server.lines[-2:] == ["chunk-size=2000", "max-lag-millis=3000"]


def test_ghost_ctl_set__engine_refuses__command_error_with_its_reason(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    start(servers, "default", "orders")

    with pytest.raises(CommandError, match="not an integer"):
        ctl("set", "orders", "chunk-size=oops")


def test_ghost_ctl_throttle__table_on_two_aliases__ambiguous_until_database_given(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    start(servers, "default", "orders")
    stock = start(servers, "stock", "orders")

    with pytest.raises(CommandError, match=r"several database aliases \(default, stock\)"):
        ctl("throttle", "orders")
    ctl("throttle", "orders", "--database", "stock")

    assert stock.lines[-1] == "throttle=orders"


def test_ghost_ctl_panic__other_table_running__nothing_running_for_this_one(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    start(servers, "default", "orders")

    with pytest.raises(CommandError, match="No online migration of table 'invoices'"):
        ctl("panic", "invoices")


def test_ghost_ctl_approve__stale_socket__says_so_and_removes_it_on_request(
    sockdir: Path,
) -> None:
    path = control_socket_path(resolve("default"), "orders")
    stale(path)

    with pytest.raises(CommandError, match="stale.*--remove-stale"):
        ctl("approve", "orders")
    assert Path(path).exists()
    with pytest.raises(CommandError, match="No online migration"):
        ctl("approve", "orders", "--remove-stale")

    assert not Path(path).exists()


def test_ghost_ctl_status__stale_beside_live__warns_and_shows_the_live_one(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    start(servers, "default", "orders")
    path = control_socket_path(resolve("default"), "invoices")
    stale(path)

    out, err = ctl("status")

    assert ".orders" in out
    assert f"Stale control socket {path}" in err


def test_ghost_ctl__socket_of_another_database__ignored(
    sockdir: Path, servers: list[FakeServer]
) -> None:
    config = resolve("default")
    # Our alias's path, but the migration behind it is of another database.
    servers.append(FakeServer(control_socket_path(config, "orders"), "elsewhere", "orders"))

    with pytest.raises(CommandError, match="No online migration"):
        ctl("status")


def test_ghost_ctl_set__no_knob__usage_error(sockdir: Path) -> None:
    with pytest.raises(CommandError, match="knob=value"):
        ctl("set", "orders")

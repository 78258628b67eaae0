"""Control socket: command dispatch and validation, and the socket itself (0600, symlinks,
stale sockets, TCP on loopback). No database server is needed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from django_ghost.engine.binlog.events import BinlogPosition
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.context import LiveKnobs, MigrationContext
from django_ghost.engine.control.client import send
from django_ghost.engine.control.commands import KNOB_RANGES, parse_command_line
from django_ghost.engine.control.server import ControlServer
from django_ghost.engine.control.socket import ControlSocketError, default_socket_path
from django_ghost.engine.control.status import format_status_line
from django_ghost.engine.hooks import HookError
from django_ghost.engine.progress import ProgressSnapshot


def make_snapshot(context: MigrationContext) -> ProgressSnapshot:
    return ProgressSnapshot(
        database="shop",
        table="orders",
        phase=context.phase,
        elapsed_seconds=42.0,
        rows_copied=250,
        rows_estimate=1000,
        rows_per_second=50.0,
        events_applied=7,
        backlog=3,
        lag_seconds=0.5,
        throttle_reason=context.throttle_reason,
        eta_seconds=15.0,
    )


class RecordingHooks:
    def __init__(self, veto: bool = False) -> None:
        self.veto = veto
        self.fired: list[tuple[str, dict[str, str]]] = []

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        self.fired.append((event, dict(extra_env or {})))
        if self.veto:
            raise HookError(event, "ghost-on-interactive-command", "exit code 1")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # unix socket paths are limited to 107 bytes: pytest's tmp_path is often longer.
    path = Path(tempfile.mkdtemp(prefix="dg", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def context() -> MigrationContext:
    ctx = MigrationContext(GhostConfig(database="shop", table="orders"))
    ctx.phase = "copying"
    return ctx


def make_server(
    context: MigrationContext, path: str = "/nonexistent/s.sock", **kw: Any
) -> ControlServer:
    return ControlServer(context, lambda: make_snapshot(context), socket_path=path, **kw)


@pytest.fixture
def server(context: MigrationContext) -> ControlServer:
    return make_server(context)


def _read_all(client: socket.socket) -> str:
    chunks = []
    while chunk := client.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks).decode()


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("sup", ("sup", None)),
        (" Chunk-Size = 500 ", ("chunk-size", "500")),
        ('throttle-query="select 1 = 1"', ("throttle-query", "select 1 = 1")),
        ("max-load=", ("max-load", "")),
        ("chunk-size=?", ("chunk-size", "?")),
    ],
)
def test_parse_command_line__forms__name_and_argument(
    line: str, expected: tuple[str, str | None]
) -> None:
    assert parse_command_line(line) == expected


def test_default_socket_path__db_and_table__in_tmp() -> None:
    assert default_socket_path("shop", "orders") == "/tmp/django-ghost.shop.orders.sock"


def test_knob_ranges__every_name__is_a_live_knob() -> None:
    names = {f for f in LiveKnobs.__dataclass_fields__}
    assert set(KNOB_RANGES) <= names


# -- read commands -------------------------------------------------------------------------


def test_handle__help__lists_every_command(server: ControlServer) -> None:
    reply = server.handle("help")
    for name in ("status-json", "chunk-size", "throttle-control-replicas", "panic", "cut-over"):
        assert name in reply


def test_handle__sup__status_line(server: ControlServer, context: MigrationContext) -> None:
    context.throttle_reason = "flag-file /tmp/x"
    reply = server.handle("sup")
    assert reply.startswith("Copy: 250/1000 25.0%; Applied: 7; Backlog: 3;")
    assert "State: throttled, flag-file /tmp/x;" in reply
    assert reply.endswith("ETA: 15s\n")


def test_handle__status__hint_block_then_status_line(
    context: MigrationContext, tmp_path: Path
) -> None:
    flag = tmp_path / "throttle"
    flag.touch()
    context.knobs.max_load = "Threads_running=25"
    server = make_server(context, flag_files={"throttle-flag-file": str(flag)})
    lines = server.handle("status").splitlines()
    assert lines[0] == "# Migrating `shop`.`orders`"
    assert any("max-load: Threads_running=25" in line for line in lines)
    assert f"# throttle-flag-file: {flag} [set]" in lines
    assert lines[-1].startswith("Copy: ")


def test_handle__status_json__snapshot_knobs_positions(
    server: ControlServer, context: MigrationContext
) -> None:
    context.streamer_position = BinlogPosition("bin.000003", 1234)
    context.knobs.forced_throttle = True
    data = json.loads(server.handle("status-json"))
    assert data["rows_copied"] == 250 and data["percent"] == 25.0
    assert data["knobs"]["chunk_size"] == 5000 and data["knobs"]["forced_throttle"] is True
    assert data["streamer_position"] == "bin.000003:1234"
    assert data["applied_position"] is None
    assert data["throttled"] is False and data["abort_reason"] is None


def test_handle__coordinates__both_positions(
    server: ControlServer, context: MigrationContext
) -> None:
    context.streamer_position = BinlogPosition("bin.000003", 900)
    context.applied_position = BinlogPosition("bin.000003", 800)
    assert server.handle("coordinates") == "streamer: bin.000003:900; applied: bin.000003:800\n"
    assert server.handle("coordinates=?").startswith("streamer:")


def test_handle__coordinates_set__read_only_error(server: ControlServer) -> None:
    assert server.handle("coordinates=bin.000001:4") == "error: coordinates are read-only\n"


def test_handle__applier_inspector__described_by_collaborators(context: MigrationContext) -> None:
    server = make_server(
        context,
        applier_info=lambda: "Host: db1:3306, Version: 10.11.6-MariaDB",
        inspector_info=lambda: "Host: db2:3306, Version: 10.11.6-MariaDB",
    )
    assert server.handle("applier") == "Host: db1:3306, Version: 10.11.6-MariaDB\n"
    assert server.handle("inspector").startswith("Host: db2:3306")


# -- setters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "attr", "value"),
    [
        ("chunk-size", "chunk_size", 500),
        ("dml-batch-size", "dml_batch_size", 50),
        ("max-lag-millis", "max_lag_millis", 4000),
        ("nice-ratio", "nice_ratio", 0.5),
    ],
)
def test_handle__knob_set__changed_and_readable(
    server: ControlServer, context: MigrationContext, command: str, attr: str, value: float
) -> None:
    assert server.handle(f"{command}={value}") == f"ok: {command}={value:g}\n"
    assert getattr(context.knobs, attr) == value
    assert server.handle(f"{command}=?") == f"{value:g}\n"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("chunk-size=5", "out of range; allowed 10..100000"),
        ("chunk-size=100001", "out of range"),
        ("chunk-size=abc", "is not an integer"),
        ("chunk-size=1.5", "is not an integer"),
        ("chunk-size", "needs a value"),
        ("dml-batch-size=0", "out of range"),
        ("max-lag-millis=99", "out of range"),
        ("nice-ratio=101", "out of range"),
        ("nice-ratio=fast", "is not a number"),
    ],
)
def test_handle__knob_invalid__error_and_unchanged(
    server: ControlServer, context: MigrationContext, line: str, fragment: str
) -> None:
    before = LiveKnobs(**vars(context.knobs))
    reply = server.handle(line)
    assert reply.startswith("error: ") and fragment in reply
    assert context.knobs == before


def test_handle__max_load__canonical_then_cleared(
    server: ControlServer, context: MigrationContext
) -> None:
    assert server.handle("max-load= Threads_running = 25 ,Threads_connected=9") == (
        "ok: max-load=Threads_running=25,Threads_connected=9\n"
    )
    assert context.knobs.max_load == "Threads_running=25,Threads_connected=9"
    assert server.handle("max-load=?") == "Threads_running=25,Threads_connected=9\n"
    assert server.handle("max-load=") == "ok: max-load cleared\n"
    assert context.knobs.max_load == ""


def test_handle__critical_load_malformed__error_names_part(
    server: ControlServer, context: MigrationContext
) -> None:
    reply = server.handle("critical-load=Threads_running")
    assert reply.startswith("error: critical-load: 'Threads_running' is not Variable=Threshold")
    assert context.knobs.critical_load == ""


def test_handle__throttle_query_quoted__unquoted_and_stored(
    server: ControlServer, context: MigrationContext
) -> None:
    server.handle("throttle-query='select count(*) > 10 from jobs'")
    assert context.knobs.throttle_query == "select count(*) > 10 from jobs"


def test_handle__throttle_http__scheme_checked(
    server: ControlServer, context: MigrationContext
) -> None:
    assert server.handle("throttle-http=ftp://x").startswith("error: ")
    assert server.handle("throttle-http=http://freno:9777/check") == (
        "ok: throttle-http=http://freno:9777/check\n"
    )
    assert context.knobs.throttle_http == "http://freno:9777/check"


def test_handle__control_replicas__normalised_or_error(
    server: ControlServer, context: MigrationContext
) -> None:
    assert server.handle("throttle-control-replicas=r1, r2:3307") == (
        "ok: throttle-control-replicas=r1:3306,r2:3307\n"
    )
    assert server.handle("throttle-control-replicas=r1:x").startswith("error: ")
    assert context.knobs.throttle_control_replicas == "r1:3306,r2:3307"


# -- throttle, postpone, panic -------------------------------------------------------------


@pytest.mark.parametrize("on", ["throttle", "pause", "suspend", "throttle=orders"])
@pytest.mark.parametrize("off", ["no-throttle", "unthrottle", "resume", "continue"])
def test_handle__throttle_aliases__toggle_forced_throttle(
    server: ControlServer, context: MigrationContext, on: str, off: str
) -> None:
    assert server.handle(on).startswith("ok: ")
    assert context.knobs.forced_throttle is True
    assert server.handle("throttle=?") == "true\n"
    assert server.handle(off).startswith("ok: ")
    assert context.knobs.forced_throttle is False


def test_handle__throttle_other_table__refused(
    server: ControlServer, context: MigrationContext
) -> None:
    assert server.handle("throttle=customers") == (
        "error: throttle=customers: this migration is of table 'orders'\n"
    )
    assert context.knobs.forced_throttle is False


def test_handle__unpostpone__knob_cleared_flag_file_removed(
    context: MigrationContext, tmp_path: Path
) -> None:
    flag = tmp_path / "postpone"
    flag.touch()
    context.knobs.postpone_cut_over = True
    server = make_server(context, postpone_flag_file=str(flag))
    assert server.handle("cut-over").startswith("ok: cut-over no longer postponed; removed")
    assert not flag.exists()
    assert context.knobs.postpone_cut_over is False


def test_handle__unpostpone_flag_is_symlink__refused_target_kept(
    context: MigrationContext, tmp_path: Path
) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "postpone"
    link.symlink_to(target)
    server = make_server(context, postpone_flag_file=str(link))
    assert server.handle("unpostpone").startswith("error: ")
    assert target.read_text() == "keep" and link.is_symlink()


def test_handle__unpostpone_forced_named__requires_table(context: MigrationContext) -> None:
    server = make_server(context, force_named_cut_over=True)
    context.knobs.postpone_cut_over = True
    assert server.handle("unpostpone") == (
        "error: unpostpone must name the table: unpostpone=orders\n"
    )
    assert context.knobs.postpone_cut_over is True
    assert server.handle("unpostpone=orders").startswith("ok: ")
    assert context.knobs.postpone_cut_over is False


def test_handle__panic__aborts_context(server: ControlServer, context: MigrationContext) -> None:
    assert server.handle("panic").startswith("ok: panic")
    assert context.aborted
    assert "panic" in (context.abort_reason or "")


def test_handle__panic_forced_named_without_table__refused(context: MigrationContext) -> None:
    server = make_server(context, force_named_panic=True)
    assert server.handle("panic").startswith("error: panic must name the table")
    assert not context.aborted


# -- errors and hooks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("frobnicate", "error: unknown command: 'frobnicate'; try 'help'\n"),
        ("", "error: empty command; try 'help'\n"),
        ("replication-lag-query=select 1", "error: replication-lag-query is deprecated"),
        ("applier=db9", "error: this command is read-only\n"),
    ],
)
def test_handle__bad_commands__error_line(server: ControlServer, line: str, expected: str) -> None:
    assert server.handle(line).startswith(expected)


def test_handle__handler_bug__internal_error_line(context: MigrationContext) -> None:
    def broken(snapshot: ProgressSnapshot) -> str:
        raise KeyError("boom")

    server = make_server(context, status_line=broken)
    assert server.handle("sup") == "error: internal error: 'boom'\n"


def test_handle__hook__fired_with_command_before_dispatch(context: MigrationContext) -> None:
    hooks = RecordingHooks()
    server = make_server(context, hooks=hooks)
    server.handle("chunk-size=200")
    assert hooks.fired == [("interactive-command", {"GHOST_COMMAND": "chunk-size=200"})]


def test_handle__hook_vetoes__command_not_applied(context: MigrationContext) -> None:
    server = make_server(context, hooks=RecordingHooks(veto=True))
    reply = server.handle("chunk-size=200")
    assert reply.startswith("error: refused by the interactive-command hook: Hook ")
    assert context.knobs.chunk_size == 5000


def test_format_status_line__unknown_lag_and_eta__na(context: MigrationContext) -> None:
    snap = ProgressSnapshot("d", "t", "copying", 1.0, 0, 0, 0.0, 0, 0, None, None, None)
    line = format_status_line(snap)
    assert "Lag: n/a" in line and "ETA: n/a" in line and "State: copying" in line


# -- the socket itself ---------------------------------------------------------------------


def test_start__unix_socket__mode_0600_and_answers(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    server = make_server(context, str(path))
    server.start()
    try:
        mode = os.lstat(path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert send(str(path), "chunk-size=300") == "ok: chunk-size=300\n"
        assert context.knobs.chunk_size == 300
        assert send(str(path), "bogus").startswith("error: unknown command")
    finally:
        server.close()
    assert not path.exists()
    assert not any(t.name == "ghost-control" for t in threading.enumerate())


def test_start__umask_restored__after_bind(context: MigrationContext, short_dir: Path) -> None:
    before = os.umask(0o022)
    os.umask(before)
    server = make_server(context, str(short_dir / "g.sock"))
    server.start()
    server.close()
    after = os.umask(before)
    assert after == before


def test_serve__client_sends_no_newline__still_answered(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    server = make_server(context, str(path))
    server.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(str(path))
            client.sendall(b"\xff\xfesup")
            client.shutdown(socket.SHUT_WR)
            assert _read_all(client).startswith("error: unknown command")
        assert send(str(path), "sup").startswith("Copy: ")  # still serving
    finally:
        server.close()


def test_start__path_is_symlink__refused_target_untouched(
    context: MigrationContext, short_dir: Path
) -> None:
    target = short_dir / "target"
    target.write_text("keep")
    link = short_dir / "g.sock"
    link.symlink_to(target)
    with pytest.raises(ControlSocketError, match="symbolic link"):
        make_server(context, str(link), drop_stale_socket=True).start()
    assert link.is_symlink() and target.read_text() == "keep"


def test_start__path_is_regular_file__refused_file_kept(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    path.write_text("data")
    with pytest.raises(ControlSocketError, match="not a socket"):
        make_server(context, str(path), drop_stale_socket=True).start()
    assert path.read_text() == "data"


def _stale_socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the file stays, nobody listens: stale


def test_start__stale_socket_not_dropped__refused(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    _stale_socket(path)
    with pytest.raises(ControlSocketError, match="already exists"):
        make_server(context, str(path)).start()
    assert path.exists()


def test_start__stale_socket_drop_asked__replaced(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    _stale_socket(path)
    server = make_server(context, str(path), drop_stale_socket=True)
    server.start()
    try:
        assert send(str(path), "sup").startswith("Copy: ")
    finally:
        server.close()


def test_start__live_socket_drop_asked__refused_and_left(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    first = make_server(context, str(path))
    first.start()
    try:
        with pytest.raises(ControlSocketError, match="served by a running process"):
            make_server(context, str(path), drop_stale_socket=True).start()
        assert send(str(path), "sup").startswith("Copy: ")
    finally:
        first.close()


def test_start__path_too_long__clear_error(context: MigrationContext) -> None:
    with pytest.raises(ControlSocketError, match="longer than 107 bytes"):
        make_server(context, "/tmp/" + "x" * 120).start()


def test_close__socket_replaced_by_another__not_removed(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    server = make_server(context, str(path))
    server.start()
    os.unlink(path)
    _stale_socket(path)  # someone else's socket now
    server.close()
    assert path.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_start__tcp_port__loopback_answers(context: MigrationContext, short_dir: Path) -> None:
    server = make_server(context, str(short_dir / "g.sock"), tcp_port=_free_port())
    server.start()
    try:
        address = server.tcp_address
        assert address is not None and address[0] == "127.0.0.1"
        with socket.create_connection(address, timeout=5) as client:
            client.sendall(b"chunk-size=?\n")
            assert _read_all(client) == "5000\n"
        assert "TCP 127.0.0.1:" in server.describe_listeners()
    finally:
        server.close()


def test_start__tcp_port_in_use__error_and_unix_socket_removed(
    context: MigrationContext, short_dir: Path
) -> None:
    path = short_dir / "g.sock"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ControlSocketError, match="Cannot listen on TCP"):
            make_server(context, str(path), tcp_port=port).start()
    assert not path.exists()


def test_start__no_tcp_port__no_tcp_address(context: MigrationContext, short_dir: Path) -> None:
    server = make_server(context, str(short_dir / "g.sock"))
    server.start()
    try:
        assert server.tcp_address is None
    finally:
        server.close()


def test_socket__executable_hook_vetoes_panic__other_commands_pass(
    context: MigrationContext, short_dir: Path
) -> None:
    from django_ghost.engine.hooks import ExecutableHooks

    hooks_dir = short_dir / "hooks"
    hooks_dir.mkdir()
    script = hooks_dir / "gh-ost-on-interactive-command"
    script.write_text(
        '#!/bin/sh\ncase "$GHOST_COMMAND" in panic*) echo "no panics"; exit 1;; esac\n'
    )
    script.chmod(0o755)
    path = short_dir / "g.sock"
    server = make_server(context, str(path), hooks=ExecutableHooks(hooks_dir, dict))
    server.start()
    try:
        reply = send(str(path), "panic")
        assert reply.startswith("error: refused by the interactive-command hook:")
        assert not context.aborted
        assert send(str(path), "throttle") == "ok: throttled by user command\n"
        assert context.knobs.forced_throttle is True
    finally:
        server.close()

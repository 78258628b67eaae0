"""The migration tools the bench compares, each run as a child process with its rusage.

- ``ours``: django_ghost through bench/engine_run.py.
- ``pt-osc``: pt-online-schema-change (triggers), Debian's ``percona-toolkit``.
- ``gh-ost``: the binary ``GH_OST_BIN`` names, else ``../shared/tools/gh-ost`` next to
  the repository when it is there (it is not packaged by Debian); not run without one.
- ``ALGORITHM=COPY``: the server's own blocking table copy, the floor every online tool
  is measured against (it writes no row events to the binlog and takes no chunk locks).

CPU seconds and peak RSS come from ``os.wait4`` on the child: exactly that process's own
usage, whatever else (sysbench, the probe) runs at the same time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from .server import Server

REPO = Path(__file__).resolve().parent.parent
# gh-ost's default chunk size, which the bench also runs it with (and ours once, idle)
GHOST_CHUNK_SIZE = 1000


def find_ghost(environ: dict[str, str] | None = None, repo: Path = REPO) -> str:
    """The gh-ost binary to run: ``GH_OST_BIN`` if set (even if wrong: main() says so),
    else the shared tools directory's copy beside the repository (or the worktree), if
    present and executable; "" when there is none, and gh-ost is left out."""
    env = os.environ if environ is None else environ
    if env.get("GH_OST_BIN"):
        return env["GH_OST_BIN"]
    candidate = repo.parent / "shared" / "tools" / "gh-ost"
    return str(candidate) if os.access(candidate, os.X_OK) else ""


@dataclasses.dataclass
class Outcome:
    """What one tool run produced. ``error`` is empty when it completed."""

    tool: str
    ok: bool
    wall_seconds: float
    copy_seconds: float = 0.0
    rows_copied: int = 0
    events_applied: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    cut_over_stall_seconds: float | None = None
    checksum_verified: bool | None = None
    error: str = ""
    # ours only: seconds per engine phase (MigrationResult.phase_seconds); {} otherwise
    phase_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Child:
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    timed_out: bool


class Running:
    """A child started in the background; :meth:`finish` waits and collects its usage."""

    def __init__(self, args: list[str], log_dir: Path, name: str):
        self.out_path = log_dir / f"{name}.out"
        self.err_path = log_dir / f"{name}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, cwd=REPO)

    def exited(self) -> bool:
        """True once the child has exited, without reaping it (finish() needs its rusage)."""
        info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is not None

    def finish(self, time_limit: float) -> Child:
        deadline = self.started + time_limit
        timed_out = False
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline and not timed_out:
                # Grace period: an engine with --time-limit aborts and cleans up by itself.
                timed_out = True
                deadline = time.monotonic() + 30
                os.kill(self.proc.pid, signal.SIGTERM)
            elif timed_out and time.monotonic() > deadline:
                os.kill(self.proc.pid, signal.SIGKILL)
            time.sleep(0.02)
        wall = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return Child(
            returncode=self.proc.returncode,
            stdout=self.out_path.read_text(errors="replace"),
            stderr=self.err_path.read_text(errors="replace"),
            wall_seconds=wall,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024.0,
            timed_out=timed_out,
        )


def ours_config(
    server: Server, table: str, alter: str, *, chunk_size: int, dml_batch_size: int
) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": server.database,
        "table": table,
        "alter": alter,
        "execute": True,
        "chunk_size": chunk_size,
        "dml_batch_size": dml_batch_size,
        # A socket of our own per bench, dropped if a killed earlier run left it behind
        # (the default path is per database and table, shared with anyone else's run).
        "serve_socket_file": f"/tmp/django-ghost.bench.{os.getpid()}.sock",
        "initially_drop_socket_file": True,
        "initially_drop_ghost_table": True,
        "initially_drop_old_table": True,
        "ok_to_drop_table": True,
    }


def start_ours(
    server: Server,
    table: str,
    alter: str,
    log_dir: Path,
    name: str,
    *,
    chunk_size: int,
    dml_batch_size: int,
    time_limit: float,
    apply_gate: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Running:
    config = ours_config(server, table, alter, chunk_size=chunk_size, dml_batch_size=dml_batch_size)
    config.update(overrides or {})
    args = [
        sys.executable,
        "-m",
        "bench.engine_run",
        "--config",
        json.dumps(config),
        "--time-limit",
        str(time_limit),
    ]
    if apply_gate is not None:
        args += ["--apply-gate", str(apply_gate)]
    return Running(args, log_dir, name)


def finish_ours(running: Running, time_limit: float) -> Outcome:
    child = running.finish(time_limit + 60)  # the engine enforces time_limit itself
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    error = data.get("error", "")
    if not data:
        # Killed by the harness (it ignored its own time limit): say what it was doing.
        throttled = [line for line in child.stderr.splitlines() if "throttled:" in line]
        progress = [line for line in child.stderr.splitlines() if " Copy: " in line]
        last = (throttled or progress or [child.stderr.strip()[-300:]])[-1]
        error = (
            f"engine process killed after {child.wall_seconds:.0f} s (exit "
            f"{child.returncode}); last state: {last.strip()[:300]}"
        )
    if data.get("time_limit_hit"):
        error = f"did not finish within {time_limit:.0f} s (phase {data.get('phase')}): {error}"
    return Outcome(
        tool="ours",
        ok=bool(data.get("ok")),
        wall_seconds=float(data.get("wall_seconds", child.wall_seconds)),
        copy_seconds=float(data.get("copy_seconds", 0.0)),
        rows_copied=int(data.get("rows_copied", 0)),
        events_applied=int(data.get("events_applied", 0)),
        cpu_seconds=child.cpu_seconds,
        peak_rss_mb=child.peak_rss_mb,
        cut_over_stall_seconds=data.get("cut_over_stall_seconds"),
        checksum_verified=data.get("checksum_verified"),
        error=error,
        phase_seconds=dict(data.get("phase_seconds") or {}),
        extra={"apply": data.get("apply", {}), "process_wall_seconds": child.wall_seconds},
    )


def run_ours(
    server: Server,
    table: str,
    alter: str,
    log_dir: Path,
    name: str,
    *,
    chunk_size: int,
    dml_batch_size: int,
    time_limit: float,
    overrides: dict[str, Any] | None = None,
) -> Outcome:
    running = start_ours(
        server,
        table,
        alter,
        log_dir,
        name,
        chunk_size=chunk_size,
        dml_batch_size=dml_batch_size,
        time_limit=time_limit,
        overrides=overrides,
    )
    return finish_ours(running, time_limit)


PTOSC_STAMP = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (Copying approximately|Copied rows OK)"
)


def run_ptosc(
    server: Server, table: str, alter: str, log_dir: Path, name: str, *, time_limit: float
) -> Outcome:
    dsn = (
        f"D={server.database},t={table},h={server.host},P={server.port},"
        f"u={server.user},p={server.password}"
    )
    args = [
        "pt-online-schema-change",
        "--alter",
        alter,
        "--execute",
        "--no-check-alter",  # ENGINE=InnoDB is a null rebuild: nothing to check
        "--recursion-method=none",  # no replicas in the sandbox
        "--no-version-check",  # no network calls from the bench
        "--print",
        dsn,
    ]
    child = Running(args, log_dir, name).finish(time_limit)
    copy_seconds = 0.0
    stamps: dict[str, datetime] = {}
    for line in child.stdout.splitlines():
        m = PTOSC_STAMP.match(line)
        if m:
            stamps[m[2]] = datetime.fromisoformat(m[1])
    if len(stamps) == 2:
        # one-second resolution: pt-osc prints no finer time
        copy_seconds = (stamps["Copied rows OK"] - stamps["Copying approximately"]).total_seconds()
    ok = child.returncode == 0 and not child.timed_out
    error = ""
    if not ok:
        tail = (child.stderr.strip() or child.stdout.strip())[-600:]
        error = "timed out" if child.timed_out else f"exit {child.returncode}: {tail}"
    return Outcome(
        tool="pt-osc",
        ok=ok,
        wall_seconds=child.wall_seconds,
        copy_seconds=copy_seconds,
        cpu_seconds=child.cpu_seconds,
        peak_rss_mb=child.peak_rss_mb,
        error=error,
    )


def run_ghost(
    binary: str,
    server: Server,
    table: str,
    alter: str,
    log_dir: Path,
    name: str,
    *,
    time_limit: float,
) -> Outcome:
    """gh-ost with the protocol's settings (chunk 1000, default dml batch, atomic cut-over)."""
    args = [
        binary,
        f"--host={server.host}",
        f"--port={server.port}",
        f"--user={server.user}",
        f"--password={server.password}",
        f"--database={server.database}",
        f"--table={table}",
        f"--alter={alter}",
        "--allow-on-master",
        "--assume-rbr",
        # The sandbox runs without performance_schema (MariaDB's default): gh-ost 1.1.7+
        # bails out unless told to skip its metadata-lock instrument check.
        "--skip-metadata-lock-check",
        f"--chunk-size={GHOST_CHUNK_SIZE}",
        "--initially-drop-ghost-table",
        "--initially-drop-old-table",
        "--ok-to-drop-table",
        f"--serve-socket-file=/tmp/gh-ost.bench.{os.getpid()}.sock",
        # A gh-ost stopped by the time limit leaves its socket: the next one would fail
        # with "address already in use".
        "--initially-drop-socket-file",
        "--execute",
    ]
    child = Running(args, log_dir, name).finish(time_limit)
    ok = child.returncode == 0 and not child.timed_out
    tail = (child.stderr.strip() or child.stdout.strip())[-600:]
    return Outcome(
        tool="gh-ost",
        ok=ok,
        wall_seconds=child.wall_seconds,
        cpu_seconds=child.cpu_seconds,
        peak_rss_mb=child.peak_rss_mb,
        error=""
        if ok
        else ("timed out" if child.timed_out else f"exit {child.returncode}: {tail}"),
    )


def run_copy_floor(server: Server, table: str, alter: str) -> Outcome:
    """``ALTER TABLE ... <alter>, ALGORITHM=COPY``: blocking, but the speed floor."""
    started = time.monotonic()
    server.execute(f"ALTER TABLE `{table}` {alter}, ALGORITHM=COPY")
    wall = time.monotonic() - started
    return Outcome(tool="ALGORITHM=COPY", ok=True, wall_seconds=wall, copy_seconds=wall)

"""Start, inspect and stop a throwaway MariaDB (or MySQL) server for tests and the demo.

The server runs from its own data directory with ``--no-defaults`` (so the machine's
my.cnf cannot leak in), listens on loopback on a free port and on a unix socket, and has
the binary-log settings the engine needs: ROW format, FULL row image, FULL row metadata.
Optionally a replica is attached to it with replication running and
``log_slave_updates`` on, which is what gh-ost's default topology expects.

State is kept in ``<dir>/sandbox.json`` so that ``python -m django_ghost.sandbox status``
and ``stop`` work from another process than the one that started the server.

This module never imports Django: the test harness and ``make demo`` use it before any
settings exist.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django_ghost.engine.mysql.replication import replica_dialect_of
from django_ghost.sandbox_tls import TlsFiles, make_certificates

ENGINE_USER = "ghost"
ENGINE_PASSWORD = "ghost-sandbox"
REPLICATION_USER = "repl"
REPLICATION_PASSWORD = "repl-sandbox"
STATE_FILE = "sandbox.json"
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
MAX_SOCKET_PATH = 100


class SandboxError(RuntimeError):
    """The sandbox could not be started, found or stopped; the message says why."""


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """How to reach one sandbox server."""

    role: str
    host: str
    port: int
    socket: str
    user: str
    password: str
    server_id: int
    datadir: str
    pid: int

    def dsn(self) -> str:
        """``mysql://user:password@host:port/`` (the form GHOST_TEST_DSN and DATABASE_URL use)."""
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``MySQLdb.connect``."""
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password}


def find_server_binary() -> tuple[str, str]:
    """Return (server binary, install-db command) or raise with the package to install."""
    for server, installer in (("mariadbd", "mariadb-install-db"), ("mysqld", "mysql_install_db")):
        path = shutil.which(server) or _sbin(server)
        if path:
            return path, shutil.which(installer) or _sbin(installer) or ""
    raise SandboxError(
        "No MariaDB or MySQL server binary found (looked for mariadbd and mysqld in PATH and "
        "/usr/sbin). Install one: `apt-get install mariadb-server` on Debian/Ubuntu."
    )


def _sbin(name: str) -> str | None:
    path = Path("/usr/sbin") / name
    return str(path) if path.exists() else None


def _is_mysql(server_binary: str) -> bool:
    out = subprocess.run([server_binary, "--version"], capture_output=True, text=True).stdout
    return "mariadb" not in out.lower()


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _socket_path(datadir: Path) -> str:
    path = str(datadir / "mysqld.sock")
    if len(path) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(path.encode()).hexdigest()[:12]
    return str(Path(tempfile.gettempdir()) / f"django-ghost-{digest}.sock")


def _initialise_datadir(
    server: str, installer: str, datadir: Path, run_as_root: list[str], mysql_flavor: bool
) -> None:
    """Create the system tables in ``datadir/data``, then leave the "initialised" marker."""
    if mysql_flavor:
        cmd = [
            server,
            "--no-defaults",
            "--initialize-insecure",
            f"--datadir={datadir / 'data'}",
            *run_as_root,
        ]
    else:
        if not installer:
            raise SandboxError("mariadb-install-db not found; reinstall mariadb-server.")
        cmd = [
            installer,
            "--no-defaults",
            f"--datadir={datadir / 'data'}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *run_as_root,
        ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxError(f"Initialising {datadir} failed:\n{done.stdout}{done.stderr}")
    (datadir / "mysql").mkdir(exist_ok=True)  # marker: initialised


class Sandbox:
    """A primary MariaDB server in ``base_dir`` and, optionally, one replica of it."""

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        durable: bool = False,
        tls: bool = False,
    ):
        self._temporary = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="django-ghost-sandbox-")).resolve()
        self.durable = durable
        # tls: certificates in <base_dir>/tls and require_secure_transport (sandbox_tls.py).
        self.tls: TlsFiles | None = make_certificates(self.base_dir / "tls") if tls else None
        self.servers: dict[str, ServerInfo] = {}

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def primary(self) -> ServerInfo:
        return self.servers["primary"]

    @property
    def replica(self) -> ServerInfo | None:
        return self.servers.get("replica")

    def start(self, *, with_replica: bool = False, timeout: float = 60.0) -> ServerInfo:
        """Start the primary (and a replica if asked); reuse servers that already run."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._load_state()
        if "primary" not in self.servers:
            self.servers["primary"] = self._start_server("primary", server_id=1, timeout=timeout)
            self._save_state()
        if with_replica and "replica" not in self.servers:
            self.add_replica(timeout=timeout)
        return self.primary

    def add_replica(self, timeout: float = 60.0) -> ServerInfo:
        """Start a replica of the primary and wait until replication runs."""
        replica = self._start_server("replica", server_id=2, timeout=timeout)
        self.servers["replica"] = replica
        self._save_state()
        primary = self.primary
        with _connect(primary) as conn:
            cur = conn.cursor()
            cur.execute("SHOW MASTER STATUS")
            log_file, log_pos = cur.fetchone()[:2]
        with _connect(replica) as conn:
            cur = conn.cursor()
            cur.execute(
                "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, "
                "MASTER_PASSWORD=%s, MASTER_LOG_FILE=%s, MASTER_LOG_POS=%s",
                (
                    primary.host,
                    primary.port,
                    REPLICATION_USER,
                    REPLICATION_PASSWORD,
                    log_file,
                    int(log_pos),
                ),
            )
            cur.execute(replica_dialect_of(conn).start)
        self._wait_replication(replica, timeout)
        return replica

    def stop(self) -> None:
        """Stop every server of this sandbox (replica first) and remove temporary data."""
        self._load_state()
        for role in ("replica", "primary"):
            info = self.servers.pop(role, None)
            if info is not None:
                _stop_pid(info.pid)
                sock = Path(info.socket)
                if sock.exists() and not str(sock).startswith(str(self.base_dir)):
                    sock.unlink(missing_ok=True)
        state = self.base_dir / STATE_FILE
        state.unlink(missing_ok=True)
        if self._temporary:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def status(self) -> dict[str, ServerInfo]:
        """Servers recorded in the state file whose process is still alive."""
        self._load_state()
        return dict(self.servers)

    # -- one server ----------------------------------------------------------------------

    def _start_server(self, role: str, *, server_id: int, timeout: float) -> ServerInfo:
        server, installer = find_server_binary()
        datadir = self.base_dir / role
        datadir.mkdir(parents=True, exist_ok=True)
        (datadir / "tmp").mkdir(exist_ok=True)  # the server's private tmpdir
        run_as_root = ["--user=root"] if os.geteuid() == 0 else []
        mysql_flavor = _is_mysql(server)
        if not (datadir / "mysql").exists():
            _initialise_datadir(server, installer, datadir, run_as_root, mysql_flavor)
        port = free_port()
        sock = _socket_path(datadir)
        args = self._server_args(server, datadir, port, sock, server_id, run_as_root, mysql_flavor)
        log = open(datadir / "mysqld.out", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        info = ServerInfo(
            role=role,
            host="127.0.0.1",
            port=port,
            socket=sock,
            user=ENGINE_USER,
            password=ENGINE_PASSWORD,
            server_id=server_id,
            datadir=str(datadir),
            pid=proc.pid,
        )
        self._wait_ready(info, proc, timeout)
        self._create_users(info)
        return info

    def _server_args(
        self,
        server: str,
        datadir: Path,
        port: int,
        sock: str,
        server_id: int,
        run_as_root: list[str],
        mysql_flavor: bool,
    ) -> list[str]:
        """The server's command line: loopback, its own socket, the binlog the engine needs."""
        pid_file = datadir / "mysqld.pid"
        args = [
            server,
            "--no-defaults",
            f"--datadir={datadir / 'data'}",
            # A private tmpdir: a server removes every #sql* file of its tmpdir when it
            # starts, so servers sharing /tmp delete each other's temporary tables.
            f"--tmpdir={datadir / 'tmp'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={sock}",
            f"--pid-file={pid_file}",
            f"--log-error={datadir / 'error.log'}",
            f"--server-id={server_id}",
            "--log-bin=binlog",
            "--binlog-format=ROW",
            "--binlog-row-image=FULL",
            "--binlog-row-metadata=FULL",
            "--log-slave-updates=ON",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=512M",
            "--max-connections=500",
            "--innodb-lock-wait-timeout=50",
            "--max-allowed-packet=64M",
            *run_as_root,
        ]
        if not mysql_flavor:
            # Writes made locally on the replica must not collide with the primary's GTIDs.
            args.append(f"--gtid-domain-id={server_id - 1}")
        if self.tls is not None:
            # performance_schema tells each session's transport (threads.CONNECTION_TYPE).
            args += [*self.tls.server_args(), "--performance-schema=ON"]
        if not self.durable:
            # Test speed: the sandbox is throwaway, so fsync on every commit buys nothing.
            args += ["--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"]
        return args

    def _wait_ready(self, info: ServerInfo, proc: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        import MySQLdb

        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(
                    f"The {info.role} server exited with code {proc.returncode}; see "
                    f"{info.datadir}/error.log:\n{_tail(Path(info.datadir) / 'error.log')}"
                )
            try:
                MySQLdb.connect(unix_socket=info.socket, user="root", password="").close()
                return
            except MySQLdb.OperationalError:
                time.sleep(0.1)
        _stop_pid(proc.pid)
        raise SandboxError(
            f"The {info.role} server did not answer within {timeout:.0f} s; "
            f"see {info.datadir}/error.log"
        )

    def _create_users(self, info: ServerInfo) -> None:
        import MySQLdb

        conn = MySQLdb.connect(unix_socket=info.socket, user="root", password="")
        try:
            cur = conn.cursor()
            # Keep these statements out of the binlog: each server creates its own users,
            # and the replica must not replay the primary's.
            cur.execute("SET sql_log_bin = 0")
            for host in ("127.0.0.1", "localhost"):
                cur.execute(
                    "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                    (ENGINE_USER, host, ENGINE_PASSWORD),
                )
                cur.execute(
                    "GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION", (ENGINE_USER, host)
                )
                cur.execute(
                    "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                    (REPLICATION_USER, host, REPLICATION_PASSWORD),
                )
                cur.execute("GRANT REPLICATION SLAVE ON *.* TO %s@%s", (REPLICATION_USER, host))
        finally:
            conn.close()

    def _wait_replication(self, replica: ServerInfo, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with _connect(replica) as conn:
                rs = replica_dialect_of(conn)
                cur = conn.cursor()
                cur.execute(rs.show_status)
                row = cur.fetchone()
                names = [d[0] for d in cur.description or ()]
                state = dict(zip(names, row or (), strict=False))
            if rs.text(state, "io_running") == rs.text(state, "sql_running") == "Yes":
                return
            time.sleep(0.1)
        raise SandboxError(
            f"Replication did not start within {timeout:.0f} s: "
            f"IO={state.get('Slave_IO_Running')} SQL={state.get('Slave_SQL_Running')} "
            f"{state.get('Last_IO_Error') or state.get('Last_SQL_Error') or ''}"
        )

    # -- state file ----------------------------------------------------------------------

    def _save_state(self) -> None:
        data = {role: dataclasses.asdict(info) for role, info in self.servers.items()}
        (self.base_dir / STATE_FILE).write_text(json.dumps(data, indent=2))

    def _load_state(self) -> None:
        path = self.base_dir / STATE_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text())
        for role, fields in data.items():
            info = ServerInfo(**fields)
            if _alive(info.pid) and _runs_datadir(info.pid, info.datadir):
                self.servers[role] = info
            else:
                self.servers.pop(role, None)


class _connect:
    """A MySQLdb connection as the engine user, closed on exit."""

    def __init__(self, info: ServerInfo):
        import MySQLdb

        self.conn = MySQLdb.connect(autocommit=True, **info.connect_kwargs())

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _runs_datadir(pid: int, datadir: str) -> bool:
    """Whether ``pid`` is still the server started on ``datadir``: after a reboot or a
    crash the recorded pid may belong to another process, which must never be signalled.
    Where /proc is missing (not Linux) the pid is trusted."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return os.fsencode(datadir) in cmdline


def _stop_pid(pid: int, timeout: float = 30.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no error log)"


def _describe(info: ServerInfo) -> str:
    return (
        f"{info.role}: host={info.host} port={info.port} socket={info.socket} "
        f"user={info.user} password={info.password} server_id={info.server_id} pid={info.pid}\n"
        f"  dsn: {info.dsn()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m django_ghost.sandbox",
        description="Throwaway MariaDB server with ROW binlogs.",
    )
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--dir", default=".sandbox", help="data folder (default: ./.sandbox)")
    parser.add_argument("--with-replica", action="store_true", help="also start a replica")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="fsync every commit (benchmarks); default favours speed",
    )
    args = parser.parse_args(argv)
    box = Sandbox(args.dir, durable=args.durable)
    try:
        if args.action == "start":
            box.start(with_replica=args.with_replica)
        elif args.action == "stop":
            box.stop()
            print(f"sandbox in {args.dir} stopped")
            return 0
        servers = box.status()
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not servers:
        print(f"no sandbox running in {args.dir}")
        return 3 if args.action == "status" else 1
    for info in servers.values():
        print(_describe(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared pieces of the integration tests: the config factory, a migration in a thread,
seeded tables, the mirrored writer, the CLI as a subprocess, binlog streams to read,
small probes, and a StatsD daemon's socket.

The control-socket client the tests use is the engine's own,
:func:`django_ghost.engine.control.client.send`.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django_ghost.engine.binlog.coordinates import current_position
from django_ghost.engine.binlog.events import BinlogEvent, BinlogPosition, RowChange
from django_ghost.engine.binlog.reader import WatchSpec
from django_ghost.engine.binlog.stream import BinlogStream
from django_ghost.engine.config import GhostConfig
from django_ghost.engine.migrator import Migrator
from django_ghost.engine.mysql.connection import Connection, ConnectionSpec, connect
from django_ghost.engine.sql.quote import quote_identifier as q
from tests.plugins.mariadb import TestDatabase

REPO = Path(__file__).resolve().parents[2]


def make_config(db: TestDatabase, table: str, alter: str, **options: Any) -> GhostConfig:
    """An executing migration of ``table`` in the test database, 100-row chunks unless
    ``options`` say otherwise."""
    server = db.server
    return GhostConfig(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=db.name,
        table=table,
        alter=alter,
        execute=True,
        chunk_size=options.pop("chunk_size", 100),
        **options,
    )


def slow_copy(
    db: TestDatabase, tmp_path: Path, alter: str, table: str = "t", **options: Any
) -> GhostConfig:
    """A migration whose copy a checkpoint catches mid-way on any machine, for kill and
    resume tests: 100-row chunks each followed by a sleep of 10x its time, checkpoints
    every second, a control socket in ``tmp_path``."""
    return make_config(
        db,
        table,
        alter,
        chunk_size=100,
        nice_ratio=10.0,
        checkpoint_seconds=1,
        serve_socket_file=str(tmp_path / "s.sock"),
        **options,
    )


class Run(threading.Thread):
    """A migration in a background thread; ``result`` or ``error`` once it ends."""

    def __init__(self, config: GhostConfig, **kwargs: Any):
        super().__init__(daemon=True)
        self.migrator = Migrator(config, **kwargs)
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.migrator.run()
        except BaseException as exc:  # noqa: BLE001 - asserted by the test
            self.error = exc

    def postponed(self) -> bool:
        """Whether the copy is done and the cut-over waits for its flag file to go."""
        return self.migrator.context.phase.startswith("postponed")


def spec_of(db: TestDatabase) -> ConnectionSpec:
    """The test server's login, no default database."""
    s = db.server
    return ConnectionSpec(host=s.host, port=s.port, user=s.user, password=s.password)


def engine_conn(db: TestDatabase) -> Connection:
    """A session in the test database as the engine opens them (its time zone and SQL
    mode)."""
    return connect(dataclasses.replace(spec_of(db), database=db.name))


# -- seeded tables -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Shape:
    """A seeded table: its column definitions, and what follows ``INSERT INTO <table>``
    to fill it from ``seq_1_to_<rows>`` (the server's sequence engine)."""

    columns: str
    fill: str


KEYED = Shape("id INT PRIMARY KEY, v INT, w VARCHAR(20)", "SELECT seq, seq, CONCAT('x', seq)")
AUTO_INCREMENT = Shape(
    "id INT AUTO_INCREMENT PRIMARY KEY, v INT, w VARCHAR(20)",
    "(v, w) SELECT seq, CONCAT('x', seq)",
)


def seed(
    db: TestDatabase,
    rows: int = 3000,
    table: str = "t",
    *,
    mirror: str | None = "{table}_mirror",
    shape: Shape = KEYED,
) -> None:
    """``table`` with ``rows`` rows of ``shape``, and an identical ``mirror`` (a name,
    ``{table}`` standing for the table's; None: no mirror)."""
    names = [table] if mirror is None else [table, mirror.format(table=table)]
    for name in names:
        db.execute(f"CREATE TABLE {q(name)} ({shape.columns})")
        db.execute(f"INSERT INTO {q(name)} {shape.fill} FROM seq_1_to_{rows}")


def rows_md5(db: TestDatabase, table: str, columns: str = "id, v, w") -> tuple[int, str]:
    return db.checksum(table, columns, order_by="id")


def helper_tables(db: TestDatabase, table: str = "t") -> list[str]:
    return sorted(n for n in db.tables() if n.startswith(f"_{table}_"))


# -- the mirrored writer -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Mix:
    """What a writer does in its round n = 1, 2, ...: insert a row, add to ``v`` of the
    row keyed ``n * strides[0] % keys``, delete the row keyed ``n * strides[1] % keys``
    and, when ``move`` is set, re-key the row keyed ``n * strides[2] % keys``; then
    sleep ``pause`` seconds."""

    keys: int = 3000
    strides: tuple[int, ...] = (7, 13, 17)
    first_id: int | None = 1_000_000
    """The inserted row's key is ``first_id + n``; None: the table's AUTO_INCREMENT."""
    text: str | None = "w{n}"
    """The inserted row's text (``{n}`` the round); None: the text column is not set."""
    bump_by_round: bool = False
    """Add n to ``v`` rather than 1."""
    move: str = "{k} + 5000000"
    """A moved row's new key, ``{k}`` standing for the key column; empty: no moves."""
    pause: float = 0.001
    key: str = "id"
    text_column: str = "w"

    def statements(self, table: str, n: int) -> list[tuple[str, tuple[Any, ...]]]:
        """Round ``n``'s statements on ``table``, with their parameters."""
        t, k = q(table), q(self.key)
        rows = [n * stride % self.keys for stride in self.strides]
        columns: list[str] = ["v"]
        values: list[Any] = [n]
        if self.first_id is not None:
            columns.insert(0, k)
            values.insert(0, self.first_id + n)
        if self.text is not None:
            columns.append(q(self.text_column))
            values.append(self.text.format(n=n))
        marks = ", ".join(["%s"] * len(values))
        bump = n if self.bump_by_round else 1
        done = [
            (f"INSERT INTO {t} ({', '.join(columns)}) VALUES ({marks})", tuple(values)),
            (f"UPDATE {t} SET v = v + %s WHERE {k} = %s", (bump, rows[0])),
            (f"DELETE FROM {t} WHERE {k} = %s", (rows[1],)),
        ]
        if self.move:
            new_key = self.move.format(k=k)
            done.append((f"UPDATE {t} SET {k} = {new_key} WHERE {k} = %s", (rows[2],)))
        return done


KEY_MOVES = Mix()
"""Explicit keys from 1,000,001 up, rows moved 5,000,000 up, over keys below 3000."""
AUTO_INCREMENT_MIX = Mix(first_id=None, text="{n}", move="-{k}", pause=0.0)
"""Keys from AUTO_INCREMENT, rows moved to the negative key, no pause between rounds."""
NO_KEY_MOVES = Mix(
    keys=20000,
    strides=(37, 91),
    first_id=100000,
    text=None,
    bump_by_round=True,
    move="",
    pause=0.002,
)
"""Keys from 100,001 up, ``v`` grown by the round, no moves, over keys below 20,000."""


class MirroredWriter(threading.Thread):
    """Writes ``mix`` to ``table`` until stopped, each statement also to ``mirror`` right
    after it: with every write applied to both, the mirror holds what the table must
    hold, an oracle independent of the engine (``mirror`` is a name, ``{table}`` standing
    for the table's; None: the table alone). Failed writes are recorded, not raised."""

    def __init__(
        self,
        db: TestDatabase,
        table: str = "t",
        *,
        mirror: str | None = "{table}_mirror",
        mix: Mix = KEY_MOVES,
    ):
        super().__init__(daemon=True)
        self.conn = db.connect()
        self.tables = [table] if mirror is None else [table, mirror.format(table=table)]
        self.mix = mix
        self.stop = threading.Event()
        self.writes = 0
        self.failures: list[str] = []
        self.max_latency = 0.0
        """Longest time one statement on the table took (seconds)."""

    def run(self) -> None:
        cur = self.conn.cursor()
        n = 0
        while not self.stop.is_set():
            n += 1
            per_table = [self.mix.statements(table, n) for table in self.tables]
            for same_statement in zip(*per_table, strict=True):
                for i, (sql, params) in enumerate(same_statement):
                    try:
                        started = time.monotonic()
                        cur.execute(sql, params)
                        if i == 0:
                            elapsed = time.monotonic() - started
                            self.max_latency = max(self.max_latency, elapsed)
                        self.writes += 1
                    except Exception as exc:  # noqa: BLE001 - counted and asserted on
                        self.failures.append(f"{self.tables[i]}: {exc}")
            if self.mix.pause:
                time.sleep(self.mix.pause)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        self.conn.close()


# -- hooks -----------------------------------------------------------------------------


class HookRecorder:
    """A Hooks implementation (``Migrator(hooks=...)``) keeping every event with the
    environment it was fired with; ``on`` maps an event to a function run when it fires
    (on the migration's thread, as a hook runs)."""

    def __init__(self, on: Mapping[str, Any] | None = None) -> None:
        self.events: list[tuple[str, dict[str, str]]] = []
        self.on = dict(on or {})

    def fire(self, event: str, extra_env: Mapping[str, str] | None = None) -> None:
        self.events.append((event, dict(extra_env or {})))
        if event in self.on:
            self.on[event]()

    def names(self) -> list[str]:
        return [event for event, _ in self.events]

    def envs(self, event: str) -> list[dict[str, str]]:
        return [env for name, env in self.events if name == event]


RECORDED_HOOK_CALLS: list[tuple[str, dict[str, str]]] = []
"""What :func:`record_hook_call` was called with (a ``hooks_callables`` dotted path)."""


def record_hook_call(event: str, env: dict[str, str]) -> None:
    """A hook callable for ``hooks_callables="tests.integration.helpers.record_hook_call"``."""
    RECORDED_HOOK_CALLS.append((event, env))


# -- the CLI as a subprocess -------------------------------------------------------------


def cli_env(db: TestDatabase) -> dict[str, str]:
    env = dict(os.environ)
    env["GHOST_PASSWORD"] = db.server.password
    env.pop("MYSQL_PWD", None)
    return env


def spawn_cli(db: TestDatabase, *flags: str, env: dict[str, str] | None = None) -> Any:
    """``python -m django_ghost.cli`` with the connection flags and the password in the
    environment."""
    server = db.server
    cmd = [
        sys.executable,
        "-m",
        "django_ghost.cli",
        f"--host={server.host}",
        f"--port={server.port}",
        f"--user={server.user}",
        f"--database={db.name}",
        *flags,
    ]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env if env is not None else cli_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(db: TestDatabase, *flags: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = spawn_cli(db, *flags)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


# -- binlog streams ----------------------------------------------------------------------

# Every dump connection needs its own server id: the server kills an older dump thread
# that registered with the same id.
_server_ids = itertools.count(10_000 + (os.getpid() % 5_000) * 100)


def position(db: Any) -> BinlogPosition:
    conn = db.connect()
    try:
        return current_position(conn)
    finally:
        conn.close()


def open_stream(
    db: Any,
    watch: Mapping[str, Sequence[str] | WatchSpec],
    start: BinlogPosition,
    **kwargs: Any,
) -> BinlogStream:
    specs = {
        name: w if isinstance(w, WatchSpec) else WatchSpec(tuple(w)) for name, w in watch.items()
    }
    return BinlogStream(
        spec_of(db),
        server_id=next(_server_ids),
        schema=db.name,
        watch=specs,
        start=start,
        **kwargs,
    )


def drain(stream: BinlogStream, end: BinlogPosition, timeout: float = 20.0) -> list[BinlogEvent]:
    """Read until the stream has returned the event that ends at ``end``."""
    events: list[BinlogEvent] = []
    deadline = time.monotonic() + timeout
    while stream.position < end:
        assert time.monotonic() < deadline, f"stream stuck at {stream.position}, wanted {end}"
        events += stream.read(1000, 0.5)
    return events


def read_all(
    db: Any,
    watch: Mapping[str, Sequence[str] | WatchSpec],
    start: BinlogPosition,
    **kwargs: Any,
) -> list[BinlogEvent]:
    """Every event from ``start`` to the server's current position."""
    end = position(db)
    stream = open_stream(db, watch, start, **kwargs)
    try:
        return drain(stream, end)
    finally:
        stream.close()


def row_changes(events: Sequence[BinlogEvent]) -> list[RowChange]:
    return [e for e in events if isinstance(e, RowChange)]


# -- row-by-row oracle -------------------------------------------------------------------


def table_columns(db: Any, table: str) -> list[str]:
    """The column names of ``table``, in definition order."""
    return [str(r[0]) for r in db.query(f"SHOW COLUMNS FROM {q(table)}")]


def keyed_rows(
    db: Any, table: str, columns: Sequence[str], key: Sequence[str]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """``table``'s rows as {key values: values of ``columns``}."""
    names = ", ".join(q(c) for c in [*key, *columns])
    rows = db.query(f"SELECT {names} FROM {q(table)}")
    width = len(key)
    found = {tuple(r[:width]): tuple(r[width:]) for r in rows}
    assert len(found) == len(rows), f"{table}: the key {list(key)} is not unique"
    return found


def row_differences(
    db: Any,
    table: str,
    expected: str,
    *,
    columns: Sequence[str] | None = None,
    key: Sequence[str] = ("id",),
    expected_db: Any = None,
    limit: int = 5,
) -> list[str]:
    """Where ``table`` differs from ``expected`` (in ``expected_db``, default ``db``),
    compared key by key over ``columns`` (None: every column of ``expected``): a summary
    line of the missing, unexpected and changed keys, then the first ``limit`` of them,
    smallest keys first; empty when the rows are the same."""
    other = db if expected_db is None else expected_db
    names = table_columns(other, expected) if columns is None else list(columns)
    values = [c for c in names if c not in key]
    ours = keyed_rows(db, table, values, key)
    theirs = keyed_rows(other, expected, values, key)
    missing = sorted(k for k in theirs if k not in ours)
    unexpected = sorted(k for k in ours if k not in theirs)
    changed = sorted(k for k in ours if k in theirs and ours[k] != theirs[k])
    if not (missing or unexpected or changed):
        return []
    first = sorted(
        [(k, f"missing {k}: {expected}={theirs[k]!r}") for k in missing[:limit]]
        + [(k, f"unexpected {k}: {table}={ours[k]!r}") for k in unexpected[:limit]]
        + [
            (k, f"changed {k}: {table}={ours[k]!r} {expected}={theirs[k]!r}")
            for k in changed[:limit]
        ]
    )[:limit]
    summary = (
        f"{table} vs {expected} over {list(key)} + {values}: {len(missing)} missing, "
        f"{len(unexpected)} unexpected, {len(changed)} changed"
    )
    return [summary, *(line for _, line in first)]


def assert_same_rows(
    db: Any,
    table: str,
    expected: str,
    *,
    columns: Sequence[str] | None = None,
    key: Sequence[str] = ("id",),
    expected_db: Any = None,
) -> None:
    """``table`` holds exactly ``expected``'s rows (``expected`` in ``expected_db``,
    default ``db``), key by key over ``columns`` (None: every column of ``expected``);
    the failure names the first differing keys."""
    differences = row_differences(
        db, table, expected, columns=columns, key=key, expected_db=expected_db
    )
    assert not differences, "\n".join(differences)


def definition_body(db: Any, table: str) -> str:
    """SHOW CREATE TABLE without its first line (the table's name) and the AUTO_INCREMENT
    counter: what a migrated table and its mirror must share."""
    text = str(db.query(f"SHOW CREATE TABLE {q(table)}")[0][1])
    return re.sub(r" AUTO_INCREMENT=\d+", "", text.split("\n", 1)[1])


def same_definition(db: Any, table: str, expected: str) -> bool:
    """Whether both tables have the same definition (see definition_body)."""
    return definition_body(db, table) == definition_body(db, expected)


def apply_to_mirror(db: Any, mirror: str, alter: str) -> None:
    """The migration's ALTER run on the mirror by the server itself: the oracle of what the
    migrated table must be."""
    db.execute(f"ALTER TABLE {q(mirror)} {alter}")


def copy_as_mirror(db: Any, table: str, mirror: str | None = None) -> str:
    """A copy of ``table`` (definition and rows) named ``mirror`` (default
    ``<table>_mirror``), made by the server before the migration: the oracle of a test
    without a writer. Returns the mirror's name."""
    name = mirror if mirror is not None else f"{table}_mirror"
    db.execute(f"CREATE TABLE {q(name)} LIKE {q(table)}")
    db.execute(f"INSERT INTO {q(name)} SELECT * FROM {q(table)}")
    return name


def assert_migrated_like_mirror(
    db: Any, alter: str, table: str = "t", mirror: str | None = None
) -> None:
    """The oracle of a migrated table: every write also went to ``mirror`` (default
    ``<table>_mirror``); after the same ALTER run by the server, ``table`` must have the
    mirror's definition and, key by key, its rows."""
    name = mirror if mirror is not None else f"{table}_mirror"
    apply_to_mirror(db, name, alter)
    assert definition_body(db, table) == definition_body(db, name)
    assert_same_rows(db, table, name)


# -- a StatsD daemon's socket -------------------------------------------------------------


class StatsdListener(threading.Thread):
    """A StatsD daemon's socket: every line of every datagram received."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.lines += self.sock.recv(65535).decode().split("\n")
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=5)
        self.sock.close()

    def named(self, name: str) -> list[tuple[str, str, dict[str, str]]]:
        """(value, type, tags) of each line of ``gh_ost.<name>``."""
        found = []
        for line in self.lines:
            metric, _, rest = line.partition(":")
            if metric != f"gh_ost.{name}":
                continue
            value, kind, *tags = rest.split("|")
            tag_pairs = tags[0].removeprefix("#").split(",") if tags else []
            found.append((value, kind, dict(t.split(":", 1) for t in tag_pairs)))
        return found

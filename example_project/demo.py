"""`make demo`: a live million-row table migrated online while the shop keeps writing.

Steps, each printed as it runs:

1. a server: the sandbox MariaDB in ``.sandbox/`` at the top of the repository (git
   ignores it; started, or reused when it already runs), or your own server when
   ``DATABASE_URL`` is set;
2. the schema: every app migrated, except the shop, which stops at ``0001_initial`` so
   that its three changes to ``shop_order`` are still pending;
3. ``seed_shop``: 1,000,000 orders generated inside the server;
4. ``simulate_traffic`` in the background: inserts, updates and deletes on ``shop_order``;
5. ``ghost_migrate shop``: the pending migrations, online, with a progress bar;
6. traffic stopped; the summary: per online run the wall time, rows copied, binlog events
   applied, cut-over stall and checksum, then the traffic's writes and failed writes, and
   a row-by-row check that no row was lost or invented: the seed wrote ids 1..N and the
   traffic reports every id it inserted and deleted, so the exact set of ids the table
   must hold is known.

The sandbox is left running; the last lines say how to stop it and how to open the
admin's history page. Every run starts from the same state: the shop's tables are
emptied, rolled back to ``0001`` and seeded again. Environment knobs: ``DEMO_ORDERS``
(default 1000000) and ``DEMO_TPS`` (default 200).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from django_ghost.sandbox import Sandbox  # noqa: E402

DATABASE = "shop"
ORDERS = int(os.environ.get("DEMO_ORDERS", "1000000"))
TPS = float(os.environ.get("DEMO_TPS", "200"))
# The shop's last migration applied before the demo; the later ones are the pending
# changes to shop_order that go online.
BEFORE_ONLINE = "0001_initial"
# Helper tables an interrupted earlier run may have left behind (docs/troubleshooting.md).
LEFTOVER = re.compile(r"^_shop_\w+_(gho|ghc|del)$")
# ghost_migrate's closing summary, one line per online run.
CHECKSUM_LINE = re.compile(r"^\s+(?P<migration>\S+) `.*checksum (?P<state>verified|skipped)")
# A pipe or CI log has no width: rich would assume 80 columns and squeeze the summary.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)


def step(title: str) -> float:
    console.rule(f"[bold]{title}")
    return time.monotonic()


def database_url() -> tuple[str, bool]:
    """The server to use and whether it is the sandbox."""
    if os.environ.get("DATABASE_URL"):
        console.print("using DATABASE_URL (your own server; the sandbox is not started)")
        return os.environ["DATABASE_URL"], False
    box = Sandbox(ROOT / ".sandbox")
    primary = box.start()
    import MySQLdb

    conn = MySQLdb.connect(**primary.connect_kwargs())
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{DATABASE}` CHARACTER SET utf8mb4")
    conn.close()
    console.print(f"sandbox MariaDB on 127.0.0.1:{primary.port} (data in .sandbox/)")
    url = f"mysql://{primary.user}:{primary.password}@{primary.host}:{primary.port}/{DATABASE}"
    return url, True


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    import django

    django.setup()


def manage_cmd(*args: str) -> list[str]:
    return [sys.executable, str(HERE / "manage.py"), *args]


def run_manage(*args: str) -> str:
    """Run a manage.py command with its output shown live; return its last line."""
    proc = subprocess.Popen(manage_cmd(*args), cwd=HERE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:
        last = line.strip() or last
        if not line.startswith("{"):
            console.print(line.rstrip(), markup=False)
    if proc.wait() != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {proc.returncode})")
    return last


def table_names() -> set[str]:
    from django.db import connection

    return set(connection.introspection.table_names())


def prepare_schema() -> None:
    """Everything migrated, the shop back at 0001 with empty tables, no leftovers."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    tables = table_names()
    for name in sorted(t for t in tables if LEFTOVER.match(t)):
        console.print(f"dropping {name}, left over by an earlier run")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE `{name}`")
    if "shop_order" in tables:
        # Empty first, so that rolling back an earlier demo's migrations is instant.
        call_command("seed_shop", empty=True, verbosity=0)
    call_command("migrate", "shop", BEFORE_ONLINE, verbosity=0)
    others = sorted(MigrationLoader(connection).migrated_apps - {"shop"})
    for label in others:
        call_command("migrate", label, verbosity=0)
    console.print(f"migrated: {', '.join(others)}; shop up to {BEFORE_ONLINE}")
    connection.close()


def pending_shop_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "shop"]
    plan = executor.migration_plan(targets)
    connection.close()
    return [migration.name for migration, backwards in plan if not backwards]


def start_traffic(log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - handed to the child, closed when it exits
    ids = str(log.with_name("ids.json"))
    args = ("--tps", str(TPS), "--seconds", "0", "--threads", "2", "--ids-file", ids)
    return subprocess.Popen(
        manage_cmd("simulate_traffic", *args),
        cwd=HERE,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop_traffic(proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    lines = log.read_text(errors="replace").strip().splitlines()
    try:
        return dict(json.loads(lines[-1]))
    except (IndexError, ValueError):
        console.print("[red]simulate_traffic printed no summary; its output:")
        console.print("\n".join(lines[-30:]), markup=False)
        return {"writes": 0, "failed": -1, "rows_inserted": 0, "rows_deleted": 0}


def online_runs(since: Any) -> list[dict[str, Any]]:
    """History rows django_ghost wrote during this demo (empty when it keeps none)."""
    from django.apps import apps

    if not apps.is_installed("django_ghost"):
        return []
    try:
        model = apps.get_model("django_ghost", "OnlineRun")
        rows = list(model.objects.filter(started_at__gte=since).order_by("id").values())
    except LookupError:
        return []
    finally:
        from django.db import connection

        connection.close()
    return rows


def fmt_seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f} s"


def summary_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="online runs (django_ghost history)")
    for column in (
        "migration",
        "table",
        "route",
        "status",
        "wall time",
        "rows copied",
        "events applied",
        "cut-over stall",
        "checksum",
    ):
        table.add_column(column, justify="right" if " " in column else "left")
    for run in runs:
        wall = None
        if run.get("finished_at") and run.get("started_at"):
            wall = (run["finished_at"] - run["started_at"]).total_seconds()
        stall = run.get("cut_over_stall_seconds")
        if stall is None and run.get("cut_over_stall_ms") is not None:
            stall = run["cut_over_stall_ms"] / 1000
        checksum = run.get("checksum_verified")
        table.add_row(
            str(run.get("migration", "")).removeprefix("shop."),
            str(run.get("table_name", "")),
            str(run.get("route", "")),
            str(run.get("status", "")),
            fmt_seconds(wall),
            f"{run.get('rows_copied', 0):,}",
            f"{run.get('events_applied', 0):,}",
            "-" if stall is None else f"{float(stall) * 1000:.0f} ms",
            "-" if checksum is None else ("verified" if checksum else "NOT verified"),
        )
    return table


def verify_orders(
    seeded: int, traffic: dict[str, Any], ids_file: Path
) -> tuple[int, int, list[str]]:
    """(orders found, orders expected, problems) after the migration.

    Row by row: the seed wrote ids 1..seeded, the traffic reports the ids it inserted and
    deleted, so the exact set of ids the table must hold is known.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_order")
        found_ids = {row[0] for row in cursor.fetchall()}
        cursor.execute("SHOW CREATE TABLE shop_order")
        ddl = cursor.fetchone()[1]
    connection.close()
    problems = []
    expected = seeded + int(traffic["rows_inserted"]) - int(traffic["rows_deleted"])
    try:
        ids = json.loads(ids_file.read_text())
        # A row inserted and later deleted by the traffic is in both lists: delete last.
        expected_ids = (set(range(1, seeded + 1)) | set(ids["inserted"])) - set(ids["deleted"])
        missing = sorted(expected_ids - found_ids)
        extra = sorted(found_ids - expected_ids)
        # AUTO_INCREMENT never hands out an id twice unless the row that first had it
        # vanished (e.g. an insert lost at a cut-over, its id then reused).
        reused = sorted(i for i, n in Counter(ids["inserted"]).items() if n > 1)
        if reused:
            problems.append(f"{len(reused)} ids handed out twice (a row lost), ids {reused[:10]}")
        if missing:
            problems.append(f"{len(missing)} rows missing, ids {missing[:10]}")
        if extra:
            problems.append(f"{len(extra)} unexpected rows, ids {extra[:10]}")
    except (OSError, ValueError, KeyError):
        problems.append("simulate_traffic wrote no ids file: only the row count is checked")
    found = len(found_ids)
    if "`currency` varchar(3)" not in ddl:
        problems.append("column currency is missing")
    if "KEY `shop_order_status_created`" not in ddl:
        problems.append("index shop_order_status_created is missing")
    if not re.search(r"`total_cents` bigint", ddl):
        problems.append("total_cents is not BIGINT")
    return found, expected, problems


def main() -> int:
    demo_began = time.monotonic()
    started = step("1. server")
    url, sandbox = database_url()
    setup_django(url)
    from django.utils import timezone

    step("2. schema")
    prepare_schema()
    pending = pending_shop_migrations()
    console.print(f"pending on shop_order: {', '.join(pending)}")

    started = step(f"3. seed {ORDERS:,} orders (server-side)")
    seed = json.loads(run_manage("seed_shop", "--reset", "--orders", str(ORDERS), "--json"))
    seed_seconds = time.monotonic() - started

    step(f"4. traffic: {TPS:g} writes/s from 2 threads, in the background")
    log = Path(tempfile.mkdtemp(prefix="django-ghost-demo-")) / "traffic.log"
    traffic_proc = start_traffic(log)
    time.sleep(2)  # let the traffic get going before the migration starts
    if traffic_proc.poll() is not None:
        console.print(log.read_text(errors="replace"), markup=False)
        raise SystemExit("simulate_traffic exited early; see above")
    console.print(f"simulate_traffic running (pid {traffic_proc.pid}, log {log})")

    checksums: dict[str, bool] = {}
    since = timezone.now().replace(microsecond=0)
    started = step("5. manage.py ghost_migrate shop")
    command = manage_cmd("ghost_migrate", "shop")
    try:
        # stdout is echoed and kept: its "Online migrations:" lines say whether each
        # checksum was verified, which the history rows do not record. The progress bar
        # is drawn on stderr, which stays the terminal's.
        proc = subprocess.Popen(command, cwd=HERE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            found = CHECKSUM_LINE.match(line)
            if found:
                checksums[found["migration"]] = found["state"] == "verified"
        migrated = proc.wait() == 0
        migrate_seconds = time.monotonic() - started
        time.sleep(2)  # traffic keeps writing to the migrated table for a moment
    finally:
        traffic = stop_traffic(traffic_proc, log)

    step("6. summary")
    runs = online_runs(since)
    for run in runs:
        run.setdefault("checksum_verified", checksums.get(run.get("migration", "")))
    if runs:
        console.print(summary_table(runs))
    else:
        console.print("[yellow]no history rows found (is 'django_ghost' in INSTALLED_APPS?)")
    found, expected, problems = verify_orders(
        int(seed["shop_order"]), traffic, log.with_name("ids.json")
    )
    failed = int(traffic.get("failed", -1))
    ok = migrated and failed == 0 and found == expected and not problems
    if any(run.get("checksum_verified") is False for run in runs):
        ok = False
    lines = [
        f"seed: {int(seed['shop_order']):,} orders in {seed_seconds:.1f} s",
        f"migration (ghost_migrate): {'ok' if migrated else 'FAILED'} in {migrate_seconds:.1f} s",
        f"traffic: {traffic.get('writes', 0):,} writes, "
        f"[{'green' if failed == 0 else 'red'}]{failed} failed[/], "
        f"{traffic.get('tps_actual', 0)} writes/s, "
        f"max write latency {traffic.get('latency_max_ms', 0)} ms",
        f"shop_order: {found:,} rows, expected {expected:,} (seeded + inserted - deleted, "
        f"checked id by id): {'ok' if found == expected and not problems else 'MISMATCH'}",
        "checks: "
        + (
            "every row present, currency column, status/created_at index, BIGINT total_cents"
            if not problems
            else "[red]" + "; ".join(problems)
        ),
        f"demo wall time: {time.monotonic() - demo_began:.0f} s",
    ]
    for line in lines:
        console.print(line)
    for message, count in traffic.get("errors", {}).items():
        console.print(f"  {count} x {message}", markup=False)

    console.rule()
    env = f"DATABASE_URL={url}"
    if sandbox:
        console.print("The sandbox keeps running. Stop it with: [bold]make sandbox-stop")
    console.print(
        "The admin's history page:\n"
        f"  cd example_project\n"
        f"  {env} ../.venv/bin/python manage.py createsuperuser\n"
        f"  {env} ../.venv/bin/python manage.py runserver\n"
        "  then open http://127.0.0.1:8000/admin/django_ghost/",
        markup=False,
    )
    console.print("[bold green]demo passed" if ok else "[bold red]demo FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

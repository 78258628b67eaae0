"""``manage.py seed_shop --orders 1000000``: fill the shop with generated data, fast.

Generation happens inside the server (see :mod:`shop.seeding`), a few large chunks per
table, so a million orders take seconds rather than the minutes an ORM ``bulk_create``
would. Ids are explicit (1..N) and every value derives from the id, so two seeds of the
same size are identical.

Idempotent: when the shop already holds orders the command changes nothing and says so;
``--reset`` empties the shop tables first, ``--empty`` only empties them.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from shop import seeding

TABLES = ("shop_orderline", "shop_order", "shop_customer")


class Command(BaseCommand):
    help = "Generate customers, orders and order lines inside the database server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=1_000_000, help="default 1000000")
        parser.add_argument(
            "--customers", type=int, default=None, help="default: one per 100 orders"
        )
        parser.add_argument("--lines", type=int, default=None, help="default: one per 10 orders")
        parser.add_argument("--reset", action="store_true", help="empty the shop tables first")
        parser.add_argument(
            "--empty", action="store_true", help="only empty the shop tables, seed nothing"
        )
        parser.add_argument(
            "--chunk", type=int, default=seeding.DEFAULT_CHUNK, help="rows per INSERT ... SELECT"
        )
        parser.add_argument(
            "--generator",
            choices=("auto", *seeding.GENERATORS),
            default="auto",
            help="row-number source: MariaDB's sequence engine or a recursive CTE",
        )
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--json", action="store_true", help="print a JSON summary last")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = seeding.SeedPlan.for_orders(
                options["orders"], options["customers"], options["lines"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        connection = connections[options["database"]]
        started = time.monotonic()
        with connection.cursor() as cursor:
            existing = self._existing(cursor)
            missing = [t for t in TABLES if t not in existing]
            if missing and not options["empty"]:
                raise CommandError(
                    f"missing tables {', '.join(missing)}: run `manage.py migrate shop` first"
                )
            if options["reset"] or options["empty"]:
                self._empty(cursor, existing)
                if options["empty"]:
                    self.stdout.write("emptied the shop tables")
                    return
            elif self._count(cursor, "shop_order"):
                self.stdout.write(
                    f"shop_order already holds {self._count(cursor, 'shop_order'):,} orders; "
                    "nothing done (--reset seeds again from scratch)"
                )
                self._summary(options, cursor, started, seeded=False)
                return
            generator = self._generator(cursor, options["generator"])
            self._seed(cursor, plan, generator, options["chunk"])
            # Fresh statistics: the row estimate drives ghost_migrate's progress bar.
            cursor.execute("ANALYZE TABLE " + ", ".join(TABLES))
            cursor.fetchall()
            self._summary(options, cursor, started, seeded=True, generator=generator)

    # -- steps ---------------------------------------------------------------------------

    def _existing(self, cursor: Any) -> set[str]:
        cursor.execute("SHOW TABLES")
        return {row[0] for row in cursor.fetchall()} & set(TABLES)

    def _count(self, cursor: Any, table: str) -> int:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])

    def _empty(self, cursor: Any, existing: set[str]) -> None:
        # TRUNCATE drops and recreates the table: instant, and the ids restart at 1.
        for table in TABLES:
            if table in existing:
                cursor.execute(f"TRUNCATE TABLE {table}")

    def _generator(self, cursor: Any, wanted: str) -> str:
        if wanted != "auto":
            return wanted
        try:
            cursor.execute("SELECT seq FROM seq_1_to_1")
            cursor.fetchall()
            return "sequence"
        except DatabaseError:
            return "cte"  # no Sequence engine: MySQL, or MariaDB built without it

    def _seed(self, cursor: Any, plan: seeding.SeedPlan, generator: str, chunk: int) -> None:
        if generator == "cte":
            # Both servers stop recursive CTEs after 1000 rows by default, under different
            # variable names (MySQL, MariaDB 10.6+); each server ignores the other's.
            for variable in ("cte_max_recursion_depth", "max_recursive_iterations"):
                with contextlib.suppress(DatabaseError):
                    cursor.execute(f"SET SESSION {variable} = {chunk + 1}")
        steps = (
            ("customers", plan.customers, lambda lo, hi: seeding.customers_sql(lo, hi, generator)),
            (
                "orders",
                plan.orders,
                lambda lo, hi: seeding.orders_sql(
                    lo, hi, orders=plan.orders, customers=plan.customers, generator=generator
                ),
            ),
            (
                "order lines",
                plan.lines,
                lambda lo, hi: seeding.lines_sql(lo, hi, orders=plan.orders, generator=generator),
            ),
        )
        for label, total, build in steps:
            began = time.monotonic()
            for low, high in seeding.chunks(total, chunk):
                cursor.execute(build(low, high))
            if total:
                self.stdout.write(
                    f"  {label:<12} {total:>10,} rows in {time.monotonic() - began:6.1f} s"
                )

    def _summary(
        self,
        options: dict[str, Any],
        cursor: Any,
        started: float,
        *,
        seeded: bool,
        generator: str = "",
    ) -> None:
        counts = {table: self._count(cursor, table) for table in TABLES}
        seconds = round(time.monotonic() - started, 2)
        if seeded:
            self.stdout.write(
                self.style.SUCCESS(
                    f"seeded {counts['shop_order']:,} orders, {counts['shop_customer']:,} "
                    f"customers, {counts['shop_orderline']:,} order lines in {seconds} s "
                    f"({generator} generator)"
                )
            )
        if options["json"]:
            summary = {"seeded": seeded, "seconds": seconds, "generator": generator, **counts}
            self.stdout.write(json.dumps(summary))

"""``manage.py simulate_traffic --tps 200 --seconds 60``: a busy shop, for the demo.

Several threads, each with its own database connection, insert, update and delete
orders at a fixed total rate (see :mod:`shop.traffic` for the mix and the columns
used). Every write is counted: successes per kind, and failures with their error
messages. The last line of output is a JSON summary, so scripts (``demo.py``, the
tests) can read the counts; the exit status is 1 when any write failed.

``--seconds 0`` runs until SIGINT or SIGTERM, which stop the workers cleanly: the summary
is still printed.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from shop.traffic import Pacer, Tally, Worker


class Command(BaseCommand):
    help = "Insert, update and delete orders at a fixed rate and count failed writes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tps", type=float, default=100.0, help="writes per second, total")
        parser.add_argument(
            "--seconds", type=float, default=10.0, help="how long; 0 = until SIGINT/SIGTERM"
        )
        parser.add_argument("--threads", type=int, default=2, help="one connection each")
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--ids-file",
            default="",
            help="write the ids inserted and deleted (JSON) here, for row-by-row checks",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed (default: a fresh one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tps, seconds, threads = options["tps"], options["seconds"], options["threads"]
        if tps <= 0 or threads < 1 or seconds < 0:
            raise CommandError("--tps must be > 0, --threads >= 1 and --seconds >= 0")
        alias = options["database"]
        id_range, customers = self._bounds(alias)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())

        started = time.monotonic()
        deadline = started + seconds if seconds else None
        tallies: list[Tally] = [Tally() for _ in range(threads)]

        def work(index: int) -> None:
            # Django connections are per thread: this worker gets its own.
            connection = connections[alias]
            worker = Worker(
                cursor=connection.cursor,
                # After an error the connection may be broken; reconnect on the next write.
                on_error=connection.close,
                id_range=id_range,
                customers=customers,
                seed=None if options["seed"] is None else options["seed"] * 1000 + index,
            )
            try:
                tallies[index] = worker.run(Pacer(tps / threads, stop, time.monotonic), deadline)
            finally:
                connection.close()

        workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
        for thread in workers:
            thread.start()
        # Join with a timeout so the main thread keeps handling signals.
        while any(t.is_alive() for t in workers):
            for thread in workers:
                thread.join(timeout=0.2)
        total = Tally()
        for tally in tallies:
            total = total.merge(tally)
        summary = total.summary(seconds=time.monotonic() - started, tps_target=tps, threads=threads)
        if options["ids_file"]:
            with open(options["ids_file"], "w") as out:
                json.dump({"inserted": total.inserted_ids, "deleted": total.deleted_ids}, out)
        style = self.style.ERROR if total.failed else self.style.SUCCESS
        self.stdout.write(
            style(
                f"{summary['writes']:,} writes ({summary['inserts']:,} inserts, "
                f"{summary['updates']:,} updates, {summary['deletes']:,} deletes), "
                f"{summary['failed']:,} failed, in {summary['seconds']} s "
                f"({summary['tps_actual']} writes/s), max latency {summary['latency_max_ms']} ms"
            )
        )
        for message, count in summary["errors"].items():
            self.stdout.write(f"  {count} x {message}")
        self.stdout.write(json.dumps(summary))
        self.stdout.flush()
        if total.failed:
            sys.exit(1)

    def _bounds(self, alias: str) -> tuple[tuple[int, int], int]:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT COALESCE(MIN(id), 1), COALESCE(MAX(id), 1) FROM shop_order")
            low, high = cursor.fetchone()
            cursor.execute("SELECT COALESCE(MAX(id), 1) FROM shop_customer")
            customers = cursor.fetchone()[0]
        connections[alias].close()
        return (int(low), int(high)), int(customers)

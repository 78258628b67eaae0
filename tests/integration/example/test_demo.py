"""``make demo`` itself (example_project/demo.py), at a small size, against the test server.

The demo judges itself row by row (the seed's ids and the ids the traffic reports, set
against the table's), so this smoke test runs it as a user would, through ``DATABASE_URL``
on the ``db`` fixture's database, and asserts its exit status and the summary lines it
prints: no failed write, the expected rows, the checksums verified. At this size the
tables are below the example's ``min_table_rows``, so ``GHOST_MIN_TABLE_ROWS=0`` keeps
the online route in play, as the full-size demo does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parents[3] / "example_project" / "demo.py"
ORDERS = 5000


def test_demo__five_thousand_orders__passes_with_no_failed_write_and_checksums_verified(
    db: Any,
) -> None:
    server = db.server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GHOST_")},
        "DATABASE_URL": (
            f"mysql://{server.user}:{server.password}@{server.host}:{server.port}/{db.name}"
        ),
        "DEMO_ORDERS": str(ORDERS),
        "DEMO_TPS": "100",
        "GHOST_MIN_TABLE_ROWS": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the demo picks the example project's own
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=DEMO.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = done.stdout
    assert done.returncode == 0, f"demo exited {done.returncode}:\n{out}\n{done.stderr}"
    assert "using DATABASE_URL" in out
    assert f"seed: {ORDERS:,} orders" in out
    assert "migration (ghost_migrate): ok" in out
    traffic = re.search(r"^traffic: ([\d,]+) writes, (\d+) failed", out, re.M)
    assert traffic, out
    assert int(traffic[1].replace(",", "")) > 0 and traffic[2] == "0", traffic[0]
    rows = re.search(r"^shop_order: ([\d,]+) rows, expected ([\d,]+) .*: ok$", out, re.M)
    assert rows and rows[1] == rows[2], out
    assert "checks: every row present, currency column, status/created_at index" in out
    # ghost_migrate's own lines, one per online run, and the history table's column.
    online = re.findall(r"^\s+shop\.\S+ `shop_order`: .* checksum (\w+)$", out, re.M)
    assert online and set(online) == {"verified"}, out
    assert "NOT verified" not in out
    assert "demo passed" in out
    assert db.scalar("SELECT COUNT(*) FROM django_ghost_onlinerun WHERE status = 'done'") == len(
        online
    )

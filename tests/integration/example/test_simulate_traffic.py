"""simulate_traffic against a real server: counts add up, failures are never hidden."""

from __future__ import annotations

from typing import Any

from .conftest import Manage, last_json


def test_counts_add_up_with_no_failures(db: Any, shop_schema: Manage) -> None:
    shop_schema("seed_shop", "--orders", "2000")
    done = shop_schema(
        "simulate_traffic", "--tps", "150", "--seconds", "2", "--threads", "3", "--seed", "7"
    )
    summary = last_json(done)
    assert summary["failed"] == 0 and summary["errors"] == {}
    assert summary["writes"] == summary["inserts"] + summary["updates"] + summary["deletes"]
    # Paced, not flat out: about tps x seconds writes (generous bounds, no timing asserts).
    assert 0 < summary["writes"] <= 150 * 2 + 3
    assert summary["inserts"] > 0 and summary["updates"] > 0 and summary["deletes"] > 0
    # An insert adds one row; a delete removes at most one.
    assert summary["rows_inserted"] == summary["inserts"]
    assert summary["rows_deleted"] <= summary["deletes"]
    rows = db.scalar("SELECT COUNT(*) FROM shop_order")
    assert rows == 2000 + summary["rows_inserted"] - summary["rows_deleted"]


def test_failed_writes_are_counted_and_fail_the_command(db: Any, shop_schema: Manage) -> None:
    shop_schema("seed_shop", "--orders", "500")
    # A NOT NULL column without a default: every insert fails (strict mode), the rest work.
    db.execute("ALTER TABLE shop_order ADD COLUMN required_field INT NOT NULL")
    done = shop_schema(
        "simulate_traffic", "--tps", "100", "--seconds", "1", "--seed", "3", check=False
    )
    assert done.returncode == 1
    summary = last_json(done)
    assert summary["inserts"] == 0
    assert summary["failed"] > 0
    assert summary["writes"] == summary["updates"] + summary["deletes"] > 0
    assert sum(summary["errors"].values()) == summary["failed"]
    assert all(message.startswith("insert:") for message in summary["errors"])

"""seed_shop against a real server: counts, distribution, idempotence, both generators."""

from __future__ import annotations

from typing import Any

from shop import seeding

from .conftest import Manage, last_json

ORDERS = 20_000


def test_seed_counts_and_distribution(db: Any, shop_schema: Manage) -> None:
    done = shop_schema("seed_shop", "--orders", str(ORDERS), "--chunk", "7000", "--json")
    summary = last_json(done)
    assert summary["seeded"] is True
    assert summary["generator"] == "sequence"  # MariaDB has the Sequence engine
    assert summary["shop_order"] == db.scalar("SELECT COUNT(*) FROM shop_order") == ORDERS
    assert summary["shop_customer"] == ORDERS // 100
    assert summary["shop_orderline"] == ORDERS // 10

    # Ids are exactly 1..N (explicit ids, chunks neither overlap nor leave gaps).
    assert db.query("SELECT MIN(id), MAX(id), COUNT(DISTINCT id) FROM shop_order")[0] == (
        1,
        ORDERS,
        ORDERS,
    )
    statuses = dict(db.query("SELECT status, COUNT(*) FROM shop_order GROUP BY status"))
    assert statuses == seeding.expected_status_counts(ORDERS)

    # Every reference resolves (the relations have no database constraint to enforce it).
    assert (
        db.scalar(
            "SELECT COUNT(*) FROM shop_order o LEFT JOIN shop_customer c ON c.id = o.customer_id "
            "WHERE c.id IS NULL"
        )
        == 0
    )
    assert (
        db.scalar(
            "SELECT COUNT(*) FROM shop_orderline l LEFT JOIN shop_order o ON o.id = l.order_id "
            "WHERE o.id IS NULL"
        )
        == 0
    )
    # Customers share the orders evenly; totals and dates stay in their ranges.
    per_customer = db.query(
        "SELECT MIN(c), MAX(c) FROM (SELECT COUNT(*) c FROM shop_order GROUP BY customer_id) t"
    )[0]
    assert per_customer == (ORDERS // 200, ORDERS // 200) or per_customer[1] - per_customer[0] <= 1
    low, high = db.query("SELECT MIN(total_cents), MAX(total_cents) FROM shop_order")[0]
    assert low >= 100 and high <= 50_000
    first, last = db.query("SELECT MIN(created_at), MAX(created_at) FROM shop_order")[0]
    assert first.year == 2025 and (last - first).days in (364, 365)
    assert db.scalar("SELECT COUNT(*) FROM shop_order WHERE note = 'gift'") == ORDERS // 50


def test_seed_is_idempotent_and_reset_starts_over(db: Any, shop_schema: Manage) -> None:
    shop_schema("seed_shop", "--orders", "500")
    before = db.checksum("shop_order", order_by="id")

    again = last_json(shop_schema("seed_shop", "--orders", "900", "--json"))
    assert again["seeded"] is False and again["shop_order"] == 500
    assert db.checksum("shop_order", order_by="id") == before

    shop_schema("seed_shop", "--orders", "900", "--reset")
    assert db.scalar("SELECT COUNT(*) FROM shop_order") == 900

    shop_schema("seed_shop", "--empty")
    assert db.scalar("SELECT COUNT(*) FROM shop_order") == 0
    assert db.scalar("SELECT COUNT(*) FROM shop_customer") == 0


def test_cte_generator_gives_the_same_rows(db: Any, shop_schema: Manage) -> None:
    shop_schema("seed_shop", "--orders", "3000", "--generator", "sequence", "--chunk", "1000")
    by_sequence = [db.checksum(t, order_by="id") for t in ("shop_customer", "shop_order")]
    summary = last_json(
        shop_schema(
            "seed_shop",
            "--orders",
            "3000",
            "--generator",
            "cte",
            "--chunk",
            "1500",
            "--reset",
            "--json",
        )
    )
    assert summary["generator"] == "cte"
    by_cte = [db.checksum(t, order_by="id") for t in ("shop_customer", "shop_order")]
    assert by_cte == by_sequence


def test_missing_tables_are_reported(manage: Manage) -> None:
    done = manage("seed_shop", "--orders", "10", check=False)
    assert done.returncode != 0
    assert "manage.py migrate shop" in done.stderr

"""seed_shop's SQL builders and the distribution they promise, without a server."""

from __future__ import annotations

import pytest
from shop import seeding


def status_of(n: int) -> str:
    """What ``status_case`` computes in SQL, restated in Python from STATUS_BUCKETS."""
    upper = 0
    for status, weight in seeding.STATUS_BUCKETS:
        upper += weight
        if n % 20 < upper:
            return status
    raise AssertionError("buckets must cover 0..19")


def test_buckets_cover_twenty_residues() -> None:
    assert sum(weight for _, weight in seeding.STATUS_BUCKETS) == 20


@pytest.mark.parametrize("orders", [0, 1, 19, 20, 21, 1234, 1_000_000])
def test_expected_status_counts_match_the_case_expression(orders: int) -> None:
    counts = seeding.expected_status_counts(orders)
    assert sum(counts.values()) == orders
    if orders <= 1234:
        brute: dict[str, int] = dict.fromkeys(counts, 0)
        for n in range(1, orders + 1):
            brute[status_of(n)] += 1
        assert counts == brute


def test_million_orders_distribution() -> None:
    assert seeding.expected_status_counts(1_000_000) == {
        "new": 100_000,
        "paid": 500_000,
        "shipped": 350_000,
        "cancelled": 50_000,
    }


def test_status_case_sql_follows_the_buckets() -> None:
    assert seeding.status_case() == (
        "CASE WHEN n.n % 20 < 2 THEN 'new' WHEN n.n % 20 < 12 THEN 'paid' "
        "WHEN n.n % 20 < 19 THEN 'shipped' ELSE 'cancelled' END"
    )


@pytest.mark.parametrize(("total", "size"), [(0, 10), (1, 10), (10, 10), (11, 10), (25, 7)])
def test_chunks_cover_the_range_once(total: int, size: int) -> None:
    ranges = list(seeding.chunks(total, size))
    covered = [n for low, high in ranges for n in range(low, high + 1)]
    assert covered == list(range(1, total + 1))
    assert all(high - low + 1 <= size for low, high in ranges)


def test_a_million_orders_take_four_statements() -> None:
    assert len(list(seeding.chunks(1_000_000))) == 4


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(seeding.chunks(10, 0))


def test_plan_defaults() -> None:
    assert seeding.SeedPlan.for_orders(1_000_000, None, None) == seeding.SeedPlan(
        customers=10_000, orders=1_000_000, lines=100_000
    )
    assert seeding.SeedPlan.for_orders(50, None, None) == seeding.SeedPlan(1, 50, 5)
    assert seeding.SeedPlan.for_orders(0, None, None) == seeding.SeedPlan(0, 0, 0)


@pytest.mark.parametrize(("orders", "customers", "lines"), [(10, 0, None), (0, None, 5)])
def test_plan_refuses_dangling_references(orders: int, customers: int | None, lines: int | None):
    with pytest.raises(ValueError):
        seeding.SeedPlan.for_orders(orders, customers, lines)


def test_generators() -> None:
    assert seeding.numbers(1, 250_000, "sequence") == (
        "(SELECT seq AS n FROM seq_1_to_250000) AS n"
    )
    cte = seeding.numbers(5, 9, "cte")
    assert cte.startswith("(WITH RECURSIVE g (n) AS (SELECT 5 UNION ALL")
    assert "WHERE n < 9" in cte
    with pytest.raises(ValueError):
        seeding.numbers(1, 2, "python")


def test_orders_sql_names_explicit_ids_and_the_chunk() -> None:
    sql = seeding.orders_sql(1, 10, orders=10, customers=3, generator="sequence")
    assert sql.startswith("INSERT INTO shop_order (id, customer_id, status, total_cents,")
    assert "1 + (n.n * 7919) % 3" in sql
    assert "seq_1_to_10" in sql

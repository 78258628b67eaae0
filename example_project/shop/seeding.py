"""Server-side generation of the shop's demo data.

Rows never pass through Python: each chunk is one ``INSERT ... SELECT`` whose rows come
from a number generator inside the server. MariaDB's Sequence engine (``seq_1_to_N``
virtual tables) is the fastest generator; a recursive CTE is the fallback for servers
without it (MySQL 8). Every value is a pure function of the row number, so a seed is
reproducible and tests can predict the distribution exactly.

The functions here only build SQL strings; :mod:`shop.management.commands.seed_shop`
runs them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

# Rows per INSERT ... SELECT: big enough that per-statement overhead vanishes, small
# enough that one transaction's binlog cache and undo log stay modest.
DEFAULT_CHUNK = 250_000
# Orders are spread over one year, oldest first, so that created_at grows with the id
# the way a real shop's does.
SPAN_SECONDS = 365 * 24 * 3600
EPOCH = "2025-01-01 00:00:00"
# Status is picked by ``n % 20``: 2/20 new, 10/20 paid, 7/20 shipped, 1/20 cancelled.
STATUS_BUCKETS = (("new", 2), ("paid", 10), ("shipped", 7), ("cancelled", 1))
GENERATORS = ("sequence", "cte")


@dataclasses.dataclass(frozen=True)
class SeedPlan:
    """How many rows of each table a seed writes."""

    customers: int
    orders: int
    lines: int

    @classmethod
    def for_orders(cls, orders: int, customers: int | None, lines: int | None) -> SeedPlan:
        """Defaults: one customer per 100 orders, one order line per 10 orders."""
        if customers is None:
            customers = max(1, orders // 100) if orders else 0
        if lines is None:
            lines = orders // 10
        if orders and not customers:
            raise ValueError("orders need at least one customer")
        if lines and not orders:
            raise ValueError("order lines need at least one order")
        return cls(customers=customers, orders=orders, lines=lines)


def chunks(total: int, size: int = DEFAULT_CHUNK) -> Iterator[tuple[int, int]]:
    """Inclusive 1-based ranges ``(low, high)`` covering ``1..total``."""
    if size < 1:
        raise ValueError("chunk size must be positive")
    low = 1
    while low <= total:
        high = min(total, low + size - 1)
        yield low, high
        low = high + 1


def numbers(low: int, high: int, generator: str) -> str:
    """A derived table ``n`` with one column ``n`` holding ``low..high``."""
    if generator == "sequence":
        return f"(SELECT seq AS n FROM seq_{low}_to_{high}) AS n"
    if generator == "cte":
        return (
            f"(WITH RECURSIVE g (n) AS (SELECT {low} UNION ALL SELECT n + 1 FROM g "
            f"WHERE n < {high}) SELECT n FROM g) AS n"
        )
    raise ValueError(f"unknown generator {generator!r}; use one of {GENERATORS}")


def status_case(column: str = "n.n") -> str:
    """The SQL CASE giving an order's status from its number (see STATUS_BUCKETS)."""
    parts, upper = [], 0
    for status, weight in STATUS_BUCKETS[:-1]:
        upper += weight
        parts.append(f"WHEN {column} % 20 < {upper} THEN '{status}'")
    return f"CASE {' '.join(parts)} ELSE '{STATUS_BUCKETS[-1][0]}' END"


def expected_status_counts(orders: int) -> dict[str, int]:
    """Exact status counts a seed of ``orders`` orders produces (for tests and docs)."""
    counts: dict[str, int] = {}
    full, rest = divmod(orders, 20)
    lower = 0
    for status, weight in STATUS_BUCKETS:
        counts[status] = full * weight
        # The last, partial round of 20 holds the residues 1..rest.
        counts[status] += sum(1 for r in range(1, rest + 1) if lower <= r < lower + weight)
        lower += weight
    return counts


def customers_sql(low: int, high: int, generator: str) -> str:
    return (
        "INSERT INTO shop_customer (id, name, email, created_at) "
        f"SELECT n.n, CONCAT('Customer ', n.n), CONCAT('customer', n.n, '@example.com'), "
        f"TIMESTAMP '{EPOCH}' - INTERVAL 30 DAY "
        f"FROM {numbers(low, high, generator)}"
    )


def orders_sql(low: int, high: int, *, orders: int, customers: int, generator: str) -> str:
    # customer: a multiplicative hash spreads each customer's orders over the whole year;
    # total: 1.00 to 500.00 in cents; note: 1 order in 50 is a gift.
    return (
        "INSERT INTO shop_order (id, customer_id, status, total_cents, note, created_at) "
        f"SELECT n.n, 1 + (n.n * 7919) % {customers}, {status_case()}, "
        "100 + (n.n * 104729) % 49901, IF(n.n % 50 = 0, 'gift', ''), "
        f"TIMESTAMP '{EPOCH}' + INTERVAL (n.n * {SPAN_SECONDS} DIV {orders}) SECOND "
        f"FROM {numbers(low, high, generator)}"
    )


def lines_sql(low: int, high: int, *, orders: int, generator: str) -> str:
    return (
        "INSERT INTO shop_orderline (id, order_id, sku, quantity, price_cents) "
        f"SELECT n.n, 1 + (n.n * 15485863) % {orders}, CONCAT('SKU-', LPAD(n.n % 1000, 4, '0')), "
        "1 + n.n % 5, 100 + (n.n * 7907) % 9901 "
        f"FROM {numbers(low, high, generator)}"
    )

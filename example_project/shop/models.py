"""A small shop: customers, orders (the big table) and order lines.

Relations use ``db_constraint=False``. A foreign-key constraint at the database level
stops an online migration of either table: the ghost table cannot take over a child's
constraint in a RENAME-based cut-over (the constraint would keep pointing at the old,
renamed table), and a parent referenced by a constraint cannot be swapped at all. gh-ost
refuses such tables for the same reason. The shop keeps referential integrity in the
application instead, as large sites commonly do, and Django still joins, prefetches and
deletes across these relations as usual.

``shop_order`` is the table the demo seeds with a million rows and migrates online while
``simulate_traffic`` writes to it. Its pending migrations, one change each:

- ``0002``: add ``currency`` with a *database* default (``db_default``), so application
  code deployed before the migration, whose inserts do not name the column, keeps
  working after it;
- ``0003``: add an index on (``status``, ``created_at``);
- ``0004``: widen ``total_cents`` from INT to BIGINT.
"""

from __future__ import annotations

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING, db_constraint=False)
    status = models.CharField(max_length=20, default="new")
    total_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, db_default="EUR")
    note = models.CharField(max_length=50, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="shop_order_status_created")]

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, db_constraint=False)
    sku = models.CharField(max_length=40)
    quantity = models.IntegerField(default=1)
    price_cents = models.IntegerField(default=0)

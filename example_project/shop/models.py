"""A small shop: customers, orders (the big table) and order lines.

Relations use ``db_constraint=False``: foreign keys at the database level would stop
any online migration of these tables (a RENAME-based cut-over cannot carry them), so
the shop keeps referential integrity in the application, as large sites commonly do.
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
    total_cents = models.IntegerField(default=0)
    note = models.CharField(max_length=50, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, db_constraint=False)
    sku = models.CharField(max_length=40)
    quantity = models.IntegerField(default=1)
    price_cents = models.IntegerField(default=0)

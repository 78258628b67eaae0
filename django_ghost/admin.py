"""The history of online runs, read-only in the Django admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import OnlineRun


@admin.register(OnlineRun)
class OnlineRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "alias",
        "table_name",
        "migration",
        "status",
        "rows_copied",
        "events_applied",
        "route",
        "old_table",
        "finished_at",
    )
    list_filter = ("status", "route", "alias")
    search_fields = ("table_name", "migration", "statements")
    readonly_fields = [f.name for f in OnlineRun._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

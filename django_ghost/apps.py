"""The django_ghost Django app: history model, admin, system checks, ghost_migrate.

Nothing happens at import or ``ready()`` time except registering the checks: online
migrations are only ever switched on by a running migrate-family command.
"""

from __future__ import annotations

from django.apps import AppConfig


class DjangoGhostConfig(AppConfig):
    name = "django_ghost"
    verbose_name = "Online migrations (django_ghost)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)

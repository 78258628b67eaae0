"""``migrate``, which goes online only when ``GHOST_MIGRATE`` is true.

With ``GHOST_MIGRATE`` unset or false this is Django's ``migrate``, untouched. With it
true, the run is handed to ``ghost_migrate`` (same arguments). A value other than
true/false/1/0 is an error, so a typo cannot silently decide. Test-database creation
calls ``migrate`` too; it runs suppressed (see the backend's creation module) and stays
plain whatever ``GHOST_MIGRATE`` says.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate

from django_ghost.backends.mysql.state import is_suppressed
from django_ghost.conf import ghost_migrate_from_env
from django_ghost.engine.errors import GhostError

from .ghost_migrate import Command as GhostMigrateCommand


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> Any:
        try:
            enabled = ghost_migrate_from_env()
        except GhostError as exc:
            raise CommandError(str(exc)) from exc
        if not enabled or is_suppressed():
            return super().handle(*args, **options)
        ghost = GhostMigrateCommand(stdout=self.stdout._out, stderr=self.stderr._out)
        ghost.style = self.style
        return ghost.handle(*args, **options)

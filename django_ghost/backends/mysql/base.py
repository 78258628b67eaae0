"""DatabaseWrapper for ENGINE "django_ghost.backends.mysql".

A subclass of Django's MySQL backend. With online migrations disabled (the default) it
behaves exactly like the stock backend.
"""

from __future__ import annotations

from django.db.backends.mysql import base as mysql_base


class DatabaseWrapper(mysql_base.DatabaseWrapper):
    """Django's MySQL DatabaseWrapper; the schema editor is where django_ghost plugs in."""

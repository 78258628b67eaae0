"""DatabaseWrapper for ENGINE "django_ghost.backends.mysql".

A subclass of Django's MySQL backend that only swaps the schema editor and the creation
class. With online migrations disabled (the default) it behaves exactly like the stock
backend; see :mod:`.schema` for when and how ALTERs go online.
"""

from __future__ import annotations

from django.db.backends.mysql import base as mysql_base

from .creation import DatabaseCreation
from .schema import DatabaseSchemaEditor


class DatabaseWrapper(mysql_base.DatabaseWrapper):
    """Django's MySQL DatabaseWrapper with django_ghost's schema editor."""

    SchemaEditorClass = DatabaseSchemaEditor
    creation_class = DatabaseCreation
    # Lets system checks and ghost_migrate recognise aliases that can go online.
    ghost_capable = True

"""Development: debug on, and old tables dropped after each online migration.

After a cut-over the original table is kept as ``_<table>_del`` (gh-ost does the same),
and the next online migration of that table refuses to start while it exists. Local
data is throwaway, so development drops it at once; production keeps the default
(kept, for a quick manual rollback) and drops it by hand.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import GHOST

DEBUG = True
GHOST = {**GHOST, "ok_to_drop_table": True}
